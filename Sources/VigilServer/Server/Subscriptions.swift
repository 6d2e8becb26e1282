import NIOCore
import NIOConcurrencyHelpers
import VigilCore

/// The open subscriptions: each committed batch of alert records goes to every stream
/// whose filter selects them, after the records are durably in the log.
final class Subscriptions: Sendable {
  private let streams = NIOLockedValueBox<[ObjectIdentifier: AlertStream]>([:])

  func add(_ stream: AlertStream) {
    streams.withLockedValue { $0[ObjectIdentifier(stream)] = stream }
  }

  func remove(_ stream: AlertStream) {
    _ = streams.withLockedValue { $0.removeValue(forKey: ObjectIdentifier(stream)) }
  }

  var count: Int { streams.withLockedValue { $0.count } }

  /// Hands each stream the lines of `written` it selects, in `seq` order.
  func publish(_ written: [(record: AlertRecord, line: String)]) {
    let open = streams.withLockedValue { Array($0.values) }
    for stream in open {
      let lines = written.filter { stream.selector.selects($0.record) }.map(\.line)
      if !lines.isEmpty { stream.offer(lines) }
    }
  }
}
