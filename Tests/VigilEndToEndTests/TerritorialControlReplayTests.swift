import Foundation
import Testing
import VigilTestSupport

/// What territorial control changes, as `vigil replay` tells it: reports recorded under the
/// ceasefire rule as it was before control (it fired on every attack after the cessation
/// whose perpetrator and target were not designated), replayed against the shipped rules.
@Suite("vigil replay: what territorial control changes on recorded reports", .onThreadsOfTheirOwn)
struct TerritorialControlReplayTests {
  /// The shipped rule files, by name.
  static func shippedRules() throws -> [String: String] {
    let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent().appendingPathComponent("Rules")
    var rules: [String: String] = [:]
    for name in try FileManager.default.contentsOfDirectory(atPath: directory.path) where name.hasSuffix(".yaml") {
      rules[name] = try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
    }
    return rules
  }

  /// `ceasefire.violation` before territorial control.
  static let ceasefireBeforeControl = """
    - macro: after_cessation_of_hostilities
      condition: occurred_at >= 2016-02-27T00:00:00+02:00
    - rule: ceasefire.violation
      desc: An attack after the cessation, by and on parties that are not designated.
      condition: >-
        type = attack and after_cessation_of_hostilities
        and not designated(perpetrator) and not designated(target)
      output: "Ceasefire violation: %{%perpetrator.party|an unidentified party} attacked%{ %target.type} on %occurred_at"
      priority: high
      basis: ["ISSG ¶3", "ISSG ¶4", "UNSCR 2268 (cessation of hostilities, 27 Feb 2016)"]
      tags: [ceasefire]
    """

  @Test func replayMovesTheAttacksOnDesignatedTerritoryFromOneRuleToTheOther() throws {
    let shipped = try Self.shippedRules()
    var before = shipped
    before["ceasefire.yaml"] = Self.ceasefireBeforeControl
    // The patterns came later, and their examples count the ceasefire rule as it is now.
    before["patterns.yaml"] = nil
    let daemon = try RunningDaemon(rules: before)
    let answers = try daemon.exchange(TerritorialControlCases.cases.indices.map(TerritorialControlCases.report))
    #expect(answers.count == 40 && answers.allSatisfy { $0.contains(#""ok":true"#) })
    expectCleanStop(daemon)

    try shipped["ceasefire.yaml"]!.write(
      toFile: daemon.directory.path + "/Rules/ceasefire.yaml", atomically: true, encoding: .utf8)
    let run = try ChildProcess.run("vigil", ["replay", "--json"], in: daemon.directory.path)
    #expect(run.status == 0, "\(run.standardError)")
    let objects = run.standardOutput.split(separator: "\n").compactMap {
      try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
    }
    let byRule = Dictionary(
      objects.compactMap { object in (object["rule"] as? String).map { ($0, object) } }, uniquingKeysWith: { first, _ in first })
    let designated = Set(
      TerritorialControlCases.cases.indices.filter { TerritorialControlCases.cases[$0].2 == .designated }.map {
        "TC-\($0 + 1)"
      })
    #expect(designated.count == 20)
    #expect(Set(byRule["ceasefire.violation"]?["removed"] as? [String] ?? []) == designated)
    #expect((byRule["ceasefire.violation"]?["added"] as? [String] ?? []).isEmpty)
    #expect(Set(byRule["ceasefire.attack_in_designated_territory"]?["added"] as? [String] ?? []) == designated)
    #expect(byRule.count == 2, "only the two ceasefire rules change: \(byRule.keys.sorted())")

    let readable = try ChildProcess.run("vigil", ["replay"], in: daemon.directory.path)
    #expect(readable.standardOutput.split(separator: "\n").last?.hasSuffix("20 alerts added, 20 removed, 2 rules affected") == true,
      "\(readable.standardOutput)")
  }
}
