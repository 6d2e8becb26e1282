import Testing
import VigilTestSupport

@testable import VigilCore

/// Errors inside a condition point at the right line and column whatever the YAML style.
@Suite("Rule files: positions inside conditions, in every scalar style")
struct ScalarLocatorTests {
  func firstError(_ condition: String, lineEnd: String = "\n") -> String? {
    let text = ["- rule: r.one", "  desc: d", "  condition: \(condition)", "  output: o", "  priority: low", ""]
      .joined(separator: lineEnd)
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
    // escapes that spell letters: each is one character of the value
    ("\"type = \\u0061ttack and nope = 1\"", "3:38"),
    ("\"type = \\x61ttack and \\U0000006Eope = 1\"", "3:36"),
  ])
  func positions(condition: String, expected: String) {
    #expect(firstError(condition) == expected)
  }

  /// A CRLF file: its CRs are no columns, and a folded scalar's lines are found.
  @Test(arguments: [("type = attack and nope = 1", "3:32"), ("type = attack and\r\n    nope = 1", "4:5")])
  func positionsInACRLFFile(condition: String, expected: String) {
    #expect(firstError(condition, lineEnd: "\r\n") == expected)
  }
}
