import Foundation
import NIOConcurrencyHelpers
import VigilCore

/// Runs one source's feed on a thread of its own, giving it a `SourceContext` whose
/// `submit` takes a report through the daemon's own path, and counts its verdicts for
/// `status`.
public final class SourceRunner: SourceContext, @unchecked Sendable {
  public let name: String
  private let feed: any ReportFeed
  private let recorder: @Sendable ([UInt8]) -> ReportVerdict
  private let state = NIOLockedValueBox(Counts())
  private let wake = NSCondition()

  struct Counts {
    var accepted = 0
    var duplicates = 0
    var refused = 0
    var problem: String?
    var stopping = false
    var running = false
  }

  private let log: DaemonEventLog

  init(
    name: String, feed: any ReportFeed, recorder: @escaping @Sendable ([UInt8]) -> ReportVerdict,
    log: @escaping DaemonEventLog = { _ in }
  ) {
    self.name = name
    self.feed = feed
    self.recorder = recorder
    self.log = log
  }

  public func warn(_ message: String) {
    log(.warning("source \(name): \(message)"))
  }

  public func start() {
    state.withLockedValue { $0.running = true }
    let thread = Thread { [self] in
      feed.run(self)
      wake.lock()
      state.withLockedValue { $0.running = false }
      wake.broadcast()
      wake.unlock()
    }
    thread.name = "vigild source \(name)"
    thread.start()
  }

  public func stop() {
    wake.lock()
    state.withLockedValue { $0.stopping = true }
    wake.broadcast()
    wake.unlock()
  }

  /// Waits until the feed has returned from `run`, or `seconds` have passed; whether it did.
  public func waitUntilStopped(within seconds: Double) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    wake.lock()
    defer { wake.unlock() }
    while state.withLockedValue({ $0.running }) {
      guard wake.wait(until: deadline) else { return !state.withLockedValue { $0.running } }
    }
    return true
  }

  public func submit(_ report: [UInt8]) -> ReportVerdict {
    let verdict = recorder(report)
    state.withLockedValue { counts in
      switch verdict {
      case .accepted: counts.accepted += 1
      case .duplicate: counts.duplicates += 1
      case .refused: counts.refused += 1
      }
    }
    return verdict
  }

  public var isStopping: Bool { state.withLockedValue { $0.stopping } }

  public func pause(_ seconds: Double) {
    wake.lock()
    if !isStopping { _ = wake.wait(until: Date().addingTimeInterval(seconds)) }
    wake.unlock()
  }

  public func refusedBeforeSubmit() {
    state.withLockedValue { $0.refused += 1 }
  }

  public func problem(_ description: String?) {
    state.withLockedValue { $0.problem = description }
  }

  /// The source's entry in `status`.
  public var statusJSON: String {
    state.withLockedValue { counts in
      "{\"name\":\(JSONText.string(name)),\"running\":\(counts.running),\"accepted\":\(counts.accepted),"
        + "\"duplicates\":\(counts.duplicates),\"refused\":\(counts.refused),"
        + "\"problem\":\(counts.problem.map(JSONText.string) ?? "null")}"
    }
  }
}
