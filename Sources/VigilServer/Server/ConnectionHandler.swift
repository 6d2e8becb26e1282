import NIOCore
import VigilCore

/// One client connection: each framed line gets its response, written in request order
/// however long each takes (a submit waits for its group commit, a ping does not). When
/// the client half-closes, every response still comes, then the connection closes. After
/// `subscribe` the connection carries only the alert stream. A client that lets more than
/// `limits.max_pending_bytes` of responses go unread is closed.
final class ConnectionHandler: ChannelInboundHandler, @unchecked Sendable {
  typealias InboundIn = FramedLine
  typealias OutboundOut = ByteBuffer

  // Touched only on the channel's event loop.
  private let daemon: Daemon
  private var peer: PeerCredentials?
  /// Completes when every response so far has been handed to the channel, in order.
  private var queued: EventLoopFuture<Void>?
  /// Completes when the last response handed to the channel has gone into the socket.
  private var lastWrite: EventLoopFuture<Void>?
  /// Bytes of responses handed to the channel that the socket has not taken yet.
  private var unsent = 0
  private var stream: AlertStream?
  /// Reports of the current read burst, not yet handed to the writer.
  private var burst: [(submission: Submission, promise: EventLoopPromise<String>)] = []
  private var dropped = false
  /// Requests read whose responses are not yet handed to the channel. Past
  /// `Self.mostInFlight` the connection stops reading until they drain, so a client that
  /// sends faster than it is answered holds a bounded amount of the daemon's memory.
  private var inFlight = 0
  private var paused = false
  /// Shutting down: reading stops for good.
  private var finishing = false
  static let mostInFlight = 2048
  /// A flush is scheduled for the responses written in this turn of the event loop: one
  /// `write` system call for many responses, not one each.
  private var flushScheduled = false

  init(daemon: Daemon) {
    self.daemon = daemon
  }

  func channelActive(context: ChannelHandlerContext) {
    daemon.connectionOpened()
    queued = context.eventLoop.makeSucceededVoidFuture()
    if let credentials = PeerCredentials.of(context.channel) {
      let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
      credentials.whenSuccess { loopBound.value.peer = $0 }
    }
    context.fireChannelActive()
  }

  func channelInactive(context: ChannelHandlerContext) {
    // Reports read before the client went are still recorded.
    submitBurst(on: context.eventLoop)
    daemon.connectionClosed()
    if let stream { daemon.subscriptions.remove(stream) }
    context.fireChannelInactive()
  }

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    // A subscribed connection carries only the stream; later lines are ignored.
    guard stream == nil, !dropped, let previous = queued else { return }
    let channel = context.channel
    let reply: Daemon.Reply?
    switch unwrapInboundIn(data) {
    case .tooLarge: reply = .line(daemon.tooLarge(on: context.eventLoop))
    case .line(let line): reply = daemon.respond(to: line, peer: peer, after: previous, on: context.eventLoop)
    }
    switch reply {
    case nil:
      return
    case .submit(let submission):
      // Held until the read burst ends, then handed to the writer with the others.
      let promise = context.eventLoop.makePromise(of: String.self)
      if burst.isEmpty {
        // At the latest after this turn of the loop, even if no read-complete follows.
        let loop = context.eventLoop
        loop.execute { self.submitBurst(on: loop) }
      }
      burst.append((submission, promise))
      answer(promise.futureResult, on: channel, after: previous)
    case .line(let response):
      answer(response, on: channel, after: previous)
    case .subscribe(let selector):
      let stream = AlertStream(
        channel: channel, selector: selector, limit: daemon.configuration.limits.maxPendingBytes,
        onDrop: { [daemon] in daemon.log("dropped a subscriber that fell behind (limits.max_pending_bytes)") })
      self.stream = stream
      // Registered now, so no record written after the request is missed; it is sent
      // once the response is.
      daemon.subscriptions.add(stream)
      queued = previous.map {
        self.send(Response.subscribed, on: channel)
        stream.start()
      }
    }
  }

  /// Queues `response` after the connection's earlier ones, counting it as in flight.
  private func answer(_ response: EventLoopFuture<String>, on channel: Channel, after previous: EventLoopFuture<Void>) {
    let answered = response.recover { error in
      Response.error(RequestError(.internal, "the request failed: \(error); it was not acknowledged"))
    }
    inFlight += 1
    if inFlight >= Self.mostInFlight, !paused {
      paused = true
      _ = channel.setOption(ChannelOptions.autoRead, value: false)
    }
    queued = previous.and(answered).map { _, line in
      self.inFlight -= 1
      if self.paused, !self.finishing, self.inFlight <= Self.mostInFlight / 4 {
        self.paused = false
        _ = channel.setOption(ChannelOptions.autoRead, value: true)
      }
      self.send(line, on: channel)
    }
  }

  /// Hands the reports of this read burst to the writer in one go; each request's own
  /// promise gets its response line.
  private func submitBurst(on loop: EventLoop) {
    guard !burst.isEmpty else { return }
    let held = burst
    burst.removeAll(keepingCapacity: true)
    daemon.writer.submit(held.map(\.submission)).hop(to: loop).whenComplete { result in
      switch result {
      case .success(let lines):
        for (index, item) in held.enumerated() { item.promise.succeed(lines[index]) }
      case .failure(let error):
        for item in held { item.promise.fail(error) }
      }
    }
  }

  func channelReadComplete(context: ChannelHandlerContext) {
    submitBurst(on: context.eventLoop)
    context.fireChannelReadComplete()
  }

  /// Hands one response to the channel, counting it as unread until the socket takes it.
  private func send(_ line: String, on channel: Channel) {
    guard !dropped else { return }
    var buffer = channel.allocator.buffer(capacity: line.utf8.count)
    buffer.writeString(line)
    let size = buffer.readableBytes
    unsent += size
    let write = channel.write(buffer)
    lastWrite = write
    write.whenComplete { _ in self.unsent -= size }
    if !flushScheduled {
      flushScheduled = true
      channel.eventLoop.execute {
        self.flushScheduled = false
        channel.flush()
      }
    }
    let limit = daemon.configuration.limits.maxPendingBytes
    if unsent > limit {
      dropped = true
      daemon.log("closed a connection that left more than \(limit) bytes of responses unread (limits.max_pending_bytes)")
      channel.close(promise: nil)
    }
  }

  /// Runs `body` once every response so far has gone into the socket.
  private func whenAllSent(on loop: EventLoop, _ body: @escaping @Sendable () -> Void) {
    (queued ?? loop.makeSucceededVoidFuture()).whenComplete { _ in
      (self.lastWrite ?? loop.makeSucceededVoidFuture()).whenComplete { _ in body() }
    }
  }

  func channelWritabilityChanged(context: ChannelHandlerContext) {
    stream?.pump()
    context.fireChannelWritabilityChanged()
  }

  func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
    // A subscriber that half-closes keeps its stream (`… | nc -U sock`).
    submitBurst(on: context.eventLoop)
    if case ChannelEvent.inputClosed = event, stream == nil {
      let channel = context.channel
      whenAllSent(on: context.eventLoop) { channel.close(promise: nil) }
    }
    context.fireUserInboundEventTriggered(event)
  }

  /// At shutdown: stop reading, answer what was read, then close.
  func finish(_ channel: Channel) {
    finishing = true
    submitBurst(on: channel.eventLoop)
    channel.setOption(ChannelOptions.autoRead, value: false).whenComplete { _ in
      self.whenAllSent(on: channel.eventLoop) { channel.close(promise: nil) }
    }
  }

  func errorCaught(context: ChannelHandlerContext, error: Error) {
    context.close(promise: nil)
  }
}
