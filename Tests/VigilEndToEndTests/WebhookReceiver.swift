import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix

/// A small HTTP receiver for the webhook sink's tests, on 127.0.0.1 and a port of its own
/// choosing: it records every request (headers, body, the status it answered) and answers
/// as told — 503 to the first requests (the very first with `Retry-After: 1`), 400 to any
/// request carrying one chosen record, 200 to the rest; or, while silent, nothing at all.
final class WebhookReceiver: Sendable {
  struct Request: Sendable {
    let headers: [(name: String, value: String)]
    let body: [UInt8]
    /// 0 for one left without an answer.
    let status: Int

    func header(_ name: String) -> String? {
      headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    /// The seqs it carries, from its idempotency keys (`node:seq`, listed one per record
    /// in `X-Vigil-Idempotency-Keys` for a batch).
    var seqs: [UInt64] {
      let keys = header("X-Vigil-Idempotency-Keys") ?? header("Idempotency-Key") ?? ""
      return keys.split(separator: ",").compactMap { key in key.split(separator: ":").last.flatMap { UInt64($0) } }
    }
  }

  private struct Script {
    var unavailableLeft: Int
    var refusedSeq: UInt64?
    /// How many requests get 503 after each refusal.
    var unavailableAfterRefusal = 0
    var silent = false
    /// Whether a 200 sends its head and a first byte of its body, and never the rest.
    var stallBody = false
    /// Every so many requests gets 503 (0: none): a receiver that fails now and then.
    var failEvery = 0
    var requests: [Request] = []
  }

  private let script: NIOLockedValueBox<Script>
  private let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
  private let channel: any Channel
  let port: Int

  /// - Parameter unavailable: how many requests, the first ones, get 503.
  init(unavailable: Int) throws {
    let script = NIOLockedValueBox(Script(unavailableLeft: unavailable))
    self.script = script
    channel = try ServerBootstrap(group: group)
      .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
      .childChannelInitializer { channel in
        channel.eventLoop.makeCompletedFuture {
          try channel.pipeline.syncOperations.configureHTTPServerPipeline()
          try channel.pipeline.syncOperations.addHandler(Handler(answer: { WebhookReceiver.answer($0, $1, script) }))
        }
      }
      .bind(host: "127.0.0.1", port: 0).wait()
    port = channel.localAddress?.port ?? 0
  }

  deinit {
    try? channel.close().wait()
    try? group.syncShutdownGracefully()
  }

  var url: String { "http://127.0.0.1:\(port)/hooks/vigil" }

  /// Answers 400 to every request carrying `seq`, or to none.
  func refuse(seq: UInt64?) {
    script.withLockedValue { $0.refusedSeq = seq }
  }

  /// The next `count` requests get 503; and `afterRefusal` requests after each 400.
  func beUnavailable(next count: Int, afterRefusal: Int = 0) {
    script.withLockedValue {
      $0.unavailableLeft = count
      $0.unavailableAfterRefusal = afterRefusal
    }
  }

  /// Every `count`th request from now on gets 503 (0: none).
  func failEvery(_ count: Int) {
    script.withLockedValue { $0.failEvery = count }
  }

  /// Whether requests get no answer at all (a receiver that hangs).
  func beSilent(_ silent: Bool) {
    script.withLockedValue { $0.silent = silent }
  }

  /// Whether each 200 stalls in its body (its head sent, then one byte of 1,001).
  func stallBody(_ stall: Bool) {
    script.withLockedValue { $0.stallBody = stall }
  }

  /// Every request so far, in the order they came.
  var requests: [Request] {
    script.withLockedValue { $0.requests }
  }

  /// Decides the answer, and records the request with it.
  private static func answer(
    _ head: HTTPRequestHead, _ body: [UInt8], _ script: NIOLockedValueBox<Script>
  ) -> Answer? {
    script.withLockedValue { script in
      let headers = head.headers.map { (name: $0.name, value: $0.value) }
      guard !script.silent else {
        script.requests.append(Request(headers: headers, body: body, status: 0))
        return nil
      }
      let answer: (HTTPResponseStatus, [(String, String)], String)
      let first = script.requests.isEmpty
      let carried = Request(headers: headers, body: body, status: 0).seqs
      if script.unavailableLeft > 0 {
        script.unavailableLeft -= 1
        answer = (.serviceUnavailable, first ? [("Retry-After", "1")] : [], "busy, try later")
      } else if script.failEvery > 0, (script.requests.count + 1).isMultiple(of: script.failEvery) {
        answer = (.serviceUnavailable, [], "busy now and then")
      } else if let refused = script.refusedSeq, carried.contains(refused) {
        answer = (.badRequest, [], "record \(refused) is not wanted here\n")
        script.unavailableLeft = script.unavailableAfterRefusal
      } else if script.stallBody {
        answer = (.ok, [(Self.stallMarker, "1")], "x")
      } else {
        answer = (.ok, [], "")
      }
      script.requests.append(Request(headers: headers, body: body, status: Int(answer.0.code)))
      return answer
    }
  }

  typealias Answer = (status: HTTPResponseStatus, headers: [(String, String)], body: String)

  /// Marks an answer whose body stalls (not sent).
  static let stallMarker = "X-Test-Stall"

  /// Gathers one request's head and body, then writes the answer, if any.
  private final class Handler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let answer: (HTTPRequestHead, [UInt8]) -> Answer?
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []

    init(answer: @escaping (HTTPRequestHead, [UInt8]) -> Answer?) {
      self.answer = answer
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
      switch unwrapInboundIn(data) {
      case .head(let requestHead):
        head = requestHead
        body = []
      case .body(var buffer):
        body += buffer.readBytes(length: buffer.readableBytes) ?? []
      case .end:
        guard let head, let reply = answer(head, body) else { return }
        let stalls = reply.headers.contains { $0.0 == WebhookReceiver.stallMarker }
        var headers = HTTPHeaders(reply.headers.filter { $0.0 != WebhookReceiver.stallMarker })
        headers.add(name: "Content-Length", value: String(stalls ? 1001 : reply.body.utf8.count))
        if stalls {
          context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: reply.status, headers: headers))), promise: nil)
          context.writeAndFlush(
            wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: reply.body)))), promise: nil)
          self.head = nil
          return
        }
        let responseHead = HTTPResponseHead(version: head.version, status: reply.status, headers: headers)
        context.write(wrapOutboundOut(.head(responseHead)), promise: nil)
        if !reply.body.isEmpty {
          context.write(
            wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: reply.body)))), promise: nil)
        }
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        self.head = nil
      }
    }
  }
}
