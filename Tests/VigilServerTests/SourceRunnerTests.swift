import Foundation
import NIOConcurrencyHelpers
import Testing
import VigilCore
import VigilTestSupport

@testable import VigilServer

/// A feed that submits its reports, says it met a problem, and waits to be stopped.
private struct ScriptedFeed: ReportFeed {
  let reports: [String]

  func run(_ context: any SourceContext) {
    for report in reports { _ = context.submit(Array(report.utf8)) }
    context.problem("the spool folder went away")
    while !context.isStopping { context.pause(30) }
  }
}

@Suite("Sources: a feed on its own thread, its verdicts counted")
struct SourceRunnerTests {
  @Test func verdictsAreCountedAndAProblemShownAndStopEndsAPause() throws {
    let runner = SourceRunner(name: "scripted", feed: ScriptedFeed(reports: ["a", "b", "c", "d"])) { report in
      switch report.first {
      case UInt8(ascii: "a"), UInt8(ascii: "b"): .accepted(reportID: "R", alerts: 1)
      case UInt8(ascii: "c"): .duplicate(reportID: "R")
      default: .refused(code: "invalid_report", message: "no")
      }
    }
    runner.start()
    #expect(eventually { runner.statusJSON.contains(#""problem":"the spool folder went away""#) })
    #expect(
      runner.statusJSON
        == #"{"name":"scripted","running":true,"accepted":2,"duplicates":1,"refused":1,"problem":"the spool folder went away"}"#
    )
    // The feed sits in a 30 s pause: stopping ends it at once, and shutdown can wait for it.
    runner.stop()
    #expect(runner.waitUntilStopped(within: 20))
    #expect(runner.statusJSON.contains(#""running":false"#))
  }

  /// A feed that does not return when told is waited for only so long.
  @Test func waitingForAFeedThatWillNotStopEnds() {
    struct Stubborn: ReportFeed {
      func run(_ context: any SourceContext) { Thread.sleep(forTimeInterval: 30) }
    }
    let runner = SourceRunner(name: "stubborn", feed: Stubborn()) { _ in .duplicate(reportID: "R") }
    runner.start()
    runner.stop()
    #expect(!runner.waitUntilStopped(within: 0.2))
  }

  /// A report over several lines (pretty-printed) becomes one journal line: breaks between
  /// tokens turn into spaces; inside a string, escaped or raw, nothing changes.
  @Test(arguments: [
    ("{\n  \"id\": \"A\",\r\n  \"n\": 1\n}", "{   \"id\": \"A\",    \"n\": 1 }"),
    (#"{"t":"a\nb \"q\" \\"}"#, #"{"t":"a\nb \"q\" \\"}"#),
    ("{\"t\":\"raw\nbreak\"}", "{\"t\":\"raw\nbreak\"}"),
    ("{\"t\":\"\\\\\"\n}", "{\"t\":\"\\\\\" }"),
  ])
  func aReportOverSeveralLinesIsMadeOne(given: String, expected: String) {
    #expect(String(decoding: RequestResponder.onOneLine(Array(given.utf8)), as: UTF8.self) == expected)
  }

  @Test(arguments: [
    (
      #"{"ok":true,"report_id":"SY-1","duplicate":false,"ruleset":"sha256:x","alerts":[{"seq":2},{"seq":3}],"warnings":[]}"#,
      ReportVerdict.accepted(reportID: "SY-1", alerts: 2)
    ),
    (
      #"{"ok":true,"report_id":"SY-1","duplicate":true,"ruleset":"sha256:x","alerts":[{"seq":2}],"warnings":[]}"#,
      .duplicate(reportID: "SY-1")
    ),
    (
      #"{"ok":false,"error":{"code":"id_conflict","message":"SY-1 was recorded with other content","field":"id"}}"#,
      .refused(code: "id_conflict", message: "SY-1 was recorded with other content")
    ),
  ])
  func aResponseLineIsTheVerdictASourceGets(response: String, verdict: ReportVerdict) {
    #expect(RequestResponder.verdict(of: response) == verdict)
  }

  /// Shutdown closes the gate and waits for the report under way; later ones are refused.
  @Test func theGateWaitsForTheReportUnderWayThenLetsNoneThrough() {
    let gate = SourceGate()
    #expect(gate.enter())
    let closed = NIOLockedValueBox(false)
    let closing = Thread {
      gate.close()
      closed.withLockedValue { $0 = true }
    }
    closing.start()
    Thread.sleep(forTimeInterval: 0.2)
    #expect(!closed.withLockedValue { $0 }, "close waits while a report is under way")
    gate.leave()
    #expect(eventually { closed.withLockedValue { $0 } })
    #expect(!gate.enter())
  }
}
