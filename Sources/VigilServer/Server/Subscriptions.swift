import NIOCore
import NIOConcurrencyHelpers
import VigilCore

/// Who takes the stream of alert lines that `subscribe` serves: a subscribed connection
/// (AlertStream), or the console's live view (server-sent events).
public protocol AlertListener: AnyObject, Sendable {
  /// Which records it takes.
  var selector: AlertSelector { get }
  /// Lines it selects, in `seq` order; called from the writer's thread, so it must not block.
  func offer(_ lines: [String])
}

/// The open subscriptions: each committed batch of alert records goes to every stream
/// whose filter selects them, after the records are durably in the log.
public final class Subscriptions: Sendable {
  private let streams = NIOLockedValueBox<[ObjectIdentifier: (listener: any AlertListener, from: UInt64)]>([:])

  /// Streams the records from `seq` `from` on (by default, every one published from now).
  public func add(_ stream: any AlertListener, from seq: UInt64 = 0) {
    streams.withLockedValue { $0[ObjectIdentifier(stream)] = (stream, seq) }
  }

  public func remove(_ stream: any AlertListener) {
    _ = streams.withLockedValue { $0.removeValue(forKey: ObjectIdentifier(stream)) }
  }

  public var count: Int { streams.withLockedValue { $0.count } }

  /// Hands each stream the lines it selects of a batch's records and their lines (UTF-8),
  /// in `seq` order. Without streams (most of the time), nothing is made.
  func publish(_ records: [AlertRecord], lines: [AlertLog.Written]) {
    let open = streams.withLockedValue { $0.isEmpty ? [] : Array($0.values) }
    for (stream, from) in open {
      let selected = zip(records, lines).filter { $0.1.seq >= from && stream.selector.selects($0.0) }
      let text = selected.map { String(decoding: $0.1.line, as: UTF8.self) }
      if !text.isEmpty { stream.offer(text) }
    }
  }
}
