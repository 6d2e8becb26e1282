/// Why a line is not acceptable JSON (RFC 8259 plus the limits of docs/reports.md).
public struct JSONSyntaxError: Error, Equatable, Sendable, CustomStringConvertible {
  /// Byte offset in the line where the problem was found.
  public let offset: Int
  public let reason: String

  public init(offset: Int, reason: String) {
    self.offset = offset
    self.reason = reason
  }

  public var description: String { "\(reason) at byte \(offset)" }

  /// The reason given for a value nested deeper than `JSONScanner.maxDepth` levels.
  static let tooDeep = "nesting deeper than \(JSONScanner.maxDepth) levels"

  /// Whether the value was refused only for nesting too deep.
  var isTooDeep: Bool { reason == Self.tooDeep }
}
