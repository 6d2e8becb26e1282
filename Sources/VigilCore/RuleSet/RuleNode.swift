/// A place in a rule file: 1-based line and column (columns count Unicode scalars, as
/// libyaml does).
public struct SourcePosition: Equatable, Hashable, Sendable, CustomStringConvertible {
  public let file: String
  public let line: Int
  public let column: Int

  public init(file: String, line: Int, column: Int) {
    self.file = file
    self.line = line
    self.column = column
  }

  public var description: String { "\(file):\(line):\(column)" }
}

/// A YAML node of a rule file, with its position, its scalars kept as the text written:
/// the loader (and plugins' item kinds) read each as the type the schema expects, so
/// YAML 1.1's guesses (`NO` as false, `0660` as 432) never apply.
public indirect enum RuleNode: Sendable {
  case scalar(Scalar)
  case sequence([RuleNode], SourcePosition)
  case mapping([Member], SourcePosition)

  public struct Scalar: Sendable {
    public enum Style: Sendable { case plain, singleQuoted, doubleQuoted, literal, folded }
    public let text: String
    public let style: Style
    public let position: SourcePosition
  }

  public struct Member: Sendable {
    public let key: String
    public let keyPosition: SourcePosition
    public let value: RuleNode
  }

  public var position: SourcePosition {
    switch self {
    case .scalar(let scalar): scalar.position
    case .sequence(_, let position), .mapping(_, let position): position
    }
  }

  /// A plain scalar YAML would read as null: empty, `~` or `null`.
  public var isNull: Bool {
    guard case .scalar(let scalar) = self, scalar.style == .plain else { return false }
    return ["", "~", "null", "Null", "NULL"].contains(scalar.text)
  }

  /// The node's content without its positions, so an item reads the same wherever it is
  /// written: each scalar with its style and length, each list and mapping in order.
  public func appendContent(to text: inout String) {
    switch self {
    case .scalar(let scalar):
      // NUL after each text: a name at its end never runs into the next token.
      text += "s\(scalar.style):\(scalar.text.utf8.count):\(scalar.text)\u{0}"
    case .sequence(let elements, _):
      text += "[\(elements.count):"
      for element in elements { element.appendContent(to: &text) }
      text += "]"
    case .mapping(let members, _):
      text += "{\(members.count):"
      for member in members {
        text += "k\(member.key.utf8.count):\(member.key)\u{0}"
        member.value.appendContent(to: &text)
      }
      text += "}"
    }
  }

  /// How messages name the node's kind.
  public var kindName: String {
    switch self {
    case .scalar(let scalar): "\"\(scalar.text.count > 40 ? String(scalar.text.prefix(40)) + "…" : scalar.text)\""
    case .sequence: "a list"
    case .mapping: "a mapping"
    }
  }
}
