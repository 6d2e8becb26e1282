import Foundation
import Testing
import VigilCore
import VigilServer
import VigilTestSupport

@Suite("The duplicate index: where each report is, rebuilt from the files; what counts as the same report")
struct DuplicateIndexTests {
  let reportA = #"{"id":"A","occurred_at":"2016-03-04","type":"attack","weapons":["barrel_bomb"]}"#
  let reportB = #"{"id":"B","occurred_at":"2016-03-04","type":"access"}"#

  @Test func anEntryIsFoundByItsIDAndNoOther() throws {
    var index = DuplicateIndex()
    #expect(index.entry(id: "A") == nil)
    let entry = DuplicateIndex.Entry(journalPlace: 1_234, firstSeq: 41, alertCount: 2)
    index.record(id: "A", entry: entry)
    #expect(index.entry(id: "A") == entry)
    #expect(index.entry(key: ReportDigest.id("A")) == entry)
    #expect(index.entry(id: "a") == nil)
    #expect(entry.seqs == [41, 42])
  }

  /// The same JSON value written every way JSON allows is the same report (a member that
  /// is null being no member); any change of value makes another.
  @Test(arguments: [
    (#"{"a":"A\u00e9\n","b":[1,2.5,-0],"c":{"y":null,"x":true}}"#, true),
    (#"{ "c" : { "x" : true , "y" : null } , "b" : [ 1.0 , 25e-1 , 0 ] , "a" : "\u0041é\u000a" }"#, true),
    (#"{"b":[1,2.5,0],"a":"A\u00e9\n","c":{"x":true,"y":null}}"#, true),
    (#"{"a":"Aé\n","b":[1,2.5,0],"c":{"y":null,"x":false}}"#, false),
    (#"{"a":"Aé\n","b":[2.5,1,0],"c":{"y":null,"x":true}}"#, false),
    (#"{"a":"Aé\n ","b":[1,2.5,0],"c":{"y":null,"x":true}}"#, false),
    // A null member is the member absent (docs/reports.md); an empty object is a value.
    (#"{"a":"Aé\n","b":[1,2.5,0],"c":{"y":null,"x":true},"d":null}"#, true),
    (#"{"a":"Aé\n","b":[1,2.5,0],"c":{"y":null,"x":true},"d":{}}"#, false),
    // Keys written with escapes sort and compare by their values.
    (#"{"\u0063":{"\u0079":null,"x":true},"\u0061":"Aé\n","b":[1,2.5,0]}"#, true),
    (#"{"c":{"x":true,"y":null},"a":"Aé\n","\u0062 ":[1,2.5,0]}"#, false),
    (#"{"a":"Aé\n","b":[1,2.5,0],"c":{"x":true,"y":null,"":[{}]}}"#, false),
    (#"{"a":"Aé\n","b":[1,2.5,"0"],"c":{"x":true,"y":null}}"#, false),
  ])
  func aReportIsTheSameHoweverItsValueIsWritten(text: String, same: Bool) throws {
    let reference = #"{"a":"Aé\n","b":[1,2.5,0],"c":{"x":true,"y":null}}"#
    #expect(ReportContent.same(ReportText(text), ReportText(reference)) == same)
    let journalLine = Array(#"{"received_at":"2016-03-04T04:40:00.000Z","report":\#(reference)}"#.utf8)
    #expect(journalLine.withUnsafeBufferPointer { ReportContent.same(ReportText(text), asJournalLine: $0) } == same)
  }

  /// The compact table behind the index, past several of its growths and chunks.
  @Test func manyReportsAreAllRememberedAndNoOthers() throws {
    var index = DuplicateIndex()
    let count = 150_000
    func entry(_ number: Int) -> DuplicateIndex.Entry {
      .init(journalPlace: Int64(number) * 300, firstSeq: UInt64(number), alertCount: 1)
    }
    for number in 0..<count {
      index.record(id: "R-\(number)", entry: entry(number))
    }
    #expect(index.count == count)
    for number in stride(from: 0, to: count, by: 7) {
      #expect(index.entry(id: "R-\(number)") == entry(number))
    }
    for number in count..<(count + 1000) {
      #expect(index.entry(id: "R-\(number)") == nil)
    }
    // Recording an id again replaces its entry.
    index.record(id: "R-5", entry: .init(journalPlace: 7, firstSeq: 99, alertCount: 0))
    #expect(index.count == count)
    #expect(index.entry(id: "R-5") == .init(journalPlace: 7, firstSeq: 99, alertCount: 0))
  }

  /// Entries too large for a slot's packed word (a `seq` past 2^48, 65,535 alerts or
  /// more) are kept whole, and replacing one with an ordinary entry forgets the large one.
  @Test func outsizedEntriesAreRememberedWhole() throws {
    var index = DuplicateIndex()
    let large = [
      DuplicateIndex.Entry(journalPlace: 0, firstSeq: 1 << 48, alertCount: 2),
      .init(journalPlace: Int64.max, firstSeq: 7, alertCount: 0xFFFF),
      .init(journalPlace: 5, firstSeq: UInt64.max - 5, alertCount: UInt32.max),
      .init(journalPlace: 6, firstSeq: (1 << 48) - 1, alertCount: 0xFFFE),
    ]
    for (number, entry) in large.enumerated() {
      index.record(id: "L-\(number)", entry: entry)
      index.record(id: "S-\(number)", entry: .init(journalPlace: 9, firstSeq: UInt64(number), alertCount: 1))
    }
    for (number, entry) in large.enumerated() {
      #expect(index.entry(id: "L-\(number)") == entry)
      #expect(index.entry(id: "S-\(number)") == .init(journalPlace: 9, firstSeq: UInt64(number), alertCount: 1))
    }
    index.record(id: "L-0", entry: .init(journalPlace: 4, firstSeq: 3, alertCount: 1))
    #expect(index.entry(id: "L-0") == .init(journalPlace: 4, firstSeq: 3, alertCount: 1))
  }

  /// Lines are read whole however long (past the 4 KiB a read takes), from the file being
  /// written and from one moved aside and reopened from; a place past the end is an error.
  @Test func journalLinesAreReadByPlaceAlsoFromAFileMovedAside() throws {
    let directory = try TemporaryDirectory()
    let path = directory.path + "/reports.jsonl"
    let journal = try Journal(path: path)
    let long = #"{"id":"L","occurred_at":"2016-03-04","type":"attack","narrative":"\#(String(repeating: "قصف ", count: 3000))"}"#
    let first = try journal.append([(receivedAt: "2016-03-04T04:40:00.000Z", report: ReportText(long))])
    let placeOfLong = journal.place(ofOffset: first[0])
    try FileManager.default.moveItem(atPath: path, toPath: path + ".1")
    try journal.reopen()
    let second = try journal.append([(receivedAt: "2016-03-04T04:41:00.000Z", report: ReportText(reportA))])
    let placeOfA = journal.place(ofOffset: second[0])
    #expect(placeOfA != placeOfLong)
    let longLine = try journal.line(atPlace: placeOfLong)
    #expect(longLine == Array(#"{"received_at":"2016-03-04T04:40:00.000Z","report":\#(long)}"#.utf8))
    #expect(longLine.withUnsafeBufferPointer { ReportContent.same(ReportText(long), asJournalLine: $0) } == true)
    // The same report written otherwise: compared by canonical form, not byte for byte.
    let reordered = #"{"narrative":"\#(String(repeating: "قصف ", count: 3000))","type":"attack","occurred_at":"2016-03-04","id":"L"}"#
    #expect(longLine.withUnsafeBufferPointer { ReportContent.same(ReportText(reordered), asJournalLine: $0) } == true)
    #expect(try journal.line(atPlace: placeOfA).withUnsafeBufferPointer { ReportContent.same(ReportText(reportA), asJournalLine: $0) } == true)
    #expect(throws: Journal.Failure.self) { try journal.line(atPlace: journal.place(ofOffset: 1 << 20)) }
    #expect(throws: Journal.Failure.self) { try journal.line(atPlace: -1) }
    // A reopen that finds the same file keeps the places.
    try journal.reopen()
    #expect(journal.place(ofOffset: second[0]) == placeOfA)
    #expect(try journal.line(atPlace: placeOfA).count > 0)
    #expect(journal.takeLinesGone() == false)
    // Cut in place, then written to: noticed, once.
    #expect(truncate(path, 3) == 0)
    try journal.append([(receivedAt: "2016-03-04T04:42:00.000Z", report: ReportText(reportB))])
    #expect(journal.takeLinesGone())
    #expect(journal.takeLinesGone() == false)
  }

  /// An id recorded twice (its first journal moved aside before a restart): the rebuild
  /// takes the run of the journalled recording, by when it was received, also when that
  /// recording fired nothing.
  @Test func theRebuildTakesTheJournalledRecordingsAlerts() throws {
    let directory = try TemporaryDirectory()
    let log = try AlertLog(path: directory.path + "/alerts.jsonl", headPath: directory.path + "/alerts.head")
    let alert = { (rule: String, report: String, time: String) in
      AlertRecord(
        time: time, rule: rule, priority: .high, reportID: report, occurredAt: nil, message: "m", basis: [], tags: [],
        ruleset: "sha256:x")
    }
    // A's and B's first recordings on 4 March; B again on 5 March, with an alert; A again
    // on 5 March, without.
    try log.append([
      alert("r.one", "A", "2016-03-04T04:40:00.000Z"), alert("r.two", "A", "2016-03-04T04:40:00.000Z"),
      alert("r.one", "B", "2016-03-04T04:40:00.000Z"), alert("r.one", "B", "2016-03-05T04:40:00.000Z"),
    ])
    let journal = try Journal(path: directory.path + "/reports.jsonl")
    try journal.append([
      (receivedAt: "2016-03-05T04:40:00.000Z", report: ReportText(reportB)),
      (receivedAt: "2016-03-05T04:41:00.000Z", report: ReportText(reportA)),
    ])
    let (index, _) = DuplicateIndex.rebuild(
      journal: directory.path + "/reports.jsonl", alertLogs: [directory.path + "/alerts.jsonl"])
    #expect(try #require(index.entry(id: "A")).seqs == [])
    #expect(try #require(index.entry(id: "B")).seqs == [4])
  }

  @Test func rebuiltFromTheJournalAndTheAlertLog() throws {
    let directory = try TemporaryDirectory()
    let journal = try Journal(path: directory.path + "/reports.jsonl")
    try journal.append([
      (receivedAt: "2016-03-04T04:40:00.000Z", report: ReportText(reportA)),
      (receivedAt: "2016-03-04T04:40:00.000Z", report: ReportText(reportB)),
    ])
    try journal.sync()
    let log = try AlertLog(path: directory.path + "/alerts.jsonl", headPath: directory.path + "/alerts.head")
    let alert = { (rule: String, report: String?) in
      AlertRecord(
        time: "2016-03-04T04:40:00.000Z", rule: rule, priority: .critical, reportID: report, occurredAt: nil,
        message: "m", basis: [], tags: [], ruleset: "sha256:x")
    }
    try log.append([alert("vigil.ruleset_loaded", nil), alert("weapons.barrel_bomb", "A"), alert("weapons.x", "A")])
    try log.sync()
    let (index, unreadable) = DuplicateIndex.rebuild(
      journal: directory.path + "/reports.jsonl", alertLogs: [directory.path + "/alerts.jsonl"])
    #expect(unreadable == 0)
    #expect(index.count == 2)
    let entryA = try #require(index.entry(id: "A"))
    #expect(entryA.seqs == [2, 3])
    let entryB = try #require(index.entry(id: "B"))
    #expect(entryB.seqs == [])
    // Each entry says where its report's line is: what a resubmission is compared with.
    for (entry, report, other) in [(entryA, reportA, reportB), (entryB, reportB, reportA)] {
      let line = try journal.line(atPlace: entry.journalPlace)
      #expect(line.withUnsafeBufferPointer { ReportContent.same(ReportText(report), asJournalLine: $0) } == true)
      #expect(line.withUnsafeBufferPointer { ReportContent.same(ReportText(other), asJournalLine: $0) } == false)
    }
  }
}
