import NIOCore

/// One client connection: each framed line gets its response, written in request order
/// however long each takes (a submit waits for its group commit, a ping does not). When
/// the client half-closes, every response still comes, then the connection closes.
final class ConnectionHandler: ChannelInboundHandler, @unchecked Sendable {
  typealias InboundIn = FramedLine
  typealias OutboundOut = ByteBuffer

  // Touched only on the channel's event loop.
  private let daemon: Daemon
  private var peer: PeerCredentials?
  /// Completes when every response so far has been written.
  private var written: EventLoopFuture<Void>?
  private var inputClosed = false

  init(daemon: Daemon) {
    self.daemon = daemon
  }

  func channelActive(context: ChannelHandlerContext) {
    daemon.connectionOpened()
    written = context.eventLoop.makeSucceededVoidFuture()
    if let credentials = PeerCredentials.of(context.channel) {
      let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
      credentials.whenSuccess { loopBound.value.peer = $0 }
    }
    context.fireChannelActive()
  }

  func channelInactive(context: ChannelHandlerContext) {
    daemon.connectionClosed()
    context.fireChannelInactive()
  }

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    let response: EventLoopFuture<String>?
    switch unwrapInboundIn(data) {
    case .tooLarge: response = daemon.tooLarge(on: context.eventLoop)
    case .line(let line): response = daemon.respond(to: line, peer: peer, on: context.eventLoop)
    }
    guard let response, let previous = written else { return }
    let channel = context.channel
    written = previous.and(response).flatMap { _, line in
      var buffer = channel.allocator.buffer(capacity: line.utf8.count)
      buffer.writeString(line)
      return channel.writeAndFlush(buffer)
    }.recover { _ in }
  }

  func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
    if case ChannelEvent.inputClosed = event {
      inputClosed = true
      let channel = context.channel
      written?.whenComplete { _ in channel.close(promise: nil) }
    }
    context.fireUserInboundEventTriggered(event)
  }

  /// At shutdown: stop reading, answer what was read, then close.
  func finish(_ channel: Channel) {
    channel.setOption(ChannelOptions.autoRead, value: false).whenComplete { _ in
      self.written?.whenComplete { _ in channel.close(promise: nil) }
    }
  }

  func errorCaught(context: ChannelHandlerContext, error: Error) {
    context.close(promise: nil)
  }
}
