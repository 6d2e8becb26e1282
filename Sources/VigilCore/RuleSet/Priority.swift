/// How urgent an alert is, most urgent first.
public enum Priority: String, CaseIterable, Comparable, Sendable {
  case critical, high, medium, low, info

  public static func < (lhs: Priority, rhs: Priority) -> Bool {
    allCases.firstIndex(of: lhs)! > allCases.firstIndex(of: rhs)!
  }
}
