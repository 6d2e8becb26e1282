import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// How many connections the process may hold, by its limit on open files (`ulimit -n`).
/// Past that limit a connection cannot be accepted at all, so it is never answered, not
/// even with `overloaded`: with `limits.max_connections` above it, clients past the limit
/// hung, the accept loop kept failing, and a rule file read then failed to open (audit 40).
/// So vigild raises its soft limit as far as its connections need (up to the hard limit,
/// and no further: the commands it runs inherit it), and where even the hard limit leaves
/// too few descriptors it takes fewer connections than configured, saying so at start, so
/// that every client past the limit is told `overloaded`.
enum DescriptorBudget {
  /// Descriptors kept for what vigild opens besides its clients' connections, counted
  /// before it opens them: its journal, alert log and event loops, a rule file as it is
  /// read, a rotation's new file, a sink's or source's file or socket.
  static let reserve = 64

  /// The process's limits on open files, soft and hard (`Int.max` for none); nil when they
  /// cannot be read.
  static func openFileLimits() -> (soft: Int, hard: Int)? {
    var limit = rlimit()
    guard getrlimit(resource, &limit) == 0 else { return nil }
    return (count(limit.rlim_cur), count(limit.rlim_max))
  }

  /// Sets the soft limit on open files to `soft` (at most the hard limit); whether it was.
  static func setSoftLimit(_ soft: Int) -> Bool {
    var limit = rlimit()
    guard getrlimit(resource, &limit) == 0 else { return false }
    limit.rlim_cur = min(rlim_t(soft), limit.rlim_max)
    return setrlimit(resource, &limit) == 0
  }

  /// Descriptors the process has open now.
  static func openNow() -> Int {
    (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? 0
  }

  /// Descriptors needed for `connections` socket connections and `console` connections of
  /// the console, with `open` in use.
  static func needed(connections: Int, console: Int, open: Int) -> Int {
    open + reserve + console + connections
  }

  /// How many socket connections fit under `limit` beside `console` connections of the
  /// console, with `open` descriptors in use: nil when `configured` fit, the number that
  /// does otherwise (zero or less when none does).
  static func fittingConnections(configured: Int, console: Int, open: Int, limit: Int) -> Int? {
    let free = limit - needed(connections: 0, console: console, open: open)
    return configured <= free ? nil : free
  }

  private static let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)

  private static func count(_ value: rlim_t) -> Int {
    value == rlim_t.max ? .max : Int(clamping: value)
  }
}
