import Foundation
import NIOConcurrencyHelpers
import NIOPosix
import Testing
import VigilCore
import VigilTestSupport

@testable import VigilServer

/// A plugin-style alert sink that keeps what it hears.
private final class CollectingSink: AlertSink {
  let name = "collecting"
  let heard = NIOLockedValueBox<[(seq: UInt64, rule: String, line: String)]>([])

  func alertRecorded(_ record: AlertRecord, seq: UInt64, line: String) {
    heard.withLockedValue { $0.append((seq, record.rule, line)) }
  }
}

@Suite("The group commit hands every durable record to alert sinks")
struct GroupCommitTests {
  @Test func alertSinksHearEachRecordOnceItIsInTheLog() throws {
    let directory = try TemporaryDirectory()
    let loops = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    defer { try? loops.syncShutdownGracefully() }
    let sink = CollectingSink()
    let alertLog = try AlertLog(path: directory.path + "/alerts.jsonl", headPath: directory.path + "/alerts.head")
    let writer = GroupCommit(
      loop: loops.next(), journal: try Journal(path: directory.path + "/reports.jsonl"), alertLog: alertLog,
      index: DuplicateIndex(), syncs: true, rotation: (0, 1), counters: Counters(), sinks: [sink])
    let json = Array(#"{"id":"A"}"#.utf8)
    let alerts = ["r.one", "r.two"].map {
      AlertRecord(
        time: "2016-03-04T04:40:00.000Z", rule: $0, priority: .high, reportID: "A", occurredAt: "2016-03-04",
        message: "m", basis: [], tags: [], ruleset: "sha256:x")
    }
    let submission = Submission(
      reportID: "A", content: try ReportDigest.content(of: json), reportJSON: json, alerts: alerts, warnings: [],
      ruleset: "sha256:x")
    let response = try writer.submit(submission).wait()
    #expect(response.contains(#""seq":1"#) && response.contains(#""seq":2"#))
    // A duplicate writes nothing, so no sink hears of it again.
    _ = try writer.submit(submission).wait()
    let heard = sink.heard.withLockedValue { $0 }
    #expect(heard.map(\.seq) == [1, 2])
    #expect(heard.map(\.rule) == ["r.one", "r.two"])
    let logged = try String(contentsOfFile: directory.path + "/alerts.jsonl", encoding: .utf8)
    #expect(heard.map(\.line).joined() == logged)
  }
}
