/// A problem in a condition, at a range of its text (offsets in Unicode scalars). The rule
/// loader turns the offset into the file's line and column.
public struct ConditionError: Error, Equatable, Sendable, CustomStringConvertible {
  public let start: Int
  public let end: Int
  public let message: String
  /// Set when the problem is in the condition of this macro rather than in the text that
  /// was being compiled.
  public let macro: String?
  /// The problems found beside this one in other operands of the same `and` or `or`: a
  /// condition's errors are said together, not one per round of editing.
  public var also: [ConditionError] = []

  /// This problem and those found beside it.
  public var all: [ConditionError] {
    var first = self
    first.also = []
    return [first] + also
  }

  public init(_ start: Int, _ end: Int, _ message: String, macro: String? = nil) {
    self.start = start
    self.end = end
    self.message = message
    self.macro = macro
  }

  func inMacro(_ name: String) -> ConditionError {
    var moved = macro == nil ? ConditionError(start, end, message, macro: name) : self
    moved.also = also.map { $0.inMacro(name) }
    return moved
  }

  /// The first of `errors`, carrying the others (nil when there are none).
  static func together(_ errors: [ConditionError]) -> ConditionError? {
    guard var first = errors.first else { return nil }
    first.also = Array(errors.dropFirst())
    return first
  }

  public var description: String {
    (macro.map { "in macro \($0), " } ?? "") + "at \(start): \(message)"
  }
}
