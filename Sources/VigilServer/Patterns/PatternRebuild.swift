import Foundation
import VigilCore

/// Rebuilds patterns' windows from the journal (docs/patterns.md, "Restarts and reloads"):
/// every journalled report, in the order it was recorded, checked by the rule set and
/// counted as the writer counts it, its completions taken as already emitted; then the
/// alert log's pattern records, so that none is emitted again, and the `seq`s of the
/// alerts the windows hold.
public enum PatternRebuild {
  struct Outcome {
    var windows: PatternWindows
    var reports = 0
    var unreadable = 0
    var seconds = 0.0
    /// What reports past a crash's last synced commit completed whose pattern records the
    /// alert log lacks (see `LastCommitRecovery`), for the caller to write.
    var lost: [LostCompletion] = []
    /// The `seq`s and rules the alert log holds for the reports the windows hold (and the
    /// lost completions' contributors).
    var loggedSeqs: [String: [(seq: UInt64, rule: String)]] = [:]
  }

  /// A completion whose pattern record a crash cut: the report that completed it, and when
  /// that report was received (milliseconds).
  struct LostCompletion {
    let completion: PatternWindows.Completion
    let report: Report
    let receivedAt: Int64
  }

  /// What a start's `LastCommitRecovery` found: where the reports judged again begin in
  /// the journal, and the rules the log holds for each of them.
  struct CrashedCommit {
    var journalFrom: Int64
    var logged: [String: [String]]
  }

  /// Windows for `set`, from the rotated journals (whole), the journal (bytes `from` to
  /// `to`) and the alert log files
  /// (oldest first). With `crashed`, the completions of the reports from its offset on are
  /// checked against the log, and those it lacks are given in `lost`.
  static func build(
    set: RuleSet, horizon: Int64, rotatedJournals: [String] = [], journal: String, to end: Int64? = nil,
    alertLogs: [String], crashed: CrashedCommit? = nil
  ) -> Outcome {
    let started = Date()
    var outcome = Outcome(windows: PatternWindows(horizon: horizon))
    guard set.enabledPatternCount > 0 else { return outcome }
    // The journals rotated before it first (logrotate's, or moved aside and reopened),
    // whole: their reports were journalled before the current file's. A copy of another
    // (a backup `cp reports.jsonl reports.jsonl-20260101`, logrotate's `copy`) would count
    // its reports twice, and complete a pattern that then never fires: a file whose first
    // line is a later file's first line holds nothing that file does not.
    var (reports, unreadable) = (0, 0)
    for rotated in distinct(rotatedJournals, before: journal) {
      let (more, unreadableMore) = count(set: set, windows: &outcome.windows, journal: rotated, from: 0, to: nil)
      reports += more
      unreadable += unreadableMore
    }
    let (current, unreadableCurrent) = count(
      set: set, windows: &outcome.windows, journal: journal, from: 0, to: crashed?.journalFrom ?? end)
    reports += current
    unreadable += unreadableCurrent
    var completedSince: [LostCompletion] = []
    if let crashed {
      let (more, unreadableMore) = count(
        set: set, windows: &outcome.windows, journal: journal, from: crashed.journalFrom, to: end
      ) { completedSince.append(LostCompletion(completion: $0, report: $1, receivedAt: $2)) }
      reports += more
      unreadable += unreadableMore
    }
    outcome.reports = reports
    outcome.unreadable = unreadable
    outcome.lost = completedSince.filter {
      !(crashed?.logged[$0.report.id] ?? []).contains($0.completion.pattern.id)
    }
    outcome.loggedSeqs = noteLogged(
      set: set, windows: &outcome.windows, alertLogs: alertLogs,
      alsoSeqsOf: Set(outcome.lost.flatMap { $0.completion.contributors.map(\.reportID) }))
    outcome.seconds = (Date().timeIntervalSince(started) * 1000).rounded() / 1000
    return outcome
  }

  /// The rotated journals (oldest first) that are not copies of a later file, nor of
  /// `journal`: a file whose first line is a later file's first line holds nothing that
  /// file does not (a backup `cp`, logrotate's `copy`).
  public static func distinct(_ rotatedJournals: [String], before journal: String) -> [String] {
    let firstLines = (rotatedJournals + [journal]).map(Self.firstLine)
    return rotatedJournals.indices.filter { index in
      guard let line = firstLines[index] else { return true }
      return !firstLines[(index + 1)...].contains(line)
    }.map { rotatedJournals[$0] }
  }

  /// A journal file's first line (up to 64 KiB of it), nil when it has none.
  static func firstLine(_ path: String) -> [UInt8]? {
    guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
    defer { try? handle.close() }
    guard let data = try? handle.read(upToCount: 64 << 10), !data.isEmpty else { return nil }
    let bytes = [UInt8](data)
    return Array(bytes.prefix { $0 != UInt8(ascii: "\n") })
  }

  /// Where a reload's rebuild started: the journal's size (it is read up to there), and the
  /// alert log's file and size (the records written after are not in what it read).
  public struct Marks: Sendable {
    public let journal: Int64
    let logInode: UInt64
    let logSize: Int64
    /// The journals rotated before the one being written, oldest first, as descriptors the
    /// rebuild owns (`closeRotatedJournals` when done): read whole first.
    var rotatedJournals: [Int32] = []

    /// The journal file being written when the marks were taken, as a descriptor the
    /// rebuild owns (`closeJournal` when done; -1 if none), its inode and its number
    /// (`Journal.currentFile`): a reopen while the rebuild reads leaves it readable, and
    /// shows by the inode.
    var journalDescriptor: Int32 = -1
    var journalInode: UInt64 = 0
    var journalFile = 0

    /// Their paths, which open those very files.
    var rotatedJournalPaths: [String] { rotatedJournals.map { "/proc/self/fd/\($0)" } }

    /// The path that opens the journal file marked, or `path` (the journal's) without one.
    func journalPath(else path: String) -> String {
      journalDescriptor >= 0 ? "/proc/self/fd/\(journalDescriptor)" : path
    }

    func closeRotatedJournals() {
      Self.close(rotatedJournals)
    }

    static func close(_ descriptors: [Int32]) {
      for descriptor in descriptors { Glibc.close(descriptor) }
    }

    func closeJournal() {
      if journalDescriptor >= 0 { Glibc.close(journalDescriptor) }
    }
  }

  /// Fills in the `seq`s of the reports counted without them (journalled while a reload
  /// rebuilt the windows) from the records the alert log gained since `marks`: the rest of
  /// the file then written (rotated since to `.1`, or still the log), then the log.
  static func fillSeqs(_ windows: inout PatternWindows, set: RuleSet, alertLog path: String, since marks: Marks) {
    var files: [(path: String, from: Int64)] = []
    if RotatedFiles.inode(of: path) == marks.logInode {
      files = [(path, marks.logSize)]
    } else {
      if RotatedFiles.inode(of: path + ".1") == marks.logInode { files.append((path + ".1", marks.logSize)) }
      files.append((path, 0))
    }
    var seqs: [String: [(seq: UInt64, rule: String)]] = [:]
    for (file, from) in files {
      guard let handle = fopen(file, "rb") else { continue }
      defer { fclose(handle) }
      FileLines.forEach(in: handle, from: from) { line, _ in
        guard case .object(let record)? = try? JSONValue.parse(Array(line)), case .string(let rule)? = record["rule"],
          case .number(let seq)? = record["seq"], case .string(let reportID)? = record["report_id"]
        else { return }
        seqs[reportID, default: []].append((UInt64(seq), rule))
      }
    }
    let patterns = Dictionary(set.patterns.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
    windows.fillSeqs(patterns: patterns) { reportID, rules in
      (seqs[reportID] ?? []).filter { rules.contains($0.rule) }.map(\.seq)
    }
  }

  /// A lost completion's pattern record, as the writer would have made it, the `seq`s of
  /// its reports' alerts from `seqs(reportID)`.
  static func record(
    for lost: LostCompletion, set: RuleSet, seqs: (String) -> [(seq: UInt64, rule: String)]
  ) -> AlertRecord {
    let (completion, report) = (lost.completion, lost.report)
    var facts = completion.facts
    facts.seqs = completion.contributors.flatMap { contributor in
      seqs(contributor.reportID).filter { completion.pattern.countedRules.contains($0.rule) }.map(\.seq)
    }.sorted()
    return AlertRecord(
      time: UTCTime.format(millisecondsSinceEpoch: lost.receivedAt), rule: completion.pattern.id,
      priority: completion.pattern.priority, reportID: report.id, occurredAtText: report.occurredAt.text,
      messageText: ReportText(completion.message), basis: completion.pattern.basis, tags: completion.pattern.tags,
      ruleset: set.revision, pattern: facts)
  }

  /// Counts the journal's reports from byte `from` to `to` (its end when nil); gives how
  /// many were read, and how many lines could not be. The journal is read a slice at a
  /// time; each slice's reports are parsed and checked on every core (what a report is to
  /// the patterns does not depend on the others), then counted in journal order.
  public static func count(
    set: RuleSet, windows: inout PatternWindows, journal: String, from start: Int64, to end: Int64?,
    completed: ((PatternWindows.Completion, _ by: Report, _ receivedAt: Int64) -> Void)? = nil
  ) -> (reports: Int, unreadable: Int) {
    guard set.enabledPatternCount > 0, let handle = FileHandle(forReadingAtPath: journal) else { return (0, 0) }
    defer { try? handle.close() }
    try? handle.seek(toOffset: UInt64(start))
    var left = end.map { max(0, $0 - start) } ?? Int64.max
    var carried: [UInt8] = []
    var reports = 0
    var unreadable = 0
    while left > 0 {
      let chunk = (try? handle.read(upToCount: Int(min(left, 8 << 20)))) ?? Data()
      if chunk.isEmpty { break }
      left -= Int64(chunk.count)
      var bytes = carried
      bytes.append(contentsOf: chunk)
      // A last line without its newline waits for the next slice; at the end it is one
      // still being written, and is not counted.
      guard let last = bytes.lastIndex(of: UInt8(ascii: "\n")) else {
        carried = bytes
        continue
      }
      carried = Array(bytes[(last + 1)...])
      let entries = checked(bytes[...last], set: set)
      for entry in entries {
        guard let entry else {
          unreadable += 1
          continue
        }
        reports += 1
        guard !entry.events.isEmpty else { continue }
        let observation = windows.observe(
          entry.events, report: entry.report, receivedAt: entry.receivedAt, patterns: set.patterns
        ) { _ in [] }
        windows.settle()
        if let completed { observation.completions.forEach { completed($0, entry.report, entry.receivedAt) } }
      }
    }
    return (reports, unreadable)
  }

  /// A journal line as the writer counted it: the report, what it is to the patterns, and
  /// when it was received (milliseconds).
  private struct Entry: Sendable {
    let report: Report
    let events: [PatternEvent]
    let receivedAt: Int64
  }

  /// The complete lines of `bytes`, each parsed and checked (nil: unreadable), on every core.
  private static func checked(_ bytes: ArraySlice<UInt8>, set: RuleSet) -> [Entry?] {
    var lines: [Range<Int>] = []
    var lineStart = bytes.startIndex
    for index in bytes.indices where bytes[index] == UInt8(ascii: "\n") {
      if index > lineStart { lines.append(lineStart..<index) }
      lineStart = index + 1
    }
    let ranges = lines
    var entries = [Entry?](repeating: nil, count: lines.count)
    let workers = max(1, min(ProcessInfo.processInfo.activeProcessorCount, lines.count / 256 + 1))
    entries.withUnsafeMutableBufferPointer { output in
      nonisolated(unsafe) let output = output
      bytes.withUnsafeBufferPointer { input in
        nonisolated(unsafe) let input = input
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
          for index in stride(from: worker, to: ranges.count, by: workers) {
            let range = ranges[index]
            output[index] = entry(
              UnsafeBufferPointer(rebasing: input[(range.lowerBound - bytes.startIndex)..<(range.upperBound - bytes.startIndex)]),
              set: set)
          }
        }
      }
    }
    return entries
  }

  private static let prefix = Array("{\"received_at\":\"".utf8)
  private static let middle = Array("\",\"report\":".utf8)

  /// One journal line: `{"received_at":"…","report":{…}}`.
  private static func entry(_ line: UnsafeBufferPointer<UInt8>, set: RuleSet) -> Entry? {
    guard line.count > prefix.count + middle.count + 2, line.starts(with: prefix),
      let timeEnd = (prefix.count..<min(line.count, prefix.count + 40)).first(where: { line[$0] == UInt8(ascii: "\"") }),
      line[timeEnd...].starts(with: middle),
      let receivedAt = Timestamp(String(decoding: line[prefix.count..<timeEnd], as: UTF8.self)),
      case .success(.submit(let parsed, _)) = RequestParser.parse(Array(line[(timeEnd + middle.count)..<(line.count - 1)]))
    else { return nil }
    let report = parsed.report
    return Entry(
      report: report, events: set.patternEvents(for: report, matches: set.evaluate(report)),
      receivedAt: receivedAt.seconds * 1000 + Int64(receivedAt.nanoseconds / 1_000_000))
  }

  /// Reads the alert log files: each pattern record of the set's patterns holds its group
  /// back (it was emitted), and the `seq`s of held reports' alerts are filled in. Gives the
  /// `seq`s and rules found of the held reports and of `alsoSeqsOf`.
  @discardableResult
  static func noteLogged(
    set: RuleSet, windows: inout PatternWindows, alertLogs: [String], alsoSeqsOf others: Set<String> = []
  ) -> [String: [(seq: UInt64, rule: String)]] {
    let patterns = Dictionary(set.patterns.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
    let held = windows.heldReportIDs.union(others)
    var seqs: [String: [(seq: UInt64, rule: String)]] = [:]
    for path in alertLogs {
      FileLines.forEach(atPath: path) { line, _ in
        guard case .object(let record)? = try? JSONValue.parse(Array(line)),
          case .string(let rule)? = record["rule"], case .number(let seq)? = record["seq"]
        else { return }
        if case .string(let reportID)? = record["report_id"], held.contains(reportID) {
          seqs[reportID, default: []].append((UInt64(seq), rule))
        }
        guard let pattern = patterns[rule], case .object(let facts)? = record["pattern"],
          case .object(let group)? = facts["group"], case .string(let from)? = facts["from"],
          case .string(let to)? = facts["to"], let start = Timestamp(from), let end = Timestamp(to)
        else { return }
        let values = pattern.groupNames.map { name -> String? in
          if case .string(let value)? = group[name] { return value }
          return nil
        }
        guard values.allSatisfy({ $0 != nil }) else { return }
        windows.noteFiring(pattern: pattern, group: values.map { $0! }, from: start, to: end)
      }
    }
    windows.fillSeqs(patterns: patterns) { reportID, rules in
      (seqs[reportID] ?? []).filter { rules.contains($0.rule) }.map(\.seq)
    }
    return seqs
  }
}
