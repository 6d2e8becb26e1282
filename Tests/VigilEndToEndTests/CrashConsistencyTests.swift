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

  /// A file's sync does not promise its name survives a power failure: after a rotation's
  /// renames, the log's folder is synced before anything is written to the new file
  /// (traced with strace).
  @Test func aRotationSyncsTheLogsFolder() throws {
    if !FileManager.default.isExecutableFile(atPath: "/usr/bin/strace") { _ = TestTools.install() }
    let directory = try TemporaryDirectory()
    let trace = directory.path + "/trace"
    try "alerts:\n  rotate_bytes: 2000\n  keep: 2\n".write(toFile: directory.path + "/v.yaml", atomically: true, encoding: .utf8)
    let daemon = try RunningDaemon(
      rules: DaemonEndToEndTests.rules, arguments: ["--config", "v.yaml"], directory: directory,
      wrapper: ["strace", "-f", "-qq", "-e", "trace=openat,fsync,rename,renameat,renameat2,write,pwrite64", "-o", trace])
    _ = try daemon.exchange((0..<30).map { DaemonEndToEndTests.report("ROT-\($0)") })
    expectCleanStop(daemon)
    #expect(FileManager.default.fileExists(atPath: directory.path + "/var/log/vigil/alerts.jsonl.1"))
    let lines = try String(contentsOfFile: trace, encoding: .utf8).split(separator: "\n").map(String.init)
    let renames = lines.indices.filter { lines[$0].contains("rename") && lines[$0].contains("alerts.jsonl.1\"") }
    #expect(!renames.isEmpty, "no rotation traced")
    for renamed in renames {
      let after = lines[renamed...]
      // The first fsync of a descriptor that names the log's folder (others open it to list
      // it). With -f, a call another thread interrupts is split: `openat(… <unfinished ...>`,
      // then `<... openat resumed>) = 23`, by the same pid.
      var folders: Set<String> = []
      var pending: Set<Substring> = []
      var synced: Int?
      // The call's result: `) = 21`, or, for a call resumed, padded (`<... openat resumed>)
      // = 21` with many spaces before the `=`: missed, the folder's sync went unseen).
      func result(_ line: String) -> String? {
        guard let match = line.matches(of: #/\)\s+=\s+(\d+)/#).last else { return nil }
        return String(match.output.1)
      }
      for index in after.indices {
        let line = after[index]
        let pid = line.prefix { $0 != " " }
        if line.contains("openat("), line.contains("\"var/log/vigil\""), line.contains("O_DIRECTORY") {
          if let descriptor = result(line) { folders.insert(descriptor) } else { pending.insert(pid) }
        } else if line.contains("<... openat resumed>"), pending.remove(pid) != nil, let descriptor = result(line) {
          folders.insert(descriptor)
        } else if let open = line.range(of: "fsync("), folders.contains(String(line[open.upperBound...].prefix { $0.isNumber })) {
          synced = index
          break
        }
      }
      let nextRecord = after.firstIndex { $0.contains("write(") && $0.contains("{\\\"seq\\\":") }
      #expect(synced != nil, "the log's folder is not synced after the rename at trace line \(renamed + 1): \(after.prefix(8).joined(separator: " / "))")
      if let synced, let nextRecord { #expect(synced < nextRecord, "a record was written before the folder's sync") }
    }
  }
}
