import Dispatch
import NIOConcurrencyHelpers

/// Runs asynchronous work for a caller that must wait for it — a sink's `deliver`, which
/// Vigil calls on the sink's own thread (never on the concurrency pool, so waiting there
/// takes no pool thread from anyone) — and lets another thread cancel the work under way.
final class BlockingTask: Sendable {
  private let current = NIOLockedValueBox<Task<Void, Never>?>(nil)
  /// The run under way's outcome and the semaphore its caller waits on: `abandon` ends
  /// the wait with an error of its own.
  private let waiting = NIOLockedValueBox<(outcome: NIOLockedValueBox<Result<any Sendable, any Error>?>, done: DispatchSemaphore)?>(nil)

  struct TimedOut: Error, CustomStringConvertible {
    let seconds: Double
    var description: String { "no answer within \(seconds) s (timeout_s)" }
  }

  /// Runs `work` and waits for it, at most `timeout` seconds: past that the work is
  /// cancelled and abandoned (an answer that never comes — a COPY whose server went away,
  /// in PostgresNIO 1.33 — cannot hold the sink for ever), and `TimedOut` is thrown.
  func run<T: Sendable>(timeout: Double = .infinity, _ work: @escaping @Sendable () async throws -> T) throws -> T {
    let outcome = NIOLockedValueBox<Result<any Sendable, any Error>?>(nil)
    let done = DispatchSemaphore(value: 0)
    waiting.withLockedValue { $0 = (outcome, done) }
    let task = Task {
      let result: Result<any Sendable, any Error>
      do {
        result = .success(try await work())
      } catch {
        result = .failure(error)
      }
      // The first outcome stands: an abandoned run's late answer is dropped.
      let first = outcome.withLockedValue { kept in
        guard kept == nil else { return false }
        kept = result
        return true
      }
      if first { done.signal() }
    }
    current.withLockedValue { $0 = task }
    defer {
      current.withLockedValue { $0 = nil }
      waiting.withLockedValue { $0 = nil }
    }
    if timeout.isFinite {
      guard done.wait(timeout: .now() + timeout) == .success else {
        task.cancel()
        throw TimedOut(seconds: timeout)
      }
    } else {
      done.wait()
    }
    let result = outcome.withLockedValue { $0! }
    if case .failure = result { task.cancel() }  // abandoned: what it awaits may never answer
    return try result.get() as! T
  }

  /// Ends the run under way, if any, with `error` at once, cancelling its work: for what
  /// the work awaits that will never answer (a query on a connection the server closed,
  /// which PostgresNIO 1.33 may leave waiting).
  func abandon(with error: any Error) {
    guard let (outcome, done) = waiting.withLockedValue({ $0 }) else { return }
    let first = outcome.withLockedValue { kept in
      guard kept == nil else { return false }
      kept = .failure(error)
      return true
    }
    if first { done.signal() }
  }

  /// Cancels the work under way, if any: it ends as soon as what it awaits notices.
  func cancel() {
    current.withLockedValue { $0 }?.cancel()
  }
}
