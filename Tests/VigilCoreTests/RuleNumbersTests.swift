import Testing

@testable import VigilCore

@Suite("Rule numbers: one per rule id, the same across reloads, carried by alerts")
struct RuleNumbersTests {
  static func rules(_ ids: [String]) throws -> [Rule] {
    let text = ids.map { id in
      """
      - rule: \(id)
        desc: A rule.
        condition: type = attack
        output: "attack"
        priority: high
        basis: ["ISSG ¶7"]
      """
    }.joined(separator: "\n")
    return try loadRules([("a.yaml", text)]).get().rules
  }

  @Test("each id has its own number, and a rule set loaded again gives the same ones")
  func stableAcrossLoads() throws {
    let first = try Self.rules(["numbers.one", "numbers.two", "numbers.three"])
    let again = try Self.rules(["numbers.three", "numbers.one", "numbers.four"])
    let numbers = Dictionary((first + again).map { ($0.id, $0.number) }, uniquingKeysWith: { first, _ in first })
    #expect(numbers.count == 4 && Set(numbers.values).count == 4)
    #expect(!numbers.values.contains(0))
    for rule in first + again { #expect(rule.number == numbers[rule.id]) }
  }

  @Test("an alert keeps its rule's number until its rule is changed")
  func recordsCarryIt() throws {
    let rule = try #require(try Self.rules(["numbers.carried"]).first)
    var record = AlertRecord(
      time: "t", rule: rule.id, priority: .high, reportID: "R", occurredAt: nil, message: "m", basis: [], tags: [],
      ruleset: "sha256:00", ruleNumber: rule.number)
    let copy = record
    #expect(record.ruleNumber == rule.number)
    record.rule = "numbers.other"
    #expect(record.ruleNumber == 0)
    #expect(copy.ruleNumber == rule.number && copy.rule == rule.id)
    let unnumbered = AlertRecord(
      time: "t", rule: "x", priority: .low, reportID: nil, occurredAt: nil, message: "", basis: [], tags: [], ruleset: "")
    #expect(unnumbered.ruleNumber == 0)
  }
}
