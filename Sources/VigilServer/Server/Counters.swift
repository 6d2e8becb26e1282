import Foundation
import NIOConcurrencyHelpers
import VigilCore

/// The numbers `status` reports, shared by every connection and the writer; each also
/// moves its Prometheus metric.
final class Counters: Sendable {
  struct Values: Sendable {
    var accepted = 0
    var refused = 0
    var duplicates = 0
    var checked = 0
    /// Alerts logged, by priority (at its `rank`): an array, as a dictionary keyed by
    /// `Priority` hashed its raw text for every alert.
    var alerts = [Int](repeating: 0, count: Priority.allCases.count)
    /// Commits the journal or the alert log could not take (a full disk, a file made
    /// read-only), and the last one's time and reason; `storageFailing` until one succeeds.
    var storageFailures = 0
    var lastStorageError: (at: String, message: String)?
    var storageFailing = false
  }

  private let values = NIOLockedValueBox(Values())
  let metrics: DaemonMetrics

  init(metrics: DaemonMetrics = DaemonMetrics()) {
    self.metrics = metrics
  }

  /// Reports recorded (a commit's, at once).
  func accepted(_ count: Int = 1) {
    guard count > 0 else { return }
    values.withLockedValue { $0.accepted += count }
    metrics.reportsAccepted(count)
  }
  /// A refused request, by the code of its answer (`invalid_report`, `too_large`, …).
  func refused(_ code: RequestError.Code) { refused(code.rawValue) }
  func refused(_ code: String) {
    values.withLockedValue { $0.refused += 1 }
    metrics.reportRefused(code)
  }
  func duplicate() {
    values.withLockedValue { $0.duplicates += 1 }
    metrics.reportDuplicate()
  }
  func checked() { values.withLockedValue { $0.checked += 1 } }
  func alerts(_ records: [AlertRecord]) {
    guard !records.isEmpty else { return }
    values.withLockedValue { values in
      for index in records.indices { values.alerts[records[index].priority.rank] += 1 }
    }
    metrics.alerts(records)
  }

  /// A commit that could not be written (each of its reports is refused as `storage`).
  /// `commit`: a commit was not written (counted); else the files could not be reopened on
  /// request, which fails until a commit goes through but is no commit lost.
  func storageFailed(_ message: String, at time: String, commit: Bool = true) {
    values.withLockedValue {
      if commit { $0.storageFailures += 1 }
      $0.lastStorageError = (time, message)
      $0.storageFailing = true
    }
  }
  /// A commit written after failures.
  func storageWritten() { values.withLockedValue { $0.storageFailing = false } }

  var snapshot: Values { values.withLockedValue { $0 } }
}

/// The wall clock, for the times written into the journal and the alert log.
enum WallClock {
  static func nowMilliseconds() -> Int64 {
    var time = timespec()
    clock_gettime(CLOCK_REALTIME, &time)
    return Int64(time.tv_sec) * 1000 + Int64(time.tv_nsec) / 1_000_000
  }
}
