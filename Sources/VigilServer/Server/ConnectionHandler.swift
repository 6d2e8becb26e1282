import Dispatch
import NIOCore
import VigilCore

/// One client connection: each framed line gets its response, written in request order
/// however long each takes (a submit waits for its group commit, a ping does not). When
/// the client half-closes, every response still comes, then the connection closes. After
/// `subscribe` the connection carries only the alert stream. A client that lets more than
/// `limits.max_pending_bytes` of responses go unread is closed (`writeOutgoing`).
///
/// What the connection is doing (reading, paused, half-closed, subscribed, stopping,
/// closed) is one `ConnectionState`; this class does what its transitions say.
///
/// Responses wait in `slots`, one per request in order, and go out from the front as
/// they are filled: no future per request, and the responses of one turn of the event
/// loop leave in one buffer, one `write`. (Chaining a future per request cost about a
/// tenth of a connection thread's time, bench/run profile.)
final class ConnectionHandler: ChannelInboundHandler, @unchecked Sendable {
  typealias InboundIn = ByteBuffer
  typealias OutboundOut = ByteBuffer

  private enum Slot {
    case waiting
    case ready(String)
    /// A report of a burst: its line of the burst's responses.
    case readyInBurst(ResponseLines, Int)
    /// Runs once every earlier response is out: `status`, `rules`, `subscribe`.
    case afterEarlier(() -> Void)
  }

  // Touched only on the channel's event loop, one access at a time: the runtime's
  // exclusivity checks on them (about a dozen a report, some 900 instructions,
  // bench/count-instructions) are left out.
  private let responder: RequestResponder
  @exclusivity(unchecked) private var state = ConnectionState()
  @exclusivity(unchecked) private var channel: Channel?
  @exclusivity(unchecked) private var peer: PeerCredentials?
  /// The responses not yet handed to the channel, in request order.
  @exclusivity(unchecked) private var slots = CircularBuffer<Slot>(initialCapacity: 64)
  /// When each slot's request was read (uptime ns): the round trip, for the metrics.
  @exclusivity(unchecked) private var readAt = CircularBuffer<UInt64>(initialCapacity: 64)
  /// When the current read burst was first handled: its lines arrived together, so the
  /// clock is read once for all of them, at the first (a reading a line and another an
  /// answer cost ~2% of the connection's thread, perf). Cleared when the burst ends.
  @exclusivity(unchecked) private var burstReadAt: UInt64?
  /// How many responses have been handed to the channel: the number of `slots.first`.
  @exclusivity(unchecked) private var handedOver = 0
  /// Responses handed over in this turn of the loop, written and flushed at its end.
  @exclusivity(unchecked) private var outgoing: ByteBuffer?
  @exclusivity(unchecked) private var flushScheduled = false
  /// Completes when the last response written has gone into the socket.
  @exclusivity(unchecked) private var lastWrite: EventLoopFuture<Void>?
  /// Bytes of responses written to the channel that the socket has not taken yet.
  @exclusivity(unchecked) private var unsent = 0
  /// Bytes of responses written to the channel since the connection opened.
  @exclusivity(unchecked) private var written = 0
  /// How many of them the socket had taken at the last check of the unread answers.
  @exclusivity(unchecked) private var takenAtLastCheck = 0
  /// What waits for every response to be handed to the channel (half-close, shutdown);
  /// each is given the write of the last one.
  @exclusivity(unchecked) private var whenDrained: [@Sendable (EventLoopFuture<Void>) -> Void] = []
  /// The subscriber's stream, once the connection is one.
  @exclusivity(unchecked) private var stream: AlertStream?
  /// Reports of the current read burst, not yet handed to the writer, and their slots.
  /// (Two arrays, so the submissions are handed over whole, without copying each.)
  @exclusivity(unchecked) private var burst: [Submission] = []
  @exclusivity(unchecked) private var burstSlots: [Int] = []
  /// Whether a check of the unread answers is due (`writeOutgoing`).
  @exclusivity(unchecked) private var unreadCheckScheduled = false
  /// Past its share of unanswered requests (`inFlightLimit`) the connection stops reading
  /// until three quarters of them are answered, so clients that send faster than they are
  /// answered hold a bounded amount of the daemon's memory (about 3 KB a request).
  /// One connection may have this many requests in flight: deep enough to keep the
  /// writer's group commits full (at 256 one connection went half as fast), and to keep
  /// reading through most slow `fsync`s. At 2,048 one connection's thread slept in
  /// `epoll_wait` at its share while the writer waited for the disk (sched_switch
  /// traces: single `fsync`s of 2–7 ms, the thread asleep 0.05–0.49 s of runs of 1.1–2.2 s);
  /// at 8,192 it slept less, and one connection went faster in 16 of 20 alternated runs, for
  /// 13–23 MB more peak RSS (docs/benchmarks.md).
  static let mostInFlight = 8192
  /// All connections together: each gets an equal share, at least `leastInFlight`. (At
  /// 2,048 each, 8 connections held ~60 MB of requests in flight and peak RSS after a
  /// million reports was 129 MB; one budget shared by all keeps the total near it, each
  /// connection's share checked when it reads.)
  static let inFlightBudget = 8192
  static let leastInFlight = 64

  /// This connection's share of the in-flight budget, as of now.
  private var inFlightLimit: Int {
    max(Self.leastInFlight, min(Self.mostInFlight, Self.inFlightBudget / max(1, responder.openConnections)))
  }

  init(responder: RequestResponder) {
    self.responder = responder
  }

  func channelActive(context: ChannelHandlerContext) {
    responder.connectionOpened()
    channel = context.channel
    if let credentials = PeerCredentials.of(context.channel) {
      let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
      credentials.whenSuccess { loopBound.value.peer = $0 }
    }
    context.fireChannelActive()
  }

  func channelInactive(context: ChannelHandlerContext) {
    // Reports read before the client went are still recorded.
    submitBurst(on: context.eventLoop)
    responder.connectionClosed()
    state.closed()
    if let stream {
      responder.subscriptions.remove(stream)
      stream.closed()
    }
    context.fireChannelInactive()
  }

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    // A subscribed connection carries only the stream; later lines are ignored.
    guard state.lineRead() else { return }
    handle(responder.respond(to: unwrapInboundIn(data), peer: peer, on: context.eventLoop), context: context)
  }

  /// A line too long to read (LineFramer), answered in its place among the others.
  private func lineTooLarge(context: ChannelHandlerContext) {
    guard state.lineRead() else { return }
    handle(.line(responder.tooLarge(on: context.eventLoop)), context: context)
  }

  private func handle(_ reply: RequestResponder.Reply?, context: ChannelHandlerContext) {
    let loop = context.eventLoop
    switch reply {
    case nil:
      return
    case .submit(let submission):
      // Held until the read burst ends, then handed to the writer with the others.
      if burst.isEmpty {
        // At the latest after this turn of the loop, even if no read-complete follows.
        loop.execute { self.submitBurst(on: loop) }
      }
      burst.append(submission)
      burstSlots.append(open(.waiting))
    case .line(let response):
      let slot = open(.waiting)
      response.whenComplete { result in
        self.fill(slot, with: result)
        self.drain()
      }
    case .afterEarlier(let make):
      _ = open(.afterEarlier { self.hand(make()) })
      drain()
    case .lineAfterReports(let make):
      // The read goes on: its requests keep the clock reading of its first.
      let readAt = burstReadAt
      submitBurst(on: loop)
      burstReadAt = readAt
      handle(.line(make()), context: context)
    case .subscribe(let selector):
      let (subscribed, reading) = state.subscribe()
      guard subscribed else {
        // Read as vigild began to stop: there will be no stream.
        let slot = open(.waiting)
        responder.counters.refused(.internal)
        fill(slot, with: .success(Response.error(RequestError(.internal, "vigild is stopping; no alert stream"))))
        drain()
        return
      }
      if reading == .resume { _ = context.channel.setOption(ChannelOptions.autoRead, value: true) }
      let channel = context.channel
      let stream = AlertStream(
        channel: channel, selector: selector, limit: responder.configuration.limits.maxPendingBytes,
        onDrop: { [responder] in
          // Its `overloaded` line is an error response: counted among the refused.
          responder.counters.refused(.overloaded)
          responder.log("dropped a subscriber that fell behind (limits.max_pending_bytes)")
        })
      self.stream = stream
      // Registered by the writer behind the reports read before it on this connection:
      // their records are not new to the subscriber, which has their answers; every record
      // after them is, those of other connections in the same commit too. The stream is
      // sent once the response is.
      let readAt = burstReadAt
      submitBurst(on: loop)
      burstReadAt = readAt
      let subscriptions = responder.subscriptions
      // The response waits for the registration: a record the client causes once it has
      // the response is streamed to it.
      let registered = loop.makePromise(of: Void.self)
      responder.writer.subscribe(stream).whenComplete { _ in
        // Closed meanwhile: its own removal may have come first.
        if !channel.isActive { subscriptions.remove(stream) }
        registered.succeed(())
      }
      _ = open(
        .afterEarlier {
          // No line follows a subscribe, so the response may wait without holding up another.
          registered.futureResult.whenComplete { _ in
            self.hand(Response.subscribed)
            self.writeOutgoing()
            stream.start()
          }
        })
      drain()
    }
  }

  /// Adds a slot for the next response; gives its number.
  private func open(_ slot: Slot) -> Int {
    slots.append(slot)
    if burstReadAt == nil { burstReadAt = DispatchTime.now().uptimeNanoseconds }
    readAt.append(burstReadAt!)
    applyReading()
    return handedOver + slots.count - 1
  }

  private func fill(_ slot: Int, with result: Result<String, any Error>) {
    let line: String
    switch result {
    case .success(let answer): line = answer
    case .failure(let error):
      responder.counters.refused(.internal)
      line = Response.error(RequestError(.internal, "the request failed: \(error); it was not acknowledged"))
    }
    fill(slot, with: .ready(line))
  }

  private func fill(_ slot: Int, with ready: Slot) {
    slots[slots.index(slots.startIndex, offsetBy: slot - handedOver)] = ready
  }

  /// Hands over the responses ready at the front, in order.
  private func drain() {
    // The responses handed over now leave together: one clock reading for their round trips.
    var now: UInt64?
    while let first = slots.first {
      switch first {
      case .waiting:
        return resumeIfDrained()
      case .ready(let line):
        slots.removeFirst()
        answered(at: &now)
        hand(line)
      case .readyInBurst(let lines, let index):
        slots.removeFirst()
        answered(at: &now)
        hand(lines, index)
      case .afterEarlier(let body):
        slots.removeFirst()
        answered(at: &now)
        body()
        // `status` or `rules` may take a while to make: the answers after it read the clock again.
        now = nil
      }
    }
    resumeIfDrained()
  }

  /// The front slot's response is handed over: its round trip is measured (the clock read
  /// at the first answer of a drain).
  private func answered(at now: inout UInt64?) {
    handedOver += 1
    let read = readAt.removeFirst()
    if now == nil { now = DispatchTime.now().uptimeNanoseconds }
    responder.counters.metrics.requestAnswered(nanoseconds: Int64(now! &- read))
  }

  /// Stops or resumes reading as the requests in flight say.
  private func applyReading() {
    switch state.inFlight(
      slots.count, limit: inFlightLimit, least: Self.leastInFlight, unread: unsent,
      unreadLimit: responder.configuration.limits.maxPendingBytes)
    {
    case .keep: break
    case .stop: _ = channel?.setOption(ChannelOptions.autoRead, value: false)
    case .resume: _ = channel?.setOption(ChannelOptions.autoRead, value: true)
    }
  }

  private func resumeIfDrained() {
    applyReading()
    if slots.isEmpty, !whenDrained.isEmpty, let channel {
      let waiting = whenDrained
      whenDrained.removeAll()
      writeOutgoing()
      channel.flush()
      let written = lastWrite ?? channel.eventLoop.makeSucceededVoidFuture()
      for body in waiting { body(written) }
    }
  }

  /// Hands one response over: it leaves with the others of this turn of the loop.
  private func hand(_ line: String) {
    hand(size: line.utf8.count) { $0.writeString(line) }
  }

  private func hand(_ lines: ResponseLines, _ index: Int) {
    let range = lines.range(index)
    hand(size: range.count) { $0.writeBytes(lines.bytes[range]) }
  }

  private func hand(size: Int, _ write: (inout ByteBuffer) -> Void) {
    guard state.writes, let channel else { return }
    if outgoing == nil { outgoing = channel.allocator.buffer(capacity: max(1024, size)) }
    write(&outgoing!)
    if !flushScheduled {
      flushScheduled = true
      channel.eventLoop.execute {
        self.flushScheduled = false
        self.writeOutgoing()
        channel.flush()
      }
    }
  }

  /// Writes what was handed over, counting it as unread until the socket takes it. Past
  /// `max_pending_bytes` unread, the connection stops reading (`applyReading`) until the
  /// client has taken enough: a client that reads is slowed, not dropped — one commit may
  /// answer a connection's whole share of requests in flight at once (8,192 answers of a
  /// kilobyte are 8 MiB), and answers of large reports are large. A client that takes none
  /// of its answers for `unreadPatience` while more than the limit waits is closed: it
  /// would otherwise keep them, and its connection, for ever.
  private func writeOutgoing() {
    guard let buffer = outgoing, let channel, state.writes else { return }
    outgoing = nil
    let size = buffer.readableBytes
    unsent += size
    written += size
    let write = channel.write(buffer)
    lastWrite = write
    write.whenComplete { _ in
      self.unsent -= size
      self.applyReading()
    }
    let limit = responder.configuration.limits.maxPendingBytes
    if unsent > limit {
      applyReading()
      checkUnread(limit)
    }
  }

  /// Checks, `unreadPatience` from now and then again while more than `limit` waits
  /// unread, that the client took some of its answers meanwhile; closes it when it took none.
  private func checkUnread(_ limit: Int, again: Bool = false) {
    guard !unreadCheckScheduled, let channel else { return }
    unreadCheckScheduled = true
    if again {
      // The buffer is full already: what the client reads from now on is progress.
      takenAtLastCheck = taken
    } else {
      // Measured once the socket's buffer has had time to fill: what it takes of this
      // turn's flush (some 200 KB, in the moments after the write) is no sign that the
      // client reads, and taken for one, it let a client that read nothing stay twice the
      // patience.
      channel.eventLoop.scheduleTask(in: Self.bufferFilling) { self.takenAtLastCheck = self.taken }
    }
    channel.eventLoop.scheduleTask(in: Self.unreadPatience) {
      self.unreadCheckScheduled = false
      guard self.unsent > limit else { return }
      if self.taken > self.takenAtLastCheck {
        self.checkUnread(limit, again: true)
      } else {
        self.closeForUnread(limit)
      }
    }
  }

  /// Bytes of answers the socket has taken: those written less those still in the
  /// channel's buffer (a large write completes only when taken whole, so its completion
  /// alone would not show a client reading it slowly).
  private var taken: Int {
    let buffered = (try? channel?.syncOptions?.getOption(ChannelOptions.bufferedWritableBytes)) ?? unsent
    return written - buffered
  }

  /// How long a client may take none of its answers while more than `max_pending_bytes`
  /// of them wait. Taken is what leaves the channel's buffer for the socket, and a Unix
  /// socket takes more only once its reader has emptied three quarters of its buffer
  /// (~150 of ~200 KB here): a reader is seen to read only that often, so the patience is
  /// long enough for one reading a few KB a second (at 5 s, one reading 30 KB/s was
  /// dropped).
  static let unreadPatience = TimeAmount.seconds(30)

  /// How long after a check is set the socket's buffer is taken to have filled with what
  /// was written before it (a Unix socket takes its ~200 KB at once).
  static let bufferFilling = TimeAmount.seconds(1)

  /// How long a client may leave its last answers unread when vigild stops.
  static let unreadGrace = TimeAmount.seconds(5)

  private func closeForUnread(_ limit: Int) {
    closeUnread {
      "closed a connection that left more than \(limit) bytes of responses unread for "
        + "\(Self.unreadPatience.nanoseconds / 1_000_000_000) s (limits.max_pending_bytes)"
    }
  }

  /// vigild is stopping and this client has not taken its last answers within the grace:
  /// every request read from it is answered (its reports recorded, unless refused), and a
  /// client that does not read must not hold up the stop.
  private func closeUnreadAtStop() {
    closeUnread {
      "closed a connection at shutdown whose client left \(self.unsent) bytes of responses unread for "
        + "\(Self.unreadGrace.nanoseconds / 1_000_000_000) s; every request read from it was answered"
    }
  }

  /// Closes a connection whose client left answers unread, once, saying why in the log.
  private func closeUnread(_ why: () -> String) {
    guard let channel, state.drop() else { return }
    responder.log(DaemonEvent(.notice, why()))
    channel.close(promise: nil)
  }

  /// Hands the reports of this read burst to the writer in one go; each fills its slot.
  private func submitBurst(on loop: EventLoop) {
    burstReadAt = nil
    guard !burst.isEmpty else { return }
    let submissions = burst
    let slots = burstSlots
    burst = []
    burstSlots = []
    responder.writer.submit(submissions).hop(to: loop).whenComplete { result in
      // Held until answered, so the reports are freed here, on this thread, not the
      // writer's (GroupCommit.flush).
      withExtendedLifetime(submissions) {}
      switch result {
      case .success(let lines):
        for (index, slot) in slots.enumerated() { self.fill(slot, with: .readyInBurst(lines, index)) }
      case .failure(let error):
        for slot in slots { self.fill(slot, with: .failure(error)) }
      }
      self.drain()
    }
  }

  func channelReadComplete(context: ChannelHandlerContext) {
    submitBurst(on: context.eventLoop)
    context.fireChannelReadComplete()
  }

  /// Runs `body` once every response so far has gone into the socket.
  private func whenAllSent(_ body: @escaping @Sendable () -> Void) {
    whenAllHandedOver { written in written.whenComplete { _ in body() } }
  }

  /// Runs `body` once every response so far is handed to the channel, with the write of the
  /// last one (which completes when the socket has taken it).
  private func whenAllHandedOver(_ body: @escaping @Sendable (EventLoopFuture<Void>) -> Void) {
    whenDrained.append(body)
    if slots.isEmpty { resumeIfDrained() }
  }

  func channelWritabilityChanged(context: ChannelHandlerContext) {
    stream?.pump()
    context.fireChannelWritabilityChanged()
  }

  func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
    if event is LineTooLarge {
      lineTooLarge(context: context)
      return
    }
    // A subscriber that half-closes keeps its stream (`… | nc -U sock`).
    submitBurst(on: context.eventLoop)
    if case ChannelEvent.inputClosed = event, state.inputClosed() {
      let channel = context.channel
      whenAllSent { channel.close(promise: nil) }
    }
    context.fireUserInboundEventTriggered(event)
  }

  /// At shutdown: stop reading, answer what was read, then close. A client that has not
  /// taken its answers `unreadGrace` after the last was handed over is closed all the same
  /// (one that half-closed too: it was waiting for the same). Whether the connection is a
  /// subscriber's, which stays open for `endStream`: the reports other connections sent
  /// before the stop are still being recorded, and their records are streamed too.
  func finish(_ channel: Channel) -> Bool {
    submitBurst(on: channel.eventLoop)
    guard state.writes else { return false }
    let subscribed = state.isSubscribed
    let closesWhenSent = state.finish()
    channel.setOption(ChannelOptions.autoRead, value: false).whenComplete { _ in
      guard !subscribed else { return }
      self.whenAllHandedOver { written in
        if closesWhenSent { written.whenComplete { _ in channel.close(promise: nil) } }
        let grace = channel.eventLoop.scheduleTask(in: Self.unreadGrace) { self.closeUnreadAtStop() }
        written.whenComplete { _ in grace.cancel() }
      }
    }
    return subscribed
  }

  /// At shutdown, once the writer's last records are handed to the streams (after
  /// `finish`): the subscriber is sent what its stream holds, then closed. One that has not
  /// taken it `unreadGrace` later is closed all the same, so it cannot hold up the stop.
  func endStream(_ channel: Channel) {
    guard state.writes else { return }
    // The `subscribe` response and the stream's start come first.
    whenAllHandedOver { _ in
      guard let stream = self.stream else { return channel.close(promise: nil) }
      let grace = channel.eventLoop.scheduleTask(in: Self.unreadGrace) {
        self.closeUnread {
          "closed a subscriber at shutdown that left \(stream.backlogBytes) bytes of its stream unread for "
            + "\(Self.unreadGrace.nanoseconds / 1_000_000_000) s"
        }
      }
      stream.end().whenComplete { _ in
        grace.cancel()
        channel.close(promise: nil)
      }
    }
  }

  func errorCaught(context: ChannelHandlerContext, error: Error) {
    context.close(promise: nil)
  }
}
