import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// How many connections the process may hold, by its limit on open files (`ulimit -n`).
/// Past that limit a connection cannot be accepted at all, so it is never answered, not
/// even with `overloaded`: with `limits.max_connections` above it, clients past the limit
/// hung, the accept loop kept failing, and a rule file read then failed to open (audit 40).
/// So vigild takes the hard limit where the soft one is lower, as most daemons do, and
/// where even that leaves too few descriptors it takes fewer connections than configured,
/// saying so at start, so that every client past the limit is told `overloaded`.
enum DescriptorBudget {
  /// Descriptors kept for what vigild opens besides its clients' connections once running:
  /// a rule file as it is read, a rotation's new file, a sink's or source's file or socket,
  /// a console connection's file.
  static let reserve = 64

  /// Raises the soft limit on open files to the hard limit; gives the limit in force (nil
  /// when there is none to read).
  static func raiseOpenFileLimit() -> Int? {
    var limit = rlimit()
    let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
    guard getrlimit(resource, &limit) == 0 else { return nil }
    if limit.rlim_cur < limit.rlim_max {
      var raised = limit
      raised.rlim_cur = limit.rlim_max
      // An unlimited hard limit cannot be the soft one (EPERM past fs.nr_open): the soft
      // limit stays.
      if setrlimit(resource, &raised) == 0 { limit = raised }
    }
    return limit.rlim_cur == rlim_t.max ? nil : Int(clamping: limit.rlim_cur)
  }

  /// Descriptors the process has open now.
  static func openNow() -> Int {
    (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? 0
  }

  /// How many socket connections fit beside `console` connections of the console, with
  /// `open` descriptors in use and `limit` allowed: nil when `configured` fit, the number
  /// that does otherwise (at least 1).
  static func fittingConnections(configured: Int, console: Int, open: Int, limit: Int) -> Int? {
    let free = limit - open - reserve - console
    return configured <= free ? nil : max(1, free)
  }
}
