import NIOCore

/// One framed request line, or the news that a line was too long.
enum FramedLine {
  case line(ByteBuffer)
  /// The line exceeded the limit; its bytes were discarded as they came.
  case tooLarge
}

/// Splits the stream into lines (NDJSON) of at most `limit` bytes, without their `\n`.
/// A longer line is discarded as it arrives and reported once its end comes, in its place
/// among the others; a last line without `\n` counts when the client stops sending.
struct LineFramer: ByteToMessageDecoder {
  typealias InboundOut = FramedLine

  let limit: Int
  /// Inside an oversized line whose end has not come yet.
  private var discarding = false

  init(limit: Int) {
    self.limit = limit
  }

  mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
    guard let newline = buffer.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) else {
      if discarding || buffer.readableBytes > limit {
        discarding = true
        buffer.moveReaderIndex(forwardBy: buffer.readableBytes)
      }
      return .needMoreData
    }
    let length = newline - buffer.readerIndex
    if discarding || length > limit {
      discarding = false
      buffer.moveReaderIndex(forwardBy: length + 1)
      context.fireChannelRead(wrapInboundOut(.tooLarge))
    } else {
      let line = buffer.readSlice(length: length)!
      buffer.moveReaderIndex(forwardBy: 1)
      context.fireChannelRead(wrapInboundOut(.line(line)))
    }
    return .continue
  }

  mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws
    -> DecodingState
  {
    while try decode(context: context, buffer: &buffer) == .continue {}
    if discarding || buffer.readableBytes > limit {
      discarding = false
      buffer.moveReaderIndex(forwardBy: buffer.readableBytes)
      context.fireChannelRead(wrapInboundOut(.tooLarge))
    } else if buffer.readableBytes > 0 {
      context.fireChannelRead(wrapInboundOut(.line(buffer.readSlice(length: buffer.readableBytes)!)))
    }
    return .needMoreData
  }
}
