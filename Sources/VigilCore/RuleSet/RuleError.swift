/// One problem in a rule set, at its place in a rule file.
public struct RuleError: Error, Equatable, Sendable, CustomStringConvertible {
  public enum Kind: String, Sendable {
    /// Something wrong in how the set is written.
    case definition
    /// A rule's example that does not give the answer it claims.
    case example
  }

  public let position: SourcePosition
  public let message: String
  public let kind: Kind

  public init(_ position: SourcePosition, _ message: String, kind: Kind = .definition) {
    self.position = position
    self.message = message
    self.kind = kind
  }

  /// `file:line:column: message`; a problem with no place in a file (a directory that
  /// cannot be read) is its message alone, and so is one about a whole file whose message
  /// names it already ("cannot read the rule file Rules/x.yaml: …").
  public var description: String {
    if position.file.isEmpty || (position.line == 0 && message.contains(position.file)) { return message }
    return position.line == 0 ? "\(position.file): \(message)" : "\(position): \(message)"
  }
}

/// Every problem found while loading a rule set; the set is rejected as a whole.
public struct RuleSetErrors: Error, Equatable, Sendable, CustomStringConvertible {
  public let errors: [RuleError]
  /// What the load would have warned about, had the set been accepted.
  public let warnings: [RuleError]

  public init(errors: [RuleError], warnings: [RuleError] = []) {
    self.errors = errors
    self.warnings = warnings
  }

  public var description: String { errors.map(\.description).joined(separator: "\n") }
}
