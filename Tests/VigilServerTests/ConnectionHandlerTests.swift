import Foundation
import NIOCore
import NIOEmbedded
import Testing
import VigilCore
import VigilTestSupport

@testable import VigilServer

/// A connection's handler on NIO's EmbeddedChannel: the framer and the handler of a real
/// connection, a real writer on real files, all on the channel's one event loop, so each
/// test says exactly when the writer's commits run (`loop.run()`).
private struct Connection {
  let directory: TemporaryDirectory
  let channel = EmbeddedChannel()
  let responder: RequestResponder
  let handler: ConnectionHandler
  var loop: EmbeddedEventLoop { channel.embeddedEventLoop }

  static let rules = """
    - rule: weapons.barrel_bomb
      desc: Barrel bombs were used.
      condition: weapons = barrel_bomb
      output: "barrel bombs in %location.place"
      priority: critical
    """

  init() throws {
    directory = try TemporaryDirectory()
    let alertLog = try AlertLog(path: directory.path + "/alerts.jsonl", headPath: directory.path + "/alerts.head")
    let journal = try Journal(path: directory.path + "/reports.jsonl")
    let counters = Counters()
    let subscriptions = Subscriptions()
    let writer = GroupCommit(
      loop: channel.embeddedEventLoop, journal: journal, alertLog: alertLog, index: DuplicateIndex(), syncs: false,
      rotation: (0, 1), counters: counters, subscriptions: subscriptions)
    let set = try RuleSetLoader().load([RuleSource(path: "r.yaml", name: "r.yaml", contents: Array(Self.rules.utf8))])
      .get()
    responder = RequestResponder(
      configuration: DaemonConfiguration(), plugins: PluginRegistry([]), ruleSet: set, writer: writer, counters: counters,
      subscriptions: subscriptions, log: { _ in })
    handler = ConnectionHandler(responder: responder)
    try channel.pipeline.syncOperations.addHandler(
      LineFramer(limit: 1 << 20, idleLine: .seconds(60)))
    try channel.pipeline.syncOperations.addHandler(handler)
    _ = try channel.setOption(ChannelOptions.allowRemoteHalfClosure, value: true).wait()
    try channel.connect(to: SocketAddress(unixDomainSocketPath: directory.path + "/s.sock")).wait()
  }

  static func report(_ id: String, weapon: String = "barrel_bomb") -> String {
    #"{"id":"\#(id)","occurred_at":"2016-03-04T06:40:00Z","type":"attack","weapons":["\#(weapon)"],"location":{"place":"Darayya"}}"#
  }

  func send(_ lines: [String]) throws {
    try channel.writeInbound(ByteBuffer(string: lines.map { $0 + "\n" }.joined()))
  }

  /// Runs what is scheduled on the loop (the writer's commits, the handler's flushes) and
  /// gives the response lines written since the last call.
  func responses() throws -> [String] {
    loop.run()
    var text = ""
    while let buffer = try channel.readOutbound(as: ByteBuffer.self) {
      text += String(buffer: buffer)
    }
    return text.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
  }

  /// The last value the handler gave `autoRead`, if it set it at all.
  var autoRead: Bool? {
    channel.options.last { $0.option is ChannelOptions.Types.AutoReadOption }?.value as? Bool
  }
}

@Suite("A connection's handler on EmbeddedChannel: order, flow, half-close, subscribe, shutdown")
struct ConnectionHandlerTests {
  @Test func pipelinedRequestsAreAnsweredInTheOrderTheyCame() throws {
    let connection = try Connection()
    // A report waits for its commit; the ping and the error are known at once. The answers
    // still leave in request order.
    try connection.send([
      Connection.report("A"), #"{"op":"ping"}"#, "not json", Connection.report("B", weapon: "mortar"),
      #"{"op":"ping"}"#, Connection.report("A"),
    ])
    let answers = try connection.responses()
    #expect(answers.count == 6)
    #expect(answers[0].contains(#""report_id":"A","duplicate":false"#) && answers[0].contains("weapons.barrel_bomb"))
    #expect(answers[1] == #"{"ok":true,"op":"pong"}"#)
    #expect(answers[2].contains(#""code":"invalid_json""#))
    #expect(answers[3].contains(#""report_id":"B","duplicate":false"#) && answers[3].contains(#""alerts":[]"#))
    #expect(answers[4] == #"{"ok":true,"op":"pong"}"#)
    #expect(answers[5].contains(#""report_id":"A","duplicate":true"#))
  }

  @Test func eachRequestsRoundTripIsMeasuredFromTheReadThatBroughtIt() throws {
    let connection = try Connection()
    // Three lines in one read share its clock reading; a line read later has its own.
    try connection.send([#"{"op":"ping"}"#, Connection.report("A"), #"{"op":"ping"}"#])
    #expect(try connection.responses().count == 3)
    Thread.sleep(forTimeInterval: 0.3)
    try connection.send([#"{"op":"ping"}"#])
    #expect(try connection.responses() == [#"{"ok":true,"op":"pong"}"#])
    let metrics = try PrometheusExposition.parse(
      String(decoding: connection.responder.counters.metrics.exposition(), as: UTF8.self), source: "exposition()")
    #expect(metrics.value("vigil_request_duration_seconds_count") == 4)
    // Measured from an earlier read, the last ping would have taken over 0.3 s.
    #expect(metrics.value("vigil_request_duration_seconds_bucket", ["le": "0.25"]) == 4)
  }

  @Test func readingPausesAtTheInFlightShareAndResumesOnceAnswered() throws {
    let connection = try Connection()
    let share = ConnectionHandler.inFlightBudget  // one connection has the whole budget
    // The commits do not run until the loop does: every report stays in flight.
    try connection.send((0..<(share - 1)).map { Connection.report("F-\($0)") })
    #expect(connection.autoRead == nil)
    try connection.send([Connection.report("F-last")])
    #expect(connection.autoRead == false)
    let answers = try connection.responses()
    #expect(answers.count == share)
    #expect(answers.allSatisfy { $0.contains(#""duplicate":false"#) })
    #expect(connection.autoRead == true)
  }

  @Test func aHalfCloseIsAnsweredInFullThenTheConnectionCloses() throws {
    let connection = try Connection()
    try connection.send([Connection.report("H-1"), Connection.report("H-2")])
    // The last line without its newline still counts once the client stops sending.
    try connection.channel.writeInbound(ByteBuffer(string: #"{"op":"ping"}"#))
    connection.channel.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
    #expect(connection.channel.isActive)
    let answers = try connection.responses()
    #expect(answers.count == 3)
    #expect(answers[0].contains(#""report_id":"H-1""#) && answers[1].contains(#""report_id":"H-2""#))
    #expect(answers[2] == #"{"ok":true,"op":"pong"}"#)
    connection.loop.run()
    #expect(!connection.channel.isActive)
  }

  @Test func aSubscriberGetsItsStreamAfterEarlierAnswersAndKeepsItOverAHalfClose() throws {
    let connection = try Connection()
    try connection.send([Connection.report("S-1"), #"{"op":"subscribe","min_priority":"critical"}"#, #"{"op":"ping"}"#])
    let answers = try connection.responses()
    // The report's answer, then the subscription's. The requests are taken in order, so
    // S-1's alerts were written before the subscription: they are in its answer, not in
    // the stream. The ping is ignored.
    #expect(answers.count == 2)
    #expect(answers[0].contains(#""report_id":"S-1""#))
    #expect(answers.last == #"{"ok":true,"op":"subscribe"}"#)
    connection.channel.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
    // A report from elsewhere (a source) reaches the stream: the connection is still open.
    _ = connection.responder.writer.submit(
      try #require(Self.submission(connection, Connection.report("S-2"))))
    let streamed = try connection.responses()
    #expect(connection.channel.isActive)
    #expect(streamed.count == 1)
    #expect(streamed.first?.contains(#""rule":"weapons.barrel_bomb""#) == true)
    #expect(streamed.first?.contains(#""report_id":"S-2""#) == true)
  }

  /// A report of another's committed together with the subscription, behind it: it was
  /// written after the request, so it is streamed (it was missed when the subscription was
  /// registered once that commit was done).
  @Test func aRecordCommittedWithTheSubscriptionAfterItIsStreamed() throws {
    let connection = try Connection()
    try connection.channel.writeInbound(ByteBuffer(string: #"{"op":"subscribe","min_priority":"critical"}"# + "\n"))
    // From elsewhere (a source), handed to the writer after the subscription, before the
    // loop runs: the same commit.
    _ = connection.responder.writer.submit(try #require(Self.submission(connection, Connection.report("SAME-1"))))
    let lines = try connection.responses()
    #expect(lines.first == #"{"ok":true,"op":"subscribe"}"#, "\(lines)")
    #expect(lines.count == 2 && lines.last?.contains(#""report_id":"SAME-1""#) == true, "\(lines)")
  }

  @Test func atShutdownWhatWasReadIsAnsweredThenTheConnectionCloses() throws {
    let connection = try Connection()
    try connection.send((0..<50).map { Connection.report("D-\($0)") })
    connection.handler.finish(connection.channel)
    #expect(connection.autoRead == false)
    let answers = try connection.responses()
    #expect(answers.count == 50)
    #expect(answers.allSatisfy { $0.contains(#""duplicate":false"#) })
    connection.loop.run()
    #expect(!connection.channel.isActive)
    // Every one of them was journalled before it was acknowledged.
    let journal = try String(contentsOfFile: connection.directory.path + "/reports.jsonl", encoding: .utf8)
    #expect(journal.split(separator: "\n").count == 50)
  }

  /// A report as a source hands it: parsed and checked by the responder's own path.
  fileprivate static func submission(_ connection: Connection, _ line: String) -> Submission? {
    guard case .success(.submit(let parsed, let json)) = RequestParser.parse(Array(line.utf8)) else {
      return nil
    }
    return connection.responder.submission(parsed, json: json)
  }
}

@Suite("A connection's state machine")
struct ConnectionStateTests {
  @Test func readingPausesWithHysteresis() {
    var state = ConnectionState()
    let belowTheLeast = state.inFlight(63, limit: 100, least: 64)
    #expect(belowTheLeast == .keep)
    let belowTheLimit = state.inFlight(99, limit: 100, least: 64)
    #expect(belowTheLimit == .keep)
    let atTheLimit = state.inFlight(100, limit: 100, least: 64)
    #expect(atTheLimit == .stop)
    let pastTheLimitWhilePaused = state.inFlight(120, limit: 100, least: 64)
    #expect(pastTheLimitWhilePaused == .keep)
    let aboveAQuarter = state.inFlight(26, limit: 100, least: 64)
    #expect(aboveAQuarter == .keep)
    let atAQuarter = state.inFlight(25, limit: 100, least: 64)
    #expect(atAQuarter == .resume)
    #expect(state.state == .reading(paused: false))
  }

  /// Answers the client has not taken pause reading too, until they are back within the
  /// limit (and the requests in flight allow it). Paused for its requests, a connection
  /// whose answers are within the limit reads again once its requests are answered: a
  /// client that sends everything before reading is not left waiting for ever.
  @Test func readingPausesWhileTooManyAnswersWaitUnread() {
    var state = ConnectionState()
    let underTheLimit = state.inFlight(1, limit: 100, least: 64, unread: 65536, unreadLimit: 65536)
    #expect(underTheLimit == .keep)
    let overTheLimit = state.inFlight(1, limit: 100, least: 64, unread: 65537, unreadLimit: 65536)
    #expect(overTheLimit == .stop)
    let stillOver = state.inFlight(0, limit: 100, least: 64, unread: 65537, unreadLimit: 65536)
    #expect(stillOver == .keep)
    let withinButRequestsInFlight = state.inFlight(30, limit: 100, least: 64, unread: 65536, unreadLimit: 65536)
    #expect(withinButRequestsInFlight == .keep)
    let within = state.inFlight(25, limit: 100, least: 64, unread: 65536, unreadLimit: 65536)
    #expect(within == .resume)
    // Paused at its share of requests, with most of the limit unread: once they are
    // answered, it reads again.
    let atItsShare = state.inFlight(100, limit: 100, least: 64, unread: 60000, unreadLimit: 65536)
    #expect(atItsShare == .stop)
    let answered = state.inFlight(0, limit: 100, least: 64, unread: 60000, unreadLimit: 65536)
    #expect(answered == .resume)
  }

  @Test func aHalfCloseClosesOnceAndOnlyWhileReading() {
    var state = ConnectionState()
    let firstHalfCloseCloses = state.inputClosed()
    #expect(firstHalfCloseCloses)
    let secondHalfCloseCloses = state.inputClosed()
    #expect(!secondHalfCloseCloses)
    let lineAfterHalfCloseAnswered = state.lineRead()
    #expect(!lineAfterHalfCloseAnswered)
    // vigild stopping now changes nothing more: the close is under way.
    let stoppingAfterHalfCloseActs = state.finish()
    #expect(!stoppingAfterHalfCloseActs)
    #expect(state.state == .finishing(subscribed: false))
  }

  @Test func aSubscriberIgnoresLinesKeepsItsStreamOverAHalfCloseAndReadsAgainIfPaused() {
    var state = ConnectionState()
    let atTheLimitBeforeSubscribing = state.inFlight(64, limit: 64, least: 64)
    #expect(atTheLimitBeforeSubscribing == .stop)
    let (subscribed, reading) = state.subscribe()
    #expect(subscribed && reading == .resume)
    let subscribersLineAnswered = state.lineRead()
    #expect(!subscribersLineAnswered)
    let subscribersHalfCloseCloses = state.inputClosed()
    #expect(!subscribersHalfCloseCloses)
    #expect(state.isSubscribed)
    let subscriberPastTheLimit = state.inFlight(1000, limit: 64, least: 64)
    #expect(subscriberPastTheLimit == .keep)
    let stoppingASubscriberActs = state.finish()
    #expect(stoppingASubscriberActs)
    // Stopping, a subscriber's last line (sent before it half-closed) is still not answered.
    let lineWhileStopping = state.lineRead()
    #expect(!lineWhileStopping)
  }

  @Test func stoppingRefusesASubscriptionAndNeverResumesReading() {
    var state = ConnectionState()
    let firstStopActs = state.finish()
    #expect(firstStopActs)
    // Lines read before reading stopped were framed then; the one a close hands over
    // after (its `\n` never came) is not answered, nor recorded.
    let answered = state.lineRead()
    #expect(!answered)
    let subscribedWhileStopping = state.subscribe().subscribed
    #expect(subscribedWhileStopping == false)
    let inFlightWhileStopping = state.inFlight(0, limit: 64, least: 64)
    #expect(inFlightWhileStopping == .keep)
    let secondStopActs = state.finish()
    #expect(!secondStopActs)
  }

  @Test func aClosedConnectionWritesNothingAndDropsOnce() {
    var state = ConnectionState()
    #expect(state.writes)
    let firstDropCloses = state.drop()
    #expect(firstDropCloses)
    let secondDropCloses = state.drop()
    #expect(!secondDropCloses)
    #expect(!state.writes)
    let lineAfterDropAnswered = state.lineRead()
    #expect(!lineAfterDropAnswered)
    let stoppingAfterDropActs = state.finish()
    #expect(!stoppingAfterDropActs)
    let halfCloseAfterDropCloses = state.inputClosed()
    #expect(!halfCloseAfterDropCloses)
  }
}
