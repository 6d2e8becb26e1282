import NIOCore
import VigilCore

/// The whole pipeline of a connection beyond `limits.max_connections`: once the channel
/// is active, one `overloaded` line, then close (docs/protocol.md). The line is an error
/// response like any other: `status` counts it among the refused.
final class OverloadRefusal: ChannelInboundHandler, Sendable {
  typealias InboundIn = ByteBuffer
  typealias OutboundOut = ByteBuffer

  let limit: Int
  let counters: Counters

  init(limit: Int, counters: Counters) {
    self.limit = limit
    self.counters = counters
  }

  func channelActive(context: ChannelHandlerContext) {
    let line = Response.error(
      RequestError(.overloaded, "more than \(limit) connections (limits.max_connections); try again later"))
    counters.refused(.overloaded)
    var buffer = context.channel.allocator.buffer(capacity: line.utf8.count)
    buffer.writeString(line)
    let channel = context.channel
    context.writeAndFlush(wrapOutboundOut(buffer)).whenComplete { _ in channel.close(promise: nil) }
  }

  /// Whatever the client sends meanwhile is dropped.
  func channelRead(context: ChannelHandlerContext, data: NIOAny) {}
}
