/// A condition as written, before names are resolved and types checked. Every piece knows
/// where it is in the condition's text (offsets in Unicode scalars), for error messages.
public indirect enum ConditionSyntax: Equatable, Sendable {
  case or([ConditionSyntax])
  case and([ConditionSyntax])
  case not(ConditionSyntax)
  case predicate(Predicate)
  /// A bare name standing alone: a macro.
  case reference(Name)
  /// A function call standing alone: a function that answers true or false.
  case call(Call)

  public struct Name: Equatable, Sendable {
    public let text: String
    public let start: Int
    public let end: Int
  }

  public struct Call: Equatable, Sendable {
    public let function: Name
    public let arguments: [Argument]
    public let end: Int
  }

  public enum Argument: Equatable, Sendable {
    /// A bare word: a field path if the schema knows it, else a literal.
    case word(Name)
    case literal(Literal)
  }

  public struct Literal: Equatable, Sendable {
    public enum Kind: Equatable, Sendable { case number, word, quoted }
    public let kind: Kind
    /// As written (quoted: without quotes, unescaped).
    public let text: String
    public let start: Int
    public let end: Int
  }

  public enum Subject: Equatable, Sendable {
    case field(Name)
    case call(Call)
  }

  public enum Test: Equatable, Sendable {
    case exists
    case compare(ComparisonOperator, Literal)
    /// `in`, `iin`, `intersects`: items are literals; a bare word may also name a list.
    case member(MembershipOperator, [Literal])
  }

  public struct Predicate: Equatable, Sendable {
    public let subject: Subject
    public let test: Test
    public let start: Int
    public let end: Int
  }
}

public enum MembershipOperator: String, Sendable, CaseIterable {
  case `in`, iin, intersects
}
