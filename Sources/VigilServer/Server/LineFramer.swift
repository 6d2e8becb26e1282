import Foundation
import NIOCore

/// The news that a line exceeded the limit (its bytes were discarded as they came): an
/// event sent up the pipeline in the line's place among the others. The lines themselves
/// go up as plain `ByteBuffer`s, which `NIOAny` holds and unwraps without a dynamic cast
/// (an enum of both was cast at every line, some 250 instructions, bench/count-instructions).
struct LineTooLarge {}

/// Splits the stream into lines (NDJSON) of at most `limit` bytes, without their `\n`.
/// A longer line is discarded as it arrives and reported once its end comes, in its place
/// among the others; a last line without `\n` counts when the client stops sending. A
/// client that sends no byte for `idleLine` in the middle of a line is disconnected
/// (`limits.idle_line_s`: it stalled). One that sends steadily, however slowly, is not:
/// PROTOCOL.md lists the reasons to close a connection, and that is not among them (a
/// client holding connections open is bounded by `limits.max_connections`). A client idle
/// between lines is not disconnected.
///
/// A handler of its own rather than a `ByteToMessageDecoder`: NIO's `ByteToMessageHandler`
/// spent about 2,200 instructions of bookkeeping on each line it passed on (its buffer's
/// state, a metadata lookup, exclusivity checks; bench/count-instructions), a tenth of the
/// connection thread's share of a report. Here the lines of a read go up as slices of the
/// read's own buffer; only the start of a line cut by the end of a read is copied, to be
/// completed by the next read.
final class LineFramer: ChannelInboundHandler {
  typealias InboundIn = ByteBuffer
  typealias InboundOut = ByteBuffer

  private let limit: Int
  private let idleLine: TimeAmount
  private let onStall: @Sendable () -> Void
  /// When the last byte of the incomplete line came.
  private var lastByte = NIODeadline.uptimeNanoseconds(0)
  /// The start of a line whose end has not come yet, copied out of the read that brought it.
  private var partial: ByteBuffer?
  /// Inside an oversized line whose end has not come yet.
  private var discarding = false
  /// Every byte of the oversized line so far is a space, a tab or a CR: a blank line,
  /// skipped without a response however long (PROTOCOL.md), not `too_large`.
  private var discardedOnlyBlanks = false
  /// Closes the connection unless the current line is complete first: started by the
  /// line's first byte, not restarted by the ones after it.
  private var stallTimer: Scheduled<Void>?
  /// The client has stopped sending (or gone): the last line was passed on.
  private var ended = false
  /// Reads that arrived while one was being split (a handler further up that made the
  /// channel read at once): split after it, in order.
  private var splitting = false
  private var queued = CircularBuffer<ByteBuffer>(initialCapacity: 2)

  init(limit: Int, idleLine: TimeAmount, onStall: @escaping @Sendable () -> Void = {}) {
    self.limit = limit
    self.idleLine = idleLine
    self.onStall = onStall
  }

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    let buffer = unwrapInboundIn(data)
    guard !splitting else {
      queued.append(buffer)
      return
    }
    splitting = true
    split(buffer, context: context)
    while let next = queued.popFirst() { split(next, context: context) }
    splitting = false
  }

  func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
    if case ChannelEvent.inputClosed = event { endOfInput(context: context) }
    context.fireUserInboundEventTriggered(event)
  }

  func channelInactive(context: ChannelHandlerContext) {
    endOfInput(context: context)
    context.fireChannelInactive()
  }

  private func split(_ read: ByteBuffer, context: ChannelHandlerContext) {
    guard !ended else { return }
    var buffer = read
    // `ended` is checked again after each line: one whose answer closed the connection
    // (a subscriber already too far behind, say) ends the input while this loop runs.
    while !ended, let length = Self.newline(in: buffer) {
      // A line is complete: the next one gets its own time.
      stallTimer?.cancel()
      stallTimer = nil
      if discarding || (partial?.readableBytes ?? 0) + length > limit {
        let end = buffer.getSlice(at: buffer.readerIndex, length: length)
        let blank = (discarding ? discardedOnlyBlanks : Self.onlyBlanks(partial)) && Self.onlyBlanks(end)
        discarding = false
        partial = nil
        buffer.moveReaderIndex(forwardBy: length + 1)
        if !blank { context.fireUserInboundEventTriggered(LineTooLarge()) }
      } else if var line = partial {
        partial = nil
        line.writeImmutableBuffer(buffer.readSlice(length: length)!)
        buffer.moveReaderIndex(forwardBy: 1)
        context.fireChannelRead(wrapInboundOut(line))
      } else {
        let line = buffer.readSlice(length: length)!
        buffer.moveReaderIndex(forwardBy: 1)
        context.fireChannelRead(wrapInboundOut(line))
      }
    }
    guard !ended, buffer.readableBytes > 0 else { return }
    if discarding {
      if discardedOnlyBlanks { discardedOnlyBlanks = Self.onlyBlanks(buffer) }
    } else if (partial?.readableBytes ?? 0) + buffer.readableBytes > limit {
      discarding = true
      discardedOnlyBlanks = Self.onlyBlanks(partial) && Self.onlyBlanks(buffer)
      partial = nil
    } else if partial == nil {
      var start = context.channel.allocator.buffer(capacity: max(buffer.readableBytes, 1024))
      start.writeImmutableBuffer(buffer)
      partial = start
    } else {
      partial!.writeImmutableBuffer(buffer)
    }
    lastByte = context.eventLoop.now
    if stallTimer == nil { startStallClock(channel: context.channel, in: idleLine) }
  }

  /// Closes the connection `idleLine` from now unless the line completes first. While the
  /// daemon itself has stopped reading (its share of requests in flight reached), the
  /// rest of the line may be waiting in the socket: the clock starts again then, and runs
  /// out only while the connection is being read.
  private func startStallClock(channel: Channel, in delay: TimeAmount) {
    let onStall = self.onStall
    let bound = NIOLoopBound(self, eventLoop: channel.eventLoop)
    stallTimer = channel.eventLoop.scheduleTask(in: delay) {
      let framer = bound.value
      guard !framer.ended else { return }
      let now = channel.eventLoop.now
      if let reading = try? channel.syncOptions?.getOption(ChannelOptions.autoRead), !reading {
        framer.lastByte = now
        framer.startStallClock(channel: channel, in: framer.idleLine)
        return
      }
      guard now - framer.lastByte >= framer.idleLine else {
        // Bytes came meanwhile: the line has until `idleLine` after the last of them.
        framer.startStallClock(channel: channel, in: framer.lastByte + framer.idleLine - now)
        return
      }
      // The loop may have been busy past the deadline with other connections (a turn reads
      // each once), this one's bytes waiting in its socket since its last read: it is not
      // stalled for that. Judged again after the loop's next pass over the sockets, which
      // reads them if they came.
      let lastByte = framer.lastByte
      framer.stallTimer = channel.eventLoop.scheduleTask(in: .milliseconds(1)) {
        let framer = bound.value
        guard !framer.ended else { return }
        guard framer.lastByte == lastByte else {
          framer.startStallClock(channel: channel, in: framer.idleLine)
          return
        }
        // The stalled line is dropped, not passed on as a last line when the channel goes.
        framer.ended = true
        framer.stallTimer = nil
        onStall()
        channel.close(promise: nil)
      }
    }
  }

  /// The client has stopped sending: what is left is its last line, not a stall.
  private func endOfInput(context: ChannelHandlerContext) {
    guard !ended else { return }
    ended = true
    stallTimer?.cancel()
    stallTimer = nil
    if discarding {
      discarding = false
      if !discardedOnlyBlanks { context.fireUserInboundEventTriggered(LineTooLarge()) }
    } else if let last = partial {
      partial = nil
      context.fireChannelRead(wrapInboundOut(last))
    }
  }

  /// Whether `bytes` (none counts) are only spaces, tabs and CRs: what a blank line holds.
  private static func onlyBlanks(_ bytes: ByteBuffer?) -> Bool {
    bytes?.readableBytesView.allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D } ?? true
  }

  /// How far the first `\n` is into the readable bytes. memchr: a generic search of the
  /// buffer's view took 1.4% of the instructions a report.
  private static func newline(in buffer: ByteBuffer) -> Int? {
    buffer.withUnsafeReadableBytes { bytes -> Int? in
      guard let base = bytes.baseAddress, let hit = memchr(base, 0x0A, bytes.count) else { return nil }
      return base.distance(to: UnsafeRawPointer(hit))
    }
  }
}
