import Foundation
import Testing
import VigilCore
import VigilTestSupport

@testable import VigilServer

/// The console's index (docs/console.md, "The index"): what it keeps, how it is filtered and
/// paged, what it forgets, and how the start-up build joins the files.
@Suite("The console's alert index")
struct AlertIndexTests {
  /// A small atlas: two regions with the names reports use.
  static let atlas = RegionAtlas(
    kind: "governorates", attribution: "test",
    regions: [
      .init(
        key: "SY07", name: "Idleb", localName: "إدلب",
        polygons: [
          [
            [
              GeoPoint(lon: 36, lat: 35), GeoPoint(lon: 37, lat: 35), GeoPoint(lon: 37, lat: 36),
              GeoPoint(lon: 36, lat: 35),
            ]
          ]
        ]),
      .init(key: "SY02", name: "Aleppo", localName: "حلب", polygons: []),
    ],
    resolve: { text in
      switch text.lowercased() {
      case "idlib", "idleb", "إدلب": "SY07"
      case "aleppo", "حلب": "SY02"
      default: nil
      }
    },
    locate: { point in (36...37).contains(point.lon) && (35...36).contains(point.lat) ? "SY07" : nil })

  /// Record `seq` (1-based) of a chain: rule, priority, message and report facts vary.
  static func committed(
    _ seq: UInt64, rule: String = "ceasefire.violation", priority: Priority = .high, message: String? = nil,
    occurred: String = "2016-02-27T10:00:00Z", governorate: String? = "Idlib", prev: inout String
  ) -> AlertIndex.Committed {
    let record = AlertRecord(
      time: "2026-01-01T00:00:00.000Z", rule: rule, priority: priority, reportID: "R-\(seq)", occurredAt: occurred,
      message: message ?? "alert \(seq) in \(governorate ?? "nowhere")", basis: ["ISSG ¶4"], tags: [],
      ruleset: "sha256:x")
    let (line, hash) = record.line(seq: seq, prev: prev)
    prev = hash
    return AlertIndex.Committed(
      seq: seq, record: record, line: line,
      report: ReportFacts(governorate: governorate, lat: nil, lon: nil, journal: nil))
  }

  static func index(_ count: UInt64, limit: Int = 1_000_000) -> AlertIndex {
    let index = AlertIndex(limit: limit, atlas: atlas)
    var prev = AlertChain.genesis
    index.add(
      (1...count).map { seq in
        committed(
          seq, rule: seq % 3 == 0 ? "access.crossing_2165_blocked" : "ceasefire.violation",
          priority: seq % 2 == 0 ? .critical : .high, occurred: "2016-02-\(10 + seq % 10)T10:00:00Z",
          governorate: seq % 4 == 0 ? "Aleppo" : "إدلب", prev: &prev)
      })
    index.completeEmpty()
    return index
  }

  /// The region a connection finds for a report from its own text (remembered by the
  /// text's bytes) is the one the index finds from the facts: by name, spaces at the ends
  /// trimmed; by coordinates when the name is unknown or blank, every time, whatever the
  /// text gave before; a name the atlas does not know, at no point it places, as written
  /// (trimmed); without an atlas, the text itself.
  @Test func aReportsRegionFromItsOwnTextAgreesWithItsFacts() {
    let index = AlertIndex(limit: 100, atlas: Self.atlas)
    let cases: [(String?, Double?, Double?, String?)] = [
      ("Idlib", nil, nil, "SY07"), ("  حلب ", nil, nil, "SY02"), ("Idlib", 40, 40, "SY07"),
      ("Nowhere", 35.5, 36.5, "SY07"), (" Nowhere", 10, 10, "Nowhere"), ("Nowhere", nil, nil, "Nowhere"),
      ("   ", 35.5, 36.5, "SY07"), ("", nil, nil, nil), (nil, 35.5, 36.5, "SY07"), (nil, nil, nil, nil),
    ]
    // Twice: the second round answers from what the first remembered.
    for round in 1...2 {
      for (governorate, lat, lon, expected) in cases {
        let facts = ReportFacts(governorate: governorate, lat: lat, lon: lon, journal: nil)
        let fromText = index.region(governorate: governorate.map { ReportText($0) }, lat: lat, lon: lon)
        #expect(fromText == expected, "round \(round): \(governorate ?? "nil") at \(lat ?? .nan),\(lon ?? .nan)")
        #expect(index.region(of: facts) == expected)
      }
    }
    let plain = AlertIndex(limit: 100, atlas: nil)
    #expect(plain.region(governorate: " Idlib ", lat: nil, lon: nil) == "Idlib")
    #expect(plain.region(governorate: "  ", lat: 35.5, lon: 36.5) == nil)
    // A text too long to be remembered is looked up all the same.
    let name = String(repeating: "x", count: AlertIndex.longestRemembered)
    let long = "  " + name + " "
    #expect(plain.region(governorate: ReportText(long), lat: nil, lon: nil) == name)
    #expect(index.region(governorate: ReportText(long), lat: 35.5, lon: 36.5) == "SY07")
    #expect(index.region(governorate: ReportText(long), lat: nil, lon: nil) == name)
  }

  /// The overview's default period ends at the newest incident not in the future: one
  /// report dated 2099 moved it to today, an empty chart past every real incident.
  @Test func theNewestIncidentNotInTheFutureEndsTheDefaultPeriod() {
    let index = AlertIndex(limit: 100, atlas: Self.atlas)
    var prev = AlertChain.genesis
    index.add(
      ["2016-02-10T10:00:00Z", "2099-01-01T00:00:00Z", "2016-02-19T23:00:00Z"].enumerated().map { offset, time in
        Self.committed(UInt64(offset + 1), occurred: time, prev: &prev)
      })
    index.completeEmpty()
    let today = Int(Date().timeIntervalSince1970 / 86_400)
    let snapshot = index.snapshot()
    #expect(snapshot.newestIncidentDay(notAfter: today) == AlertIndex.milliseconds("2016-02-19T00:00:00Z").map(AlertIndex.day(ofMilliseconds:)))
    #expect(snapshot.newestIncidentDay(notAfter: 0) == nil)
  }

  /// The filter finds an unknown governorate's text in any case, so the overview counts its
  /// spellings in one row, under the first met (its count was the link's for one spelling
  /// only); a region's key in another case is the region.
  @Test func anUnknownGovernorateIsOneRowWhateverItsCase() {
    let index = AlertIndex(limit: 100, atlas: Self.atlas)
    var prev = AlertChain.genesis
    index.add(
      ["Eastern Ghouta", "eastern ghouta", "EASTERN GHOUTA ", "sy07", "Idlib"].enumerated().map { offset, governorate in
        Self.committed(UInt64(offset + 1), governorate: governorate, prev: &prev)
      })
    index.completeEmpty()
    let snapshot = index.snapshot()
    #expect(snapshot.counts.byPlace == ["Eastern Ghouta": 3, "SY07": 2], "\(snapshot.counts.byPlace)")
    for (filter, matched) in [("eastern ghouta", 3), ("Eastern Ghouta", 3), ("SY07", 2), ("sy07", 2)] {
      var query = AlertQuery()
      query.place = filter
      #expect(snapshot.page(query).matched == matched, "\(filter)")
    }
  }

  @Test func pagesGoNewestFirstAndCoverEveryRecordOnce() {
    let snapshot = Self.index(130).snapshot()
    var query = AlertQuery()
    query.limit = 50
    var seen: [UInt64] = []
    while true {
      let page = snapshot.page(query)
      #expect(page.matched == 130, "every record the filters select, whichever the page")
      seen += page.alerts.map(\.entry.seq)
      guard let next = page.next else { break }
      query.before = next
    }
    #expect(seen == Array((1...130).reversed()))
  }

  @Test func filtersNarrowTheRecords() {
    let snapshot = Self.index(120).snapshot()
    func seqs(_ change: (inout AlertQuery) -> Void) -> [UInt64] {
      var query = AlertQuery()
      query.limit = 500
      change(&query)
      return snapshot.page(query).alerts.map(\.entry.seq)
    }
    let all = Array((1...UInt64(120)).reversed())
    #expect(seqs { $0.priorities = [.critical] } == all.filter { $0 % 2 == 0 })
    #expect(seqs { $0.rules = ["access.*"] } == all.filter { $0 % 3 == 0 })
    #expect(seqs { $0.rules = ["nothing.*"] } == [])
    // Any spelling the atlas knows, or the key itself.
    for name in ["Idleb", "idlib", "إدلب", "SY07"] {
      #expect(seqs { $0.place = name } == all.filter { $0 % 4 != 0 }, "\(name)")
    }
    #expect(seqs { $0.place = "Homs" } == [])
    // Incident time: occurred on the 12th (seq ending in 2).
    #expect(
      seqs {
        $0.sinceMs = AlertIndex.milliseconds("2016-02-12T00:00:00Z")
        $0.untilMs = AlertIndex.milliseconds("2016-02-13T00:00:00Z")
      } == all.filter { $0 % 10 == 2 })
    // Text: in the message, any case; in the report id.
    #expect(seqs { $0.text = "ALERT 7 IN" } == [7])
    #expect(seqs { $0.text = "R-11" } == [119, 118, 117, 116, 115, 114, 113, 112, 111, 110, 11])
    #expect(seqs { $0.after = 115 } == [120, 119, 118, 117, 116])
  }

  @Test func textIsFoundAsWrittenEvenWithQuotesAndArabic() {
    let index = AlertIndex(limit: 10, atlas: nil)
    var prev = AlertChain.genesis
    index.add([
      Self.committed(1, message: #"a "quoted" <script> word"#, prev: &prev),
      Self.committed(2, message: "قصف على سوق إدلب", prev: &prev),
    ])
    let snapshot = index.snapshot()
    func found(_ text: String) -> [UInt64] {
      var query = AlertQuery()
      query.text = text
      return snapshot.page(query).alerts.map(\.entry.seq)
    }
    #expect(found(#""quoted""#) == [1])
    #expect(found("<SCRIPT>") == [1])
    #expect(found("سوق") == [2])
    #expect(found("hash") == [], "the text is looked for in the message and report id, not the whole line")
  }

  @Test func countsLeaveOutVigilsOwnRecordsAndKeepEveryRecordPastTheLimit() {
    let index = AlertIndex(limit: 5000, atlas: Self.atlas)
    var prev = AlertChain.genesis
    var batch = [Self.committed(1, rule: "vigil.ruleset_loaded", priority: .info, governorate: nil, prev: &prev)]
    batch += (2...12000).map { Self.committed(UInt64($0), priority: $0 % 2 == 0 ? .critical : .low, prev: &prev) }
    index.add(batch)
    let snapshot = index.snapshot()
    #expect(snapshot.counts.total == 11999)
    #expect(snapshot.counts.byPriority[.critical] == 6000)
    #expect(snapshot.counts.byPriority[.info] == nil)
    #expect(snapshot.counts.byPlace["SY07"] == 11999)
    // Whole chunks of the oldest go: at least the limit is held, the newest among them.
    #expect(snapshot.held >= 5000 && snapshot.held < 5000 + AlertIndexChunk.entriesPerChunk)
    #expect(snapshot.alert(seq: 12000) != nil)
    #expect(snapshot.alert(seq: 1) == nil)
    #expect(snapshot.oldestSeq.map { $0 > 1 } == true)
  }

  /// Writes records to an alert log and reports to a journal in `directory`, as the start-up
  /// build finds them; gives their paths.
  static func files(
    records: [AlertIndex.Committed], journal: [String], in directory: TemporaryDirectory
  ) throws -> (alertLog: String, journal: String) {
    let paths = (directory.path + "/alerts.jsonl", directory.path + "/reports.jsonl")
    try records.map(\.line).joined().write(toFile: paths.0, atomically: true, encoding: .utf8)
    try journal.map { $0 + "\n" }.joined().write(toFile: paths.1, atomically: true, encoding: .utf8)
    return paths
  }

  static func journalLine(_ id: String, governorate: String) -> String {
    #"{"received_at":"2026-01-01T00:00:00.000Z","report":{"id":"\#(id)","location":{"governorate":"\#(governorate)"}}}"#
  }

  @Test func theStartUpBuildGoesBeforeWhatTheWriterAddedMeanwhile() throws {
    let directory = try TemporaryDirectory()
    let index = AlertIndex(limit: 100, atlas: Self.atlas)
    var prev = AlertChain.genesis
    let older = (1...30).map { Self.committed(UInt64($0), prev: &prev) }
    let newer = (31...40).map { Self.committed(UInt64($0), governorate: "Aleppo", prev: &prev) }
    let paths = try Self.files(
      records: older, journal: (1...30).map { Self.journalLine("R-\($0)", governorate: "Idlib") }, in: directory)
    index.add(newer)
    #expect(index.snapshot().building)
    AlertIndexLoader.build(alertLogs: [paths.alertLog], journals: [paths.journal], lastSeq: 30, into: index)
    let snapshot = index.snapshot()
    #expect(!snapshot.building)
    var query = AlertQuery()
    query.limit = 500
    #expect(snapshot.page(query).alerts.map(\.entry.seq) == Array((1...40).reversed()))
    #expect(snapshot.counts.total == 40)
    #expect(snapshot.counts.byPlace == ["SY07": 30, "SY02": 10])
    #expect(snapshot.alert(seq: 35)?.place == "SY02")
    #expect(snapshot.alert(seq: 5)?.placeName == "Idleb")
    #expect(snapshot.alert(seq: 5)?.line == String(older[4].line.dropLast()), "the line as the log holds it")
  }

  @Test func theStartUpBuildKeepsTheNewestAndCountsThemAll() throws {
    let directory = try TemporaryDirectory()
    var prev = AlertChain.genesis
    // Report R-k fires records k and k + 1000 (an alert and a later one on the same report).
    var records: [AlertIndex.Committed] = []
    for seq in 1...2000 {
      let rule = seq % 3 == 0 ? "access.crossing_2165_blocked" : "ceasefire.violation"
      let item = Self.committed(
        UInt64(seq), rule: rule, priority: seq % 2 == 0 ? .critical : .high, governorate: nil, prev: &prev)
      let report = (seq - 1) % 1000 + 1
      let line = item.line.replacingOccurrences(
        of: "\"report_id\":\"R-\(seq)\"", with: "\"report_id\":\"R-\(report)\"")
      records.append(AlertIndex.Committed(seq: item.seq, record: item.record, line: line, report: nil))
    }
    let journal = (1...1000).map { Self.journalLine("R-\($0)", governorate: $0 % 4 == 0 ? "حلب" : "Idlib") }
    let paths = try Self.files(records: records, journal: journal, in: directory)
    let index = AlertIndex(limit: 300, atlas: Self.atlas)
    AlertIndexLoader.build(alertLogs: [paths.alertLog], journals: [paths.journal], lastSeq: 1990, into: index)
    let snapshot = index.snapshot()
    #expect(snapshot.counts.total == 1990, "every record up to the last at start is counted")
    #expect(snapshot.counts.byRule["access.crossing_2165_blocked"] == 663)
    #expect(snapshot.counts.byPriority[.critical] == 995)
    // R-k for k a multiple of 4 is in Aleppo: records 4, 8, …, 1000 and 1004, …, 1988.
    #expect(snapshot.counts.byPlace["SY02"] == 250 + 247)
    #expect(snapshot.counts.byPlace["SY07"] == 1990 - 497)
    #expect(snapshot.held == 300, "the newest index_limit records")
    #expect(snapshot.oldestSeq == 1691)
    #expect(snapshot.alert(seq: 1990)?.line == String(records[1989].line.dropLast()))
    #expect(snapshot.alert(seq: 1988)?.place == "SY02")
    #expect(snapshot.alert(seq: 1991) == nil, "records after the last seq at start are the writer's")
    #expect(snapshot.alert(seq: 1690) == nil)
  }

  @Test func recordsOutOfSeqOrderInTheFilesAreKeptByTheirSeq() throws {
    let directory = try TemporaryDirectory()
    var prev = AlertChain.genesis
    let records = (1...6).map { Self.committed(UInt64($0), prev: &prev) }
    let journal = (1...6).map { Self.journalLine("R-\($0)", governorate: "Aleppo") }
    // One file with seqs 3, 1, 2; a second (newer) one with 6, 4, 5.
    let first = directory.path + "/alerts.jsonl.1"
    let second = directory.path + "/alerts.jsonl"
    try [records[2], records[0], records[1]].map(\.line).joined().write(toFile: first, atomically: true, encoding: .utf8)
    try [records[5], records[3], records[4]].map(\.line).joined().write(toFile: second, atomically: true, encoding: .utf8)
    try journal.map { $0 + "\n" }.joined().write(toFile: directory.path + "/reports.jsonl", atomically: true, encoding: .utf8)
    for (limit, held) in [(10, [1, 2, 3, 4, 5, 6]), (2, [5, 6]), (4, [3, 4, 5, 6])] {
      let index = AlertIndex(limit: limit, atlas: Self.atlas)
      AlertIndexLoader.build(
        alertLogs: [first, second], journals: [directory.path + "/reports.jsonl"], lastSeq: 6, into: index)
      let snapshot = index.snapshot()
      var query = AlertQuery()
      query.limit = 500
      #expect(snapshot.page(query).alerts.map(\.entry.seq) == held.reversed().map(UInt64.init), "limit \(limit)")
      #expect(snapshot.counts.total == 6)
      #expect(snapshot.alert(seq: UInt64(held[0]))?.line == String(records[held[0] - 1].line.dropLast()))
      #expect(snapshot.alert(seq: 6)?.place == "SY02")
    }
  }

  @Test func aLongLineGetsAChunkOfItsOwn() {
    let index = AlertIndex(limit: 10, atlas: nil)
    var prev = AlertChain.genesis
    let long = String(repeating: "x", count: AlertIndexChunk.lineBytesPerChunk + 10)
    index.add([
      Self.committed(1, prev: &prev), Self.committed(2, message: long, prev: &prev), Self.committed(3, prev: &prev),
    ])
    let snapshot = index.snapshot()
    #expect(snapshot.alert(seq: 2)?.line.contains(long) == true)
    #expect(snapshot.alert(seq: 3)?.line.hasPrefix("{\"seq\":3,") == true)
  }

  @Test func theLoaderJoinsRecordsToTheirReportsLines() throws {
    let directory = try TemporaryDirectory()
    var prev = AlertChain.genesis
    let records = (1...3).map { Self.committed(UInt64($0), prev: &prev) }
    try records.map(\.line).joined().write(toFile: directory.path + "/alerts.jsonl", atomically: true, encoding: .utf8)
    let journal = [
      #"{"received_at":"2026-01-01T00:00:00.000Z","report":{"id":"R-9","type":"attack"}}"#,
      #"{"received_at":"2026-01-01T00:00:00.000Z","report":{"id":"R-2","location":{"governorate":"Aleppo","lat":36.2,"lon":37.1}}}"#,
      #"{"received_at":"2026-01-01T00:00:00.000Z","report":{"id":"R-1","location":{"lat":35.5,"lon":36.5}}}"#,
    ]
    try (journal.joined(separator: "\n") + "\n").write(
      toFile: directory.path + "/reports.jsonl", atomically: true, encoding: .utf8)
    let index = AlertIndex(limit: 10, atlas: Self.atlas)
    AlertIndexLoader.build(
      alertLogs: [directory.path + "/alerts.jsonl"], journals: [directory.path + "/reports.jsonl"], lastSeq: 2,
      into: index)
    let snapshot = index.snapshot()
    #expect(snapshot.held == 2, "records after the last seq at start are the writer's")
    #expect(snapshot.alert(seq: 3) == nil)
    #expect(snapshot.alert(seq: 2)?.entry.report?.offset == Int64(journal[0].utf8.count + 1))
    #expect(
      snapshot.alert(seq: 1)?.entry.report?.offset == Int64(journal[0].utf8.count + journal[1].utf8.count + 2))
    #expect(snapshot.alert(seq: 2)?.entry.logged?.offset == Int64(records[0].line.utf8.count))
    #expect(snapshot.alert(seq: 1)?.record == records[0].record)
    // No governorate: the coordinates place it.
    #expect(snapshot.alert(seq: 1)?.place == "SY07")
    #expect(snapshot.alert(seq: 2)?.place == "SY02")
    #expect(snapshot.alert(seq: 2)?.entry.lat == Float(36.2))
  }

  @Test func theMessageIsFoundInTheLineWhateverItHolds() {
    var prev = AlertChain.genesis
    let item = Self.committed(1, message: #"say ,"message":"no" \ here"#, prev: &prev)
    let line = Array(item.line.utf8)
    let range = AlertIndex.messageRange(in: line)
    #expect(String(decoding: line[range], as: UTF8.self) == #"say ,\"message\":\"no\" \\ here"#)
  }
}
