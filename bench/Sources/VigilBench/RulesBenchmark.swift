import Foundation
import VigilCore
import VigilPlugins
import VigilServer

/// Times the rule engine: evaluating a rule set on every report of a workload (each
/// report timed alone, for the median), and loading a set of many rules.
struct RulesBenchmark {
  func evaluate(rules: [RuleSource], workload: Data, rounds: Int) -> String {
    // With the plugins a default configuration enables, as the daemon loads them.
    guard case .success(let set) = PluginRegistry(BuiltInPlugins.all).loader(for: DaemonConfiguration()).load(rules) else {
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

  /// `count` rules (each with two examples) on the report fields, as one YAML file.
  func generatedRules(_ count: Int) -> String {
    var text = "- list: heavy\n  items: [barrel_bomb, artillery, mortar]\n"
    text += "- macro: after_cessation\n  condition: occurred_at >= 2016-02-27T00:00:00+02:00\n"
    let governorates = ["Aleppo", "Idlib", "Hama", "Homs", "Daraa", "Raqqa"]
    for index in 0..<count {
      let governorate = governorates[index % governorates.count]
      text += """
        - rule: generated.rule_\(index)
          desc: Generated rule \(index).
          condition: type = attack and after_cessation and weapons in (heavy) and location.governorate = \(governorate) and casualties.killed >= \(index % 50)
          output: "%weapons in %location.place, %casualties.killed killed"
          priority: high
          tags: [generated]
          examples:
            match:
              - {type: attack, weapons: [mortar], location: {governorate: \(governorate)}, casualties: {killed: \(index % 50)}}
            no_match:
              - {type: attack, weapons: [tank], location: {governorate: \(governorate)}, casualties: {killed: \(index % 50)}}

        """
    }
    return text
  }

  private func nanoseconds(_ duration: Duration) -> Int {
    Int(duration.components.seconds) * 1_000_000_000 + Int(duration.components.attoseconds / 1_000_000_000)
  }
}
