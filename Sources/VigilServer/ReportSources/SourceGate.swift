import Foundation

/// Lets sources' reports through to the writer until shutdown closes it, and lets shutdown
/// wait until the last one let through is answered: only then may the writer stop.
final class SourceGate: @unchecked Sendable {
  private let condition = NSCondition()
  /// Guarded by `condition`.
  private var underWay = 0
  private var closed = false

  /// Whether a report may go through; if so, `leave` must follow once it is answered.
  func enter() -> Bool {
    condition.lock()
    defer { condition.unlock() }
    guard !closed else { return false }
    underWay += 1
    return true
  }

  func leave() {
    condition.lock()
    underWay -= 1
    condition.broadcast()
    condition.unlock()
  }

  /// Lets no more through, and waits until those under way have left.
  func close() {
    condition.lock()
    closed = true
    while underWay > 0 { condition.wait() }
    condition.unlock()
  }
}
