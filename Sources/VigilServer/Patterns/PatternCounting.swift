import Foundation
import NIOConcurrencyHelpers
import VigilCore

/// The writer's patterns (docs/patterns.md): the rule set whose patterns count, and their
/// windows. Touched only on the writer's loop; what `status` shows is copied to `status`.
struct PatternCounting: Sendable {
  var set: RuleSet
  var windows: PatternWindows
  /// The last warning made for a late report, and the newest time it was made for: late
  /// reports come in runs (an import of old reports), and the text changes only with it.
  private var lastLateWarning: (newest: Int64, text: String)?

  init(set: RuleSet, windows: PatternWindows) {
    self.set = set
    self.windows = windows
  }

  /// What `status` and the console show of the patterns.
  struct Status: Sendable {
    var patterns = 0
    var groups = 0
    var late = 0
    var horizonDays = 90
    /// The newest incident time counted, as RFC 3339 UTC; nil before any.
    var newest: String?
    /// The last rebuild from the journal: reports read, and how long it took.
    var rebuiltFrom = 0
    var rebuildSeconds = 0.0

    var json: String {
      "{\"enabled\":\(patterns),\"groups\":\(groups),\"late\":\(late),\"horizon_days\":\(horizonDays),"
        + "\"newest\":\(newest.map { "\"\($0)\"" } ?? "null"),"
        + "\"rebuilt_from\":\(rebuiltFrom),\"rebuild_s\":\(rebuildSeconds)}"
    }
  }

  /// Counts one report that is to be recorded; gives the records of the patterns it
  /// completes, and whether it came too late to count. `seqs` gives the `seq` of each of
  /// the report's alerts. `checking`: the report is only checked, so a group that holds
  /// it already (recorded before) does not count it twice.
  mutating func count(
    report: Report, events given: [PatternEvent], evaluatedBy revision: String, alerts: [AlertRecord],
    seqs: (Int) -> UInt64?, receivedAt: Int64, time: String, checking: Bool = false
  ) -> (records: [AlertRecord], late: Bool) {
    guard set.enabledPatternCount > 0 else { return ([], false) }
    let set = self.set
    // A report checked by the set before a reload counts by the set now in force: one set
    // counts every report the windows hold.
    let events =
      revision == set.revision ? given : set.patternEvents(for: report, matches: set.evaluate(report))
    guard !events.isEmpty else { return ([], false) }
    let observation = windows.observe(
      events, report: report, receivedAt: receivedAt, patterns: set.patterns, skippingHeld: checking
    ) { event in
      let counted = set.patterns[event.pattern].countedRules
      return alerts.indices.compactMap { counted.contains(alerts[$0].rule) ? seqs($0) : nil }
    }
    let records = observation.completions.map { completion in
      AlertRecord(
        time: time, rule: completion.pattern.id, priority: completion.pattern.priority, reportID: report.id,
        occurredAtText: report.occurredAt.text, messageText: ReportText(completion.message),
        basis: completion.pattern.basis,
        tags: completion.pattern.tags, ruleset: set.revision, pattern: completion.facts)
    }
    return (records, observation.late)
  }

  func status(rebuiltFrom: Int, rebuildSeconds: Double, horizonDays: Int) -> Status {
    Status(
      patterns: set.enabledPatternCount, groups: windows.groupCount, late: windows.lateReports,
      horizonDays: horizonDays,
      newest: windows.earliestCounted.map { UTCTime.format(millisecondsSinceEpoch: $0 + windows.horizon) },
      rebuiltFrom: rebuiltFrom, rebuildSeconds: rebuildSeconds)
  }

  /// The warning a report too late to count gets in its response; `checking`, in a
  /// `check`'s, which records nothing: what submitting it would do.
  mutating func lateWarning(horizonDays: Int, checking: Bool = false) -> String {
    if !checking, let last = lastLateWarning, last.newest == windows.newest { return last.text }
    let newest = windows.earliestCounted.map { UTCTime.format(millisecondsSinceEpoch: $0 + windows.horizon) } ?? "?"
    let text =
      "occurred_at is more than \(horizonDays) days (rules.lateness_horizon_days) before the newest incident "
      + "time counted (\(newest)): "
      + (checking
        ? "submitted, the report would be recorded and its rules would fire, but it would not count toward patterns"
        : "the report is recorded and its rules fired, but it does not count toward patterns")
    if !checking { lastLateWarning = (windows.newest, text) }
    return text
  }
}
