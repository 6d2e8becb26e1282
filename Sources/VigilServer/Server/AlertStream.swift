import NIOCore
import VigilCore

/// The stream half of a subscribed connection (docs/protocol.md, `subscribe`): the alert
/// lines its filter selects, written as fast as the client reads them. What the client
/// has not read waits in a queue of at most `limit` bytes (besides NIO's own write buffer,
/// which is only filled while the channel is writable); a subscriber that falls further
/// behind gets an `overloaded` line and is closed, so it never slows the daemon down or
/// makes it grow.
final class AlertStream: AlertListener, @unchecked Sendable {
  let selector: AlertSelector
  private let channel: Channel
  private let limit: Int
  private let onDrop: @Sendable () -> Void
  // Touched only on the channel's event loop.
  private var queue = CircularBuffer<ByteBuffer>()
  private var queuedBytes = 0
  /// False until the `subscribe` response is written: the stream comes after it.
  private var started = false
  private var dropped = false
  /// Set at shutdown (`end`): kept once the socket has taken the last line.
  private var ending: EventLoopPromise<Void>?

  init(channel: Channel, selector: AlertSelector, limit: Int, onDrop: @escaping @Sendable () -> Void) {
    self.channel = channel
    self.selector = selector
    self.limit = limit
    self.onDrop = onDrop
  }

  /// Queues lines from any thread.
  func offer(_ lines: [String]) {
    channel.eventLoop.execute {
      guard !self.dropped else { return }
      for line in lines {
        var buffer = self.channel.allocator.buffer(capacity: line.utf8.count)
        buffer.writeString(line)
        self.queuedBytes += buffer.readableBytes
        self.queue.append(buffer)
      }
      // What the channel takes now is not backlog; only what is left counts.
      self.pump()
      if self.queuedBytes > self.limit { self.drop() }
    }
  }

  /// Begins the stream once the `subscribe` response has been written.
  func start() {
    channel.eventLoop.assertInEventLoop()
    started = true
    pump()
  }

  /// At shutdown, once the last records are offered (`ConnectionHandler.endStream`): done
  /// when the socket has taken every line queued (at once for a dropped stream, which is
  /// closing).
  func end() -> EventLoopFuture<Void> {
    channel.eventLoop.assertInEventLoop()
    let promise = channel.eventLoop.makePromise(of: Void.self)
    guard !dropped else {
      promise.succeed(())
      return promise.futureResult
    }
    ending = promise
    pump()
    return promise.futureResult
  }

  /// The connection closed: nothing more goes out, and an `end` under way is over.
  func closed() {
    queue.removeAll()
    queuedBytes = 0
    ending?.succeed(())
    ending = nil
  }

  /// Bytes of lines not yet taken by the channel.
  var backlogBytes: Int { queuedBytes }

  /// Writes what is queued while the channel takes more; called again when it becomes
  /// writable.
  func pump() {
    guard started, !dropped else { return }
    var wrote = false
    while channel.isWritable, let buffer = queue.popFirst() {
      queuedBytes -= buffer.readableBytes
      channel.write(buffer, promise: nil)
      wrote = true
    }
    if queue.isEmpty, let ending {
      // An empty write after the others completes once the socket has taken them all.
      self.ending = nil
      channel.writeAndFlush(channel.allocator.buffer(capacity: 0), promise: ending)
    } else if wrote {
      channel.flush()
    }
  }

  private func drop() {
    dropped = true
    queue.removeAll()
    queuedBytes = 0
    onDrop()
    let line = Response.error(
      RequestError(
        .overloaded,
        "the subscriber fell more than \(limit) bytes behind (limits.max_pending_bytes); subscribe again"))
    var buffer = channel.allocator.buffer(capacity: line.utf8.count)
    buffer.writeString(line)
    let channel = self.channel
    channel.writeAndFlush(buffer).whenComplete { _ in channel.close(promise: nil) }
    // A client that reads nothing at all never takes the last line either: it is closed
    // after 30 s regardless (holding only that line meanwhile), as a client that reads none
    // of its answers is. A much shorter grace cut the line off for slow readers that would
    // have read it.
    channel.eventLoop.scheduleTask(in: .seconds(30)) { channel.close(promise: nil) }
  }
}
