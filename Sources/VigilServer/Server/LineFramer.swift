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
/// line still incomplete `idleLine` after its first byte came disconnects the client
/// (`limits.idle_line_s`): one that stalls mid-line, and one that trickles a line a byte
/// at a time to hold a connection (slowloris), hold nothing for long. A client idle
/// between lines is not disconnected.
struct LineFramer: ByteToMessageDecoder {
  typealias InboundOut = ByteBuffer

  let limit: Int
  let idleLine: TimeAmount
  let onStall: @Sendable () -> Void
  /// Inside an oversized line whose end has not come yet.
  private var discarding = false
  /// Closes the connection unless the current line is complete first: started by the
  /// line's first byte, not restarted by the ones after it.
  private var stallTimer: Scheduled<Void>?

  init(limit: Int, idleLine: TimeAmount, onStall: @escaping @Sendable () -> Void = {}) {
    self.limit = limit
    self.idleLine = idleLine
    self.onStall = onStall
  }

  mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
    // memchr: a generic search of the buffer's view took 1.4% of the instructions a report.
    let found = buffer.withUnsafeReadableBytes { bytes -> Int? in
      guard let base = bytes.baseAddress, let hit = memchr(base, 0x0A, bytes.count) else { return nil }
      return base.distance(to: UnsafeRawPointer(hit))
    }
    guard let newline = found.map({ buffer.readerIndex + $0 }) else {
      if discarding || buffer.readableBytes > limit {
        discarding = true
        buffer.moveReaderIndex(forwardBy: buffer.readableBytes)
      }
      if discarding || buffer.readableBytes > 0, stallTimer == nil {
        let channel = context.channel
        let onStall = self.onStall
        stallTimer = context.eventLoop.scheduleTask(in: idleLine) {
          onStall()
          channel.close(promise: nil)
        }
      }
      return .needMoreData
    }
    // A line is complete: the next one gets its own time.
    stallTimer?.cancel()
    stallTimer = nil
    let length = newline - buffer.readerIndex
    if discarding || length > limit {
      discarding = false
      buffer.moveReaderIndex(forwardBy: length + 1)
      context.fireUserInboundEventTriggered(LineTooLarge())
    } else {
      let line = buffer.readSlice(length: length)!
      buffer.moveReaderIndex(forwardBy: 1)
      context.fireChannelRead(wrapInboundOut(line))
    }
    return .continue
  }

  mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws
    -> DecodingState
  {
    while try decode(context: context, buffer: &buffer) == .continue {}
    // The client has stopped sending: what is left is its last line, not a stall.
    stallTimer?.cancel()
    stallTimer = nil
    if discarding || buffer.readableBytes > limit {
      discarding = false
      buffer.moveReaderIndex(forwardBy: buffer.readableBytes)
      context.fireUserInboundEventTriggered(LineTooLarge())
    } else if buffer.readableBytes > 0 {
      context.fireChannelRead(wrapInboundOut(buffer.readSlice(length: buffer.readableBytes)!))
    }
    return .needMoreData
  }
}
