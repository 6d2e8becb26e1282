import Foundation
import Testing
import VigilTestSupport

/// The generic HXL mapping: columns found by their hashtags whatever their headers say,
/// tags a sheet lacks left out, ISO and dd/MM/yyyy dates.
@Suite("vigil import: any HXL-tagged sheet through Config/mappings/hxl-incidents.yaml", .onThreadsOfTheirOwn)
struct ImportHXLTests {
  /// `--check` records nothing, so it says itself what `submit` would refuse: two rows of
  /// the import giving one id to different reports. The same report twice is no conflict.
  @Test func checkSaysWhatSubmitWouldRefuseAsAConflict() throws {
    let daemon = try RunningDaemon(rules: TerritorialControlReplayTests.shippedRules())
    let root = ImportAWSDTests.root.path
    let sheet = """
      Id,Date,Governorate,Killed
      #event +id,#date,#adm1 +name,#affected +killed
      D-1,2016-08-21,Idlib,5
      D-1,2016-08-21,Idlib,5
      D-1,2016-08-21,Idlib,6
      """
    try sheet.write(toFile: daemon.directory.path + "/twice.csv", atomically: true, encoding: .utf8)
    let mapping = root + "/Config/mappings/hxl-incidents.yaml"
    var runs: [String: ChildProcess.Run] = [:]
    for command in ["--check", "--json"] {
      runs[command] = try ChildProcess.run(
        "vigil", ["import", "--socket", daemon.socketPath, "--map", mapping, command, "twice.csv"], in: daemon.directory.path)
    }
    let check = try #require(runs["--check"])
    #expect(check.status == 1, "\(check.standardOutput)")
    #expect(
      check.standardOutput.contains(
        "twice.csv:5: refused (id_conflict): HXL-D-1 is the id of twice.csv:3 too, with other content"),
      "\(check.standardOutput)")
    #expect(!check.standardOutput.contains("twice.csv:4: refused"), "\(check.standardOutput)")
    // The real import refuses the same row.
    let submitted = try #require(runs["--json"])
    #expect(submitted.status == 1)
    let verdicts = ImportAWSDTests.lines(submitted.standardOutput).filter { $0["file"] != nil }
    #expect(((verdicts.last?["error"] as? [String: Any])?["code"] as? String) == "id_conflict", "\(verdicts)")
    // naming the earlier row of the import that gave the id, as --check does.
    #expect(verdicts.last?["same_id_as"] as? String == "twice.csv:3", "\(verdicts)")
    #expect(verdicts.last?["file"] as? String == "twice.csv" && verdicts.last?["line"] as? Int == 5, "\(verdicts)")
    let again = try ChildProcess.run(
      "vigil", ["import", "--socket", daemon.socketPath, "--map", mapping, "twice.csv"], in: daemon.directory.path)
    #expect(again.standardOutput.contains("twice.csv:5: refused (id_conflict): "), "\(again.standardOutput)")
    #expect(again.standardOutput.contains(" (the id of twice.csv:3 of this import)"), "\(again.standardOutput)")
  }

  @Test func columnsAreFoundByTheirTagsWhateverTheHeaders() throws {
    let daemon = try RunningDaemon(rules: TerritorialControlReplayTests.shippedRules())
    let root = ImportAWSDTests.root.path
    // The example sheet, with Arabic headers and its columns in another order.
    let sheet = """
      الوصف,الرقم,التاريخ,المحافظة,البلدة,القتلى
      #description,#event +id,#date,#adm1 +name,#loc +name,#affected +killed
      قصف على السوق,AR-1,21/08/2016,إدلب,سراقب,5
      """
    try sheet.write(toFile: daemon.directory.path + "/arabic.csv", atomically: true, encoding: .utf8)
    let run = try ChildProcess.run(
      "vigil",
      ["import", "--socket", daemon.socketPath, "--map", root + "/Config/mappings/hxl-incidents.yaml", "--json",
       root + "/docs/examples/hxl-incidents.csv", "arabic.csv"],
      in: daemon.directory.path)
    #expect(run.status == 0, "\(run.standardError)")
    let verdicts = ImportAWSDTests.lines(run.standardOutput).filter { $0["file"] != nil }
    #expect(verdicts.map { $0["report_id"] as? String } == ["HXL-HX-1", "HXL-HX-2", "HXL-HX-3", "HXL-HX-4", "HXL-AR-1"])
    let journal = try String(contentsOfFile: daemon.directory.path + "/var/lib/vigil/reports.jsonl", encoding: .utf8)
    let reports = Dictionary(
      uniqueKeysWithValues: ImportAWSDTests.lines(journal).compactMap { line -> (String, [String: Any])? in
        guard let report = line["report"] as? [String: Any], let id = report["id"] as? String else { return nil }
        return (id, report)
      })
    let first = try #require(reports["HXL-HX-1"])
    #expect(first["type"] as? String == "attack" && first["occurred_at"] as? String == "2016-03-04")
    #expect((first["location"] as? [String: Any])?["lat"] as? Double == 35.6433)
    #expect((first["casualties"] as? [String: Any])?["killed"] as? Int == 12, "#affected +killed, not +children")
    #expect((first["casualties"] as? [String: Any])?["children_killed"] as? Int == 3)
    #expect(first["perpetrator"] == nil, "'unknown' is skipped")
    #expect(reports["HXL-HX-2"]?["occurred_at"] as? String == "2016-05-09", "dd/MM/yyyy")
    #expect(reports["HXL-HX-3"]?["type"] as? String == "access")
    let arabic = try #require(reports["HXL-AR-1"])
    #expect((arabic["location"] as? [String: Any])?["place"] as? String == "سراقب")
    #expect(arabic["narrative"] as? String == "قصف على السوق")
    #expect(arabic["source"] == nil, "a tag the sheet lacks is left out")
    // The Raqqa strike, by its coordinates, is in territory ISIL alone held.
    let raqqa = try #require(verdicts.first { $0["report_id"] as? String == "HXL-HX-4" })
    #expect(((raqqa["alerts"] as? [[String: Any]]) ?? []).compactMap { $0["rule"] as? String } == ["ceasefire.attack_in_designated_territory"])
    expectCleanStop(daemon)
  }
}
