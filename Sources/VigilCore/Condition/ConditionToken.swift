/// One token of a condition (docs/rules.md, "Conditions"), with where it starts and ends in the
/// condition's text, counted in Unicode scalars (as YAML counts columns).
struct ConditionToken: Equatable, Sendable {
  enum Kind: Equatable, Sendable {
    /// A bare word: a field path, a list, macro or function name, or a literal.
    case word(String)
    /// A number literal `-?digits[.digits]`, kept as written.
    case number(String)
    /// A quoted literal, unescaped.
    case quoted(String)
    case comparison(ComparisonOperator)
    case keyword(Keyword)
    case openParenthesis, closeParenthesis, comma
    case end
  }

  enum Keyword: String, CaseIterable, Sendable {
    case and, or, not, exists, `in`, iin, intersects
    case contains, icontains, startswith, endswith, glob, matches
  }

  let kind: Kind
  let start: Int
  let end: Int
}

/// The binary operators of a predicate.
public enum ComparisonOperator: String, Sendable, CaseIterable {
  case equal = "="
  case notEqual = "!="
  case less = "<"
  case lessOrEqual = "<="
  case greater = ">"
  case greaterOrEqual = ">="
  case contains, icontains, startswith, endswith, glob, matches
}
