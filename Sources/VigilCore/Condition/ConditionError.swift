/// A problem in a condition, at a range of its text (offsets in Unicode scalars). The rule
/// loader turns the offset into the file's line and column.
public struct ConditionError: Error, Equatable, Sendable, CustomStringConvertible {
  public let start: Int
  public let end: Int
  public let message: String
  /// Set when the problem is in the condition of this macro rather than in the text that
  /// was being compiled.
  public let macro: String?

  public init(_ start: Int, _ end: Int, _ message: String, macro: String? = nil) {
    self.start = start
    self.end = end
    self.message = message
    self.macro = macro
  }

  func inMacro(_ name: String) -> ConditionError {
    macro == nil ? ConditionError(start, end, message, macro: name) : self
  }

  public var description: String {
    (macro.map { "in macro \($0), " } ?? "") + "at \(start): \(message)"
  }
}
