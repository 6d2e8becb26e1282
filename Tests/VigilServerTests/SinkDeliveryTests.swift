import Foundation
import NIOConcurrencyHelpers
import NIOPosix
import Testing
import VigilCore
import VigilTestSupport

@testable import VigilServer

/// A destination that keeps what it is given, failing the first `failures` batches.
private final class CollectingDestination: AlertDestination, @unchecked Sendable {
  struct Refused: Error, CustomStringConvertible {
    var description: String { "the destination is down" }
  }

  let taken = NIOLockedValueBox<[RecordedAlert]>([])
  let failuresLeft: NIOLockedValueBox<Int>

  init(failures: Int = 0) {
    failuresLeft = NIOLockedValueBox(failures)
  }

  func deliver(_ alerts: [RecordedAlert]) throws {
    let fail = failuresLeft.withLockedValue { left in
      defer { left = max(left - 1, 0) }
      return left > 0
    }
    if fail { throw Refused() }
    taken.withLockedValue { $0 += alerts }
  }
}

/// A writer on real files, and a submission of a report with `rules` firing.
private struct Writing {
  let directory: TemporaryDirectory
  let loops = MultiThreadedEventLoopGroup(numberOfThreads: 1)
  let alertLog: AlertLog
  var logPath: String { directory.path + "/alerts.jsonl" }

  init() throws {
    directory = try TemporaryDirectory()
    alertLog = try AlertLog(path: directory.path + "/alerts.jsonl", headPath: directory.path + "/alerts.head")
  }

  func writer(sinks: [SinkDelivery]) throws -> GroupCommit {
    GroupCommit(
      loop: loops.next(), journal: try Journal(path: directory.path + "/reports.jsonl"), alertLog: alertLog,
      index: DuplicateIndex(), syncs: true, rotation: (0, 1), counters: Counters(), sinks: sinks)
  }

  func delivery(_ destination: AlertDestination, takesVigilRecords: Bool = false) throws -> SinkDelivery {
    try SinkDelivery(
      name: "collecting", destination: destination, takesVigilRecords: takesVigilRecords,
      stateDirectory: directory.path, alertLog: logPath, keep: 1, logged: alertLog.lastSeq, log: { _ in })
  }

  static func submission(_ id: String, rules: [String]) throws -> Submission {
    let json = Array(#"{"id":"\#(id)"}"#.utf8)
    let alerts = rules.map {
      AlertRecord(
        time: "2016-03-04T04:40:00.000Z", rule: $0, priority: .high, reportID: id, occurredAt: "2016-03-04",
        message: "m", basis: [], tags: [], ruleset: "sha256:x")
    }
    return Submission(
      reportID: id, content: try ReportDigest.content(of: json), reportJSON: json, alerts: alerts, warnings: [],
      ruleset: "sha256:x")
  }

  var loggedLines: [String] {
    ((try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
  }

  var cursor: String? { try? String(contentsOfFile: directory.path + "/sinks/collecting.cursor", encoding: .utf8) }
}

@Suite("Sinks: delivery from the alert log, from a durable cursor, retried")
struct SinkDeliveryTests {
  @Test func aSinkGetsEveryRecordFromTheLogInOrderAndItsCursorMoves() throws {
    let writing = try Writing()
    let destination = CollectingDestination()
    let sink = try writing.delivery(destination)
    let writer = try writing.writer(sinks: [sink])
    sink.start()
    defer { sink.stop() }
    _ = try writer.record([
      AlertRecord(
        time: "2016-03-04T04:40:00.000Z", rule: "vigil.ruleset_loaded", priority: .info, reportID: nil,
        occurredAt: nil, message: "m", basis: [], tags: ["vigil"], ruleset: "sha256:x")
    ]).wait()
    _ = try writer.submit(Writing.submission("A", rules: ["r.one", "r.two"])).wait()
    // A duplicate writes nothing, so the sink gets nothing again.
    _ = try writer.submit(Writing.submission("A", rules: ["r.one", "r.two"])).wait()
    _ = try writer.submit(Writing.submission("B", rules: ["r.three"])).wait()
    #expect(eventually { destination.taken.withLockedValue { $0.count } == 3 })
    // Without asking for them, no vigil.* records; the cursor passes them all the same.
    #expect(destination.taken.withLockedValue { $0 }.map(\.seq) == [2, 3, 4])
    #expect(destination.taken.withLockedValue { $0 }.map(\.line) == Array(writing.loggedLines.dropFirst()))
    #expect(eventually { writing.cursor == "4\n" })
    #expect(eventually { sink.statusJSON.hasPrefix(#"{"name":"collecting","cursor":4,"lag":0,"delivered":3,"failures":0"#) })
  }

  @Test func aFailingSinkIsRetriedAndCatchesUp() throws {
    let writing = try Writing()
    let destination = CollectingDestination(failures: 3)
    let sink = try writing.delivery(destination, takesVigilRecords: true)
    let writer = try writing.writer(sinks: [sink])
    sink.start()
    defer { sink.stop() }
    for index in 0..<20 { _ = try writer.submit(Writing.submission("R\(index)", rules: ["r.one"])).wait() }
    #expect(eventually { destination.taken.withLockedValue { $0.count } == 20 })
    #expect(destination.taken.withLockedValue { $0 }.map(\.seq) == Array(1...20))
    #expect(eventually { sink.statusJSON.contains(#""failures":3,"last_error":null"#) })
  }

  @Test func aRestartedDeliveryResumesAfterItsCursor() throws {
    let writing = try Writing()
    let first = CollectingDestination()
    let sink = try writing.delivery(first)
    let writer = try writing.writer(sinks: [sink])
    sink.start()
    for index in 0..<5 { _ = try writer.submit(Writing.submission("R\(index)", rules: ["r.one"])).wait() }
    #expect(eventually { writing.cursor == "5\n" })
    sink.stop()
    // Written while no delivery runs: the next one, from the saved cursor, takes only these.
    for index in 5..<8 { _ = try writer.submit(Writing.submission("R\(index)", rules: ["r.one"])).wait() }
    let second = CollectingDestination()
    let resumed = try writing.delivery(second)
    resumed.start()
    defer { resumed.stop() }
    #expect(eventually { second.taken.withLockedValue { $0.count } == 3 })
    #expect(second.taken.withLockedValue { $0 }.map(\.seq) == [6, 7, 8])
  }
}

@Suite("Reading the alert log forward across rotation")
struct AlertLogReaderTests {
  static func line(_ seq: Int) -> String { #"{"seq":\#(seq),"rule":"r","hash":"h"}"# }

  static func append(_ seqs: ClosedRange<Int>, to path: String, partial: String = "") throws {
    let handle = FileHandle(forWritingAtPath: path) ?? {
      FileManager.default.createFile(atPath: path, contents: nil)
      return FileHandle(forWritingAtPath: path)!
    }()
    handle.seekToEndOfFile()
    handle.write(Data((seqs.map(line).map { $0 + "\n" }.joined() + partial).utf8))
    handle.closeFile()
  }

  @Test func followsARenameAndReadsOnlyCompleteLines() throws {
    let directory = try TemporaryDirectory()
    let path = directory.path + "/alerts.jsonl"
    try Self.append(1...3, to: path, partial: #"{"seq":4,"ru"#)
    let reader = AlertLogReader(path: path, keep: 2)
    var (records, gap) = reader.read(after: 0, limit: 2)
    #expect(records.map(\.seq) == [1, 2] && gap == nil)
    (records, gap) = reader.read(after: 2, limit: 10)
    #expect(records.map(\.seq) == [3], "a line still being written is not read")
    // The rest of line 4 comes; the file is rotated; line 5 goes to a new file.
    let handle = FileHandle(forWritingAtPath: path)!
    handle.seekToEndOfFile()
    handle.write(Data((#"le":"r","hash":"h"}"# + "\n").utf8))
    handle.closeFile()
    #expect(rename(path, path + ".1") == 0)
    try Self.append(5...6, to: path)
    (records, gap) = reader.read(after: 3, limit: 10)
    #expect(records.map(\.seq) == [4, 5, 6] && gap == nil)
    #expect(records.first?.line == Self.line(4))
  }

  @Test func nothingPastWhatTheWriterMadeDurableIsRead() throws {
    let directory = try TemporaryDirectory()
    let path = directory.path + "/alerts.jsonl"
    try Self.append(1...3, to: path)
    let reader = AlertLogReader(path: path, keep: 1)
    #expect(reader.read(after: 0, upTo: 2, limit: 10).records.map(\.seq) == [1, 2])
    #expect(reader.read(after: 2, upTo: 2, limit: 10).records.isEmpty)
    #expect(reader.read(after: 2, upTo: 3, limit: 10).records.map(\.seq) == [3])
  }

  @Test func aNewSinkStartsAtTheOldestKeptRecordWithNothingMissed() throws {
    let directory = try TemporaryDirectory()
    let path = directory.path + "/alerts.jsonl"
    try Self.append(10...12, to: path)
    let destination = CollectingDestination()
    let sink = try SinkDelivery(
      name: "late", destination: destination, takesVigilRecords: true, stateDirectory: directory.path,
      alertLog: path, keep: 1, logged: 12, log: { _ in })
    sink.start()
    defer { sink.stop() }
    #expect(eventually { destination.taken.withLockedValue { $0.count } == 3 })
    #expect(eventually { sink.statusJSON.contains(#""cursor":12"#) })
    #expect(sink.statusJSON.hasSuffix(#""missed":[]}"#))
  }

  @Test func recordsNoKeptFileHoldsAreAGap() throws {
    let directory = try TemporaryDirectory()
    let path = directory.path + "/alerts.jsonl"
    try Self.append(10...12, to: path)
    let (records, gap) = AlertLogReader(path: path, keep: 3).read(after: 4, limit: 10)
    #expect(records.map(\.seq) == [10, 11, 12])
    #expect(gap == AlertLogReader.Gap(from: 5, to: 9))
  }

  /// The position is only a hint: one that points past the cursor (as after an inode that
  /// rotation freed was taken by a new file) is checked against the seqs and read again
  /// from the oldest kept file, instead of being taken for a gap.
  @Test func aPositionThatSkipsRecordsIsCaughtBySeq() throws {
    let directory = try TemporaryDirectory()
    let path = directory.path + "/alerts.jsonl"
    try Self.append(1...5, to: path + ".1")
    try Self.append(6...8, to: path)
    var status = stat()
    #expect(stat(path, &status) == 0)
    let reader = AlertLogReader(path: path, keep: 2)
    reader.position = AlertLogReader.Position(inode: UInt64(status.st_ino), offset: 0)
    let (records, gap) = reader.read(after: 3, limit: 10)
    #expect(records.map(\.seq) == [4, 5, 6, 7, 8])
    #expect(gap == nil)
  }

  /// A batch ends before a hole in the seqs; the next read reports the hole, once checked.
  @Test func aHoleInsideTheLogEndsABatchAndIsAGapNext() throws {
    let directory = try TemporaryDirectory()
    let path = directory.path + "/alerts.jsonl"
    try Self.append(1...3, to: path)
    try Self.append(7...8, to: path)
    let reader = AlertLogReader(path: path, keep: 1)
    let first = reader.read(after: 0, limit: 10)
    #expect(first.records.map(\.seq) == [1, 2, 3] && first.gap == nil)
    let second = reader.read(after: 3, limit: 10)
    #expect(second.records.map(\.seq) == [7, 8])
    #expect(second.gap == AlertLogReader.Gap(from: 4, to: 6))
  }

  /// A record longer than the reader's 4 MB slice is read whole, and what follows it too.
  @Test func aRecordLongerThanOneReadIsReadWhole() throws {
    let directory = try TemporaryDirectory()
    let path = directory.path + "/alerts.jsonl"
    let long = #"{"seq":1,"rule":"r","message":""# + String(repeating: "x", count: 9 << 20) + #""}"#
    try (long + "\n").write(toFile: path, atomically: false, encoding: .utf8)
    try Self.append(2...3, to: path)
    let reader = AlertLogReader(path: path, keep: 1)
    let (records, _) = reader.read(after: 0, limit: 10)
    #expect(records.map(\.seq) == [1, 2, 3])
    #expect(records.first?.line == long)
  }

  @Test func missedRangesThatOverlapOrTouchAreShownAsOne() {
    typealias Gap = AlertLogReader.Gap
    var gaps = Gap.merging(Gap(from: 5, to: 9), into: [])
    gaps = Gap.merging(Gap(from: 20, to: 30), into: gaps)
    #expect(gaps == [Gap(from: 5, to: 9), Gap(from: 20, to: 30)])
    gaps = Gap.merging(Gap(from: 7, to: 12), into: gaps)
    #expect(gaps == [Gap(from: 5, to: 12), Gap(from: 20, to: 30)])
    gaps = Gap.merging(Gap(from: 13, to: 19), into: gaps)
    #expect(gaps == [Gap(from: 5, to: 30)])
  }
}
