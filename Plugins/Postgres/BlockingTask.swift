import Dispatch
import NIOConcurrencyHelpers

/// Runs asynchronous work for a caller that must wait for it — a sink's `deliver`, which
/// Vigil calls on the sink's own thread (never on the concurrency pool, so waiting there
/// takes no pool thread from anyone) — and lets another thread cancel the work under way.
final class BlockingTask: Sendable {
  private let current = NIOLockedValueBox<Task<Void, Never>?>(nil)

  struct TimedOut: Error, CustomStringConvertible {
    let seconds: Double
    var description: String { "no answer within \(seconds) s (timeout_s)" }
  }

  /// Runs `work` and waits for it, at most `timeout` seconds: past that the work is
  /// cancelled and abandoned (an answer that never comes — a COPY whose server went away,
  /// in PostgresNIO 1.33 — cannot hold the sink for ever), and `TimedOut` is thrown.
  func run<T: Sendable>(timeout: Double = .infinity, _ work: @escaping @Sendable () async throws -> T) throws -> T {
    let outcome = NIOLockedValueBox<Result<T, any Error>?>(nil)
    let done = DispatchSemaphore(value: 0)
    let task = Task {
      do {
        let value = try await work()
        outcome.withLockedValue { $0 = .success(value) }
      } catch {
        outcome.withLockedValue { $0 = .failure(error) }
      }
      done.signal()
    }
    current.withLockedValue { $0 = task }
    defer { current.withLockedValue { $0 = nil } }
    if timeout.isFinite {
      guard done.wait(timeout: .now() + timeout) == .success else {
        task.cancel()
        throw TimedOut(seconds: timeout)
      }
    } else {
      done.wait()
    }
    return try outcome.withLockedValue { $0! }.get()
  }

  /// Cancels the work under way, if any: it ends as soon as what it awaits notices.
  func cancel() {
    current.withLockedValue { $0 }?.cancel()
  }
}
