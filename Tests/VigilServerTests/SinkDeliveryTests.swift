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
  let reports = NIOLockedValueBox<[JournalledReport]>([])
  /// What came, in order: `report <id>` and `alert <seq>`.
  let events = NIOLockedValueBox<[String]>([])
  let failuresLeft: NIOLockedValueBox<Int>
  let takesReports: Bool

  init(failures: Int = 0, takesReports: Bool = false) {
    failuresLeft = NIOLockedValueBox(failures)
    self.takesReports = takesReports
  }

  private func failNow() throws {
    let fail = failuresLeft.withLockedValue { left in
      defer { left = max(left - 1, 0) }
      return left > 0
    }
    if fail { throw Refused() }
  }

  func deliver(_ alerts: [RecordedAlert]) throws {
    try failNow()
    taken.withLockedValue { $0 += alerts }
    events.withLockedValue { $0 += alerts.map { "alert \($0.seq)" } }
  }

  func deliver(reports batch: [JournalledReport]) throws {
    try failNow()
    reports.withLockedValue { $0 += batch }
    events.withLockedValue { events in
      for report in batch {
        let id = report.line.split(separator: "\"id\":\"").last.map { String($0.prefix { $0 != "\"" }) } ?? "?"
        events.append("report \(id)")
      }
    }
  }
}

/// A writer on real files, and a submission of a report with `rules` firing.
/// A destination that answers each record as scripted, in the order it is offered, as the
/// webhook does with one request a record: taken, refused for good, or failing now — which
/// ends the batch there (`PartlyDelivered` when something before it was answered).
private final class ScriptedDestination: AlertDestination, @unchecked Sendable {
  enum Answer { case take, refuse, fail }
  struct Down: Error, CustomStringConvertible {
    var description: String { "not now" }
  }

  let answers = NIOLockedValueBox<[UInt64: Answer]>([:])
  let taken = NIOLockedValueBox<[UInt64]>([])
  /// Each batch offered, as its seqs.
  let offered = NIOLockedValueBox<[[UInt64]]>([])

  func deliver(_ alerts: [RecordedAlert]) throws {
    offered.withLockedValue { $0.append(alerts.map(\.seq)) }
    var refusals: [RefusedRecords.Refusal] = []
    var through: UInt64?
    for alert in alerts {
      switch answers.withLockedValue({ $0[alert.seq] }) ?? .take {
      case .take: taken.withLockedValue { $0.append(alert.seq) }
      case .refuse: refusals.append(.init(seq: alert.seq, reason: "no"))
      case .fail:
        guard let through else { throw Down() }
        throw PartlyDelivered(through: through, refusals: refusals, cause: Down())
      }
      through = alert.seq
    }
    if !refusals.isEmpty { throw RefusedRecords(refusals) }
  }
}

private struct Writing {
  let directory: TemporaryDirectory
  let loops = MultiThreadedEventLoopGroup(numberOfThreads: 1)
  let alertLog: AlertLog
  let journal: Journal
  var logPath: String { directory.path + "/alerts.jsonl" }

  init() throws {
    directory = try TemporaryDirectory()
    alertLog = try AlertLog(path: directory.path + "/alerts.jsonl", headPath: directory.path + "/alerts.head")
    journal = try Journal(path: directory.path + "/reports.jsonl")
  }

  func writer(sinks: [SinkDelivery]) throws -> GroupCommit {
    GroupCommit(
      loop: loops.next(), journal: journal, alertLog: alertLog,
      index: DuplicateIndex(), syncs: true, rotation: (0, 1), counters: Counters(), sinks: sinks)
  }

  func delivery(
    _ destination: AlertDestination, takesVigilRecords: Bool = false, log: @escaping DaemonEventLog = { _ in }
  ) throws -> SinkDelivery {
    try SinkDelivery(
      name: "collecting", destination: destination, takesVigilRecords: takesVigilRecords,
      stateDirectory: directory.path, alertLog: logPath, keep: 1, logged: alertLog.lastSeq,
      journal: (journal.path, journal.mark), log: log)
  }

  var journalLines: [String] {
    ((try? String(contentsOfFile: journal.path, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
  }

  static func submission(_ id: String, rules: [String]) throws -> Submission {
    let json = Array(#"{"id":"\#(id)"}"#.utf8)
    let alerts = rules.map {
      AlertRecord(
        time: "2016-03-04T04:40:00.000Z", rule: $0, priority: .high, reportID: id, occurredAt: "2016-03-04",
        message: "m", basis: [], tags: [], ruleset: "sha256:x")
    }
    return Submission(
      reportID: id, idDigest: ReportDigest.id(id), reportJSON: ReportText(String(decoding: json, as: UTF8.self)), alerts: alerts, warnings: [],
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
    #expect(eventually { sink.statusJSON.hasPrefix(#"{"name":"collecting","cursor":4,"lag":0,"max_lag":null,"holding":false,"not_holding":null,"delivered":3,"failures":0"#) })
  }

  /// A process killed between writing a cursor's new file and renaming it leaves the new
  /// file (`NAME.cursor.new.PID`): the next start removes it, and nothing else.
  @Test func newFilesAKilledProcessLeftAreRemovedAtStart() throws {
    let writing = try Writing()
    let sinks = writing.directory.path + "/sinks"
    try FileManager.default.createDirectory(atPath: sinks, withIntermediateDirectories: true)
    let left = ["collecting.cursor.new.4242", "collecting.parked.new.7", "collecting.reports.cursor.new.1"]
    let kept = ["collecting.cursor.newer", "other.cursor.new.5", "collecting.cursor.new.x1"]
    for name in left + kept { #expect(FileManager.default.createFile(atPath: sinks + "/" + name, contents: Data())) }
    _ = try writing.delivery(CollectingDestination())
    let names = Set(try FileManager.default.contentsOfDirectory(atPath: sinks))
    #expect(names.isDisjoint(with: left), "\(names)")
    #expect(names.isSuperset(of: kept), "\(names)")
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

  /// A destination that cannot take more than `most` records at a time (a link too slow
  /// for a whole batch within a sink's timeout): the batches shrink until they go, and grow
  /// again once they do, so everything arrives in order.
  @Test func batchesShrinkAfterFailuresAndGrowBackOnceTheyGo() throws {
    final class Narrow: AlertDestination, @unchecked Sendable {
      struct TooMuch: Error, CustomStringConvertible {
        var description: String { "timed out" }
      }
      let most: NIOLockedValueBox<Int>
      let offered = NIOLockedValueBox<[Int]>([])
      let taken = NIOLockedValueBox<[UInt64]>([])
      init(most: Int) { self.most = NIOLockedValueBox(most) }
      func deliver(_ alerts: [RecordedAlert]) throws {
        offered.withLockedValue { $0.append(alerts.count) }
        guard alerts.count <= most.withLockedValue({ $0 }) else { throw TooMuch() }
        taken.withLockedValue { $0 += alerts.map(\.seq) }
      }
    }
    let writing = try Writing()
    let destination = Narrow(most: 70)
    let sink = try writing.delivery(destination)
    let writer = try writing.writer(sinks: [sink])
    func alerts(_ count: Int) -> [AlertRecord] {
      (0..<count).map {
        AlertRecord(
          time: "2016-03-04T04:40:00.000Z", rule: "r.\($0)", priority: .high, reportID: nil, occurredAt: nil,
          message: "m", basis: [], tags: [], ruleset: "sha256:x")
      }
    }
    // All there before the sink starts, so that its first batch is a full one.
    _ = try writer.record(alerts(900)).wait()
    sink.start()
    defer { sink.stop() }
    #expect(eventually { destination.taken.withLockedValue { $0.count } == 900 })
    #expect(destination.taken.withLockedValue { $0 == Array(1...900) })
    let offered = destination.offered.withLockedValue { $0 }
    // 500, 250, 125 failed; 62 went (four times), then 124 failed and 62 went again.
    #expect(Array(offered.prefix(8)) == [500, 250, 125, 62, 62, 62, 62, 124])
    #expect(sink.statusJSON.contains(#""batch":62,"#))
    // Once the destination takes whole batches, the size comes back to 500.
    destination.most.withLockedValue { $0 = .max }
    _ = try writer.record(alerts(5000)).wait()
    #expect(eventually { destination.taken.withLockedValue { $0.count } == 5900 })
    #expect(destination.taken.withLockedValue { $0 == Array(1...5900) })
    // 62 twice more (four in a row), then 124, 248 and 496 four times each, then 500.
    #expect(destination.offered.withLockedValue { $0.suffix(3) } == [500, 500, 404])
    #expect(sink.statusJSON.contains(#""batch":500,"#))
  }

  /// A destination that takes a few records a call (the webhook, a request each) gets each
  /// batch in parts, and the cursor is saved after each part: a restart, or `status`, sees
  /// the progress of a slow destination as it goes. A part that fails after others went is
  /// partial progress: the batch does not shrink, and the next try starts at that part.
  @Test func aBatchGoesInThePartsTheDestinationAsksForTheCursorMovingAfterEach() throws {
    final class FewAtATime: AlertDestination, @unchecked Sendable {
      struct Down: Error, CustomStringConvertible {
        var description: String { "not now" }
      }
      let cursorPath: String
      /// Each call: its seqs, and the cursor file as it was when the call came.
      let calls = NIOLockedValueBox<[(seqs: [UInt64], cursor: String?)]>([])
      let failCall = NIOLockedValueBox<Int?>(nil)
      init(cursorPath: String) { self.cursorPath = cursorPath }
      var recordsPerDelivery: Int? { 3 }
      func deliver(_ alerts: [RecordedAlert]) throws {
        let cursor = (try? String(contentsOfFile: cursorPath, encoding: .utf8))?.trimmingCharacters(in: .newlines)
        let index = calls.withLockedValue { calls in
          calls.append((alerts.map(\.seq), cursor))
          return calls.count
        }
        if failCall.withLockedValue({ $0 }) == index { throw Down() }
      }
    }
    let writing = try Writing()
    let destination = FewAtATime(cursorPath: writing.directory.path + "/sinks/collecting.cursor")
    destination.failCall.withLockedValue { $0 = 2 }
    let sink = try writing.delivery(destination)
    let writer = try writing.writer(sinks: [sink])
    for index in 0..<7 { _ = try writer.submit(Writing.submission("P\(index)", rules: ["r.one"])).wait() }
    sink.start()
    defer { sink.stop() }
    #expect(eventually { writing.cursor == "7\n" })
    let calls = destination.calls.withLockedValue { $0 }
    #expect(calls.map(\.seqs) == [[1, 2, 3], [4, 5, 6], [4, 5, 6], [7]])
    #expect(calls.map(\.cursor) == [nil, "3", "3", "6"])
    #expect(eventually { sink.statusJSON.contains(#""delivered":7,"failures":1,"last_error":null"#) }, "\(sink.statusJSON)")
    #expect(sink.statusJSON.contains(#""batch":500,"#))
  }

  /// A destination asking for a longer wait than Vigil honours is quoted with the wait kept,
  /// so `status` does not say an hour when delivery comes again in five minutes.
  @Test(arguments: [(3600.0, "(asked to wait 3600 s); waiting 300 s, the longest honoured"), (2.0, "(asked to wait 2 s)\"")])
  func aLongRetryAfterIsSaidWithTheWaitKept(asked: Double, said: String) throws {
    final class Pausing: AlertDestination, @unchecked Sendable {
      let seconds: Double
      init(seconds: Double) { self.seconds = seconds }
      func deliver(_ alerts: [RecordedAlert]) throws { throw RetryLater(seconds: seconds, reason: "answered HTTP 429") }
    }
    let writing = try Writing()
    let sink = try writing.delivery(Pausing(seconds: asked))
    let writer = try writing.writer(sinks: [sink])
    sink.start()
    defer { sink.stop() }
    _ = try writer.submit(Writing.submission("A", rules: ["r.one"])).wait()
    #expect(eventually { sink.statusJSON.contains(#""last_error":"answered HTTP 429 "# + said) }, "\(sink.statusJSON)")
  }

  /// A resend offers the parked records in seq order, whatever order they were parked in
  /// (one refused again goes to the end of the file): a destination that takes a later one
  /// and fails on an earlier one then leaves the earlier one parked, not counted as gone.
  @Test func aResendOffersParkedRecordsInSeqOrder() throws {
    let writing = try Writing()
    let destination = ScriptedDestination()
    destination.answers.withLockedValue { $0 = [1: .refuse, 2: .refuse] }
    let logged = NIOLockedValueBox<[String]>([])
    let sink = try writing.delivery(destination, log: { event in logged.withLockedValue { $0.append(event.message) } })
    let writer = try writing.writer(sinks: [sink])
    sink.start()
    defer { sink.stop() }
    _ = try writer.submit(Writing.submission("A", rules: ["r.one", "r.two"])).wait()
    #expect(eventually { sink.parkedSeqs == [1, 2] })
    // Seq 1 refused again: the file is now 2, then 1, and the log says why.
    _ = sink.requestResend([1])
    #expect(eventually { destination.offered.withLockedValue { $0.count } >= 2 && sink.parkedSeqs == [1, 2] })
    #expect(eventually { sink.parkedLines.compactMap { SinkDeliveryTests.parkedSeq($0) } == [2, 1] })
    #expect(
      eventually { logged.withLockedValue { $0.contains("sink collecting: seq 1 refused again and kept parked: no") } },
      "\(logged.withLockedValue { $0 })")
    // Now 2 would be taken, 1 fails for the moment: offered in seq order, 1 comes first and
    // both stay parked until 1 is taken.
    destination.answers.withLockedValue { $0 = [1: .fail, 2: .take] }
    let before = destination.offered.withLockedValue { $0.count }
    _ = sink.requestResend(nil)
    #expect(eventually { destination.offered.withLockedValue { $0.count } > before })
    #expect(destination.offered.withLockedValue { $0[before] } == [1, 2])
    destination.answers.withLockedValue { $0 = [:] }
    #expect(eventually { sink.parkedSeqs.isEmpty })
    #expect(destination.taken.withLockedValue { $0 }.filter { $0 == 1 }.count == 1, "seq 1 was taken once, at last")
  }

  static func parkedSeq(_ line: String) -> UInt64? {
    line.firstMatch(of: #/^\{"seq":(\d+)/#).flatMap { UInt64($0.1) }
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

@Suite("Sinks that take reports: a second cursor, over the journal")
struct ReportDeliveryTests {
  /// Reports and alerts both arrive, through failures; a report read in the same round as
  /// its alerts comes before them; a restart resumes from the report cursor.
  @Test func reportsAndAlertsArriveAndDeliveryResumesFromTheReportCursor() throws {
    let writing = try Writing()
    let destination = CollectingDestination(failures: 2, takesReports: true)
    let sink = try writing.delivery(destination)
    let writer = try writing.writer(sinks: [sink])
    sink.start()
    _ = try writer.submit(Writing.submission("A", rules: ["r.one", "r.two"])).wait()
    _ = try writer.submit(Writing.submission("B", rules: [])).wait()
    _ = try writer.submit(Writing.submission("C", rules: ["r.three"])).wait()
    #expect(eventually { destination.reports.withLockedValue { $0.count } == 3 })
    #expect(eventually { destination.taken.withLockedValue { $0.count } == 3 })
    #expect(destination.reports.withLockedValue { $0 }.map(\.line) == writing.journalLines)
    let events = destination.events.withLockedValue { $0 }
    for (report, alert) in [("A", 1), ("C", 3)] {
      let reportAt = try #require(events.firstIndex(of: "report \(report)"))
      let alertAt = try #require(events.firstIndex(of: "alert \(alert)"))
      #expect(reportAt < alertAt, "report \(report) before its alert: \(events)")
    }
    let size = (try FileManager.default.attributesOfItem(atPath: writing.journal.path)[.size] as? Int) ?? -1
    let cursorPath = writing.directory.path + "/sinks/collecting.reports.cursor"
    #expect(eventually { (try? String(contentsOfFile: cursorPath, encoding: .utf8))?.contains(" \(size) ") == true })
    #expect(sink.statusJSON.contains(#""reports":{"delivered":3,"#))
    #expect(sink.statusJSON.contains(#""lag_bytes":0,"lost_files":[]}"#))
    sink.stop()

    _ = try writer.submit(Writing.submission("D", rules: [])).wait()
    let second = CollectingDestination(takesReports: true)
    let resumed = try writing.delivery(second)
    resumed.start()
    defer { resumed.stop() }
    #expect(eventually { second.reports.withLockedValue { $0.count } == 1 })
    #expect(second.reports.withLockedValue { $0 }.map(\.line) == [writing.journalLines[3]])
  }
}

@Suite("Reading the journal forward across an external rotation")
struct JournalReaderTests {
  static func inode(_ path: String) -> UInt64 {
    var status = stat()
    return stat(path, &status) == 0 ? UInt64(status.st_ino) : 0
  }

  static func size(_ path: String) -> Int64 {
    var status = stat()
    return stat(path, &status) == 0 ? Int64(status.st_size) : 0
  }

  static func append(_ text: String, to path: String) {
    let handle = FileHandle(forWritingAtPath: path) ?? {
      _ = FileManager.default.createFile(atPath: path, contents: nil)
      return FileHandle(forWritingAtPath: path)!
    }()
    handle.seekToEndOfFile()
    handle.write(Data(text.utf8))
    handle.closeFile()
  }

  /// logrotate renames the journal and creates a new one; until vigild reopens, it still
  /// writes the renamed file. The reader reads that file as far as the writer says, takes
  /// nothing of the new one until the writer is in it, then goes on there.
  @Test func theRenamedFileIsReadUntilTheWriterMovesOn() throws {
    let directory = try TemporaryDirectory()
    let path = directory.path + "/reports.jsonl"
    Self.append("r1\nr2\n", to: path)
    let old = Self.inode(path)
    let reader = JournalReader(path: path, keep: 2, position: .init(inode: nil, offset: 0))
    var (lines, lost) = try reader.read(upTo: JournalMark(inode: old, size: Self.size(path)), limit: 10)
    #expect(lines == ["r1", "r2"] && lost == nil)
    #expect(rename(path, path + ".1") == 0)
    Self.append("n1\n", to: path)
    // The writer, not reopened yet, appends to the renamed file; a part not yet durable.
    Self.append("r3\n", to: path + ".1")
    let durable = Self.size(path + ".1")
    Self.append("r4\n", to: path + ".1")
    (lines, lost) = try reader.read(upTo: JournalMark(inode: old, size: durable), limit: 10)
    #expect(lines == ["r3"], "up to what the writer made durable, and nothing of the new file")
    (lines, lost) = try reader.read(upTo: JournalMark(inode: Self.inode(path), size: Self.size(path)), limit: 10)
    #expect(lines == ["r4", "n1"], "the old file to its end once the writer left it, then the new")
    #expect(reader.position.inode == Self.inode(path) && reader.position.offset == 3)
    #expect(reader.position.head == "6e310a", "the new file's first bytes, which identify it")
    #expect(JournalReader.Position(text: reader.position.text) == reader.position)
  }

  /// How far behind a reader in an older file is: the rest of its file, every later kept
  /// file, and the writer's up to what it made durable; nothing known when its file is gone.
  @Test func theLagCountsThroughTheKeptFiles() throws {
    let directory = try TemporaryDirectory()
    let path = directory.path + "/reports.jsonl"
    Self.append("0123456789\n", to: path + ".2")  // 11 bytes
    Self.append("abcde\n", to: path + ".1")  // 6
    Self.append("xyz\nmore\n", to: path)  // 9, of which 4 durable
    let writer = JournalMark(inode: Self.inode(path), size: 4)
    let inOldest = JournalReader.Position(inode: Self.inode(path + ".2"), offset: 3)
    #expect(JournalReader.lagBytes(path: path, keep: 2, from: inOldest, upTo: writer) == 8 + 6 + 4)
    let inMiddle = JournalReader.Position(inode: Self.inode(path + ".1"), offset: 6)
    #expect(JournalReader.lagBytes(path: path, keep: 2, from: inMiddle, upTo: writer) == 4)
    #expect(JournalReader.lagBytes(path: path, keep: 1, from: inOldest, upTo: writer) == nil, ".2 is not kept")
  }

  /// A file deleted by rotation frees its inode, which a new file may take: the file found
  /// under the position's inode is checked against its first bytes, and a stranger is not
  /// read from the old offset.
  @Test func aReusedInodeIsNotTakenForTheFileThePositionWasIn() throws {
    let directory = try TemporaryDirectory()
    let path = directory.path + "/reports.jsonl"
    Self.append("older\n", to: path + ".1")
    Self.append("a different file\n", to: path)
    let stranger = JournalReader.Position(inode: Self.inode(path), offset: 5, head: "7231")
    let reader = JournalReader(path: path, keep: 1, position: stranger)
    let (lines, lost) = try reader.read(upTo: JournalMark(inode: Self.inode(path), size: Self.size(path)), limit: 10)
    #expect(lost == Self.inode(path))
    #expect(lines == ["older", "a different file"], "from the oldest kept file, whole lines")
  }

  /// A position in a file no longer kept: said, and reading goes on from the oldest kept.
  @Test func aFileNoLongerKeptIsSaidLost() throws {
    let directory = try TemporaryDirectory()
    let path = directory.path + "/reports.jsonl"
    Self.append("a\nb\n", to: path)
    let reader = JournalReader(path: path, keep: 1, position: .init(inode: 999_999_999, offset: 40))
    let (lines, lost) = try reader.read(upTo: JournalMark(inode: Self.inode(path), size: Self.size(path)), limit: 10)
    #expect(lost == 999_999_999)
    #expect(lines == ["a", "b"])
  }
}

@Suite("Reading the alert log forward across rotation")
struct AlertLogReaderTests {
  static func line(_ seq: Int) -> String { #"{"seq":\#(seq),"rule":"r","hash":"h"}"# }

  static func append(_ seqs: ClosedRange<Int>, to path: String, partial: String = "") throws {
    JournalReaderTests.append(seqs.map(line).map { $0 + "\n" }.joined() + partial, to: path)
  }

  @Test func followsARenameAndReadsOnlyCompleteLines() throws {
    let directory = try TemporaryDirectory()
    let path = directory.path + "/alerts.jsonl"
    try Self.append(1...3, to: path, partial: #"{"seq":4,"ru"#)
    let reader = AlertLogReader(path: path, keep: 2)
    var (records, gap) = try reader.read(after: 0, limit: 2)
    #expect(records.map(\.seq) == [1, 2] && gap == nil)
    (records, gap) = try reader.read(after: 2, limit: 10)
    #expect(records.map(\.seq) == [3], "a line still being written is not read")
    // The rest of line 4 comes; the file is rotated; line 5 goes to a new file.
    let handle = FileHandle(forWritingAtPath: path)!
    handle.seekToEndOfFile()
    handle.write(Data((#"le":"r","hash":"h"}"# + "\n").utf8))
    handle.closeFile()
    #expect(rename(path, path + ".1") == 0)
    try Self.append(5...6, to: path)
    (records, gap) = try reader.read(after: 3, limit: 10)
    #expect(records.map(\.seq) == [4, 5, 6] && gap == nil)
    #expect(records.first?.line == Self.line(4))
  }

  @Test func nothingPastWhatTheWriterMadeDurableIsRead() throws {
    let directory = try TemporaryDirectory()
    let path = directory.path + "/alerts.jsonl"
    try Self.append(1...3, to: path)
    let reader = AlertLogReader(path: path, keep: 1)
    #expect(try reader.read(after: 0, upTo: 2, limit: 10).records.map(\.seq) == [1, 2])
    #expect(try reader.read(after: 2, upTo: 2, limit: 10).records.isEmpty)
    #expect(try reader.read(after: 2, upTo: 3, limit: 10).records.map(\.seq) == [3])
  }

  @Test func aNewSinkStartsAtTheOldestKeptRecordWithNothingMissed() throws {
    let directory = try TemporaryDirectory()
    let path = directory.path + "/alerts.jsonl"
    try Self.append(10...12, to: path)
    let destination = CollectingDestination()
    let sink = try SinkDelivery(
      name: "late", destination: destination, takesVigilRecords: true, stateDirectory: directory.path,
      alertLog: path, keep: 1, logged: 12, journal: (directory.path + "/reports.jsonl", JournalMark(inode: 0, size: 0)),
      log: { _ in })
    sink.start()
    defer { sink.stop() }
    #expect(eventually { destination.taken.withLockedValue { $0.count } == 3 })
    #expect(eventually { sink.statusJSON.contains(#""cursor":12"#) })
    #expect(sink.statusJSON.contains(#""missed":[],"#) && sink.statusJSON.hasSuffix(#""reports":null}"#))
  }

  @Test func recordsNoKeptFileHoldsAreAGap() throws {
    let directory = try TemporaryDirectory()
    let path = directory.path + "/alerts.jsonl"
    try Self.append(10...12, to: path)
    let (records, gap) = try AlertLogReader(path: path, keep: 3).read(after: 4, limit: 10)
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
    let (records, gap) = try reader.read(after: 3, limit: 10)
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
    let first = try reader.read(after: 0, limit: 10)
    #expect(first.records.map(\.seq) == [1, 2, 3] && first.gap == nil)
    let second = try reader.read(after: 3, limit: 10)
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
    let (records, _) = try reader.read(after: 0, limit: 10)
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
