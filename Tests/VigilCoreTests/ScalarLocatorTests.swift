import Testing
import VigilTestSupport

@testable import VigilCore

/// Errors inside a condition point at the right line and column whatever the YAML style.
@Suite("Rule files: positions inside conditions, in every scalar style")
struct ScalarLocatorTests {
  func firstError(_ condition: String) -> String? {
    let text = "- rule: r.one\n  desc: d\n  condition: \(condition)\n  output: o\n  priority: low\n"
    switch loadRules([("x.yaml", text)]) {
    case .success: return nil
    case .failure(let errors): return errors.errors.first.map { "\($0.position.line):\($0.position.column)" }
    }
  }

  @Test(arguments: [
    // plain, on one line: "nope" starts at column 32
    ("type = attack and nope = 1", "3:32"),
    // plain, folded over two lines
    ("type = attack and\n    nope = 1", "4:5"),
    // single-quoted, with a doubled quote before the error ("nope" at column 42)
    ("'location.place = ''x'' and nope = 1'", "3:42"),
    // double-quoted, with an escape before the error
    ("\"location.place = \\\"x\\\" and nope = 1\"", "3:42"),
    // literal block
    ("|\n    type = attack\n    and nope = 1", "5:9"),
    // folded block
    (">\n    type = attack and\n    nope = 1", "5:5"),
    // Arabic text before the error: columns count characters, not bytes
    ("perpetrator.name = 'القوات الجوية' and nope = 1", "3:53"),
  ])
  func positions(condition: String, expected: String) {
    #expect(firstError(condition) == expected)
  }
}
