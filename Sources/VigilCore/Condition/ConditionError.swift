/// A problem in a condition, at a range of its text (offsets in Unicode scalars). The rule
/// loader turns the offset into the file's line and column.
public struct ConditionError: Error, Equatable, Sendable, CustomStringConvertible {
  public let start: Int
  public let end: Int
  public let message: String

  public init(_ start: Int, _ end: Int, _ message: String) {
    self.start = start
    self.end = end
    self.message = message
  }

  public var description: String { "at \(start): \(message)" }
}
