import Foundation
import VigilCore
import VigilPlugins
import VigilServer

/// What the console's index costs (docs/console.md, "The index"): resident memory per
/// million alert records, the time to add them as the writer does (batches of 256), and the
/// time of the queries the pages make over all of them.
struct ConsoleIndexBenchmark {
  /// Messages as the shipped rules write them (~120–200 bytes), with the reports' spread
  /// of governorates and coordinates.
  static let messages = [
    "Ceasefire violation: Syrian Arab Army (government) attacked civilians with shelling in Darayya, Rural Damascus on 2016-03-01",
    "Indiscriminate weapons (unguided_air_bomb) used by Russian Aerospace Forces (russia) on residential in Idlib sector 38, Idlib; 1 civilians killed",
    "UN cross-border delivery through Bab al-Salam blocked (UNSCR 2165): request REQ-63945 by OCHA, status denied",
    "Medical items removed from a UN convoy at the Al-Ramtha crossing: surgical kits, anaesthetics (request REQ-100)",
    "قصف على سوق المدينة في إدلب: ثلاثة قتلى من المدنيين، وأضرار في المستشفى الميداني",
  ]
  static let governorates = ["Idlib", "Aleppo", "Rural Damascus", "Hama", "إدلب", "Deir ez-Zor", "Dar'a", "Homs"]

  func run(count: Int) -> String {
    let before = Self.residentBytes()
    // The first atlas plugin linked (the console's default one), found as the daemon finds
    // it: by role, not by name, so that no plugin folder is needed for the build.
    let atlas = BuiltInPlugins.all.lazy.compactMap { $0 as? any RegionAtlasPlugin }.first?.atlas(settings: .mapping([]))
    let index = AlertIndex(limit: count, atlas: atlas)
    var prev = AlertChain.genesis
    var adding = 0.0
    var batch: [AlertIndex.Committed] = []
    batch.reserveCapacity(256)
    for seq in 1...count {
      let priority = Priority.allCases[seq % 4]
      let record = AlertRecord(
        time: "2026-11-30T12:00:00.000Z",
        rule: [
          "ceasefire.violation", "weapons.indiscriminate_in_populated_area",
          "access.crossing_2165_blocked", "access.medical_items_removed",
        ][seq % 4],
        priority: priority, reportID: String(format: "RPT-%08d", seq),
        occurredAt: "2016-0\(1 + seq % 9)-1\(seq % 10)T10:00:00Z", message: Self.messages[seq % Self.messages.count],
        basis: ["ISSG ¶4", "UNSCR 2254 OP13"], tags: ["ceasefire"],
        ruleset: "sha256:" + String(repeating: "a", count: 64))
      let (line, hash) = record.line(seq: UInt64(seq), prev: prev)
      prev = hash
      batch.append(
        AlertIndex.Committed(
          seq: UInt64(seq), record: record, line: line,
          report: ReportFacts(
            governorate: Self.governorates[seq % Self.governorates.count], lat: seq % 3 == 0 ? 35.9 : nil,
            lon: seq % 3 == 0 ? 36.6 : nil, journal: JournalPosition(inode: 1, offset: Int64(seq) * 900))))
      if batch.count == 256 || seq == count {
        // Only the index's own work is timed: the writer has the records and lines in hand.
        let started = Date()
        index.add(batch)
        adding += Date().timeIntervalSince(started)
        batch.removeAll(keepingCapacity: true)
      }
    }
    index.completeEmpty()
    let added = adding
    let after = Self.residentBytes()
    let snapshot = index.snapshot()
    func timed(_ name: String, _ change: (inout AlertQuery) -> Void) -> String {
      var query = AlertQuery()
      change(&query)
      let start = Date()
      let page = snapshot.page(query)
      return String(
        format: "  %-38@ %8.1f ms  (%d matched)", name as NSString, Date().timeIntervalSince(start) * 1000, page.matched
      )
    }
    let perMillion = Double(after - before) / Double(count) * 1_000_000 / 1_048_576
    return [
      "console index: \(count) alert records",
      String(format: "  added in %.2f s (%.0f records/s, the writer's share)", added, Double(count) / added),
      String(
        format: "  resident memory: +%.0f MiB (%.0f MiB per million records, %.0f bytes a record)",
        Double(after - before) / 1_048_576, perMillion, Double(after - before) / Double(count)),
      "  a query over every record, newest first, 50 a page:",
      timed("no filter") { _ in },
      timed("priority=critical") { $0.priorities = [.critical] },
      timed("rule=access.*") { $0.rules = ["access.*"] },
      timed("governorate=Idleb") { $0.place = "Idleb" },
      timed("q=bab al-salam (text)") { $0.text = "bab al-salam" },
      timed("since/until (a month of incidents)") {
        $0.sinceMs = AlertIndex.milliseconds("2016-03-01T00:00:00Z")
        $0.untilMs = AlertIndex.milliseconds("2016-04-01T00:00:00Z")
      },
    ].joined(separator: "\n")
  }

  static func unused() {}

  static func residentBytes() -> Int {
    guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
      let line = text.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") })
    else { return 0 }
    return (Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0) * 1024
  }
}
