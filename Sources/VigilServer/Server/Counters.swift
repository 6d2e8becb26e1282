import Foundation
import NIOConcurrencyHelpers
import VigilCore

/// The numbers `status` reports, shared by every connection and the writer.
final class Counters: Sendable {
  struct Values: Sendable {
    var accepted = 0
    var refused = 0
    var duplicates = 0
    var checked = 0
    var alerts: [Priority: Int] = [:]
  }

  private let values = NIOLockedValueBox(Values())

  func accepted() { values.withLockedValue { $0.accepted += 1 } }
  func refused() { values.withLockedValue { $0.refused += 1 } }
  func duplicate() { values.withLockedValue { $0.duplicates += 1 } }
  func checked() { values.withLockedValue { $0.checked += 1 } }
  func alerts(_ priorities: [Priority]) {
    guard !priorities.isEmpty else { return }
    values.withLockedValue { values in
      for priority in priorities { values.alerts[priority, default: 0] += 1 }
    }
  }

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
