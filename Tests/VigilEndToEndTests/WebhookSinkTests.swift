import Crypto
import Foundation
import Testing
import VigilTestSupport

/// The webhook sink with the real daemon and a real HTTP receiver (WebhookReceiver.swift):
/// records arrive byte for byte and signed, a busy receiver gets the same keys again, a
/// refused record is parked, listed and sent again on command, and the filters and the
/// chat format shape what a chat tool gets.
@Suite("vigild end to end: the webhook sink", .onThreadsOfTheirOwn)
struct WebhookSinkTests {
  static let secret = "It is a secret"

  /// A daemon in `directory` whose webhook sink posts to `receiver`, with `settings` (YAML
  /// lines under `webhook:`) added.
  static func daemon(
    in directory: TemporaryDirectory, receiver: WebhookReceiver, settings: [String] = []
  ) throws -> RunningDaemon {
    try (secret + "\n").write(toFile: directory.path + "/webhook.secret", atomically: true, encoding: .utf8)
    let config = """
      node: east
      plugins:
        webhook:
          url: \(receiver.url)
          secret_file: \(directory.path)/webhook.secret
      \(settings.map { "    " + $0 }.joined(separator: "\n"))
      """
    try config.write(toFile: directory.path + "/v.yaml", atomically: true, encoding: .utf8)
    return try RunningDaemon(rules: DaemonEndToEndTests.rules, arguments: ["--config", "v.yaml"], directory: directory)
  }

  /// Whether the request's `X-Vigil-Signature-256` is the HMAC-SHA256 of its body.
  static func signatureVerifies(_ request: WebhookReceiver.Request, secret: String = secret) -> Bool {
    let code = HMAC<SHA256>.authenticationCode(for: request.body, using: SymmetricKey(data: Array(secret.utf8)))
    let hex = code.map { String(format: "%02x", $0) }.joined()
    return request.header("X-Vigil-Signature-256") == "sha256=" + hex
  }

  /// The highest seq the alert log holds now (Vigil's own records too).
  static func lastSeq(in directory: String) -> Int {
    let text = (try? String(contentsOfFile: directory + "/var/log/vigil/alerts.jsonl", encoding: .utf8)) ?? ""
    return text.split(separator: "\n").compactMap { SinkEndToEndTests.seq(of: $0) }.max() ?? 0
  }

  /// Has `receiver` refuse the `nth` alert record to come (1: the next), once the rule
  /// set's record is in the log; its seq.
  static func refuse(_ nth: Int, of receiver: WebhookReceiver, in directory: TemporaryDirectory) -> UInt64 {
    #expect(eventually { Self.lastSeq(in: directory.path) >= 1 }, "the rule set's record is in the log")
    let refused = UInt64(Self.lastSeq(in: directory.path) + nth)
    receiver.refuse(seq: refused)
    return refused
  }

  static func sinkStatus(_ daemon: RunningDaemon) throws -> [String: Any] {
    try SinkEndToEndTests.sinkStatus(daemon)
  }

  @Test func everyRecordArrivesSignedRetriesKeepTheirKeysAndARefusedOneIsParkedAndSentAgain() throws {
    let directory = try TemporaryDirectory()
    let receiver = try WebhookReceiver(unavailable: 3)
    let daemon = try Self.daemon(in: directory, receiver: receiver)
    // The third alert of the reports below is refused: its seq is known before they go in.
    let refused = Self.refuse(3, of: receiver, in: directory)
    let answers = try daemon.exchange((0..<4).map { DaemonEndToEndTests.report("HOOK-\($0)") })
    #expect(answers.count == 4 && answers.allSatisfy { $0.contains(#""ok":true"#) })
    let logged = try SinkEndToEndTests.loggedAlerts(in: directory.path)
    #expect(logged.count == 8)
    #expect(logged[Int(refused)] != nil, "the refused seq is one of the reports' alerts")

    let accepted = { receiver.requests.filter { $0.status == 200 } }
    let wanted = Set(logged.keys.map(UInt64.init)).subtracting([refused])
    #expect(eventually(within: 60) { Set(accepted().flatMap(\.seqs)) == wanted })
    // Byte for byte the log's lines, each request one record, signed with the secret.
    for request in accepted() {
      let seq = try #require(request.seqs.first)
      #expect(request.seqs.count == 1)
      #expect(request.body == Array((logged[Int(seq)] ?? "").utf8), "seq \(seq)")
      #expect(request.header("Idempotency-Key") == "east:\(seq)")
      #expect(request.header("X-Vigil-Node") == "east")
      #expect(request.header("Content-Type") == "application/json")
    }
    #expect(receiver.requests.allSatisfy { Self.signatureVerifies($0) })
    // The requests answered 503 came again with the same key and body.
    let unavailable = receiver.requests.filter { $0.status == 503 }
    #expect(unavailable.count == 3)
    for request in unavailable {
      let key = try #require(request.header("Idempotency-Key"))
      #expect(accepted().contains { $0.header("Idempotency-Key") == key && $0.body == request.body }, "\(key)")
    }
    // The refused record is parked, in status and in `vigil sinks parked`.
    #expect(try eventually { try Self.sinkStatus(daemon)["parked"] as? Int == 1 })
    let status = try VigilClientCommandTests.vigil(daemon, ["status"])
    #expect(status.standardOutput.contains("; 1 parked (vigil sinks parked)"), "\(status.standardOutput)")
    let refusal = try #require(receiver.requests.first { $0.status == 400 })
    #expect(refusal.header("Idempotency-Key") == "east:\(refused)")
    let parked = try VigilClientCommandTests.vigil(daemon, ["sinks", "parked"])
    #expect(parked.status == 0, "\(parked.standardError)")
    #expect(parked.standardOutput.hasPrefix("webhook #\(refused) parked "), "\(parked.standardOutput)")
    #expect(parked.standardOutput.contains("refused: HTTP 400: record \(refused) is not wanted here"))
    #expect(parked.standardOutput.contains("weapons."))
    let parkedJSON = try VigilClientCommandTests.vigil(daemon, ["sinks", "parked", "webhook", "--json"])
    #expect(parkedJSON.standardOutput.contains(#""record":\#(logged[Int(refused)] ?? "?")}"#), "the record as logged")
    // Delivery went on past it: the records after it arrived, and the cursor reached the end.
    #expect(try eventually { try Self.sinkStatus(daemon)["lag"] as? Int == 0 })
    // `parked` is answered off the connection's loop, yet in its place among pipelined requests.
    let pipelined = try daemon.exchange([#"{"op":"ping"}"#, #"{"op":"parked"}"#, #"{"op":"ping"}"#, #"{"op":"parked","sink":"nope"}"#])
    #expect(pipelined.count == 4)
    #expect(pipelined.first == #"{"ok":true,"op":"pong"}"#)
    #expect(pipelined.dropFirst().first?.hasPrefix(#"{"ok":true,"op":"parked","parked":[{"sink":"webhook","#) == true, "\(pipelined)")
    #expect(pipelined.dropFirst(2).first == #"{"ok":true,"op":"pong"}"#)
    #expect(pipelined.last?.contains(#"no sink is named \"nope\""#) == true, "\(pipelined)")

    // Fixed at the receiver, and sent again on command: it arrives, under the same key.
    receiver.refuse(seq: nil)
    // A seq that is not parked is refused, with what is.
    let stranger = try VigilClientCommandTests.vigil(daemon, ["sinks", "resend", "webhook", "--seq", "999"])
    #expect(stranger.status == 1)
    #expect(stranger.standardError.contains("sink webhook has no parked record with seq 999 (parked: "), "\(stranger.standardError)")
    let resend = try VigilClientCommandTests.vigil(daemon, ["sinks", "resend", "webhook"])
    #expect(resend.status == 0, "\(resend.standardError)")
    #expect(resend.standardOutput.contains("(1 parked when asked)"), "\(resend.standardOutput)")
    #expect(eventually(within: 60) { accepted().contains { $0.seqs == [refused] } })
    let resent = try #require(accepted().first { $0.seqs == [refused] })
    #expect(resent.body == Array((logged[Int(refused)] ?? "").utf8))
    #expect(resent.header("Idempotency-Key") == refusal.header("Idempotency-Key"))
    #expect(Self.signatureVerifies(resent))
    #expect(try eventually { try Self.sinkStatus(daemon)["parked"] as? Int == 0 })
    let none = try VigilClientCommandTests.vigil(daemon, ["sinks", "parked"])
    #expect(none.standardOutput == "no parked records\n")
    expectCleanStop(daemon)
  }

  /// The secret file is read for each delivery (docs/webhooks.md): a secret changed on both
  /// sides is used from the next request, a parked record sent again included, without a
  /// restart; a secret file that cannot be read holds delivery back, and status says why.
  @Test func aChangedSecretIsUsedWithoutARestart() throws {
    let directory = try TemporaryDirectory()
    let receiver = try WebhookReceiver(unavailable: 0)
    let daemon = try Self.daemon(in: directory, receiver: receiver)
    let refused = Self.refuse(1, of: receiver, in: directory)
    #expect(try daemon.exchange([DaemonEndToEndTests.report("KEY-0")]).first?.contains(#""ok":true"#) == true)
    #expect(try eventually { try Self.sinkStatus(daemon)["parked"] as? Int == 1 && Self.sinkStatus(daemon)["lag"] as? Int == 0 })

    let renewed = "A new secret"
    let secretFile = directory.path + "/webhook.secret"
    try (renewed + "\n").write(toFile: secretFile, atomically: true, encoding: .utf8)
    receiver.refuse(seq: nil)
    let resend = try VigilClientCommandTests.vigil(daemon, ["sinks", "resend", "webhook"])
    #expect(resend.status == 0, "\(resend.standardError)")
    let resent = { receiver.requests.first { $0.status == 200 && $0.seqs == [refused] } }
    #expect(eventually(within: 60) { resent() != nil })
    let request = try #require(resent())
    #expect(Self.signatureVerifies(request, secret: renewed) && !Self.signatureVerifies(request))

    // Gone: nothing is sent, and status says why. Back: delivery goes on, with it.
    try FileManager.default.removeItem(atPath: secretFile)
    let sentBefore = receiver.requests.count
    #expect(try daemon.exchange([DaemonEndToEndTests.report("KEY-1")]).first?.contains(#""ok":true"#) == true)
    #expect(
      try eventually {
        (try Self.sinkStatus(daemon)["last_error"] as? String)?.contains("webhook.secret cannot be read") == true
      })
    #expect(receiver.requests.count == sentBefore, "nothing is sent unsigned or with the old secret")
    try (renewed + "\n").write(toFile: secretFile, atomically: true, encoding: .utf8)
    #expect(try eventually(within: 60) { try Self.sinkStatus(daemon)["lag"] as? Int == 0 })
    let later = receiver.requests.dropFirst(sentBefore)
    #expect(!later.isEmpty && later.allSatisfy { $0.status == 200 && Self.signatureVerifies($0, secret: renewed) })
    expectCleanStop(daemon)
  }

  /// A record refused for good in a batch that a later request then fails is parked when
  /// the batch goes again, not posted again (a receiver would be asked until it took it).
  /// Each outage is logged, the second too; a resend that goes through clears `last_error`.
  @Test func aRefusalIsKeptWhenALaterRequestFailsTheBatch() throws {
    let directory = try TemporaryDirectory()
    let receiver = try WebhookReceiver(unavailable: 0)
    let daemon = try Self.daemon(in: directory, receiver: receiver)
    let refused = Self.refuse(2, of: receiver, in: directory)
    receiver.beUnavailable(next: 0, afterRefusal: 1)
    _ = try daemon.exchange((0..<4).map { DaemonEndToEndTests.report("KEEP-\($0)") })
    let logged = try SinkEndToEndTests.loggedAlerts(in: directory.path)
    let wanted = Set(logged.keys.map(UInt64.init)).subtracting([refused])
    let accepted = { Set(receiver.requests.filter { $0.status == 200 }.flatMap(\.seqs)) }
    #expect(eventually(within: 60) { accepted() == wanted }, "\(accepted().sorted()) of \(wanted.sorted())")
    #expect(try eventually { try Self.sinkStatus(daemon)["parked"] as? Int == 1 })
    #expect(receiver.requests.filter { $0.seqs.contains(refused) }.count == 1, "the refused record was posted once")
    #expect(receiver.requests.contains { $0.status == 503 }, "a later request failed the batch")

    // A second outage, at the resend: logged as the first was; cleared once it goes.
    receiver.refuse(seq: nil)
    receiver.beUnavailable(next: 1)
    let resend = try VigilClientCommandTests.vigil(daemon, ["sinks", "resend", "webhook"])
    #expect(resend.status == 0, "\(resend.standardError)")
    #expect(eventually(within: 60) { accepted().contains(refused) })
    #expect(try eventually { try Self.sinkStatus(daemon)["last_error"] is NSNull && Self.sinkStatus(daemon)["parked"] as? Int == 0 })
    let failures = daemon.log().split(separator: "\n").filter { $0.contains("sink webhook: delivery failed") }
    #expect(failures.count == 2, "\(failures)")
    expectCleanStop(daemon)
  }

  /// A receiver that fails one request in a few gets every record, each taken once: the
  /// requests before a failed one are done with, and delivery goes on from the failed one.
  /// (Sent again from the batch's start, the same first records went again and again, and
  /// a chat channel got them four times while the rest never came.)
  @Test func aReceiverThatFailsNowAndThenGetsEachRecordOnce() throws {
    let directory = try TemporaryDirectory()
    let receiver = try WebhookReceiver(unavailable: 0)
    receiver.failEvery(4)
    let daemon = try Self.daemon(in: directory, receiver: receiver)
    _ = try daemon.exchange((0..<12).map { DaemonEndToEndTests.report("FLAKY-\($0)") })
    let logged = Set(try SinkEndToEndTests.loggedAlerts(in: directory.path).keys.map(UInt64.init))
    #expect(logged.count >= 12)
    let accepted = { receiver.requests.filter { $0.status == 200 }.flatMap(\.seqs) }
    #expect(eventually(within: 90) { Set(accepted()) == logged }, "\(accepted().sorted()) of \(logged.sorted())")
    #expect(accepted().count == Set(accepted()).count, "a record taken twice: \(accepted().sorted())")
    #expect(receiver.requests.filter { $0.status == 503 }.count >= 3)
    expectCleanStop(daemon)
  }

  /// A batch the receiver did not take goes again as it was, not with the records that
  /// came meanwhile: its `Idempotency-Key` is the key it had.
  @Test func aBatchTriedAgainKeepsItsRecordsAndItsKey() throws {
    let directory = try TemporaryDirectory()
    let receiver = try WebhookReceiver(unavailable: 2)  // the first answer asks for a second's pause
    let daemon = try Self.daemon(in: directory, receiver: receiver, settings: ["batch: 5"])
    #expect(eventually { Self.lastSeq(in: directory.path) >= 1 }, "the rule set's record is in the log")
    _ = try daemon.exchange([DaemonEndToEndTests.report("BATCH-1")])
    #expect(eventually(within: 60) { !receiver.requests.isEmpty })
    // Within the pause: more records for the next try to take along, if it would.
    _ = try daemon.exchange((2...4).map { DaemonEndToEndTests.report("BATCH-\($0)") })
    let logged = try SinkEndToEndTests.loggedAlerts(in: directory.path)
    #expect(logged.count == 8)
    let accepted = { receiver.requests.filter { $0.status == 200 } }
    #expect(eventually(within: 60) { Set(accepted().flatMap(\.seqs)) == Set(logged.keys.map(UInt64.init)) })
    let first = try #require(receiver.requests.first)
    #expect(first.status == 503 && first.seqs.count == 2, "\(first.seqs)")
    for request in receiver.requests where request.status == 503 {
      let key = try #require(request.header("Idempotency-Key"))
      #expect(request.header("X-Vigil-Idempotency-Keys") == first.header("X-Vigil-Idempotency-Keys"))
      #expect(accepted().contains { $0.header("Idempotency-Key") == key && $0.body == request.body }, "\(key)")
    }
    #expect(receiver.requests.allSatisfy { Self.signatureVerifies($0) })
    expectCleanStop(daemon)
  }

  /// Every request that failed came again as it was, with the same key and body, and was
  /// taken so.
  static func expectFailedRequestsCameAgainAsTheyWere(_ receiver: WebhookReceiver) throws {
    let accepted = receiver.requests.filter { $0.status == 200 }
    for request in receiver.requests where request.status == 503 {
      let key = try #require(request.header("Idempotency-Key"))
      #expect(
        accepted.contains { $0.header("Idempotency-Key") == key && $0.body == request.body },
        "\(key) failed and never came again as it was: \(accepted.map { $0.header("Idempotency-Key") ?? "" })")
    }
  }

  /// A resend of parked records that fails too is no end of the failed batch of new ones:
  /// that batch still comes again as it was, not with the records that came meanwhile
  /// (it went out with them, under a new key).
  @Test func aFailedResendLeavesTheFailedBatchAsItWas() throws {
    let directory = try TemporaryDirectory()
    let receiver = try WebhookReceiver(unavailable: 0)
    let daemon = try Self.daemon(in: directory, receiver: receiver, settings: ["batch: 3"])
    let refused = Self.refuse(1, of: receiver, in: directory)
    _ = try daemon.exchange([DaemonEndToEndTests.report("PARK-1")])
    // Its request (both alerts of the report) refused, and parked.
    #expect(try eventually { try Self.sinkStatus(daemon)["parked"] as? Int == 2 })
    receiver.refuse(seq: nil)
    receiver.beUnavailable(next: 1_000)
    _ = try daemon.exchange([DaemonEndToEndTests.report("PARK-2")])
    #expect(eventually(within: 60) { receiver.requests.contains { $0.status == 503 } })
    let resend = try VigilClientCommandTests.vigil(daemon, ["sinks", "resend", "webhook"])
    #expect(resend.status == 0, "\(resend.standardError)")
    #expect(eventually(within: 60) { receiver.requests.contains { $0.status == 503 && $0.seqs.contains(refused) } })
    _ = try daemon.exchange([DaemonEndToEndTests.report("PARK-3")])
    let logged = Set(try SinkEndToEndTests.loggedAlerts(in: directory.path).keys.map(UInt64.init))
    receiver.beUnavailable(next: 0)
    let accepted = { Set(receiver.requests.filter { $0.status == 200 }.flatMap(\.seqs)) }
    #expect(eventually(within: 90) { accepted() == logged }, "\(accepted().sorted()) of \(logged.sorted())")
    try Self.expectFailedRequestsCameAgainAsTheyWere(receiver)
    expectCleanStop(daemon)
  }

  /// With a filter, a request that fails again and again keeps its records: the records
  /// read for it are not cut to fewer log lines than hold them (after six failures a read
  /// of seven lines held two of its three records, and it went out without the third,
  /// under another key).
  @Test func aFilteredBatchFailingManyTimesKeepsItsRecords() throws {
    let directory = try TemporaryDirectory()
    let receiver = try WebhookReceiver(unavailable: 0)
    let daemon = try Self.daemon(in: directory, receiver: receiver, settings: ["batch: 3", "min_priority: critical"])
    #expect(eventually { Self.lastSeq(in: directory.path) >= 1 }, "the rule set's record is in the log")
    receiver.beUnavailable(next: 7)
    // One critical alert in every five lines of the log.
    _ = try daemon.exchange(
      (0..<12).map { DaemonEndToEndTests.report("SPARSE-\($0)", weapons: $0.isMultiple(of: 3) ? "barrel_bomb" : "mortar") })
    let critical = try SinkEndToEndTests.loggedAlerts(in: directory.path).filter { $0.value.contains(#""priority":"critical""#) }
    #expect(critical.count == 4)
    let accepted = { Set(receiver.requests.filter { $0.status == 200 }.flatMap(\.seqs)) }
    let wanted = Set(critical.keys.map(UInt64.init))
    #expect(eventually(within: 90) { accepted() == wanted }, "\(accepted().sorted()) of \(wanted.sorted())")
    #expect(receiver.requests.filter { $0.status == 503 }.count == 7)
    try Self.expectFailedRequestsCameAgainAsTheyWere(receiver)
    expectCleanStop(daemon)
  }

  @Test func aChatWebhookTakesOnlyCriticalAlertsAsText() throws {
    let directory = try TemporaryDirectory()
    let receiver = try WebhookReceiver(unavailable: 0)
    let daemon = try Self.daemon(
      in: directory, receiver: receiver, settings: ["min_priority: critical", "format: chat", "batch: 2"])
    let answers = try daemon.exchange((0..<3).map { DaemonEndToEndTests.report("CHAT-\($0)") })
    #expect(answers.count == 3 && answers.allSatisfy { $0.contains(#""ok":true"#) })
    let logged = try SinkEndToEndTests.loggedAlerts(in: directory.path)
    let critical = Set(logged.filter { $0.value.contains(#""priority":"critical""#) }.keys.map(UInt64.init))
    #expect(critical.count == 3 && logged.count == 6)
    #expect(eventually(within: 60) { Set(receiver.requests.flatMap(\.seqs)) == critical })
    #expect(try eventually { try Self.sinkStatus(daemon)["lag"] as? Int == 0 })
    for request in receiver.requests {
      #expect(request.status == 200)
      #expect(Self.signatureVerifies(request))
      let body = try JSONSerialization.jsonObject(with: Data(request.body)) as? [String: Any]
      let text = try #require(body?["text"] as? String, "\(String(decoding: request.body, as: UTF8.self))")
      #expect(body?.count == 1)
      let lines = text.split(separator: "\n")
      #expect(lines.count == request.seqs.count)
      #expect(lines.allSatisfy { $0 == "[critical] weapons.barrel_bomb: barrel bombs in Darayya (ISSG ¶7)" }, "\(text)")
    }
    expectCleanStop(daemon)
  }

  /// A receiver that never answers does not hold vigild's stop: the request in flight is
  /// given up, and its record comes again at the next start.
  /// An https URL to a receiver that speaks plain HTTP: the failure says what is likely
  /// wrong, not BoringSSL's words with the paths of its source files.
  @Test func anHTTPSURLToAPlainHTTPReceiverSaysSo() throws {
    let directory = try TemporaryDirectory()
    let receiver = try WebhookReceiver(unavailable: 0)
    let plain = receiver.url
    #expect(plain.hasPrefix("http://"))
    let config = """
      node: east
      plugins:
        webhook:
          url: https://\(plain.dropFirst("http://".count))
          secret_file: \(directory.path)/webhook.secret
      """
    try (Self.secret + "\n").write(toFile: directory.path + "/webhook.secret", atomically: true, encoding: .utf8)
    try config.write(toFile: directory.path + "/v.yaml", atomically: true, encoding: .utf8)
    let daemon = try RunningDaemon(rules: DaemonEndToEndTests.rules, arguments: ["--config", "v.yaml"], directory: directory)
    _ = try daemon.exchange([DaemonEndToEndTests.report("TLS-1")])
    #expect(
      try eventually(within: 60) {
        (try Self.sinkStatus(daemon)["last_error"] as? String)?.contains("the TLS handshake failed: the server does not speak TLS on that port") == true
      }, "\((try? Self.sinkStatus(daemon)) ?? [:])")
    #expect(!((try Self.sinkStatus(daemon)["last_error"] as? String) ?? "").contains(".build/"))
    expectCleanStop(daemon)
  }

  /// A resend asked for is kept (`<state_dir>/sinks/webhook.resend`) until it is done: a
  /// receiver still down when vigild stops does not make it forgotten, and the next start
  /// sends the parked record without being asked again.
  @Test func aResendAskedForOutlivesAStop() throws {
    let directory = try TemporaryDirectory()
    let receiver = try WebhookReceiver(unavailable: 0)
    let first = try Self.daemon(in: directory, receiver: receiver)
    let refused = Self.refuse(1, of: receiver, in: directory)
    _ = try first.exchange([DaemonEndToEndTests.report("KEEP-1")])
    #expect(try eventually { try Self.sinkStatus(first)["parked"] as? Int == 1 && Self.sinkStatus(first)["lag"] as? Int == 0 })
    // The receiver is down when the resend is asked: it cannot be done before the stop.
    receiver.refuse(seq: nil)
    receiver.beUnavailable(next: 1_000_000)
    let resend = try VigilClientCommandTests.vigil(first, ["sinks", "resend", "webhook"])
    #expect(resend.status == 0, "\(resend.standardError)")
    let request = directory.path + "/var/lib/vigil/sinks/webhook.resend"
    #expect(FileManager.default.fileExists(atPath: request), "the resend asked for is kept on disk")
    #expect(eventually { receiver.requests.contains { $0.status == 503 && $0.seqs == [refused] } })
    expectCleanStop(first)
    #expect(FileManager.default.fileExists(atPath: request), "not done: still asked")

    receiver.beUnavailable(next: 0)
    let second = try Self.daemon(in: directory, receiver: receiver)
    #expect(eventually(within: 60) { receiver.requests.contains { $0.status == 200 && $0.seqs == [refused] } })
    #expect(try eventually { try Self.sinkStatus(second)["parked"] as? Int == 0 })
    #expect(eventually { !FileManager.default.fileExists(atPath: request) }, "done, and forgotten")
    expectCleanStop(second)
  }

  /// A receiver that answers 200 and then sends its body a byte at a time, or never:
  /// the request ends within timeout_s, and the records it carried are delivered (the
  /// receiver took them), not posted again. The client's own deadline ended with the
  /// answer's head, and the request was given up as failed past it, then sent again.
  /// An answer begun and cut short (its Content-Length not reached when the connection
  /// closes) is tried again and said to be cut: it was called "something that is not HTTP",
  /// which sent the operator looking for a wrong port.
  @Test func anAnswerCutShortIsSaidToBeCut() throws {
    let directory = try TemporaryDirectory()
    let receiver = Process()
    receiver.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
    receiver.arguments = [
      "-c",
      "import socket\ns=socket.socket()\ns.bind(('127.0.0.1',0))\ns.listen(8)\nprint(s.getsockname()[1],flush=True)\n"
        + "while True:\n  c,_=s.accept()\n  c.recv(65536)\n"
        + "  c.sendall(b'HTTP/1.1 200 OK\\r\\nContent-Length: 100\\r\\n\\r\\nonly ten..')\n  c.close()\n",
    ]
    let output = Pipe()
    receiver.standardOutput = output
    try receiver.run()
    defer {
      // SIGKILL: the child inherits the test process's blocked signals, SIGTERM among them.
      kill(receiver.processIdentifier, SIGKILL)
      receiver.waitUntilExit()
    }
    var portLine = Data()
    while !portLine.contains(10), let byte = try output.fileHandleForReading.read(upToCount: 1), !byte.isEmpty { portLine += byte }
    let port = try #require(Int(String(decoding: portLine, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)))
    try (Self.secret + "\n").write(toFile: directory.path + "/webhook.secret", atomically: true, encoding: .utf8)
    try """
      node: east
      plugins:
        webhook:
          url: http://127.0.0.1:\(port)/hook
          secret_file: \(directory.path)/webhook.secret
      """.write(toFile: directory.path + "/v.yaml", atomically: true, encoding: .utf8)
    let daemon = try RunningDaemon(rules: DaemonEndToEndTests.rules, arguments: ["--config", "v.yaml"], directory: directory)
    _ = try daemon.exchange([DaemonEndToEndTests.report("CUT-1")])
    #expect(
      try eventually(within: 60) {
        (try Self.sinkStatus(daemon)["last_error"] as? String)?.contains(
          "the webhook at 127.0.0.1:\(port) closed the connection in the middle of its answer") == true
      }, "\((try? Self.sinkStatus(daemon)) ?? [:])")
    #expect(try (Self.sinkStatus(daemon)["lag"] as? Int ?? 0) > 0, "the cut answer was taken for a delivery")
    expectCleanStop(daemon)
  }

  @Test func anAnswerWhoseBodyStallsCountsByItsStatus() throws {
    let directory = try TemporaryDirectory()
    let receiver = try WebhookReceiver(unavailable: 0)
    receiver.stallBody(true)
    let daemon = try Self.daemon(in: directory, receiver: receiver, settings: ["timeout_s: 1"])
    _ = try daemon.exchange([DaemonEndToEndTests.report("STALL-1")])
    let last = Self.lastSeq(in: directory.path)
    #expect(try eventually(within: 60) { (try Self.sinkStatus(daemon)["lag"] as? Int) == 0 }, "\((try? Self.sinkStatus(daemon)) ?? [:])")
    let seqs = receiver.requests.flatMap(\.seqs)
    #expect(seqs.sorted() == Array(Set(seqs)).sorted(), "a record was posted twice: \(seqs)")
    #expect(seqs.max() == UInt64(last), "\(seqs) against the log's last seq \(last)")
    #expect(try Self.sinkStatus(daemon)["failures"] as? Int == 0, "\((try? Self.sinkStatus(daemon)) ?? [:])")
    expectCleanStop(daemon)
  }

  @Test func aRequestInFlightIsGivenUpWhenVigildStops() throws {
    let directory = try TemporaryDirectory()
    let receiver = try WebhookReceiver(unavailable: 0)
    receiver.beSilent(true)
    let daemon = try Self.daemon(in: directory, receiver: receiver, settings: ["timeout_s: 300"])
    _ = try daemon.exchange([DaemonEndToEndTests.report("HANG-1")])
    #expect(eventually { !receiver.requests.isEmpty }, "the request reached the receiver")
    expectCleanStop(daemon)
    let log = daemon.log()
    #expect(!log.contains("did not finish its delivery"), "\(log.suffix(4000))")
    #expect(log.contains("was given up: vigild is stopping"), "\(log.suffix(4000))")
  }
}
