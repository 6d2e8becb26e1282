import Foundation
import Testing
import VigilTestSupport

/// The Vigil incident form's KoboToolbox export (API v2 JSON: `{"results": […]}`, group
/// paths, `_geolocation`, a select_multiple answer) through the shipped mapping.
@Suite("vigil import: a KoboToolbox export through Config/mappings/kobo-incidents.yaml", .onThreadsOfTheirOwn)
struct ImportKoboTests {
  @Test func eachSubmissionBecomesItsReport() throws {
    let daemon = try RunningDaemon(rules: TerritorialControlReplayTests.shippedRules())
    let root = ImportAWSDTests.root.path
    let run = try ChildProcess.run(
      "vigil",
      ["import", "--socket", daemon.socketPath, "--map", root + "/Config/mappings/kobo-incidents.yaml", "--json",
       root + "/docs/examples/kobo-export.json"],
      in: daemon.directory.path)
    #expect(run.status == 0, "\(run.standardError)")
    let verdicts = ImportAWSDTests.lines(run.standardOutput).filter { $0["file"] != nil }
    #expect(verdicts.map { $0["report_id"] as? String } == ["KOBO-101", "KOBO-102", "KOBO-103"])
    #expect(verdicts.map { $0["line"] as? Int } == [1, 2, 3], "a record's index")
    let journal = try String(contentsOfFile: daemon.directory.path + "/var/lib/vigil/reports.jsonl", encoding: .utf8)
    let reports = ImportAWSDTests.lines(journal).compactMap { $0["report"] as? [String: Any] }
    #expect(reports.count == 3)
    let market = reports[0]
    #expect(market["weapons"] as? [String] == ["barrel_bomb", "air_strike"], "a select_multiple answer, split")
    let place = market["location"] as? [String: Any] ?? [:]
    #expect(place["lat"] as? Double == 35.6433 && place["lon"] as? Double == 36.675, "the point, said to be exact")
    #expect(place["populated"] as? Bool == true)
    #expect((market["casualties"] as? [String: Any])?["children_killed"] as? Int == 3)
    #expect((market["extra"] as? [String: Any])?["submitted_by"] as? String == "monitor_idlib_3")
    // Not said to be exact: kept under extra, not taken for the place.
    let raqqa = reports[1]
    #expect((raqqa["location"] as? [String: Any])?["lat"] == nil)
    #expect((raqqa["extra"] as? [String: Any])?["location_lat"] as? Double == 35.95)
    // Unanswered questions (and a null point) are absent fields.
    let convoy = reports[2]
    #expect(convoy["type"] as? String == "access")
    #expect(convoy["casualties"] == nil && convoy["weapons"] == nil && (convoy["location"] as? [String: Any])?["lat"] == nil)
    expectCleanStop(daemon)
  }

  /// A JSON export names its own fields, so a column the mapping misspells cannot be told
  /// missing before the records are read: once they are, a column no record had a value
  /// for is said as a warning on standard error (the verdicts stand; the exit status too).
  @Test func aColumnNoRecordHasIsWarnedAbout() throws {
    let daemon = try RunningDaemon(rules: TerritorialControlReplayTests.shippedRules())
    let root = ImportAWSDTests.root.path
    let shipped = try String(contentsOfFile: root + "/Config/mappings/kobo-incidents.yaml", encoding: .utf8)
    // The field moved to a misspelt column, and the example that checks it dropped.
    let typo = shipped.replacingOccurrences(of: "narrative: incident/narrative", with: "narrative: incident/narative")
    let mapping = String(typo[..<(typo.range(of: "\nexamples:")?.lowerBound ?? typo.endIndex)]) + "\n"
    try mapping.write(toFile: daemon.directory.path + "/typo.yaml", atomically: true, encoding: .utf8)
    let run = try ChildProcess.run(
      "vigil", ["import", "--check", "--socket", daemon.socketPath, "--map", "typo.yaml", root + "/docs/examples/kobo-export.json"],
      in: daemon.directory.path)
    #expect(run.status == 0, "\(run.standardError)")
    #expect(
      run.standardError.contains("kobo-export.json: no record has a value for the mapping's column 'incident/narative' (is the name misspelt?)"),
      "\(run.standardError)")
    #expect(!run.standardError.contains("'incident/date'"), "a column the records have is not named")

    // An export of no records says that, not that every column is misspelt; a page of a
    // paged export says it is one.
    try #"{"count": 0, "next": null, "results": []}"#.write(
      toFile: daemon.directory.path + "/empty.json", atomically: true, encoding: .utf8)
    try #"{"count": 250, "next": "https://kf.example/api/v2/assets/a/data/?start=100", "results": []}"#.write(
      toFile: daemon.directory.path + "/page.json", atomically: true, encoding: .utf8)
    let empty = try ChildProcess.run(
      "vigil", ["import", "--check", "--socket", daemon.socketPath, "--map", root + "/Config/mappings/kobo-incidents.yaml", "empty.json", "page.json"],
      in: daemon.directory.path)
    #expect(empty.status == 0, "\(empty.standardError)")
    #expect(empty.standardError.contains("vigil: warning: empty.json: the file holds no records"), "\(empty.standardError)")
    #expect(!empty.standardError.contains("no record has a value"), "\(empty.standardError)")
    #expect(
      empty.standardError.contains("page.json: the export is one page of several; it counts 250 records and holds 0"),
      "\(empty.standardError)")
  }
}
