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
/// unknown length ends with the connection, which is then closed after it). It also
/// answers 400 here, where the version is known, an HTTP/1.1 request with no single Host;
/// and 405 a CONNECT, after which NIO's parser reads no more of the connection (the rest
/// is the tunnel's) and writes a response with no length, so the client waited for a body
/// that never ended.
final class HTTP10Connections: ChannelDuplexHandler, RemovableChannelHandler {
  typealias InboundIn = HTTPServerRequestPart
  typealias InboundOut = HTTPServerRequestPart
  typealias OutboundIn = HTTPServerResponsePart
  typealias OutboundOut = HTTPServerResponsePart

  /// The requests not yet answered, oldest first: whether each is 1.0, and kept alive.
  private var pending = CircularBuffer<(isHTTP10: Bool, keepAlive: Bool)>()
  /// The response being written ends the connection.
  private var closeAfterResponse = false
  /// A request that cannot be answered, refused: nothing read after it goes on, and the
  /// refusal is written once the responses before it are, and the connection closed.
  private var refusal: (status: HTTPResponseStatus, sentence: String)?
  /// A response's head is written and its end not yet.
  private var responding = false
  /// The version the refusal is answered in: the refused request's, when it was read
  /// (an HTTP/1.0 client is answered in 1.0); 1.1 for a request that could not be.
  private var refusedVersion = HTTPVersion.http1_1

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    guard refusal == nil else { return }
    guard case .head(var head) = unwrapInboundIn(data) else {
      context.fireChannelRead(data)
      return
    }
    refusedVersion = head.version == .http1_0 ? .http1_0 : .http1_1
    // RFC 9112 §3.2: an HTTP/1.1 request without a Host, or with more than one, is answered
    // 400. The console's loopback-only check reads the Host; without one there is nothing
    // to check.
    let hosts = head.headers["host"]
    if head.version == .http1_1, hosts.count != 1 || hosts[0].trimmingCharacters(in: .whitespaces).isEmpty || hosts[0].contains(",") {
      refusal = (
        .badRequest,
        hosts.count > 1 || hosts.first?.contains(",") == true
          ? "it names more than one Host" : "an HTTP/1.1 request must name its Host (RFC 9112 §3.2)"
      )
      if pending.isEmpty, !responding { answerRefusal(context: context) }
      return
    }
    // RFC 9112 §6.1: a transfer coding not understood is answered 501 (a body then cannot
    // be told from the next request); chunked, last, is the only one read.
    let codings = head.headers["transfer-encoding"].flatMap { $0.split(separator: ",") }.map {
      $0.trimmingCharacters(in: .whitespaces).lowercased()
    }
    if let unknown = codings.first(where: { $0 != "chunked" }) {
      refusal = (.notImplemented, "its Transfer-Encoding \(unknown.prefix(40)) is not one the console reads: only chunked")
      if pending.isEmpty, !responding { answerRefusal(context: context) }
      return
    }
    // The absolute form (`GET http://host/x`, a proxy's), which RFC 9112 §3.2.2 says a
    // server must accept: its path is the target, and the Host header, not the host it
    // names, is what the console's checks read (docs/console.md).
    switch Self.absoluteForm(head.uri) {
    case .path(let path)?: head.uri = path
    case .noHost?:
      refusal = (
        .badRequest,
        "this request cannot be read: its target in absolute form names no host it may (an empty host, a user, "
          + "or a port that is not one: RFC 9110 §4.2.1)"
      )
      if pending.isEmpty, !responding { answerRefusal(context: context) }
      return
    case nil: break
    }
    // The asterisk form (`OPTIONS *`) is HTTP, but no path of the console's: told as a
    // target that does not start with /.
    if head.method != .CONNECT, !head.uri.hasPrefix("/") {
      refusal = (.badRequest, "this request cannot be read: " + Self.notAPath)
      if pending.isEmpty, !responding { answerRefusal(context: context) }
      return
    }
    if head.method == .CONNECT {
      refusal = (.methodNotAllowed, "the console is read-only (GET and HEAD only), and no proxy: CONNECT opens nothing")
      if pending.isEmpty, !responding { answerRefusal(context: context) }
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
    var status = HTTPResponseStatus.badRequest
    let reason: String
    switch parserError {
    case .invalidMethod:
      // A method the parser knows no name for (FOO, a lowercase get), or no HTTP at all (a
      // TLS handshake): 501, as RFC 9110 §9.1 says for a method not recognised (audit 46;
      // it was a 400 without a word of it); in plain text, since the request is not read
      // past its method and its path is not known.
      status = .notImplemented
      reason =
        "its method is none the console knows: it answers GET and HEAD (and POST /login); or it is not HTTP at all "
        + "(https:// to this plain-HTTP address?)"
    case .headerOverflow:
      reason = "its request line and headers are too long together (80 KB at most), or it has too many header lines"
    case .invalidURL, .invalidCharactersUsed: reason = Self.notAPath
    case .invalidConstant:
      reason =
        "its request line is not METHOD TARGET HTTP/1.1 (a raw space in the target splits it: percent-encode it as %20)"
    case .invalidVersion, .lfExpected:
      reason =
        "its request line or a header does not end as HTTP's do (CR LF), or its version is not HTTP/1.0 or HTTP/1.1 "
        + "(the only two read)"
    case .unexpectedContentLength:
      reason =
        "its length is given twice (Content-Length twice, or with a Transfer-Encoding): HTTP/1.1 takes one "
        + "(RFC 9112 §6.3)"
    case .invalidContentLength: reason = "its Content-Length is not one number"
    case .invalidHeaderToken:
      reason = "a header's name or value holds a character it cannot (a space before the colon, a control character in a value?)"
    case .unknown:
      reason =
        "it is not valid HTTP/1.1: its framing cannot be read (both Content-Length and Transfer-Encoding, or a "
        + "Transfer-Encoding other than chunked)"
    default: reason = "it is not valid HTTP/1.1 (\(parserError))"
    }
    guard refusal == nil else { return }
    refusal = (status, status == .notImplemented ? "this request is refused: \(reason)" : "this request cannot be read: \(reason)")
    if pending.isEmpty, !responding { answerRefusal(context: context) }
  }

  enum AbsoluteForm: Equatable {
    /// The target's path and query.
    case path(String)
    /// An authority no server may take: an empty host, a user in it, a port that is none.
    case noHost
  }

  /// An absolute-form target's path and query (`http://host:8470/api/status?x=1` →
  /// `/api/status?x=1`; `http://host` → `/`); nil for any other form.
  static func absoluteForm(_ target: String) -> AbsoluteForm? {
    let lowered = target.prefix(8).lowercased()
    guard let scheme = ["http://", "https://"].first(where: { lowered.hasPrefix($0) }) else { return nil }
    let afterScheme = target.dropFirst(scheme.count)
    let slash = afterScheme.firstIndex { $0 == "/" || $0 == "?" } ?? afterScheme.endIndex
    let authority = afterScheme[..<slash]
    // host, [IPv6] or host:port, [IPv6]:port; no user (RFC 9110 §4.2.4).
    var host = authority
    var port: Substring?
    if authority.hasPrefix("["), let close = authority.firstIndex(of: "]") {
      host = authority[...close]
      let after = authority[authority.index(after: close)...]
      if !after.isEmpty {
        guard after.hasPrefix(":") else { return .noHost }
        port = after.dropFirst()
      }
    } else if let colon = authority.lastIndex(of: ":") {
      host = authority[..<colon]
      port = authority[authority.index(after: colon)...]
    }
    let hostIsEmpty = host.isEmpty || host == "[]"
    let portIsNone = port.map { !$0.isEmpty && !($0.allSatisfy { $0.isASCII && $0.isNumber } && Int($0).map { $0 <= 65535 } == true) } ?? false
    if hostIsEmpty || authority.contains("@") || portIsNone { return .noHost }
    let rest = afterScheme[slash...]
    return .path(rest.isEmpty ? "/" : rest.hasPrefix("?") ? "/" + rest : String(rest))
  }

  static let notAPath =
    "its target is no URL path: one starts with / and holds no raw space, tab, control character or character "
    + "outside ASCII (percent-encode those: %20 for a space, governorate=%D8%A5%D8%AF%D9%84%D8%A8 for إدلب)"

  /// Answers the refused request, with the console's protections, and closes.
  private func answerRefusal(context: ChannelHandlerContext) {
    let (status, sentence) = refusal ?? (.badRequest, "this request cannot be answered")
    let body = "\(status.code): \(sentence)\n"
    var headers = HTTPHeaders()
    if status == .methodNotAllowed { headers.add(name: "allow", value: "GET, HEAD") }
    headers.add(name: "content-type", value: "text/plain; charset=utf-8")
    headers.add(name: "content-length", value: String(body.utf8.count))
    headers.add(name: "connection", value: "close")
    for (name, value) in ConsoleGuard.securityHeaders { headers.add(name: name.rawName, value: value) }
    context.write(wrapOutboundOut(.head(HTTPResponseHead(version: refusedVersion, status: status, headers: headers))), promise: nil)
    context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: body)))), promise: nil)
    let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
    context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in bound.value.close(promise: nil) }
  }

  func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
    switch unwrapOutboundIn(data) {
    case .head(var head) where head.status.code >= 200:
      responding = true
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
      responding = false
      closeAfterResponse = false
      context.writeAndFlush(data, promise: promise)
      context.close(promise: nil)
    case .end where refusal != nil && pending.isEmpty:
      responding = false
      context.write(data, promise: promise)
      answerRefusal(context: context)
    case .end:
      responding = false
      context.write(data, promise: promise)
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
