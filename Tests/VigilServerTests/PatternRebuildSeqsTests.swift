import Foundation
import NIOPosix
import Testing
import VigilCore
import VigilTestSupport

@testable import VigilServer

/// A reload rebuilds the patterns' windows from the journal up to a mark while the daemon
/// goes on recording; the writer then counts the reports journalled meanwhile, and their
/// alerts' `seq`s come from what the alert log gained since the mark — a pattern they
/// complete names every alert of its reports in `seqs`.
@Suite("Patterns: seqs of the reports journalled during a reload's rebuild")
struct PatternRebuildSeqsTests {
  static let rules = """
    - rule: t.det
      desc: A detention.
      condition: type = detention
      output: "detained"
      priority: high
    - pattern: t.race
      desc: Three detentions in one place within 30 days.
      rules: [t.det]
      group_by: [location.place]
      count: 3
      window: 30d
      output: "%count in %group"
      priority: high
    """

  static func report(_ id: String, day: Int) -> String {
    #"{"id":"\#(id)","type":"detention","occurred_at":"2016-05-0\#(day)T10:00:00Z","location":{"place":"Wtown"}}"#
  }

  static func record(seq: Int, rule: String, reportID: String) -> String {
    #"{"seq":\#(seq),"time":"2026-12-05T00:00:00.000Z","rule":"\#(rule)","priority":"high","report_id":"\#(reportID)","message":"m","prev":"x","hash":"y"}"#
  }

  @Test func reportsCountedAfterTheMarkGetTheirSeqsFromTheLogsNewRecords() throws {
    let directory = try TemporaryDirectory()
    let set = try RuleSetLoader().load([
      RuleSource(path: "Rules/t.yaml", name: "t.yaml", contents: Array(Self.rules.utf8))
    ]).get()
    let journal = directory.path + "/reports.jsonl"
    try ([Self.report("W-1", day: 1), Self.report("W-2", day: 2)].map { #"{"received_at":"2026-12-05T00:00:00.000Z","report":\#($0)}"# }
      .joined(separator: "\n") + "\n").write(toFile: journal, atomically: true, encoding: .utf8)
    // The log before the mark (another report's record), then the two reports' records.
    let log = directory.path + "/alerts.jsonl"
    let before = Self.record(seq: 1, rule: "t.det", reportID: "OTHER") + "\n"
    try before.write(toFile: log, atomically: true, encoding: .utf8)
    let marks = PatternRebuild.Marks(journal: 0, logInode: try #require(RotatedFiles.inode(of: log)), logSize: Int64(before.utf8.count))
    let handle = try #require(FileHandle(forWritingAtPath: log))
    handle.seekToEndOfFile()
    handle.write(Data((Self.record(seq: 2, rule: "t.det", reportID: "W-1") + "\n" + Self.record(seq: 3, rule: "other.rule", reportID: "W-2") + "\n"
      + Self.record(seq: 4, rule: "t.det", reportID: "W-2") + "\n").utf8))
    try handle.close()

    var windows = PatternWindows()
    _ = PatternRebuild.count(set: set, windows: &windows, journal: journal, from: 0, to: nil)
    PatternRebuild.fillSeqs(&windows, set: set, alertLog: log, since: marks)
    let third = try ReportParser.parse(Self.report("W-3", day: 3)).get().report
    let events = set.patternEvents(for: third, matches: set.evaluate(third))
    let completions = windows.observe(events, report: third, receivedAt: nil, patterns: set.patterns) { _ in [5] }.completions
    #expect(completions.map(\.facts.seqs) == [[2, 4, 5]], "the counted rule's alerts of W-1 and W-2, then W-3's")

    // Rotated since the mark: the rest of the old file (now .1), then the new log.
    var rotated = PatternWindows()
    try FileManager.default.moveItem(atPath: log, toPath: log + ".1")
    try "".write(toFile: log, atomically: true, encoding: .utf8)
    _ = PatternRebuild.count(set: set, windows: &rotated, journal: journal, from: 0, to: nil)
    PatternRebuild.fillSeqs(&rotated, set: set, alertLog: log, since: marks)
    let again = rotated.observe(events, report: third, receivedAt: nil, patterns: set.patterns) { _ in [5] }.completions
    #expect(again.map(\.facts.seqs) == [[2, 4, 5]])
  }

  /// A rotation while a reload's rebuild reads (the journal moved aside and reopened):
  /// the rebuild reads the file it marked, not the new one at its path, and the writer then
  /// counts the rest of the marked file and the new one. Each report is counted once.
  @Test func aRotationDuringTheRebuildLosesAndRepeatsNothing() throws {
    let directory = try TemporaryDirectory()
    let set = try RuleSetLoader().load([
      RuleSource(path: "Rules/t.yaml", name: "t.yaml", contents: Array(Self.rules.utf8))
    ]).get()
    let loops = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    defer { try? loops.syncShutdownGracefully() }
    let log = directory.path + "/alerts.jsonl"
    let journal = try Journal(path: directory.path + "/reports.jsonl")
    let writer = GroupCommit(
      loop: loops.next(), journal: journal, alertLog: try AlertLog(path: log, headPath: directory.path + "/alerts.head"),
      index: DuplicateIndex(), syncs: false, rotation: (0, 1), counters: Counters())
    func submit(_ id: String, day: Int) throws {
      let json = Self.report(id, day: day)
      _ = try writer.submit(
        Submission(
          reportID: id, idDigest: ReportDigest.id(id), reportJSON: ReportText(json), alerts: [], warnings: [],
          ruleset: set.revision)
      ).wait()
    }
    try submit("W-1", day: 1)
    let marks = try writer.rebuildMarks().wait()
    try submit("W-2", day: 2)
    try FileManager.default.moveItem(atPath: journal.path, toPath: journal.path + ".1")
    try writer.reopen().wait()
    try submit("W-3", day: 3)
    let rebuilt = PatternRebuild.build(
      set: set, horizon: 90, rotatedJournals: marks.rotatedJournalPaths,
      journal: marks.journalPath(else: writer.journalPath), to: marks.journal, alertLogs: [log])
    marks.closeRotatedJournals()
    #expect(rebuilt.reports == 1, "the rebuild read W-1 from the file it marked")
    let record = RequestResponder.loadedRecord(set, previous: [:], time: "2026-12-05T00:00:00.000Z")
    _ = try writer.installPatterns(
      set, windows: rebuilt.windows, marks: marks, rebuilt: (rebuilt.reports, rebuilt.seconds), announcing: record
    ).wait().wait()
    let status = writer.patternStatus.withLockedValue { $0 }
    #expect(status.rebuiltFrom == 3 && status.groups == 1, "\(status.json)")
  }
}
