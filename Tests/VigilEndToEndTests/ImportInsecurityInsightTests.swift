import Foundation
import Testing
import VigilTestSupport

/// `vigil import` with the shipped Insecurity Insight mapping on the real workbook in
/// `../shared/data/` (XLSX, a hashtag row under the header), against the real daemon and
/// the shipped rules. The table was read from the sheet's rows themselves.
@Suite("vigil import: the real Insecurity Insight workbook through Config/mappings/insecurity-insight-health.yaml", .onThreadsOfTheirOwn)
struct ImportInsecurityInsightTests {
  static let data = URL(fileURLWithPath: SharedData.path("insecurity-insight-attacks-on-health-care-2016-2023.xlsx") ?? "/missing/insecurity-insight-attacks-on-health-care-2016-2023.xlsx")

  /// The first 25 Syria rows of 2016, latest first as the sheet has them: (sheet row,
  /// occurred_at, governorate, target, weapons, perpetrator party). Target: a `Health
  /// Building` is a hospital; else a health vehicle damaged, destroyed or taken makes it
  /// an ambulance; else the health workers. None has exact coordinates (their precision is
  /// 25 km or coarser), so none is placed, and territorial control knows none: every one,
  /// after the cessation of hostilities and by a party not designated, is a ceasefire
  /// violation and an attack on medical care; those by air or shelling are also
  /// indiscriminate attacks on a civilian object.
  static let rows: [(Int, String, String, String, [String], String)] = [
    // A pharmacy partially damaged by Syrian warplanes (missiles).
    (8385, "2016-12-30", "Hama Governorate", "hospital", ["air_strike"], "government"),
    // An NGO ambulance partially damaged by Syrian warplanes.
    (8387, "2016-12-29", "Rif Dimashq Governorate", "ambulance", ["air_strike"], "government"),
    // An NGO vehicle seized by unidentified gunmen on a road.
    (8390, "2016-12-27", "Idlib Governorate", "medical_personnel", ["small_arms"], "non_state_armed_group"),
    (8391, "2016-12-27", "Aleppo Governorate", "ambulance", ["air_strike"], "foreign_forces"),
    (8393, "2016-12-27", "Idlib Governorate", "medical_personnel", ["air_strike"], "foreign_forces"),
    // A hospital raided and a floor declared a military centre.
    (8396, "2016-12-23", "Rif Dimashq Governorate", "hospital", ["small_arms"], "government"),
    (8397, "2016-12-23", "Rif Dimashq Governorate", "hospital", ["air_strike"], "government"),
    // A doctor killed at a checkpoint.
    (8398, "2016-12-22", "Rif Dimashq Governorate", "medical_personnel", ["small_arms"], "government"),
    // "Missile" with no more said: other.
    (8399, "2016-12-20", "Rif Dimashq Governorate", "ambulance", ["other"], "government"),
    (8401, "2016-12-19", "Homs Governorate", "medical_personnel", ["other"], "government"),
    // Evacuation buses set on fire: arson is no weapon of the vocabulary, so other.
    (8402, "2016-12-18", "Aleppo Governorate", "ambulance", ["other"], "non_state_armed_group"),
    (8404, "2016-12-15", "Idlib Governorate", "ambulance", ["small_arms"], "non_state_armed_group"),
    (8405, "2016-12-15", "Idlib Governorate", "medical_personnel", ["air_strike"], "government"),
    (8406, "2016-12-15", "Aleppo Governorate", "medical_personnel", ["small_arms"], "government"),
    (8407, "2016-12-15", "Aleppo Governorate", "medical_personnel", ["small_arms"], "government"),
    (8408, "2016-12-15", "Idlib Governorate", "hospital", ["air_strike"], "government"),
    (8409, "2016-12-15", "Rif Dimashq Governorate", "hospital", ["air_strike"], "government"),
    // A convoy denied passage by a militia (firearms carried).
    (8411, "2016-12-14", "Aleppo Governorate", "medical_personnel", ["small_arms"], "non_state_armed_group"),
    (8412, "2016-12-14", "Aleppo Governorate", "hospital", ["air_strike"], "government"),
    (8413, "2016-12-11", "Idlib Governorate", "ambulance", ["air_strike"], "government"),
    // A paramedic killed by a barrel bomb, which the sheet records as a plane's bomb.
    (8414, "2016-12-10", "Aleppo Governorate", "medical_personnel", ["air_strike"], "government"),
    (8416, "2016-12-10", "Homs Governorate", "medical_personnel", ["shelling"], "government"),
    (8418, "2016-12-09", "Idlib Governorate", "ambulance", ["air_strike"], "government"),
    (8422, "2016-12-05", "Rif Dimashq Governorate", "hospital", ["air_strike"], "government"),
    // A nurse killed by rebel shelling.
    (8423, "2016-12-05", "Aleppo Governorate", "medical_personnel", ["shelling"], "non_state_armed_group"),
  ]

  @Test func theSyriaRowsOf2016BecomeReportsAndFireTheirRules() throws {
    guard FileManager.default.fileExists(atPath: Self.data.path) else {
      Issue.record("\(SharedData.missing("insecurity-insight-attacks-on-health-care-2016-2023.xlsx"))")
      return
    }
    let daemon = try RunningDaemon(rules: TerritorialControlReplayTests.shippedRules())
    let mapping = ImportAWSDTests.root.appendingPathComponent("Config/mappings/insecurity-insight-health.yaml").path
    let run = try ChildProcess.run(
      "vigil", ["import", "--socket", daemon.socketPath, "--map", mapping, "--json", Self.data.path],
      in: daemon.directory.path)
    #expect(run.status == 0, "\(run.standardError)")
    let objects = ImportAWSDTests.lines(run.standardOutput)
    let verdicts = objects.filter { $0["file"] != nil }
    #expect(verdicts.count == 285)
    #expect(verdicts.allSatisfy { $0["ok"] as? Bool == true && $0["duplicate"] as? Bool == false })
    let counts = try #require(objects.last)
    #expect(counts["rows"] as? Int == 8854)
    #expect(counts["filtered"] as? Int == 8569)
    #expect((counts["unmapped"] as? [Any])?.isEmpty == true, "\(counts)")

    let fired = verdicts.map { verdict in
      (verdict["line"] as? Int ?? 0, ((verdict["alerts"] as? [[String: Any]]) ?? []).compactMap { $0["rule"] as? String })
    }
    // The rules' alerts, by row; the patterns (docs/patterns.md) are counted apart: a year of
    // attacks on health care repeats in governorates, and the shipped pattern says so.
    let firedByRow = Dictionary(uniqueKeysWithValues: fired.map { ($0.0, Set($0.1.filter { !$0.hasPrefix("patterns.") })) })
    let patternAlerts = fired.flatMap(\.1).filter { $0 == "patterns.repeated_attacks_on_medical_care" }
    #expect(patternAlerts.count >= 10, "\(patternAlerts.count) repeated-attack patterns in 285 attacks on health care")
    let journal = try String(contentsOfFile: daemon.directory.path + "/var/lib/vigil/reports.jsonl", encoding: .utf8)
    // The journal's reports, by the row each verdict names.
    var reportsByID: [String: [String: Any]] = [:]
    for line in ImportAWSDTests.lines(journal) {
      guard let report = line["report"] as? [String: Any], let id = report["id"] as? String else { continue }
      #expect(
        ((report["extra"] as? [String: Any])?["import"] as? [String: Any])?["mapping"] as? String
          == "insecurity-insight-health", "\(id)")
      reportsByID[id] = report
    }
    var reportsByRow: [Int: [String: Any]] = [:]
    for verdict in verdicts where verdict["ok"] as? Bool == true {
      if let row = verdict["line"] as? Int, let id = verdict["report_id"] as? String { reportsByRow[row] = reportsByID[id] }
    }
    #expect(reportsByRow.count == 285, "each accepted row's report is in the journal")
    let indiscriminate: Set<String> = ["air_strike", "shelling"]
    for (row, occurredAt, governorate, target, weapons, party) in Self.rows {
      let report = try #require(reportsByRow[row], "no report from row \(row)")
      #expect((report["id"] as? String)?.hasPrefix("II-") == true)
      #expect(report["occurred_at"] as? String == occurredAt, "row \(row)")
      #expect(report["type"] as? String == "attack", "row \(row)")
      let location = report["location"] as? [String: Any] ?? [:]
      #expect(location["governorate"] as? String == governorate, "row \(row)")
      #expect(location["lat"] == nil && location["place"] == nil, "row \(row): no precise place")
      #expect((report["extra"] as? [String: Any])?["location_lat"] != nil, "row \(row): its coarse point kept under extra")
      #expect((report["target"] as? [String: Any])?["type"] as? String == target, "row \(row)")
      #expect(report["weapons"] as? [String] == weapons, "row \(row)")
      #expect((report["perpetrator"] as? [String: Any])?["party"] as? String == party, "row \(row)")
      var expected: Set<String> = ["ceasefire.violation", "weapons.attack_on_medical"]
      if !indiscriminate.isDisjoint(with: weapons) { expected.insert("weapons.indiscriminate_in_populated_area") }
      #expect(firedByRow[row] == expected, "row \(row)")
    }

    // The incidents without direct violence (a convoy blocked, a clearance letter not
    // given, "Firearms, Not Applicable: No Direct Violence" among them) are obstructions of
    // access, not attacks: no weapons rule, no ceasefire violation.
    let obstructions = reportsByID.filter { $0.value["type"] as? String == "access" }
    #expect(Set(obstructions.keys) == ["II-20846", "II-21055", "II-21229", "II-21290"], "\(obstructions.keys.sorted())")
    for (id, report) in obstructions {
      #expect((report["access"] as? [String: Any])?["status"] as? String == "obstructed", "\(id)")
      let row = try #require(reportsByRow.first { $0.value["id"] as? String == id }?.key)
      #expect(firedByRow[row] == ["access.obstructed"], "\(id)")
    }

    // With --check, nothing is recorded and everything is known already.
    let check = try ChildProcess.run(
      "vigil", ["import", "--socket", daemon.socketPath, "--map", mapping, "--check", Self.data.path], in: daemon.directory.path)
    #expect(check.status == 0)
    #expect(check.standardOutput.contains("285 reports: 285 checked, 0 refused"), "\(check.standardOutput.suffix(400))")
    let journalAfter = try String(contentsOfFile: daemon.directory.path + "/var/lib/vigil/reports.jsonl", encoding: .utf8)
    #expect(journalAfter == journal, "--check records nothing")
    expectCleanStop(daemon)
  }
}
