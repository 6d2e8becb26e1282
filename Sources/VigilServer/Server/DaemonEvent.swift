/// One line of the daemon's own log, with how much it matters: most are `notice` (a plain
/// string literal makes one), and a rule set rejected, a sink failing, evidence that does
/// not add up are `warning` or `error`, so `--log-level warning` still shows them.
public struct DaemonEvent: ExpressibleByStringInterpolation, Sendable {
  public enum Level: Sendable {
    case notice
    case warning
    case error
  }

  public let level: Level
  public let message: String

  public init(_ level: Level, _ message: String) {
    self.level = level
    self.message = message
  }

  public init(stringLiteral value: String) {
    self.init(.notice, value)
  }

  public init(stringInterpolation: DefaultStringInterpolation) {
    self.init(.notice, String(stringInterpolation: stringInterpolation))
  }

  public static func warning(_ message: String) -> DaemonEvent { DaemonEvent(.warning, message) }
  public static func error(_ message: String) -> DaemonEvent { DaemonEvent(.error, message) }
}

/// Where the daemon's events go (vigild: its `Logger`, at each event's level).
public typealias DaemonEventLog = @Sendable (DaemonEvent) -> Void
