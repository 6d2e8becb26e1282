import Foundation

/// Waits, with a generous deadline, until `condition` holds; whether it did. Tests wait
/// for an effect this way and never assert how fast it came.
public func eventually(within seconds: TimeInterval = 20, _ condition: () throws -> Bool) rethrows -> Bool {
  let deadline = Date().addingTimeInterval(seconds)
  while Date() < deadline {
    if try condition() { return true }
    Thread.sleep(forTimeInterval: 0.05)
  }
  return try condition()
}
