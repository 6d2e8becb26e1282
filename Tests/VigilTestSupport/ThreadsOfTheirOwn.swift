import Foundation
import Testing

/// Runs each test (each case of a parameterised one) on a thread of its own, at most
/// `width` at a time.
///
/// Swift Testing runs test bodies on Swift's cooperative pool, which has one thread per
/// core. The end-to-end tests block — waiting on a child process, sleeping between looks
/// for an effect — so on a 2-core machine two of them ran at a time while the CPU stood
/// mostly idle: the xctest process used about a quarter of a core through a run of both
/// tiers under ThreadSanitizer (502 s; 335 s on threads of their own). Run on their own
/// threads, their waits overlap.
/// `VIGIL_TEST_WIDTH` sets the width (default 8).
public struct ThreadsOfTheirOwn: SuiteTrait, TestTrait, TestScoping {
  public var isRecursive: Bool { true }

  public func provideScope(
    for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
  ) async throws {
    await TestSlots.shared.acquire()
    do {
      try await withTaskExecutorPreference(ThreadPerJobExecutor.shared) { try await function() }
    } catch {
      await TestSlots.shared.release()
      throw error
    }
    await TestSlots.shared.release()
  }
}

extension Trait where Self == ThreadsOfTheirOwn {
  /// Each test on a thread of its own, so that blocking tests wait side by side.
  public static var onThreadsOfTheirOwn: Self { Self() }
}

/// How many tests run at once on threads of their own.
actor TestSlots {
  static let shared = TestSlots(width: ProcessInfo.processInfo.environment["VIGIL_TEST_WIDTH"].flatMap(Int.init) ?? 8)

  private var free: Int
  private var waiting: [CheckedContinuation<Void, Never>] = []

  init(width: Int) { free = max(1, width) }

  func acquire() async {
    if free > 0 {
      free -= 1
      return
    }
    await withCheckedContinuation { waiting.append($0) }
  }

  func release() {
    if waiting.isEmpty {
      free += 1
    } else {
      waiting.removeFirst().resume()
    }
  }
}

/// A task executor that runs each job on a new thread: a test's body is one job that
/// may block for a minute, and a thread of its own is what lets it.
final class ThreadPerJobExecutor: TaskExecutor {
  static let shared = ThreadPerJobExecutor()

  func enqueue(_ job: consuming ExecutorJob) {
    let job = UnownedJob(job)
    let executor = asUnownedTaskExecutor()
    let thread = Thread { job.runSynchronously(on: executor) }
    thread.stackSize = 8 << 20
    thread.start()
  }
}
