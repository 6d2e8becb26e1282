import Foundation
import NIOConcurrencyHelpers
import Testing
import VigilTestSupport

/// `socket.threads` (docs/vigild.md): the connections served on several threads at once.
/// By default a two-core machine serves them on one thread, so this is also where the
/// sanitizers see connections checked side by side against one rule set, and a plugin's
/// shared cache (the designations plugin's answers by name) filled from several threads.
@Suite("vigild end to end: connections on several threads", .onThreadsOfTheirOwn)
struct ConnectionThreadsEndToEndTests {
  static let rules = [
    "rules.yaml": """
    - designation: isil
      names: [Daesh, ISIL]
    - rule: attacks.by_designated_group
      desc: An attack by a designated group.
      condition: type = attack and designated(perpetrator)
      output: "attack by %perpetrator.name in %location.place"
      priority: high
    - rule: attacks.any
      desc: Any attack.
      condition: type = attack
      output: "attack in %location.place"
      priority: low
    """
  ]

  /// Every third report's perpetrator is designated; the others each have a name of their
  /// own, so the plugin's cache takes new names from every connection.
  static func report(client: Int, index: Int) -> String {
    let perpetrator = index % 3 == 0 ? "ISIL" : "militia \(client)-\(index)"
    return #"{"id":"C\#(client)-\#(index)","occurred_at":"2016-03-04T06:40:00+02:00","type":"attack","perpetrator":{"name":"\#(perpetrator)"},"location":{"place":"Darayya"}}"#
  }

  @Test func eightClientsAtOnceOnThreeThreadsEachGetTheirOwnAnswersInOrder() throws {
    let directory = try TemporaryDirectory()
    try "socket:\n  threads: 3\nhttp:\n  listen: off\n".write(
      toFile: directory.path + "/v.yaml", atomically: true, encoding: .utf8)
    let daemon = try RunningDaemon(rules: Self.rules, arguments: ["--config", "v.yaml"], directory: directory)
    let clients = 8
    let perClient = 150
    // Each client's answers, set from its own thread.
    let answers = NIOLockedValueBox([Result<[String], any Error>?](repeating: nil, count: clients))
    let socketPath = daemon.socketPath
    // A thread a client, each connected before any sends: the eight connections are open
    // together and their reports arrive at the same time.
    let connected = DispatchGroup()
    let go = DispatchSemaphore(value: 0)
    let finished = DispatchGroup()
    for client in 0..<clients {
      connected.enter()
      finished.enter()
      Thread.detachNewThread {
        defer { finished.leave() }
        let connection: UnixSocketClient
        do {
          connection = try UnixSocketClient(path: socketPath)
        } catch {
          connected.leave()
          return answers.withLockedValue { $0[client] = .failure(error) }
        }
        connected.leave()
        go.wait()
        let result = Result<[String], any Error> {
          let lines = (0..<perClient).map { Self.report(client: client, index: $0) + "\n" }
          try connection.send(Array(lines.joined().utf8))
          connection.closeWriting()
          return connection.readAll().split(separator: "\n").map(String.init)
        }
        answers.withLockedValue { $0[client] = result }
      }
    }
    connected.wait()
    for _ in 0..<clients { go.signal() }
    finished.wait()
    var alerts = 0
    for client in 0..<clients {
      let got = try #require(answers.withLockedValue { $0[client] }, "client \(client) has no answers").get()
      try #require(got.count == perClient, "client \(client): \(got.count) answers")
      for (index, answer) in got.enumerated() {
        #expect(answer.hasPrefix(#"{"ok":true,"report_id":"C\#(client)-\#(index)","duplicate":false"#), "\(answer)")
        #expect(answer.contains("attacks.by_designated_group") == (index % 3 == 0), "\(answer)")
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
