import Foundation
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
    // The feed sits in a 30 s pause: stopping ends it at once.
    runner.stop()
    #expect(eventually(within: 10) { runner.statusJSON.contains(#""running":false"#) })
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
    #expect(Daemon.verdict(of: response) == verdict)
  }
}
