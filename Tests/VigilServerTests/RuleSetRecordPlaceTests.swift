import Foundation
import NIOEmbedded
import Testing
import VigilCore
import VigilTestSupport

@testable import VigilServer

/// A reload's `vigil.ruleset_loaded` record goes before the first report the new set
/// checked and after those the set before it checked, when both come in one commit:
/// connections that read the old set just before the new one was put in force hand their
/// reports over after the record was owed, and their alerts read as the new set's.
@Suite("The writer: a rule set's record between the reports of the two sets")
struct RuleSetRecordPlaceTests {
  /// A writer on `loop` with its files in `directory`, and its alert log's path.
  static func writer(in directory: TemporaryDirectory, on loop: EmbeddedEventLoop) throws -> (GroupCommit, String) {
    let log = directory.path + "/alerts.jsonl"
    let writer = GroupCommit(
      loop: loop, journal: try Journal(path: directory.path + "/reports.jsonl"),
      alertLog: try AlertLog(path: log, headPath: directory.path + "/alerts.head"), index: DuplicateIndex(),
      syncs: false, rotation: (0, 1), counters: Counters())
    return (writer, log)
  }

  @Test func theRecordComesAfterTheOldSetsAlertsAndBeforeTheNewSets() throws {
    let directory = try TemporaryDirectory()
    let loop = EmbeddedEventLoop()
    let (writer, log) = try Self.writer(in: directory, on: loop)
    let set = try RuleSetLoader().load([
      RuleSource(path: "r.yaml", name: "r.yaml", contents: Array("- rule: r.x\n  desc: x.\n  condition: type = attack\n  output: x\n  priority: low\n".utf8))
    ]).get()
    func submission(_ id: String, ruleset: String) -> Submission {
      let alert = AlertRecord(
        time: "", rule: "r.x", priority: .low, reportID: id, occurredAt: "2016-03-04", message: "x", basis: [], tags: [],
        ruleset: ruleset)
      return Submission(
        reportID: id, idDigest: ReportDigest.id(id), reportJSON: ReportText(#"{"id":"\#(id)"}"#), alerts: [alert],
        warnings: [], ruleset: ruleset)
    }
    let record = RequestResponder.loadedRecord(set, previous: [:], time: "")
    let kept = writer.keepPatterns(for: set, announcing: record)
    let answered = [
      writer.submit(submission("OLD-1", ruleset: "sha256:old")), writer.submit(submission("OLD-2", ruleset: "sha256:old")),
      writer.submit(submission("NEW-1", ruleset: set.revision)), writer.submit(submission("OLD-3", ruleset: "sha256:old")),
    ]
    loop.run()
    _ = try kept.wait()
    for future in answered { _ = try future.wait() }
    let rules = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").map { line in
      String(line.firstMatch(of: #/"report_id":"([^"]*)"/#)?.1 ?? line.firstMatch(of: #/"rule":"([^"]*)"/#)!.1)
    }
    #expect(rules == ["OLD-1", "OLD-2", "vigil.ruleset_loaded", "NEW-1", "OLD-3"], "\(rules)")
    // A commit with reports of the old set only: the record after them.
    let again = writer.keepPatterns(for: set, announcing: RequestResponder.loadedRecord(set, previous: [:], time: ""))
    let late = writer.submit(submission("OLD-4", ruleset: "sha256:old"))
    loop.run()
    _ = try again.wait()
    _ = try late.wait()
    let last = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").suffix(2)
    #expect(last.first?.contains(#""report_id":"OLD-4""#) == true && last.last?.contains("vigil.ruleset_loaded") == true, "\(last)")
  }

  /// A report the old set checked that may complete one of the new set's patterns (it is
  /// an event of one) has the record before it: the pattern's record, of the new set, never
  /// comes before the record that announces the set.
  @Test func aReportThatMayCompleteANewPatternHasTheRecordBeforeIt() throws {
    let directory = try TemporaryDirectory()
    let loop = EmbeddedEventLoop()
    let (writer, log) = try Self.writer(in: directory, on: loop)
    let rules = """
      - rule: r.x
        desc: x.
        condition: type = attack
        output: x
        priority: low
      - pattern: p.x
        desc: Two in a place.
        rules: [r.x]
        group_by: [location.place]
        count: 2
        window: 30d
        output: "%count in %group"
        priority: high
      """
    let set = try RuleSetLoader().load([RuleSource(path: "r.yaml", name: "r.yaml", contents: Array(rules.utf8))]).get()
    func submission(_ id: String, day: Int, ruleset: String) throws -> Submission {
      let json = #"{"id":"\#(id)","type":"attack","occurred_at":"2016-03-0\#(day)","location":{"place":"Darayya"}}"#
      let report = try ReportParser.parse(json).get().report
      let alert = AlertRecord(
        time: "", rule: "r.x", priority: .low, reportID: id, occurredAt: "2016-03-0\(day)", message: "x", basis: [], tags: [],
        ruleset: ruleset)
      return Submission(
        reportID: id, idDigest: ReportDigest.id(id), reportJSON: ReportText(json), alerts: [alert], warnings: [],
        ruleset: ruleset, report: report)
    }
    let installed = writer.installPatterns(
      set, windows: PatternWindows(), marks: PatternRebuild.Marks(journal: 0, logInode: 0, logSize: 0), rebuilt: (0, 0),
      announcing: RequestResponder.loadedRecord(set, previous: [:], time: ""))
    let answered = [
      writer.submit(try submission("OLD-1", day: 1, ruleset: "sha256:old")),
      writer.submit(try submission("OLD-2", day: 2, ruleset: "sha256:old")),
    ]
    loop.run()
    _ = try installed.wait().wait()
    for future in answered { _ = try future.wait() }
    let rules_ = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").map { line in
      String(line.firstMatch(of: #/"rule":"([^"]*)"/#)!.1)
    }
    #expect(rules_ == ["vigil.ruleset_loaded", "r.x", "r.x", "p.x"], "\(rules_)")
  }
}
