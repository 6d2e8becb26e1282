import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOEmbedded
import NIOPosix
import Testing

@testable import VigilServer

/// The framer on NIO's EmbeddedChannel: what goes up the pipeline, in order, for bytes
/// that arrive in reads cut anywhere.
@Suite("LineFramer: lines out of a stream cut anywhere")
struct LineFramerTests {
  /// What came up: each line as text, or "<too large>" in the place of one.
  final class Recorder: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    var seen: [String] = []
    var inputClosed = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
      seen.append(String(buffer: unwrapInboundIn(data)))
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
      if event is LineTooLarge { seen.append("<too large>") }
      if case ChannelEvent.inputClosed = event { inputClosed = true }
    }
  }

  static func channel(limit: Int = 18, idleLine: TimeAmount = .seconds(60), onStall: @escaping @Sendable () -> Void = {})
    throws -> (EmbeddedChannel, Recorder)
  {
    let recorder = Recorder()
    let channel = EmbeddedChannel()
    try channel.pipeline.syncOperations.addHandler(LineFramer(limit: limit, idleLine: idleLine, onStall: onStall))
    try channel.pipeline.syncOperations.addHandler(recorder)
    try channel.connect(to: SocketAddress(unixDomainSocketPath: "/tmp/line-framer-test")).wait()
    return (channel, recorder)
  }

  static func send(_ text: String, to channel: EmbeddedChannel) throws {
    try channel.writeInbound(ByteBuffer(string: text))
  }

  @Test func everyCutOfTheStreamGivesTheSameLines() throws {
    // A blank line past the limit (spaces, tabs, CRs) is skipped like a short one, without
    // "<too large>"; one with a single other byte in it is too large wherever that byte is.
    let stream =
      "alpha\n\nbeta gamma\n0123456789abcdefXYZ\n  \t \r        \t          \r\n"
      + "          x          \nδέλτα حلب\nx                     \n                    x\nlast\n"
    let expected = ["alpha", "", "beta gamma", "<too large>", "<too large>", "δέλτα حلب", "<too large>", "<too large>", "last"]
    let bytes = Array(stream.utf8)
    // Every pair of cut points: reads of every length, lines cut anywhere (inside a
    // multi-byte character too).
    for first in 0...bytes.count {
      for second in first...bytes.count {
        let (channel, recorder) = try Self.channel()
        for piece in [bytes[..<first], bytes[first..<second], bytes[second...]] {
          try channel.writeInbound(ByteBuffer(bytes: piece))
        }
        #expect(recorder.seen == expected, "cut at \(first) and \(second)")
        _ = try channel.finish()
      }
    }
  }

  @Test func aLineOfExactlyTheLimitPassesAndOneByteMoreDoesNot() throws {
    let (channel, recorder) = try Self.channel(limit: 8)
    try Self.send("12345678\n123456789\n1234\n5678\n", to: channel)
    #expect(recorder.seen == ["12345678", "<too large>", "1234", "5678"])
    // Over the limit while still arriving: discarded as it comes, reported at its end.
    try Self.send("1234", to: channel)
    try Self.send("56789", to: channel)
    try Self.send("0000", to: channel)
    try Self.send("\nok\n", to: channel)
    #expect(recorder.seen == ["12345678", "<too large>", "1234", "5678", "<too large>", "ok"])
  }

  /// PROTOCOL.md: all-whitespace lines are skipped without a response, also one longer
  /// than the limit, and also as the last line when the client stops sending.
  @Test func aBlankLinePastTheLimitIsSkippedAtItsEndOrAtTheEndOfInput() throws {
    for (last, expected) in [("   \t\t\r   \t   ", ["ok"]), ("   \t\t\r   \t  y", ["ok", "<too large>"])] {
      let (channel, recorder) = try Self.channel(limit: 8)
      try Self.send("          ", to: channel)
      try Self.send(" \t \r\n", to: channel)
      try Self.send("ok\n", to: channel)
      try Self.send(last, to: channel)
      channel.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
      #expect(recorder.seen == expected, "\(recorder.seen)")
      _ = try channel.finish()
    }
  }

  @Test func theLastLineCountsWhenTheClientStopsSending() throws {
    let (channel, recorder) = try Self.channel()
    try Self.send("one\ntw", to: channel)
    try Self.send("o", to: channel)
    #expect(recorder.seen == ["one"])
    channel.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
    #expect(recorder.seen == ["one", "two"])
    #expect(recorder.inputClosed)
    // Once: the channel going away later passes nothing more.
    _ = try channel.finish()
    #expect(recorder.seen == ["one", "two"])
  }

  @Test func aLastLineTooLongIsReportedWhenTheClientStops() throws {
    let (channel, recorder) = try Self.channel(limit: 4)
    try Self.send("ok\n123456", to: channel)
    _ = try channel.finish()
    #expect(recorder.seen == ["ok", "<too large>"])
  }

  @Test func aLineLeftIncompleteClosesTheConnectionAfterTheIdleTime() throws {
    let stalls = StallCount()
    let (channel, recorder) = try Self.channel(idleLine: .seconds(5), onStall: { stalls.add() })
    // Idle between lines: nothing happens.
    try Self.send("a\n", to: channel)
    channel.embeddedEventLoop.advanceTime(by: .seconds(60))
    #expect(channel.isActive)
    // A line begun, then more bytes of it: the time runs from its last byte.
    try Self.send("{\"op\":", to: channel)
    channel.embeddedEventLoop.advanceTime(by: .seconds(3))
    try Self.send("\"ping\"", to: channel)
    channel.embeddedEventLoop.advanceTime(by: .seconds(4))
    #expect(channel.isActive, "7 s after its first byte, 4 after its last")
    channel.embeddedEventLoop.advanceTime(by: .seconds(1))
    // Judged once more after the loop's next pass over the sockets.
    channel.embeddedEventLoop.advanceTime(by: .milliseconds(1))
    #expect(!channel.isActive)
    #expect(stalls.value == 1)
    // The stalled line is not taken for a last line.
    #expect(recorder.seen == ["a"])
  }

  /// The deadline passed while the loop was busy with other connections, this one's bytes
  /// waiting in its socket: the loop's next pass reads them, and the line is not stalled.
  @Test func bytesReadJustAfterTheDeadlineKeepTheConnection() throws {
    let stalls = StallCount()
    let (channel, recorder) = try Self.channel(idleLine: .seconds(5), onStall: { stalls.add() })
    try Self.send("{\"op\":", to: channel)
    channel.embeddedEventLoop.advanceTime(by: .seconds(5))
    #expect(channel.isActive)
    try Self.send("\"ping\"}\n", to: channel)
    channel.embeddedEventLoop.advanceTime(by: .seconds(1))
    #expect(channel.isActive)
    #expect(stalls.value == 0)
    #expect(recorder.seen == [#"{"op":"ping"}"#])
    _ = try channel.finish()
  }

  /// A line sent a byte at a time, never stalling, is taken however long it takes: only a
  /// stall closes a connection (PROTOCOL.md).
  @Test func aLineSentSlowlyButSteadilyIsTaken() throws {
    let stalls = StallCount()
    let (channel, recorder) = try Self.channel(limit: 1000, idleLine: .seconds(5), onStall: { stalls.add() })
    for _ in 0..<30 {
      try Self.send("x", to: channel)
      channel.embeddedEventLoop.advanceTime(by: .seconds(4))
      #expect(channel.isActive)
    }
    try Self.send("\n", to: channel)
    #expect(recorder.seen == [String(repeating: "x", count: 30)])
    #expect(stalls.value == 0)
    _ = try channel.finish()
  }

  @Test func aLineCompletedInTimeStopsTheClock() throws {
    let stalls = StallCount()
    let (channel, recorder) = try Self.channel(idleLine: .seconds(5), onStall: { stalls.add() })
    try Self.send("{\"op\":", to: channel)
    channel.embeddedEventLoop.advanceTime(by: .seconds(4))
    try Self.send("\"ping\"}\n", to: channel)
    channel.embeddedEventLoop.advanceTime(by: .seconds(60))
    #expect(channel.isActive)
    #expect(stalls.value == 0)
    #expect(recorder.seen == [#"{"op":"ping"}"#])
    _ = try channel.finish()
  }

  /// Stalls counted on the event loop's thread and read on the test's: under a lock
  /// (TSan saw the unguarded count race).
  final class StallCount: Sendable {
    private let count = NIOLockedValueBox(0)
    var value: Int { count.withLockedValue { $0 } }
    func add() { count.withLockedValue { $0 += 1 } }
  }
}

extension LineFramerTests {
  /// While the daemon has stopped reading (requests in flight at its limit), the rest of a
  /// line may be waiting unread in the socket: that is no stall. On a real socket (the
  /// embedded channel always reads): a line left incomplete while reading is paused keeps
  /// the connection open three times the idle time; once reading resumes, the clock runs out.
  @Test func aLineIsNotStalledWhileTheDaemonIsNotReading() throws {
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    defer { try? group.syncShutdownGracefully() }
    let path = "/tmp/vlf-\(getpid()).sock"
    unlink(path)
    defer { unlink(path) }
    let stalls = StallCount()
    let accepted = group.next().makePromise(of: Channel.self)
    let firstRead = group.next().makePromise(of: Void.self)
    let server = try ServerBootstrap(group: group)
      .childChannelInitializer { channel in
        channel.eventLoop.makeCompletedFuture {
          try channel.pipeline.syncOperations.addHandler(ReadSignal(firstRead))
          try channel.pipeline.syncOperations.addHandler(
            LineFramer(limit: 64, idleLine: .milliseconds(200), onStall: { stalls.add() }))
          accepted.succeed(channel)
        }
      }
      .bind(unixDomainSocketPath: path).wait()
    defer { try? server.close().wait() }
    let client = try ClientBootstrap(group: group).connect(unixDomainSocketPath: path).wait()
    defer { try? client.close().wait() }
    let connection = try accepted.futureResult.wait()
    try client.writeAndFlush(ByteBuffer(string: "{\"op\":")).wait()
    // Once the framer has the line's start, reading pauses, as the connection handler
    // pauses at its limit (on the loop, before the clock can run out).
    try firstRead.futureResult.flatMap { connection.setOption(ChannelOptions.autoRead, value: false) }.wait()
    usleep(600_000)
    #expect(connection.isActive)
    #expect(stalls.value == 0)
    try connection.setOption(ChannelOptions.autoRead, value: true).wait()
    let deadline = Date().addingTimeInterval(10)
    while connection.isActive, Date() < deadline { usleep(20_000) }
    #expect(!connection.isActive)
    #expect(stalls.value == 1)
  }

  /// Fulfils a promise at the first read it passes on.
  final class ReadSignal: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    let promise: EventLoopPromise<Void>
    init(_ promise: EventLoopPromise<Void>) { self.promise = promise }
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
      context.fireChannelRead(data)
      promise.succeed()
    }
  }

  /// A line whose handling closes the connection ends the input: the lines after it in the
  /// same read are not passed on, and no stall clock is left running.
  @Test func aConnectionClosedByALineStopsTheSplitting() throws {
    final class Closer: ChannelInboundHandler, @unchecked Sendable {
      typealias InboundIn = ByteBuffer
      var seen: [String] = []
      func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let line = String(buffer: unwrapInboundIn(data))
        seen.append(line)
        if line == "close" { context.close(promise: nil) }
      }
    }
    let stalls = StallCount()
    let closer = Closer()
    let channel = EmbeddedChannel()
    try channel.pipeline.syncOperations.addHandler(
      LineFramer(limit: 64, idleLine: .seconds(5), onStall: { stalls.add() }))
    try channel.pipeline.syncOperations.addHandler(closer)
    try channel.connect(to: SocketAddress(unixDomainSocketPath: "/tmp/line-framer-test")).wait()
    _ = try? channel.writeInbound(ByteBuffer(string: "one\nclose\ntwo\nthr"))
    #expect(closer.seen == ["one", "close"])
    channel.embeddedEventLoop.advanceTime(by: .seconds(60))
    #expect(stalls.value == 0)
  }
}
