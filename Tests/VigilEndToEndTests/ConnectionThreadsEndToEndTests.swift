import Foundation
import Testing
import VigilTestSupport

/// `socket.threads` (docs/vigild.md): the connections served on several threads at once.
/// By default a two-core machine serves them on one thread, so this is also where the
/// sanitizers see connections checked side by side against one rule set.
@Suite("vigild end to end: connections on several threads")
struct ConnectionThreadsEndToEndTests {
  @Test func eightClientsOnThreeThreadsEachGetTheirOwnAnswersInOrder() throws {
    let directory = try TemporaryDirectory()
    try "socket:\n  threads: 3\nhttp:\n  listen: off\n".write(
      toFile: directory.path + "/v.yaml", atomically: true, encoding: .utf8)
    let daemon = try RunningDaemon(rules: DaemonEndToEndTests.rules, arguments: ["--config", "v.yaml"], directory: directory)
    let clients = 8
    let perClient = 150
    let answers = ClientAnswers(count: clients)
    let socketPath = daemon.socketPath
    DispatchQueue.concurrentPerform(iterations: clients) { client in
      // Every third report fires both rules, the others only `weapons.any_attack`.
      let lines = (0..<perClient).map { index in
        DaemonEndToEndTests.report("C\(client)-\(index)", weapons: index % 3 == 0 ? "barrel_bomb" : "mortar")
      }
      answers.set(
        client,
        Result {
          let connection = try UnixSocketClient(path: socketPath)
          try connection.send(Array(lines.map { $0 + "\n" }.joined().utf8))
          connection.closeWriting()
          return connection.readAll().split(separator: "\n").map(String.init)
        })
    }
    var alerts = 0
    for client in 0..<clients {
      let got = try answers.get(client)
      try #require(got.count == perClient, "client \(client): \(got.count) answers")
      for (index, answer) in got.enumerated() {
        #expect(answer.hasPrefix(#"{"ok":true,"report_id":"C\#(client)-\#(index)","duplicate":false"#), "\(answer)")
        alerts += answer.components(separatedBy: #""seq":"#).count - 1
      }
    }
    #expect(alerts == clients * (perClient + perClient / 3))
    let status = daemon.stop()
    let log = daemon.log()
    #expect(status == 0, "vigild's log: \(log.suffix(8000))")
    #expect(log.contains("3 connection threads"), "\(log.suffix(2000))")
    let journal = try String(contentsOfFile: directory.path + "/var/lib/vigil/reports.jsonl", encoding: .utf8)
    #expect(journal.split(separator: "\n").count == clients * perClient)
    // The log holds the rule set's record and every alert, one chain.
    #expect(try verifyChain(directory.path + "/var/log/vigil/alerts.jsonl") == "ok \(alerts + 1)")
  }
}

/// Each client's answers, set from its own thread.
private final class ClientAnswers: @unchecked Sendable {
  private let lock = NSLock()
  private var results: [Result<[String], any Error>?]

  init(count: Int) { results = Array(repeating: nil, count: count) }

  func set(_ index: Int, _ result: Result<[String], any Error>) {
    lock.withLock { results[index] = result }
  }

  func get(_ index: Int) throws -> [String] {
    try lock.withLock { results[index] }!.get()
  }
}
