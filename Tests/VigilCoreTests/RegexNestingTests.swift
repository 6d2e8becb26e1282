import Testing
import VigilCore

/// Regular expressions that can take exponential time in ICU's backtracking engine are
/// warned about at load; others are not.
@Suite("Regular expressions that repeat what repeats")
struct RegexNestingTests {
  @Test(arguments: [
    ("(a|a)*ab", "(a|a)*"), ("(a+)+$", "(a+)+"), (#"^(\w+\s?)*$"#, #"(\w+\s?)*"#), ("x(?:ab|cd){2,}y", "(?:ab|cd){2,}"),
    ("((a*)b)+", "((a*)b)+"),
  ])
  func aRepeatedGroupThatRepeatsIsFound(pattern: String, group: String) {
    #expect(RegexNesting.repeatedRepetition(in: pattern) == group)
  }

  @Test(arguments: ["barrel bombs?", "(a|b)", "(ab)+", "a+b*", #"\(a+\)+"#, "[(a+)]+", "(a{1,3})+", "(a|b){2}", "(?:x)?"])
  func othersAreNot(pattern: String) {
    #expect(RegexNesting.repeatedRepetition(in: pattern) == nil)
  }

  @Test func aRuleWithOneIsWarnedAboutAtItsPlace() throws {
    let rule = """
      - rule: t.slow
        desc: d
        condition: narrative matches '(a|a)*ab'
        output: o
        priority: info
      """
    let set = try loadRules([("t.yaml", rule)]).get()
    #expect(set.warnings.count == 1)
    #expect(
      set.warnings.first?.description.hasPrefix(
        "Rules/t.yaml:3:32: rule t.slow: the regular expression repeats a group that itself repeats or has alternatives ((a|a)*)")
        == true, "\(set.warnings)")
  }
}
