import ArgumentParser
import Foundation
import VigilCore
import VigilServer

struct Replay: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Re-check journalled reports against a rule set; show the alerts it would add and remove.",
    discussion: """
      Compares, per rule, what the rule set fires on every report of the journal with what \
      the alert log recorded for it — the effect of a rule edit on past reports, before or \
      after deploying it. Exit 0 whatever it shows; 1 if the rule set does not load.
      Example: vigil replay --rules Rules
      """)

  @Option(help: ArgumentHelp("The report journal (default: <state_dir>/reports.jsonl).", valueName: "FILE"))
  var journal: String?
  @Option(help: ArgumentHelp("Rules directory (repeatable; default: the configuration's).", valueName: "DIR"))
  var rules: [String] = []
  @Option(
    name: .customLong("alert-log"),
    help: ArgumentHelp("The alert log (default: the configuration's, with its rotated files).", valueName: "FILE"))
  var alertLog: String?
  @Option(help: ArgumentHelp("Configuration file (default: $VIGIL_CONFIG, else Config/vigild.yaml if present).", valueName: "FILE"))
  var config: String?
  @Flag(help: "One JSON object per rule, then a summary object.") var json = false

  func run() throws {
    var options = DaemonOptions()
    options.config = config
    let configuration = try options.configuration()
    let set = try loadRules(configuration)
    let journalPath = journal ?? configuration.stateDirectory + "/reports.jsonl"
    // The journals rotated beside the configured one first, as patterns and the daemon's
    // rebuild read them (a journal named with --journal is read alone): the alert log's
    // rotated files hold the alerts of their reports. Listed before the journal is read: a
    // rotation in between leaves its reports in one of them, not in both.
    let rotated = journal == nil ? PatternRebuild.distinct(RotatedFiles.rotated(beside: journalPath).plain, before: journalPath) : []
    let journalData = try InputFile.contents(journalPath, naming: "the journal")
    let (logged, coverage, gaps) = try recordedAlerts(configuration)
    var inGaps = 0

    var added: [String: [String]] = [:]
    var removed: [String: [String]] = [:]
    var reports = 0
    var unreadable = 0
    var uncovered = 0
    var compared = Set<String>()
    // Every report the journals read hold, compared or not: a pattern record is compared
    // only when all its reports are among them.
    var journalled = Set<String>()
    // A rotated file gone since it was listed is passed over.
    let earlier = rotated.compactMap { FileManager.default.contents(atPath: $0) }
    for line in (earlier + [journalData]).lazy.flatMap({ $0.split(separator: UInt8(ascii: "\n")) }) where !line.isEmpty {
      guard case .object(let entry)? = try? JSONValue.parse(Array(line), envelope: JSONScanner.journalEnvelope),
        let report = entry["report"],
        case .success(.submit(let parsed, _)) = RequestParser.parse(Array(JSONText.value(report).utf8))
      else {
        unreadable += 1
        continue
      }
      journalled.insert(parsed.report.id)
      // Received before the first record kept: its alerts are in files rotated away, so
      // what the log "lacks" for it says nothing.
      if let coverage, case .string(let text)? = entry["received_at"], let received = Timestamp(text),
        received < coverage.time
      {
        uncovered += 1
        continue
      }
      if !gaps.isEmpty, case .string(let text)? = entry["received_at"], let received = Timestamp(text),
        gaps.contains(where: { $0.mayHold(received) })
      {
        inGaps += 1
        continue
      }
      let id = parsed.report.id
      // A report recorded again (its first record in a file older than the duplicate
      // index keeps) is compared once.
      guard compared.insert(id).inserted else { continue }
      reports += 1
      let now = Set(set.evaluate(parsed.report).map(\.rule.id))
      let before = logged[id] ?? []
      for rule in now.subtracting(before) { added[rule, default: []].append(id) }
      for rule in before.subtracting(now) { removed[rule, default: []].append(id) }
    }
    let patternChanges = try replayPatterns(
      set, configuration: configuration, journals: rotated + [journalPath], since: coverage, journalled: journalled)
    let affected = Set(added.keys).union(removed.keys).sorted()
    let addedCount = added.values.reduce(0) { $0 + $1.count }
    let removedCount = removed.values.reduce(0) { $0 + $1.count }
    if json {
      for rule in affected {
        let ids = { (list: [String]?) in "[" + (list ?? []).map(JSONText.string).joined(separator: ",") + "]" }
        print("{\"rule\":\(JSONText.string(rule)),\"added\":\(ids(added[rule])),\"removed\":\(ids(removed[rule]))}")
      }
      for change in patternChanges.byPattern { print(change.json) }
      print(
        "{\"reports\":\(reports),\"unreadable\":\(unreadable),\"ruleset\":\"\(set.revision)\","
          + "\"not_compared\":\(uncovered + inGaps),\"added\":\(addedCount),\"removed\":\(removedCount),"
          + "\"patterns_added\":\(patternChanges.added),\"patterns_removed\":\(patternChanges.removed),"
          + "\"patterns_not_compared\":\(patternChanges.notCompared)}")
      return
    }
    let width = affected.map(\.count).max() ?? 0
    for rule in affected {
      let name = rule.padding(toLength: width, withPad: " ", startingAt: 0)
      if let ids = added[rule] { print("\(name)  +\(ids.count) would be added    \(Self.sample(ids))") }
      if let ids = removed[rule] { print("\(name)  -\(ids.count) would be removed  \(Self.sample(ids))") }
    }
    let patternWidth = patternChanges.byPattern.map(\.pattern.count).max() ?? 0
    for change in patternChanges.byPattern {
      let name = change.pattern.padding(toLength: patternWidth, withPad: " ", startingAt: 0)
      if !change.added.isEmpty {
        print(TerminalText.safe("\(name)  +\(change.added.count) would be added    \(Self.sample(change.added.map(\.shown)))"))
      }
      if !change.removed.isEmpty {
        print(TerminalText.safe("\(name)  -\(change.removed.count) would be removed  \(Self.sample(change.removed.map(\.shown)))"))
      }
    }
    let patternSummary =
      set.patterns.isEmpty && patternChanges.removed == 0
      ? ""
      : "; patterns: \(patternChanges.added) added, \(patternChanges.removed) removed"
        + (patternChanges.notCompared > 0
          ? " (\(patternChanges.notCompared) recorded not compared: their reports are not all in the journal read)" : "")
    print(
      "replayed \(reports) report\(reports == 1 ? "" : "s") from \(journalPath)"
        + (rotated.isEmpty ? "" : " and \(rotated.count) rotated file\(rotated.count == 1 ? "" : "s") beside it")
        + " against \(set.revision) "
        + "(\(set.enabledRuleCount) rules): \(addedCount) alert\(addedCount == 1 ? "" : "s") added, "
        + "\(removedCount) removed, \(affected.count) rule\(affected.count == 1 ? "" : "s") affected"
        + patternSummary
        + (uncovered > 0
          ? "; \(uncovered) earlier report\(uncovered == 1 ? "" : "s") not compared (received before seq "
            + "\(coverage?.seq ?? 0), the alert log's first record kept)" : "")
        + (inGaps > 0
          ? "; \(inGaps) report\(inGaps == 1 ? "" : "s") not compared (received while \(Gap.described(gaps)) "
            + "written, which the alert log no longer holds: see vigil verify)" : "")
        + (unreadable > 0 ? "; \(unreadable) journal lines could not be read" : ""))
  }

  private static func sample(_ ids: [String]) -> String {
    ids.count <= 5 ? ids.joined(separator: ", ") : ids.prefix(5).joined(separator: ", ") + ", …"
  }

  private func loadRules(_ configuration: DaemonConfiguration) throws -> RuleSet {
    let sources: [RuleSource]
    do {
      sources = try ConfiguredRuleSet.read(rules.isEmpty ? configuration.rules.paths : rules)
    } catch {
      throw CommandFailure(status: error.refused ? 1 : 2, sentence: error.description)
    }
    switch ConfiguredRuleSet.load(sources, configuration: configuration, plugins: builtInPlugins) {
    case .success(let set): return set
    case .failure(let errors):
      FileHandle.standardError.write(
        Data("vigil: the rule set does not load (\(errors.errors.count) error(s)):\n\(errors)\n".utf8))
      throw ExitCode(1)
    }
  }

  /// The alert log's files, oldest first: the one given, or the configured log after every
  /// rotated file beside it, however many (logrotate may keep more than `alerts.keep`).
  private func alertLogFiles(_ configuration: DaemonConfiguration) -> [String] {
    guard alertLog == nil else { return [alertLog!] }
    let base = configuration.alerts.path
    return RotatedFiles.numbers(beside: base).sorted(by: >).map { "\(base).\($0)" } + [base]
  }

  /// How far back the alert log's files go, when not to its start: the first record kept
  /// (its `seq` and `time`, the time its report was received).
  struct Coverage {
    let seq: UInt64
    let time: Timestamp
  }

  /// Records missing from the alert log between two it keeps: their seqs, and the times of
  /// the records around them (a record's `time` is its report's `received_at`).
  struct Gap {
    let seqs: ClosedRange<UInt64>
    let from: Timestamp
    let to: Timestamp

    /// Whether a report received then may have had its alerts among the missing records.
    func mayHold(_ received: Timestamp) -> Bool { from <= received && received <= to }

    /// The missing records, as the summary says them: "record 5 was", "records 73–136, 140 were".
    static func described(_ gaps: [Gap]) -> String {
      let one = gaps.count == 1 && gaps[0].seqs.count == 1
      let seqs = gaps.map { $0.seqs.count == 1 ? "\($0.seqs.lowerBound)" : "\($0.seqs.lowerBound)–\($0.seqs.upperBound)" }
      return (one ? "record " : "records ") + seqs.joined(separator: ", ") + (one ? " was" : " were")
    }
  }

  /// Patterns the set completes over the journal (counted from nothing, as a rebuild
  /// counts) against the pattern records of the alert log; a completion is the pattern
  /// and the reports that make it.
  private func replayPatterns(
    _ set: RuleSet, configuration: DaemonConfiguration, journals: [String], since coverage: Coverage?,
    journalled: Set<String>
  ) throws -> PatternReplay {
    var replayed: [String: PatternReplay.Completion] = [:]
    var windows = PatternWindows(horizon: configuration.rules.latenessHorizon)
    let since = coverage.map { $0.time.seconds * 1000 + Int64($0.time.nanoseconds / 1_000_000) }
    // As the daemon's rebuild counts: the rotated journals first, then the journal.
    for file in journals {
      _ = PatternRebuild.count(set: set, windows: &windows, journal: file, from: 0, to: nil) { completion, _, receivedAt in
        // Completed by a report received before the first record kept: recorded, if at all,
        // in a file rotated away.
        if let since, receivedAt < since { return }
        let facts = completion.facts
        let item = PatternReplay.Completion(
          pattern: completion.pattern.id, group: facts.group, from: facts.from, to: facts.to, reports: facts.reports)
        replayed[item.key] = item
      }
    }
    var recorded: [String: PatternReplay.Completion] = [:]
    var notCompared = 0
    for path in alertLogFiles(configuration) {
      guard let data = FileManager.default.contents(atPath: path) else { continue }
      for line in data.split(separator: UInt8(ascii: "\n")) where !line.isEmpty {
        guard case .object(let record)? = try? JSONValue.parse(Array(line)), case .string(let rule)? = record["rule"],
          case .object(let facts)? = record["pattern"], case .array(let reports)? = facts["reports"]
        else { continue }
        var group: [String] = []
        if case .object(let keys)? = facts["group"] {
          group = keys.members.compactMap { if case .string(let value) = $0.value { value } else { nil } }
        }
        let text = { (key: String) -> String in if case .string(let value)? = facts[key] { value } else { "" } }
        let item = PatternReplay.Completion(
          pattern: rule, group: group, from: text("from"), to: text("to"),
          reports: reports.compactMap { if case .string(let id) = $0 { id } else { nil } })
        // Made by reports the journals read do not hold (a --journal of part of them, a
        // rotated journal compressed): what the replay lacks of it says nothing.
        guard item.reports.allSatisfy(journalled.contains) else {
          notCompared += 1
          continue
        }
        recorded[item.key] = item
      }
    }
    return PatternReplay(replayed: replayed, recorded: recorded, notCompared: notCompared)
  }

  /// The rules the alert log recorded for each report id, over the rotated files too, and
  /// how far back those files go (nil: to `seq` 1).
  private func recordedAlerts(_ configuration: DaemonConfiguration) throws -> (
    recorded: [String: Set<String>], coverage: Coverage?, gaps: [Gap]
  ) {
    let base = alertLog ?? configuration.alerts.path
    var recorded: [String: Set<String>] = [:]
    var first: (seq: UInt64, time: Timestamp?)?
    var previous: (seq: UInt64, time: Timestamp)?
    var gaps: [Gap] = []
    for path in alertLogFiles(configuration) {
      // Only the log itself must be there; a rotated file listed a moment ago may be gone.
      guard let data = path == base ? try InputFile.contents(path, naming: "the alert log") : try? InputFile.contents(path)
      else { continue }
      for line in data.split(separator: UInt8(ascii: "\n")) where !line.isEmpty {
        guard case .object(let record)? = try? JSONValue.parse(Array(line)) else { continue }
        if first == nil, case .number(let seq)? = record["seq"], seq >= 1, case .string(let time)? = record["time"] {
          first = (UInt64(seq), Timestamp(time))
        }
        // Records missing between two kept (a rotated file moved away, as `verify` finds):
        // the reports received from the one before to the one after are not compared.
        if case .number(let number)? = record["seq"], number >= 1, case .string(let text)? = record["time"],
          let time = Timestamp(text)
        {
          let seq = UInt64(number)
          if let before = previous, seq > before.seq + 1 {
            gaps.append(Gap(seqs: (before.seq + 1)...(seq - 1), from: before.time, to: time))
          }
          previous = (seq, time)
        }
        guard case .string(let id)? = record["report_id"], case .string(let rule)? = record["rule"],
          record["pattern"] == nil
        else { continue }
        recorded[id, default: []].insert(rule)
      }
    }
    guard let first, first.seq > 1, let time = first.time else { return (recorded, nil, gaps) }
    return (recorded, Coverage(seq: first.seq, time: time), gaps)
  }
}
