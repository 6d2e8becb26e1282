import Foundation
import VigilCore

/// What a crash inside a group commit leaves, put right at start. A commit writes the
/// journal and then the alert log, and syncs them in that order: a crash between the two
/// syncs can leave reports journalled whose alerts are not in the log, or only some of
/// them (the torn last line is cut). Those reports were never acknowledged, but the
/// journal holds them, so a client that sends one again is told it is a duplicate: its
/// alerts must be there.
///
/// `alerts.head` says where both files stood after the last commit whose records were
/// synced: its `seq`, and the journal's inode and size. The journal's lines past that size
/// are the reports since, and the log's records past that `seq` what was written of
/// theirs (a head not synced itself may be older, which only widens the look: every
/// report since is compared with every record since). Each report is evaluated again and
/// the alerts the log lacks are appended, stamped with its `received_at`. Nothing is
/// written when the files cannot tell (no such head, a journal or log rotated since) or
/// when the reports since may have been judged by another rule set than the one in force
/// now (a reload recorded since, or another revision at that `seq`): what they would have
/// fired is then not what this set fires.
///
/// The patterns are counted by the rebuild that follows (`PatternRebuild.build` with the
/// plan's offset): the pattern records those reports completed that the log lacks are
/// written with the rules' alerts, each after its report's, in journal order — as a commit
/// writes them, so a report's alerts stay one run for its duplicate answer — in one append
/// and one sync: a crash during the recovery leaves the head as it was, to be looked at
/// again.
enum LastCommitRecovery {
  /// What the reports since the head should have in the log, found without writing.
  struct Plan {
    /// Where those reports begin in the journal.
    var journalFrom: Int64
    /// The rules of the records the log holds for each of them.
    var logged: [String: [String]]
    /// Each of them in journal order, with the alerts its rules give that the log lacks.
    var reports: [(id: String, missing: [AlertRecord])]
  }

  /// The records to append, and what they are.
  struct Recovery {
    var records: [AlertRecord] = []
    /// The `seq` and rule of each rule alert written, by report: for the patterns' windows.
    var seqs: [String: [(seq: UInt64, rule: String)]] = [:]
    var alerts = 0
    var patternRecords = 0
    var reports = 0
  }

  static let prefix = Array(#"{"received_at":""#.utf8)
  static let middle = Array(#"","report":"#.utf8)
  /// Past this many reports since the head, the look is given up (a head that old was
  /// not written by this version's commits, or the files were changed by hand).
  static let mostReports = 100_000

  /// What the reports journalled since the head should have in the log and do not; nil
  /// when the files cannot tell, or another rule set may have judged them.
  static func plan(journal: Journal, alertLog: AlertLog, rotatedLog: String, ruleSet: RuleSet) -> Plan? {
    guard let head = alertLog.headAtStart, let covered = head.journal, covered.inode == journal.mark.inode,
      journal.size > covered.size, let entries = Self.lines(of: journal.path, from: covered.size),
      let (records, revision) = Self.records(after: head.seq, in: [alertLog.path, rotatedLog]),
      revision == ruleSet.revision
    else { return nil }
    var logged: [String: [String]] = [:]
    for record in records {
      guard case .string(let reportID)? = record["report_id"], case .string(let rule)? = record["rule"] else { continue }
      logged[reportID, default: []].append(rule)
    }
    var plan = Plan(journalFrom: covered.size, logged: logged, reports: [])
    for line in entries {
      guard let (report, receivedAt) = Self.entry(line) else { continue }
      var present = logged[report.id] ?? []
      let expected = RequestResponder.alertRecords(
        for: report, matches: ruleSet.evaluate(report), set: ruleSet, time: receivedAt)
      let lacking = expected.filter { record in
        guard let found = present.firstIndex(of: record.rule) else { return true }
        present.remove(at: found)
        return false
      }
      plan.reports.append((report.id, lacking))
    }
    return plan
  }

  /// What to tell when the head was written for another journal file than the one there
  /// now, which has grown past the size the head gives: the state folder copied or
  /// restored (new inodes), or the journal replaced by hand while vigild was stopped. The
  /// look after a crash is not made then (the head's size is no place in this file), and
  /// a crash's lost alerts would go unsaid (audit 44). Nil otherwise.
  static func unverifiedNote(journal: Journal, alertLog: AlertLog) -> String? {
    guard let head = alertLog.headAtStart, let covered = head.journal, covered.inode != journal.mark.inode,
      journal.size > covered.size
    else { return nil }
    return "alerts.head was written for another journal file than \(journal.path) (inode \(covered.inode), now "
      + "\(journal.mark.inode): the state folder copied or restored, or the journal replaced) and this one is longer "
      + "than the \(covered.size) bytes it gives: vigild cannot tell which of its reports the last commit before the "
      + "stop wrote, so if that stop was a crash, the last reports journalled may lack some of their alerts in the log "
      + "(vigil replay shows what each fires)"
  }

  /// What to tell when the journal is shorter than the head says the last commit left it
  /// (the same file: cut back by hand, or restored from an older copy in place): the
  /// reports cut from it are no longer known as recorded, so one sent again is taken as
  /// new and its alerts written a second time (audit 51: nothing was said). Nil otherwise.
  /// (A torn last line cut at start is past the head's size: never a commit's. A journal
  /// cut in place by logrotate's `copytruncate`, against docs/alerts.md's advice, has its
  /// copy beside it, `.1`, which the duplicate index reads: not said then.)
  static func shortenedNote(journal: Journal, alertLog: AlertLog) -> String? {
    guard let head = alertLog.headAtStart, let covered = head.journal, covered.inode == journal.mark.inode,
      journal.size < covered.size, access(journal.path + ".1", F_OK) != 0
    else { return nil }
    return "\(journal.path) is shorter than alerts.head says the last commit left it (\(journal.size) bytes, not "
      + "\(covered.size)): reports were cut from it, or it was put back from an older copy; the reports cut are no "
      + "longer known as recorded, so one sent again is recorded again and its alerts written a second time "
      + "(their records in the alert log stand: vigil verify, vigil replay)"
  }

  /// The records to write, in journal order: each report's missing alerts, then the
  /// pattern records it completed that the log lacks (`lost`, made once the `seq`s of
  /// the alerts they name are known: `logged` for those in the log, the ones written here
  /// for the others). `firstSeq` is the first written record's.
  static func records(
    _ plan: Plan, lost: [PatternRebuild.LostCompletion], logged: [String: [(seq: UInt64, rule: String)]],
    firstSeq: UInt64, set: RuleSet
  ) -> Recovery {
    var recovery = Recovery()
    let completedBy = Dictionary(grouping: lost, by: \.report.id)
    var seq = firstSeq
    var done = Set<String>()
    for (id, missing) in plan.reports where !done.contains(id) {
      done.insert(id)
      let patterns = completedBy[id] ?? []
      guard !missing.isEmpty || !patterns.isEmpty else { continue }
      recovery.reports += 1
      for record in missing {
        recovery.records.append(record)
        recovery.seqs[id, default: []].append((seq, record.rule))
        seq += 1
      }
      for completion in patterns {
        recovery.records.append(
          PatternRebuild.record(for: completion, set: set) { reportID in
            (logged[reportID] ?? []) + (recovery.seqs[reportID] ?? [])
          })
        seq += 1
      }
      recovery.alerts += missing.count
      recovery.patternRecords += patterns.count
    }
    return recovery
  }

  /// The journal's lines from `offset`; nil past `mostReports` of them.
  private static func lines(of path: String, from offset: Int64) -> [[UInt8]]? {
    guard let file = fopen(path, "rb") else { return nil }
    defer { fclose(file) }
    var lines: [[UInt8]] = []
    var tooMany = false
    FileLines.forEach(in: file, from: offset) { line, _ in
      if lines.count < mostReports { lines.append(Array(line)) } else { tooMany = true }
    }
    return tooMany ? nil : lines
  }

  /// The records after `seq`, from the newest file's end back (into the file rotated
  /// before when the newer begins after it), and the revision in force at `seq` (that
  /// record's `ruleset`). Nil when the record `seq` is in neither file, or a rule set was
  /// loaded after it, or a record after it was fired by another revision.
  private static func records(after seq: UInt64, in files: [String]) -> (records: [JSONObject], revision: String)? {
    var after: [JSONObject] = []
    for file in files {
      let (lines, before) = FileTail.run(of: file, while: { Self.seq(of: $0).map { $0 > seq } ?? true })
      after = lines.compactMap(Self.record) + after
      guard let before else { continue }  // the file begins after `seq`: the older one holds it
      guard let record = Self.record(before), Self.seq(of: before) == seq, case .string(let revision)? = record["ruleset"]
      else { return nil }
      let sameSet = after.allSatisfy { record in
        record["rule"] != .string("vigil.ruleset_loaded") && record["ruleset"] == .string(revision)
      }
      return sameSet ? (after, revision) : nil
    }
    return nil
  }

  private static func record(_ line: [UInt8]) -> JSONObject? {
    guard case .object(let record)? = try? JSONValue.parse(line) else { return nil }
    return record
  }

  private static func seq(of line: [UInt8]) -> UInt64? {
    AlertLog.position(of: line)?.seq
  }

  /// The report of a journal line and its `received_at`, as written.
  private static func entry(_ line: [UInt8]) -> (Report, String)? {
    guard line.starts(with: prefix), let end = line[prefix.count...].prefix(40).firstIndex(of: UInt8(ascii: "\"")),
      line[end...].starts(with: middle), line.last == UInt8(ascii: "}")
    else { return nil }
    let start = end + middle.count
    guard start < line.count - 1,
      case .success(.submit(let parsed, _)) = RequestParser.parse(Array(line[start..<(line.count - 1)]))
    else { return nil }
    return (parsed.report, String(decoding: line[prefix.count..<end], as: UTF8.self))
  }
}
