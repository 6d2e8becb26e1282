import Foundation

/// The temporary copies an import holds of incident data (a workbook's sheet inflated to
/// read it, a piped workbook copied to a file), so that a command interrupted by a signal
/// removes them before it dies: `removeAll()` may run in a signal handler. The paths are
/// kept in a fixed table of C strings, never freed, which the handler only reads.
public enum TemporaryCopies {
  static let slots = 16
  static let longest = Int(PATH_MAX)
  nonisolated(unsafe) private static let paths: UnsafeMutablePointer<CChar> = {
    let table = UnsafeMutablePointer<CChar>.allocate(capacity: slots * longest)
    table.initialize(repeating: 0, count: slots * longest)
    return table
  }()
  private static let lock = NSLock()

  /// Holds `path` for removal on a signal until `remove(_:)` or `release(_:)` is called
  /// with it (not held when the table is full or the path too long).
  public static func hold(_ path: String) {
    let bytes = Array(path.utf8)
    guard !bytes.isEmpty, bytes.count < longest, !bytes.contains(0) else { return }
    lock.lock()
    defer { lock.unlock() }
    for slot in 0..<slots where paths[slot * longest] == 0 {
      let start = paths + slot * longest
      // The bytes after the first, then the first: the handler sees a whole path or none.
      for (index, byte) in bytes.enumerated().dropFirst() { start[index] = CChar(bitPattern: byte) }
      start[bytes.count] = 0
      start[0] = CChar(bitPattern: bytes[0])
      return
    }
  }

  /// Removes the file at `path` and no longer holds it.
  public static func remove(_ path: String) {
    unlink(path)
    release(path)
  }

  /// No longer holds `path` (the file handed on, or gone).
  public static func release(_ path: String) {
    lock.lock()
    defer { lock.unlock() }
    for slot in 0..<slots where paths[slot * longest] != 0 && String(cString: paths + slot * longest) == path {
      paths[slot * longest] = 0
    }
  }

  /// Removes every path held. Async-signal-safe: `unlink` on the table as it stands.
  public static func removeAll() {
    for slot in 0..<slots where paths[slot * longest] != 0 {
      unlink(paths + slot * longest)
    }
  }

  /// Makes SIGINT, SIGTERM and SIGHUP remove the copies held, then end the process as the
  /// signal would have.
  public static func removeOnSignals() {
    for signal in [SIGINT, SIGTERM, SIGHUP] {
      Glibc.signal(signal) { number in
        TemporaryCopies.removeAll()
        Glibc.signal(number, SIG_DFL)
        raise(number)
      }
    }
  }
}
