import NIOCore
import NIOHTTP1

/// HTTP/1.0 on the console's connections. Hummingbird keeps a connection open unless the
/// request says `Connection: close`, and answers in HTTP/1.1 whatever was asked: a 1.0
/// client (`curl --http1.0`, a `printf 'GET /metrics HTTP/1.0\r\n\r\n' | nc` script) then
/// waited for the close that ends its response until the idle timeout, and a response of
/// unknown length came chunked, which 1.0 does not know. Sitting just after NIO's request
/// decoder, where the request's version is still known, this handler marks a 1.0 request
/// that does not ask to be kept alive `Connection: close` (so the server closes after the
/// answer), and answers each 1.0 request in 1.0 (so its body is not chunked: a body of
/// unknown length ends with the connection, which is then closed after it).
final class HTTP10Connections: ChannelDuplexHandler, RemovableChannelHandler {
  typealias InboundIn = HTTPServerRequestPart
  typealias InboundOut = HTTPServerRequestPart
  typealias OutboundIn = HTTPServerResponsePart
  typealias OutboundOut = HTTPServerResponsePart

  /// The requests not yet answered, oldest first: whether each is 1.0, and kept alive.
  private var pending = CircularBuffer<(isHTTP10: Bool, keepAlive: Bool)>()
  /// The response being written ends the connection.
  private var closeAfterResponse = false

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    guard case .head(var head) = unwrapInboundIn(data) else {
      context.fireChannelRead(data)
      return
    }
    let isHTTP10 = head.version == .http1_0
    pending.append((isHTTP10, head.isKeepAlive))
    if isHTTP10, !head.isKeepAlive {
      head.headers.replaceOrAdd(name: "connection", value: "close")
    }
    context.fireChannelRead(wrapInboundOut(.head(head)))
  }

  /// A request NIO's parser cannot read (a URL with raw non-ASCII bytes, as `curl -g` sends
  /// `?governorate=إدلب`; a request line or header past the parser's limit) was answered by
  /// Hummingbird with a bare 400: no words and none of the console's protections. It is
  /// answered here, with both, and the connection closed (its place in the stream is lost).
  func errorCaught(context: ChannelHandlerContext, error: any Error) {
    guard let parserError = error as? HTTPParserError else {
      context.fireErrorCaught(error)
      return
    }
    let reason: String
    switch parserError {
    case .headerOverflow: reason = "its request line or headers are too long (a query that long is no filter)"
    case .invalidURL, .invalidCharactersUsed:
      reason = "its URL holds characters a URL cannot (percent-encode them: governorate=%D8%A5%D8%AF%D9%84%D8%A8 for إدلب)"
    default: reason = "it is not valid HTTP/1.1 (\(parserError))"
    }
    let body = "400: this request cannot be read: \(reason)\n"
    var headers = HTTPHeaders()
    headers.add(name: "content-type", value: "text/plain; charset=utf-8")
    headers.add(name: "content-length", value: String(body.utf8.count))
    headers.add(name: "connection", value: "close")
    for (name, value) in ConsoleGuard.securityHeaders { headers.add(name: name.rawName, value: value) }
    context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .badRequest, headers: headers))), promise: nil)
    context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: body)))), promise: nil)
    let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
    context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in bound.value.close(promise: nil) }
  }

  func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
    switch unwrapOutboundIn(data) {
    case .head(var head) where head.status.code >= 200:
      guard let request = pending.popFirst(), request.isHTTP10 else {
        context.write(data, promise: promise)
        return
      }
      head.version = .http1_0
      // Kept alive only when the client asked and the body's end is known without a close.
      let keepAlive = request.keepAlive && head.headers.contains(name: "content-length")
      head.headers.replaceOrAdd(name: "connection", value: keepAlive ? "keep-alive" : "close")
      closeAfterResponse = !keepAlive
      context.write(wrapOutboundOut(.head(head)), promise: promise)
    case .end where closeAfterResponse:
      closeAfterResponse = false
      context.writeAndFlush(data, promise: promise)
      context.close(promise: nil)
    default:
      context.write(data, promise: promise)
    }
  }

  /// Puts an `HTTP10Connections` just after the request decoder of the connection it is
  /// added to, and leaves: Hummingbird adds a server's own handlers after its conversion to
  /// version-less HTTP types, where a request's version is no longer known.
  final class Installer: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny

    func handlerAdded(context: ChannelHandlerContext) {
      let pipeline = context.pipeline.syncOperations
      if let decoder = try? pipeline.handler(type: ByteToMessageHandler<HTTPRequestDecoder>.self) {
        try? pipeline.addHandler(HTTP10Connections(), position: .after(decoder))
      }
      pipeline.removeHandler(context: context, promise: nil)
    }
  }
}
