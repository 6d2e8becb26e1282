import Foundation
import Testing
import VigilCore
import VigilServer
import VigilTestSupport

@Suite("The duplicate index: resubmissions and conflicts, rebuilt from the files")
struct DuplicateIndexTests {
  let reportA = #"{"id":"A","occurred_at":"2016-03-04","type":"attack","weapons":["barrel_bomb"]}"#
  let reportB = #"{"id":"B","occurred_at":"2016-03-04","type":"access"}"#

  @Test func verdicts() throws {
    var index = DuplicateIndex()
    let content = try ReportDigest.content(of: Array(reportA.utf8))
    #expect(index.verdict(id: "A", content: content) == .new)
    let entry = DuplicateIndex.Entry(content: content, firstSeq: 41, alertCount: 2)
    index.record(id: "A", entry: entry)
    let respaced = #"{ "weapons" : [ "barrel_bomb" ], "type":"attack", "occurred_at":"2016-03-04", "id":"A" }"#
    #expect(index.verdict(id: "A", content: try ReportDigest.content(of: Array(respaced.utf8))) == .duplicate(entry))
    #expect(entry.seqs == [41, 42])
    let changed = reportA.replacingOccurrences(of: "barrel_bomb", with: "mortar")
    #expect(index.verdict(id: "A", content: try ReportDigest.content(of: Array(changed.utf8))) == .conflict)
  }

  /// The same JSON value written every way JSON allows has one content digest; any
  /// change of value gives another.
  @Test(arguments: [
    (#"{"a":"A\u00e9\n","b":[1,2.5,-0],"c":{"y":null,"x":true}}"#, true),
    (#"{ "c" : { "x" : true , "y" : null } , "b" : [ 1.0 , 25e-1 , 0 ] , "a" : "\u0041é\u000a" }"#, true),
    (#"{"b":[1,2.5,0],"a":"A\u00e9\n","c":{"x":true,"y":null}}"#, true),
    (#"{"a":"Aé\n","b":[1,2.5,0],"c":{"y":null,"x":false}}"#, false),
    (#"{"a":"Aé\n","b":[2.5,1,0],"c":{"y":null,"x":true}}"#, false),
    (#"{"a":"Aé\n ","b":[1,2.5,0],"c":{"y":null,"x":true}}"#, false),
    (#"{"a":"Aé\n","b":[1,2.5,0],"c":{"y":null,"x":true},"d":null}"#, false),
    // Keys written with escapes sort and compare by their values.
    (#"{"\u0063":{"\u0079":null,"x":true},"\u0061":"Aé\n","b":[1,2.5,0]}"#, true),
    (#"{"c":{"x":true,"y":null},"a":"Aé\n","\u0062 ":[1,2.5,0]}"#, false),
    (#"{"a":"Aé\n","b":[1,2.5,0],"c":{"x":true,"y":null,"":[{}]}}"#, false),
    (#"{"a":"Aé\n","b":[1,2.5,"0"],"c":{"x":true,"y":null}}"#, false),
  ])
  func contentDigestsIgnoreHowTheValueIsWritten(text: String, same: Bool) throws {
    let reference = try ReportDigest.content(of: Array(#"{"a":"Aé\n","b":[1,2.5,0],"c":{"x":true,"y":null}}"#.utf8))
    #expect((try ReportDigest.content(of: Array(text.utf8)) == reference) == same)
  }

  /// The compact table behind the index, past several of its growths and chunks.
  @Test func manyReportsAreAllRememberedAndNoOthers() throws {
    var index = DuplicateIndex()
    let count = 150_000
    let content = try ReportDigest.content(of: Array(reportA.utf8))
    for number in 0..<count {
      index.record(id: "R-\(number)", entry: .init(content: content, firstSeq: UInt64(number), alertCount: 1))
    }
    #expect(index.count == count)
    for number in stride(from: 0, to: count, by: 7) {
      #expect(index.verdict(id: "R-\(number)", content: content) == .duplicate(.init(content: content, firstSeq: UInt64(number), alertCount: 1)))
    }
    for number in count..<(count + 1000) {
      #expect(index.verdict(id: "R-\(number)", content: content) == .new)
    }
    // Recording an id again replaces its entry.
    index.record(id: "R-5", entry: .init(content: content, firstSeq: 99, alertCount: 0))
    #expect(index.count == count)
    #expect(index.verdict(id: "R-5", content: content) == .duplicate(.init(content: content, firstSeq: 99, alertCount: 0)))
  }

  /// Entries too large for a slot's packed word (a `seq` past 2^48, 65,535 alerts or
  /// more) are kept whole, and replacing one with an ordinary entry forgets the large one.
  @Test func outsizedEntriesAreRememberedWhole() throws {
    var index = DuplicateIndex()
    let content = try ReportDigest.content(of: Array(reportA.utf8))
    let large = [
      DuplicateIndex.Entry(content: content, firstSeq: 1 << 48, alertCount: 2),
      .init(content: content, firstSeq: 7, alertCount: 0xFFFF),
      .init(content: content, firstSeq: UInt64.max - 5, alertCount: UInt32.max),
      .init(content: content, firstSeq: (1 << 48) - 1, alertCount: 0xFFFE),
    ]
    for (number, entry) in large.enumerated() {
      index.record(id: "L-\(number)", entry: entry)
      index.record(id: "S-\(number)", entry: .init(content: content, firstSeq: UInt64(number), alertCount: 1))
    }
    for (number, entry) in large.enumerated() {
      #expect(index.verdict(id: "L-\(number)", content: content) == .duplicate(entry))
      #expect(
        index.verdict(id: "S-\(number)", content: content)
          == .duplicate(.init(content: content, firstSeq: UInt64(number), alertCount: 1)))
    }
    index.record(id: "L-0", entry: .init(content: content, firstSeq: 3, alertCount: 1))
    #expect(index.verdict(id: "L-0", content: content) == .duplicate(.init(content: content, firstSeq: 3, alertCount: 1)))
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
    guard
      case .duplicate(let entryA) = index.verdict(id: "A", content: try ReportDigest.content(of: Array(reportA.utf8)))
    else {
      Issue.record("A not known")
      return
    }
    #expect(entryA.seqs == [2, 3])
    guard
      case .duplicate(let entryB) = index.verdict(id: "B", content: try ReportDigest.content(of: Array(reportB.utf8)))
    else {
      Issue.record("B not known")
      return
    }
    #expect(entryB.seqs == [])
  }
}
