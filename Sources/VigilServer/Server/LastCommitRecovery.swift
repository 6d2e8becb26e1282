import Foundation
import VigilCore

/// What a crash inside the last group commit leaves, put right at start. A commit writes
/// the journal and then the alert log, and syncs them in that order: a crash between the
/// two syncs can leave reports journalled whose alerts are not in the log, or only some
/// of them (the torn last line is cut). Those reports were never acknowledged, but the
/// journal holds them, so a client that sends one again is told it is a duplicate: its
/// alerts must be there. The last commit's reports are the journal's last lines that
/// share its last `received_at` (one clock reading a commit, which is also its alerts'
/// `time`); each is checked again with the rule set and the alerts the log lacks are
/// appended, with that `time`, before anything else is written.
///
/// Patterns are not evaluated again here: a pattern completed by the lost commit fires at
/// the next report of its group instead.
enum LastCommitRecovery {
  struct Outcome: Equatable {
    var reports = 0
    var alerts = 0
  }

  static let prefix = Array(#"{"received_at":""#.utf8)
  static let middle = Array(#"","report":"#.utf8)

  /// Appends (and syncs) the alerts the last commit's reports should have in the log.
  static func recover(journal: String, alertLog: AlertLog, rotatedLog: String, ruleSet: RuleSet) throws(AlertLog.Failure)
    -> Outcome
  {
    guard let last = FileTail.lines(of: journal, limit: 1, while: { _ in true }).last,
      let receivedAt = Self.receivedAt(last)
    else { return Outcome() }
    let stamp = Array(receivedAt.utf8)
    let entries = FileTail.lines(of: journal, while: { Self.receivedAtBytes($0) == stamp[...] })
    // What the log has of that commit, and the rule set it was judged by; when either
    // cannot be told, or that set is not the one in force now (a reload since, or files
    // edited while vigild was down), nothing is written: what it would have fired is not
    // what this set fires.
    guard let (records, revision) = Self.records(at: receivedAt, in: [alertLog.path, rotatedLog]),
      revision == ruleSet.revision
    else { return Outcome() }
    var logged: [String: [String]] = [:]
    for line in records {
      guard case .object(let record)? = try? JSONValue.parse(line), case .string(let rule)? = record["rule"],
        case .string(let reportID)? = record["report_id"]
      else { continue }
      logged[reportID, default: []].append(rule)
    }
    var missing: [AlertRecord] = []
    var outcome = Outcome()
    for line in entries {
      guard let report = Self.report(line) else { continue }
      var present = logged[report.id] ?? []
      let expected = RequestResponder.alertRecords(
        for: report, matches: ruleSet.evaluate(report), set: ruleSet, time: receivedAt)
      let lacking = expected.filter { record in
        guard let found = present.firstIndex(of: record.rule) else { return true }
        present.remove(at: found)
        return false
      }
      if !lacking.isEmpty { outcome.reports += 1 }
      missing += lacking
    }
    guard !missing.isEmpty else { return outcome }
    try alertLog.append(missing)
    try alertLog.sync()
    outcome.alerts = missing.count
    return outcome
  }

  /// The records stamped `time`, looked for from the newest file's end back past later
  /// ones (Vigil's own, of later starts and reloads), into the older file when the newer
  /// holds none and does not reach back before `time` (a commit's records are one write,
  /// in one file); and the revision of the rule set in force at `time`: that of those
  /// records, else of the last record before them (a reload in between is a record too).
  /// Nil when the files kept do not tell: the older one is gone, or was renamed otherwise
  /// than `.1` by an external rotation. Times are RFC 3339 UTC with milliseconds, all of
  /// one width, so their text orders them.
  private static func records(at time: String, in files: [String]) -> (records: [[UInt8]], revision: String)? {
    let notEarlier = { (line: [UInt8]) in Self.recordTime(line).map { $0 >= time } ?? true }
    for file in files {
      let (lines, before) = FileTail.run(of: file, while: notEarlier)
      let stamped = lines.filter { Self.recordTime($0) == time }
      if let revision = (stamped.last ?? before).flatMap(Self.revision) { return (stamped, revision) }
      // Nothing of that time here, nor before it: an older file may hold them.
      guard before == nil, lines.first.map({ AlertLog.position(of: $0)?.seq != 1 }) ?? true else { return nil }
    }
    return nil
  }

  /// An alert record's `ruleset`.
  private static func revision(_ line: [UInt8]) -> String? {
    guard case .object(let record)? = try? JSONValue.parse(line), case .string(let revision)? = record["ruleset"] else {
      return nil
    }
    return revision
  }

  /// The `received_at` of a journal line, as written.
  static func receivedAt(_ line: [UInt8]) -> String? {
    receivedAtBytes(line).map { String(decoding: $0, as: UTF8.self) }
  }

  private static func receivedAtBytes(_ line: [UInt8]) -> ArraySlice<UInt8>? {
    guard line.starts(with: prefix), let end = line[prefix.count...].prefix(40).firstIndex(of: UInt8(ascii: "\"")),
      line[end...].starts(with: middle)
    else { return nil }
    return line[prefix.count..<end]
  }

  /// The report of a journal line.
  private static func report(_ line: [UInt8]) -> Report? {
    guard let time = receivedAtBytes(line), line.last == UInt8(ascii: "}") else { return nil }
    let start = time.endIndex + middle.count
    guard start < line.count - 1,
      case .success(.submit(let parsed, _)) = RequestParser.parse(Array(line[start..<(line.count - 1)]))
    else { return nil }
    return parsed.report
  }

  /// An alert record's `time`.
  private static func recordTime(_ line: [UInt8]) -> String? {
    guard case .object(let record)? = try? JSONValue.parse(line), case .string(let time)? = record["time"] else {
      return nil
    }
    return time
  }
}
