/// One problem in a rule set, at its place in a rule file.
public struct RuleError: Error, Equatable, Sendable, CustomStringConvertible {
  public let position: SourcePosition
  public let message: String

  public init(_ position: SourcePosition, _ message: String) {
    self.position = position
    self.message = message
  }

  public var description: String { "\(position): \(message)" }
}

/// Every problem found while loading a rule set; the set is rejected as a whole.
public struct RuleSetErrors: Error, Equatable, Sendable, CustomStringConvertible {
  public let errors: [RuleError]

  public var description: String { errors.map(\.description).joined(separator: "\n") }
}
