/// How urgent an alert is, most urgent first.
public enum Priority: String, CaseIterable, Comparable, Sendable {
  case critical, high, medium, low, info

  /// Its place in `allCases`, 0 for `critical`: an index for counts kept by priority.
  /// (Spelt out, so that neither it nor `<` builds `allCases` for each call.)
  public var rank: Int {
    switch self {
    case .critical: 0
    case .high: 1
    case .medium: 2
    case .low: 3
    case .info: 4
    }
  }

  public static func < (lhs: Priority, rhs: Priority) -> Bool {
    lhs.rank > rhs.rank
  }
}
