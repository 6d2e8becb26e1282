import Foundation
import VigilCore
import VigilPlugins
import VigilServer

/// Times the rule engine: evaluating a rule set on every report of a workload (each
/// report timed alone, for the median), and loading a set of many rules.
struct RulesBenchmark {
  func evaluate(rules: [RuleSource], workload: Data, rounds: Int) -> String {
    // With the plugins a default configuration enables, as the daemon loads them.
    let registry = PluginRegistry(BuiltInPlugins.all)
    var configuration = DaemonConfiguration()
    configuration.plugins = registry.enabledByDefault.map { DaemonConfiguration.Plugin(name: $0) }
    guard case .success(let set) = registry.loader(for: configuration).load(rules) else {
      return "the rule set does not load"
    }
    let reports = workload.split(separator: UInt8(ascii: "\n")).compactMap { line in
      try? ReportParser.parse([UInt8](line)).get().report
    }
    var perReport: [Duration] = []
    perReport.reserveCapacity(reports.count)
    var alerts = 0
    var bestBatch = Duration.seconds(1_000_000)
    for round in 0..<rounds {
      let batchStart = ContinuousClock.now
      for report in reports {
        if round == 0 {
          let start = ContinuousClock.now
          alerts += set.evaluate(report).count
          perReport.append(ContinuousClock.now - start)
        } else {
          alerts += set.evaluate(report).count
        }
      }
      if round > 0 { bestBatch = min(bestBatch, ContinuousClock.now - batchStart) }
    }
    perReport.sort()
    let median = perReport[perReport.count / 2]
    let p99 = perReport[perReport.count * 99 / 100]
    let patterns = countPatterns(set: set, reports: reports)
    return """
      rule evaluation: \(set.enabledRuleCount) rules, \(reports.count) reports, \(alerts / max(rounds, 1)) alerts
      per report (each timed alone): median \(nanoseconds(median)) ns, p99 \(nanoseconds(p99)) ns
      whole workload, best of \(max(rounds - 1, 1)) rounds: \(nanoseconds(bestBatch / reports.count)) ns per report
      \(patterns)
      """
  }

  /// Rules and patterns as the daemon runs them on a report: the rules, what the report is
  /// to each pattern (the connection's part), and counting it in the windows (the writer's
  /// part), each report timed alone, in the workload's order.
  private func countPatterns(set: RuleSet, reports: [Report]) -> String {
    guard set.enabledPatternCount > 0 else { return "patterns: none in the set" }
    var windows = PatternWindows()
    var perReport: [Duration] = []
    var counting: [Duration] = []
    perReport.reserveCapacity(reports.count)
    var completions = 0
    var events = 0
    for report in reports {
      let start = ContinuousClock.now
      let matches = set.evaluate(report)
      let found = set.patternEvents(for: report, matches: matches)
      let evaluated = ContinuousClock.now
      if !found.isEmpty {
        completions += windows.observe(found, report: report, receivedAt: nil, patterns: set.patterns) { _ in [] }
          .completions.count
        windows.settle()
      }
      let end = ContinuousClock.now
      perReport.append(end - start)
      if !found.isEmpty { counting.append(end - evaluated) }
      events += found.count
    }
    perReport.sort()
    counting.sort()
    let median = perReport[perReport.count / 2]
    let p99 = perReport[perReport.count * 99 / 100]
    let countingMedian = counting.isEmpty ? .zero : counting[counting.count / 2]
    return """
      with \(set.enabledPatternCount) patterns (rules, pattern events, counting): median \(nanoseconds(median)) ns, p99 \(nanoseconds(p99)) ns per report
      patterns: \(events) events from \(reports.count) reports, \(completions) completions, \(windows.lateReports) late, \(windows.groupCount) groups held; counting an event's report: median \(nanoseconds(countingMedian)) ns
      """
  }

  /// Loads and compiles `count` generated rules (each with two examples) several times.
  func load(count: Int, rounds: Int) -> String {
    let source = RuleSource(path: "generated.yaml", name: "generated.yaml", contents: Array(generatedRules(count).utf8))
    var best = Duration.seconds(1_000_000)
    var loaded = 0
    for _ in 0..<rounds {
      let start = ContinuousClock.now
      if case .success(let set) = RuleSetLoader().load([source]) { loaded = set.rules.count }
      best = min(best, ContinuousClock.now - start)
    }
    return
      "rule loading: \(loaded) rules with 2 examples each, loaded and compiled in \(nanoseconds(best) / 1_000_000) ms (best of \(rounds))"
  }

  /// `count` rules (each with two examples) of the shipped kinds, each narrowed to one
  /// governorate as a field office would write its own: indiscriminate weapons, attacks on
  /// medical care and schools, access denied to the UN, oil trade, detention of aid workers
  /// and journalists, forced returns; spread over the incident types and the fourteen
  /// governorates of the workload, with thresholds that vary, as one YAML file.
  func generatedRules(_ count: Int) -> String {
    var text = """
      - list: generated_heavy
        items: [barrel_bomb, cluster_munition, unguided_rocket, mortar, unguided_air_bomb]
      - list: generated_un
        items: [OCHA, WFP, UNICEF, WHO, UNHCR, UNRWA]
      - macro: generated_after_cessation
        condition: occurred_at >= 2016-02-27T00:00:00+02:00

      """
    let governorates = [
      "Aleppo", "Idlib", "Hama", "Homs", "Damascus", "Rif Dimashq", "Daraa", "Quneitra", "As-Suwayda", "Latakia",
      "Tartus", "Deir ez-Zor", "Raqqa", "Al-Hasakah",
    ]
    // For each kind: its type, and from a variant number the rest of its condition, a
    // report's members that match it and a report's that do not. Variants pin different
    // values, so a report matches few of the rules written for its governorate.
    let heavy = ["barrel_bomb", "cluster_munition", "unguided_rocket", "mortar", "unguided_air_bomb"]
    let targets = ["hospital", "school", "market", "bakery", "residential", "idp_camp", "water_facility", "civilians"]
    let agencies = ["OCHA", "WFP", "UNICEF", "WHO", "UNHCR", "UNRWA"]
    let commodities = ["crude_oil", "refined_oil", "antiquities", "arms"]
    let victims = ["aid_worker", "journalist", "un_staff", "child"]
    let directions = ["return", "internal", "cross_border"]
    let kinds: [(String, (Int) -> String, (Int) -> String, (Int) -> String)] = [
      (
        "attack", { "weapons = \(heavy[$0 % 5]) and casualties.killed >= \($0 % 3 * 5 + 1)" },
        { "weapons: [\(heavy[$0 % 5])], casualties: {killed: \($0 % 3 * 5 + 1)}" },
        { "weapons: [\(heavy[$0 % 5])], casualties: {killed: \($0 % 3 * 5)}" }
      ),
      (
        "attack", { "target.type = \(targets[$0 % 8]) and generated_after_cessation" },
        { "target: {type: \(targets[$0 % 8])}, occurred_at: 2016-03-01T00:00:00Z" },
        { "target: {type: \(targets[$0 % 8])}, occurred_at: 2016-01-01T00:00:00Z" }
      ),
      (
        "access", { "access.requested_by = \(agencies[$0 % 6]) and access.status = \($0 / 6 % 2 == 0 ? "denied" : "obstructed")" },
        { "access: {requested_by: \(agencies[$0 % 6]), status: \($0 / 6 % 2 == 0 ? "denied" : "obstructed")}" },
        { "access: {requested_by: \(agencies[$0 % 6]), status: approved}" }
      ),
      (
        "trade", { "trade.commodity = \(commodities[$0 % 4]) and trade.value_usd >= \($0 / 4 * 500000)" },
        { "trade: {commodity: \(commodities[$0 % 4]), value_usd: \($0 / 4 * 500000)}" },
        { "trade: {commodity: other, value_usd: \($0 / 4 * 500000)}" }
      ),
      (
        "detention", { "detention.victims in (\(victims[$0 % 4])) and detention.count >= \($0 / 4 + 1)" },
        { "detention: {victims: [\(victims[$0 % 4])], count: \($0 / 4 + 1)}" },
        { "detention: {victims: [woman], count: \($0 / 4 + 1)}" }
      ),
      (
        "displacement", { "displacement.direction = \(directions[$0 % 3]) and displacement.count >= \($0 / 3 * 100)" },
        { "displacement: {direction: \(directions[$0 % 3]), count: \($0 / 3 * 100)}" },
        { "displacement: {direction: \(directions[($0 + 1) % 3]), count: \($0 / 3 * 100)}" }
      ),
    ]
    for index in 0..<count {
      let (type, condition, match, noMatch) = kinds[index % kinds.count]
      let governorate = governorates[(index / kinds.count) % governorates.count]
      let variant = index / (kinds.count * governorates.count)
      let location = "location: {governorate: \(governorate), place: \(governorate) centre}"
      text += """
        - rule: generated.rule_\(index)
          desc: Generated rule \(index), on \(type) reports from \(governorate).
          condition: type = \(type) and location.governorate = "\(governorate)" and \(condition(variant))
          output: "%type in %location.place, %location.governorate"
          priority: high
          tags: [generated]
          examples:
            match:
              - {type: \(type), \(location), \(match(variant))}
            no_match:
              - {type: \(type), \(location), \(noMatch(variant))}

        """
    }
    return text
  }

  private func nanoseconds(_ duration: Duration) -> Int {
    Int(duration.components.seconds) * 1_000_000_000 + Int(duration.components.attoseconds / 1_000_000_000)
  }
}
