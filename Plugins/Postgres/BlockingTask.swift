import Dispatch
import NIOConcurrencyHelpers

/// Runs asynchronous work for a caller that must wait for it — a sink's `deliver`, which
/// Vigil calls on the sink's own thread (never on the concurrency pool, so waiting there
/// takes no pool thread from anyone) — and lets another thread cancel the work under way.
final class BlockingTask: Sendable {
  private let current = NIOLockedValueBox<Task<Void, Never>?>(nil)

  func run<T: Sendable>(_ work: @escaping @Sendable () async throws -> T) throws -> T {
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
    done.wait()
    current.withLockedValue { $0 = nil }
    return try outcome.withLockedValue { $0! }.get()
  }

  /// Cancels the work under way, if any: it ends as soon as what it awaits notices.
  func cancel() {
    current.withLockedValue { $0 }?.cancel()
  }
}
