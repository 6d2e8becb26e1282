import Foundation
import Testing
import VigilTestSupport

/// `vigil import` with the shipped AWSD mapping on the real export in `../shared/data/`,
/// against the real daemon and the shipped rules. The table below was read from the rows
/// themselves (their date, place, means of attack, toll and coordinates), not captured
/// from the importer.
@Suite("vigil import: the real AWSD export through Config/mappings/awsd.yaml", .onThreadsOfTheirOwn)
struct ImportAWSDTests {
  static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()
  static let data = URL(fileURLWithPath: SharedData.path("awsd-security-incidents.csv") ?? "/missing/awsd-security-incidents.csv")

  /// Every AWSD row for Syria from 2015-11-14 to 2016-12-31: (incident, occurred_at,
  /// location.place, weapons, aid workers killed, whether its coordinates are precise).
  /// Each is an attack on aid workers, so `access.attack_on_humanitarians` fires on all;
  /// `ceasefire.violation` on those from 27 Feb 2016 (none is in a place designated
  /// groups alone held: Idlib, Aleppo and Madaya were shared, Hama, Damascus and Darayya
  /// others', the rest unknown to the control data).
  static let rows: [(String, String, String?, [String], Int, Bool)] = [
    // An airstrike on a road near Ariha: before the cessation of hostilities.
    ("2114", "2015-12-20", "Idlib, Ariha, entrance of Al Hassakah (SW)", ["air_strike"], 2, true),
    // An IED on the road from a warehouse in Kafr Takharim.
    ("2263", "2016-01-25", "Kafr Takharim", ["ied"], 1, true),
    // Nine staff killed in the bombing of their hospital; no city given.
    ("2069", "2016-02-15", nil, ["air_strike"], 9, true),
    // Hama, with Aleppo's centroid as its coordinates: those are not the place.
    ("2243", "2016-04-13", "Hama", ["air_strike"], 1, false),
    ("2242", "2016-04-27", "Aleppo", ["air_strike"], 3, false),
    ("2150", "2016-05-31", "Idlib", ["air_strike"], 1, true),
    // A 'double tap' airstrike.
    ("2212", "2016-06-11", "Orem Al Kubra", ["air_strike"], 1, true),
    // Two volunteers injured, none killed: a count of 0 is a count.
    ("2211", "2016-06-15", "Kafr Takharim", ["air_strike"], 0, true),
    ("2213", "2016-06-16", "Al Sukkari", ["air_strike"], 0, true),
    // A sniper's shot at a Red Crescent driver.
    ("2152", "2016-06-29", "Damascus", ["small_arms"], 0, true),
    ("2447", "2016-07-15", "Atareb", ["air_strike"], 1, false),
    // A mortar; no place at all, the country's centroid as coordinates.
    ("2208", "2016-07-17", nil, ["shelling"], 1, false),
    // Circumstances unknown: no weapon.
    ("2147", "2016-07-20", "Darayya", [], 1, true),
    ("2174", "2016-08-02", "Aleppo", [], 1, false),
    ("2175", "2016-08-11", "Al Ramosa", ["shelling"], 1, false),
    ("2444", "2016-08-13", "Atareb", ["air_strike"], 3, false),
    ("2164", "2016-09-19", "Orem Al Kubra", ["air_strike"], 1, true),
    // Its narrative dates the attack to April; the date columns say September.
    ("2262", "2016-09-19", "Al Mashhad", ["shelling"], 2, true),
    // Latitude and longitude both 36.1175: not a place.
    ("2166", "2016-09-21", "Khan Touman", ["air_strike"], 4, false),
    ("2445", "2016-09-24", "Atareb", ["air_strike"], 1, false),
    ("2168", "2016-09-26", "Aleppo", ["air_strike"], 1, false),
    // Its narrative says December; the columns say 14 November.
    ("2194", "2016-11-14", nil, ["shelling"], 1, false),
    // Region Aleppo, no city.
    ("2257", "2016-11-19", nil, ["shelling"], 1, false),
    ("2214", "2016-12-05", "Madaya", ["air_strike"], 2, true),
    // A bodily assault: no weapon.
    ("2264", "2016-12-16", "Aleppo", [], 0, false),
  ]

  static func lines(_ text: String) -> [[String: Any]] {
    text.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
  }

  @Test func everySyriaRowOfThePeriodBecomesItsReportAndFiresItsRules() throws {
    guard FileManager.default.fileExists(atPath: Self.data.path) else {
      Issue.record("\(SharedData.missing("awsd-security-incidents.csv"))")
      return
    }
    let daemon = try RunningDaemon(rules: TerritorialControlReplayTests.shippedRules())
    let mapping = Self.root.appendingPathComponent("Config/mappings/awsd.yaml").path
    let run = try ChildProcess.run(
      "vigil", ["import", "--socket", daemon.socketPath, "--map", mapping, "--json", Self.data.path],
      in: daemon.directory.path)
    // One row of 2015 gives no month: it cannot be dated, so it is refused (exit 1).
    #expect(run.status == 1, "\(run.standardError)")
    let objects = Self.lines(run.standardOutput)
    let verdicts = objects.filter { $0["file"] != nil }
    let accepted = verdicts.filter { $0["ok"] as? Bool == true }
    let refused = verdicts.filter { $0["ok"] as? Bool == false }
    #expect(accepted.count == 25)
    #expect(refused.count == 1)
    #expect(refused.first?["line"] as? Int == 2053)
    #expect(((refused.first?["error"] as? [String: Any])?["message"] as? String)?.contains("the year 2015 but no month") == true)
    let counts = try #require(objects.last)
    #expect(counts["rows"] as? Int == 4337)
    #expect(counts["filtered"] as? Int == 4311)
    #expect((counts["unmapped"] as? [Any])?.isEmpty == true, "\(counts)")

    let firedByID = Dictionary(
      uniqueKeysWithValues: accepted.map { verdict in
        (verdict["report_id"] as? String ?? "", Set(((verdict["alerts"] as? [[String: Any]]) ?? []).compactMap { $0["rule"] as? String }))
      })
    let journal = try String(contentsOfFile: daemon.directory.path + "/var/lib/vigil/reports.jsonl", encoding: .utf8)
    let reports = Dictionary(
      uniqueKeysWithValues: Self.lines(journal).compactMap { line -> (String, [String: Any])? in
        guard let report = line["report"] as? [String: Any], let id = report["id"] as? String else { return nil }
        return (id, report)
      })
    #expect(reports.count == 25)
    for (incident, occurredAt, place, weapons, killed, precise) in Self.rows {
      let id = "AWSD-" + incident
      let report = try #require(reports[id], "no report \(id)")
      #expect(report["occurred_at"] as? String == occurredAt, "\(id)")
      #expect(report["type"] as? String == "attack", "\(id)")
      let location = report["location"] as? [String: Any] ?? [:]
      #expect(location["place"] as? String == place, "\(id)")
      #expect((report["weapons"] as? [String] ?? []) == weapons, "\(id)")
      #expect((report["casualties"] as? [String: Any])?["aid_workers_killed"] as? Int == killed, "\(id)")
      #expect((report["target"] as? [String: Any])?["type"] as? String == "aid_worker", "\(id)")
      #expect((location["lat"] != nil) == precise, "\(id): coordinates precise: \(precise)")
      let extra = report["extra"] as? [String: Any] ?? [:]
      #expect((extra["location_lat"] != nil) == !precise, "\(id): coarse coordinates kept under extra")
      #expect((extra["import"] as? [String: Any])?["mapping"] as? String == "awsd", "\(id): which mapping made it")
      var expected: Set<String> = ["access.attack_on_humanitarians"]
      if occurredAt >= "2016-02-27" { expected.insert("ceasefire.violation") }
      #expect(firedByID[id] == expected, "\(id)")
    }

    // Again: every row is already recorded, nothing new is written.
    let again = try ChildProcess.run(
      "vigil", ["import", "--socket", daemon.socketPath, "--map", mapping, Self.data.path], in: daemon.directory.path)
    #expect(again.standardOutput.contains("26 reports: 0 accepted, 25 already recorded, 1 refused"), "\(again.standardOutput.suffix(600))")

    // A newer release under another name, with a new incident at its top that moves every
    // other row down: the new one is accepted, the others are already recorded.
    let text = try String(contentsOf: Self.data, encoding: .utf8)
    let known = try #require(text.split(separator: "\n").first { $0.hasPrefix("2263,") })
    let header = text.prefix { $0 != "\n" }
    let release = daemon.directory.path + "/awsd-release-2.csv"
    let moved = String(header) + "\n99263" + String(known.dropFirst(4)) + "\n" + String(text.dropFirst(header.count + 1))
    try moved.write(toFile: release, atomically: true, encoding: .utf8)
    let next = try ChildProcess.run(
      "vigil", ["import", "--socket", daemon.socketPath, "--map", mapping, release], in: daemon.directory.path)
    #expect(
      next.standardOutput.contains("27 reports: 1 accepted, 25 already recorded, 1 refused"), "\(next.standardOutput.suffix(600))")
    #expect(next.standardOutput.contains("awsd-release-2.csv:2: AWSD-99263: "), "\(next.standardOutput.prefix(600))")
    expectCleanStop(daemon)
  }

  /// Aid workers kidnapped are a detention of aid workers, which the detention rules see:
  /// two real kidnapping rows of 2013, dated into the mapping's period.
  @Test func aKidnappingOfAidWorkersFiresTheDetentionRules() throws {
    guard FileManager.default.fileExists(atPath: Self.data.path) else {
      Issue.record("\(SharedData.missing("awsd-security-incidents.csv"))")
      return
    }
    let text = try String(contentsOf: Self.data, encoding: .utf8)
    let header = text.prefix { $0 != "\n" }
    var file = String(header) + "\n"
    for (row, moved) in [("1759,2013,3,12,", "91759,2016,5,10,"), ("1746,2013,3,17,", "91746,2016,5,11,")] {
      let line = try #require(text.split(separator: "\n").first { $0.hasPrefix(row) }, "no row \(row)")
      file += moved + line.dropFirst(row.count) + "\n"
    }
    let daemon = try RunningDaemon(rules: TerritorialControlReplayTests.shippedRules())
    try file.write(toFile: daemon.directory.path + "/kidnappings.csv", atomically: true, encoding: .utf8)
    let mapping = Self.root.appendingPathComponent("Config/mappings/awsd.yaml").path
    let run = try ChildProcess.run(
      "vigil", ["import", "--socket", daemon.socketPath, "--map", mapping, "--json", "kidnappings.csv"], in: daemon.directory.path)
    #expect(run.status == 0, "\(run.standardError)")
    let fired = Dictionary(
      uniqueKeysWithValues: Self.lines(run.standardOutput).filter { $0["file"] != nil }.map { verdict in
        (verdict["report_id"] as? String ?? "", Set(((verdict["alerts"] as? [[String: Any]]) ?? []).compactMap { $0["rule"] as? String }))
      })
    // Kidnapped and killed by the Islamic State: a hostage-taking by a designated group.
    #expect(fired["AWSD-91759"] == ["detention.humanitarian_or_press_detained", "detention.hostage_taking_by_designated_group"], "\(fired)")
    // By unknown armed groups.
    #expect(fired["AWSD-91746"] == ["detention.humanitarian_or_press_detained"], "\(fired)")
    // How many were taken, as AWSD counts them.
    let messages = Self.lines(run.standardOutput).flatMap { ($0["alerts"] as? [[String: Any]]) ?? [] }.compactMap {
      $0["message"] as? String
    }
    #expect(messages.contains { $0.hasPrefix("2 people taken (kidnapping) by ") }, "\(messages)")
    expectCleanStop(daemon)
  }

  @Test func aMappingNamingAColumnTheFileLacksSaysWhichAndWhere() throws {
    let directory = try TemporaryDirectory()
    try "Incident,Date\nA-1,2016-03-01\n".write(toFile: directory.path + "/incidents.csv", atomically: true, encoding: .utf8)
    try """
      mapping: broken
      id: {column: Incident}
      fields:
        occurred_at: {date: {column: Date}}
        type: {value: attack}
        location.place: {column: Town}
      """.write(toFile: directory.path + "/broken.yaml", atomically: true, encoding: .utf8)
    let run = try ChildProcess.run(
      "vigil", ["import", "--socket", directory.path + "/none.sock", "--map", "broken.yaml", "incidents.csv"],
      in: directory.path)
    #expect(run.status == 2)
    #expect(
      run.standardError.contains("the mapping names the column 'Town' at broken.yaml:6:28, which the file lacks; its columns: 'Incident', 'Date'"),
      "\(run.standardError)")
  }
}
