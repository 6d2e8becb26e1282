import NIOConcurrencyHelpers
import NIOCore

/// Bounds the console's open connections (`http.max_connections`): one past the bound is
/// closed as it comes. Ingestion matters more than the view: without a bound, idle
/// browsers (or a client opening connections and sending nothing) take the file
/// descriptors the socket's clients need — 240 idle connections under `ulimit -n 256`
/// stopped every report. Each connection's pipeline gets its own handler; they share `open`.
final class ConsoleConnectionLimit: ChannelInboundHandler, RemovableChannelHandler, @unchecked Sendable {
  typealias InboundIn = NIOAny

  /// The connections open now, shared by every connection's handler.
  final class Count: Sendable {
    let open = NIOLockedValueBox(0)
    let limit: Int
    /// Told of each connection closed as it came (a metric counts them).
    let refused: @Sendable () -> Void

    init(limit: Int, refused: @escaping @Sendable () -> Void) {
      self.limit = limit
      self.refused = refused
    }
  }

  private let count: Count
  /// Whether this connection was counted (and is to be uncounted when it closes).
  private var counted = false

  init(_ count: Count) { self.count = count }

  func handlerAdded(context: ChannelHandlerContext) {
    let admitted = count.open.withLockedValue { open -> Bool in
      guard open < count.limit else { return false }
      open += 1
      return true
    }
    counted = admitted
    if !admitted {
      count.refused()
      context.close(promise: nil)
    }
  }

  func handlerRemoved(context: ChannelHandlerContext) {
    uncount()
  }

  func channelInactive(context: ChannelHandlerContext) {
    uncount()
    context.fireChannelInactive()
  }

  private func uncount() {
    guard counted else { return }
    counted = false
    count.open.withLockedValue { $0 -= 1 }
  }
}
