import Foundation
import Testing
import VigilTestSupport

/// SIGKILL at random moments under pipelined load, round after round on the same files
/// (docs/alerts.md, "Durability and recovery"): nothing acknowledged is ever lost.
@Suite("vigild end to end: killed at random points, it loses nothing it acknowledged", .onThreadsOfTheirOwn)
struct CrashConsistencyTests {
  @Test func twentyRandomKillsUnderLoad() throws {
    var random = SystemRandomNumberGenerator()
    let directory = try TemporaryDirectory()
    /// Every acknowledged report: its line and the seqs of its alerts.
    var acknowledged: [(report: String, seqs: [Int])] = []
    let rounds = Int(ProcessInfo.processInfo.environment["VIGIL_CRASH_ROUNDS"] ?? "") ?? 20
    for round in 0..<rounds {
      let daemon = try RunningDaemon(rules: DaemonEndToEndTests.rules, directory: directory)
      let client = try UnixSocketClient(path: daemon.socketPath)
      let reports = (0..<1000).map {
        DaemonEndToEndTests.report("X\(round)-\($0)", weapons: $0 % 2 == 0 ? "tank" : "barrel_bomb")
      }
      let sender = Thread {
        for chunk in stride(from: 0, to: reports.count, by: 50) {
          guard (try? client.send(Array(reports[chunk..<chunk + 50].map { $0 + "\n" }.joined().utf8))) != nil
          else { return }
        }
      }
      sender.start()
      let killAt = Date().addingTimeInterval(Double.random(in: 0.01...0.15, using: &random))
      var answers: [String] = []
      while Date() < killAt, let line = client.readLine(timeout: 5) { answers.append(line) }
      daemon.stop(signal: SIGKILL)
      while let line = client.readLine(timeout: 2) { answers.append(line) }
      for (index, answer) in answers.enumerated() {
        let object = (try? JSONSerialization.jsonObject(with: Data(answer.utf8)) as? [String: Any]) ?? [:]
        #expect(object["ok"] as? Bool == true, "round \(round): \(answer)")
        let seqs = ((object["alerts"] as? [[String: Any]]) ?? []).compactMap { $0["seq"] as? Int }
        acknowledged.append((reports[index], seqs))
      }
    }
    // A last start: everything acknowledged is a duplicate with the alerts first recorded.
    let daemon = try RunningDaemon(rules: DaemonEndToEndTests.rules, directory: directory)
    let again = try daemon.exchange(acknowledged.map(\.report))
    #expect(again.count == acknowledged.count)
    for (answer, original) in zip(again, acknowledged) {
      let object = (try? JSONSerialization.jsonObject(with: Data(answer.utf8)) as? [String: Any]) ?? [:]
      #expect(object["duplicate"] as? Bool == true, "\(answer)")
      let seqs = ((object["alerts"] as? [[String: Any]]) ?? []).compactMap { $0["seq"] as? Int }
      #expect(seqs == original.seqs)
    }
    #expect(daemon.stop() == 0)
    // No torn line, no gap in seq, the chain whole; each acknowledged alert is in the log.
    let logPath = directory.path + "/var/log/vigil/alerts.jsonl"
    let log = try String(contentsOfFile: logPath, encoding: .utf8)
    let journal = try String(contentsOfFile: directory.path + "/var/lib/vigil/reports.jsonl", encoding: .utf8)
    #expect(log.hasSuffix("\n") && journal.hasSuffix("\n"))
    let records = log.split(separator: "\n")
    #expect(try verifyChain(logPath) == "ok \(records.count)")
    let reportOfSeq = Dictionary(
      uniqueKeysWithValues: records.enumerated().map { index, line in
        let object = (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]) ?? [:]
        return (index + 1, object["report_id"] as? String)
      })
    let journalled = Set(
      journal.split(separator: "\n").compactMap { line in
        ((try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["report"] as? [String: Any])?["id"]
          as? String
      })
    var missing: [String] = []
    for (report, seqs) in acknowledged {
      let id = (try? JSONSerialization.jsonObject(with: Data(report.utf8)) as? [String: Any])?["id"] as? String ?? "?"
      if !seqs.allSatisfy({ reportOfSeq[$0] == id }) || !journalled.contains(id) { missing.append(id) }
    }
    #expect(missing.isEmpty, "acknowledged but not all on disk: \(missing.prefix(10))")
    #expect(acknowledged.count > 0)
  }
}
