/// Parses a condition (docs/rules.md grammar): `not` binds tighter than `and`, which binds
/// tighter than `or`; both are left-associative; parentheses group.
public struct ConditionParser {
  /// Deeper nesting is refused, so no condition can exhaust the stack.
  public static let maxDepth = 64

  private let tokens: [ConditionToken]
  private var position = 0
  private var depth = 0

  public static func parse(_ text: String) throws(ConditionError) -> ConditionSyntax {
    var parser = ConditionParser(tokens: try ConditionLexer.tokens(of: text))
    guard parser.current.kind != .end else {
      throw ConditionError(0, 0, "the condition is empty")
    }
    do throws(ConditionError) {
      let condition = try parser.parseOr()
      guard parser.current.kind == .end else {
        let token = parser.current
        throw ConditionError(
          token.start, token.end, "unexpected \(describe(token)) after a complete condition; expected 'and' or 'or'")
      }
      return condition
    } catch {
      throw parser.keywordInOtherCase(near: error) ?? error
    }
  }

  /// A keyword written in capitals (`AND`, `NOT`, `IN`) is a bare word — a field, a macro or a
  /// value (`origin_country in (IN, NO)`) — so it is taken for a keyword only when the parse
  /// fails at it or just after it; then that is what is said.
  private func keywordInOtherCase(near error: ConditionError) -> ConditionError? {
    guard let at = tokens.lastIndex(where: { $0.start <= error.start }) else { return nil }
    // The word the parse failed at, or one just before it that began an operand (`NOT type`):
    // not a value after an operator (`origin_country = IN foo` lacks an `and`).
    let beganOperand = { (index: Int) in
      index == 0 || [.keyword(.and), .keyword(.or), .keyword(.not), .openParenthesis].contains(tokens[index - 1].kind)
    }
    let candidates = [at] + (at > 0 && beganOperand(at - 1) ? [at - 1] : [])
    for token in candidates.map({ tokens[$0] }) {
      guard case .word(let word) = token.kind, let keyword = ConditionToken.Keyword(rawValue: word.lowercased())
      else { continue }
      return ConditionError(
        token.start, token.end,
        "'\(word)' is read as a name, not as the keyword '\(keyword.rawValue)': keywords are written in lower case")
    }
    return nil
  }

  private init(tokens: [ConditionToken]) {
    self.tokens = tokens
  }

  private var current: ConditionToken { tokens[position] }

  private mutating func advance() -> ConditionToken {
    let token = tokens[position]
    if position < tokens.count - 1 { position += 1 }
    return token
  }

  // MARK: Boolean structure

  private mutating func parseOr() throws(ConditionError) -> ConditionSyntax {
    var operands = [try parseAnd()]
    while current.kind == .keyword(.or) {
      let keyword = advance()
      operands.append(try parseAnd(after: keyword))
    }
    return operands.count == 1 ? operands[0] : .or(operands)
  }

  private mutating func parseAnd(after keyword: ConditionToken? = nil) throws(ConditionError) -> ConditionSyntax {
    var operands = [try parseUnary(after: keyword)]
    while current.kind == .keyword(.and) {
      let keyword = advance()
      operands.append(try parseUnary(after: keyword))
    }
    return operands.count == 1 ? operands[0] : .and(operands)
  }

  private mutating func parseUnary(after keyword: ConditionToken?) throws(ConditionError) -> ConditionSyntax {
    depth += 1
    defer { depth -= 1 }
    // The levels are the parentheses and `not`s: 64 of them around a predicate, which is
    // one call deeper.
    guard depth <= Self.maxDepth + 1 else {
      throw ConditionError(current.start, current.end, "the condition nests deeper than \(Self.maxDepth) levels")
    }
    let token = current
    switch token.kind {
    case .keyword(.not):
      let not = advance()
      return .not(try parseUnary(after: not))
    case .openParenthesis:
      _ = advance()
      // Named by what follows it: an offset into the condition means nothing to its author,
      // whose error is placed by line and column in the file.
      let first = current
      let inner = try parseOr()
      guard current.kind == .closeParenthesis else {
        throw ConditionError(
          current.start, current.end,
          "expected ')' to close the '(' before \(Self.describe(first)), got \(Self.describe(current))")
      }
      _ = advance()
      return inner
    case .word(let text):
      _ = advance()
      let name = ConditionSyntax.Name(text: text, start: token.start, end: token.end)
      if current.kind == .openParenthesis {
        let call = try parseCall(name)
        return try parsePredicate(subject: .call(call), start: token.start) ?? .call(call)
      }
      return try parsePredicate(subject: .field(name), start: token.start) ?? .reference(name)
    default:
      let what = keyword.map { "after '\(Self.text(of: $0))'" } ?? "at the start"
      throw ConditionError(
        token.start, token.end,
        "expected an operand \(what) (a field, a macro, 'not' or '('), got \(Self.describe(token))")
    }
  }

  // MARK: Predicates

  /// The test after a subject, or nil when none follows (a macro or a bool call).
  private mutating func parsePredicate(
    subject: ConditionSyntax.Subject, start: Int
  ) throws(ConditionError) -> ConditionSyntax? {
    let token = current
    switch token.kind {
    case .keyword(.exists):
      _ = advance()
      return .predicate(.init(subject: subject, test: .exists, start: start, end: token.end))
    case .comparison(let comparison):
      _ = advance()
      return try compare(subject, comparison, operatorToken: token, start: start)
    case .keyword(let keyword):
      if let comparison = ComparisonOperator(rawValue: keyword.rawValue) {
        _ = advance()
        return try compare(subject, comparison, operatorToken: token, start: start)
      }
      if let membership = MembershipOperator(rawValue: keyword.rawValue) {
        _ = advance()
        let (items, end) = try parseItems(after: token)
        return .predicate(.init(subject: subject, test: .member(membership, items), start: start, end: end))
      }
      return nil
    default:
      return nil
    }
  }

  private mutating func compare(
    _ subject: ConditionSyntax.Subject, _ comparison: ComparisonOperator, operatorToken: ConditionToken, start: Int
  ) throws(ConditionError) -> ConditionSyntax {
    guard let literal = literal(current) else {
      throw ConditionError(
        current.start, current.end,
        "expected a value after '\(Self.text(of: operatorToken))', got \(Self.describe(current))")
    }
    _ = advance()
    return .predicate(.init(subject: subject, test: .compare(comparison, literal), start: start, end: literal.end))
  }

  /// `( item, item, … )` after `in`, `iin` or `intersects`.
  private mutating func parseItems(after keyword: ConditionToken) throws(ConditionError) -> (
    [ConditionSyntax.Literal], Int
  ) {
    guard current.kind == .openParenthesis else {
      throw ConditionError(
        current.start, current.end, "expected '(' after '\(Self.text(of: keyword))', got \(Self.describe(current))")
    }
    _ = advance()
    var items: [ConditionSyntax.Literal] = []
    while true {
      guard let item = literal(current) else {
        throw ConditionError(
          current.start, current.end, "expected a value or a list name in '( … )', got \(Self.describe(current))")
      }
      items.append(item)
      _ = advance()
      if current.kind == .comma {
        _ = advance()
        continue
      }
      guard current.kind == .closeParenthesis else {
        throw ConditionError(
          current.start, current.end, "expected ',' or ')' in the list, got \(Self.describe(current))")
      }
      return (items, advance().end)
    }
  }

  private mutating func parseCall(_ function: ConditionSyntax.Name) throws(ConditionError) -> ConditionSyntax.Call {
    _ = advance()  // (
    var arguments: [ConditionSyntax.Argument] = []
    if current.kind == .closeParenthesis {
      return ConditionSyntax.Call(function: function, arguments: [], end: advance().end)
    }
    while true {
      let token = current
      switch token.kind {
      case .word(let text):
        arguments.append(.word(.init(text: text, start: token.start, end: token.end)))
      default:
        guard let literal = literal(token) else {
          throw ConditionError(
            token.start, token.end,
            "expected an argument to \(function.text)(…) (a field or a value), got \(Self.describe(token))")
        }
        arguments.append(.literal(literal))
      }
      _ = advance()
      if current.kind == .comma {
        _ = advance()
        continue
      }
      guard current.kind == .closeParenthesis else {
        throw ConditionError(
          current.start, current.end,
          "expected ',' or ')' after an argument to \(function.text)(…), got \(Self.describe(current))")
      }
      return ConditionSyntax.Call(function: function, arguments: arguments, end: advance().end)
    }
  }

  private func literal(_ token: ConditionToken) -> ConditionSyntax.Literal? {
    switch token.kind {
    case .word(let text): .init(kind: .word, text: text, start: token.start, end: token.end)
    case .number(let text): .init(kind: .number, text: text, start: token.start, end: token.end)
    case .quoted(let text): .init(kind: .quoted, text: text, start: token.start, end: token.end)
    default: nil
    }
  }

  // MARK: Messages

  static func text(of token: ConditionToken) -> String {
    switch token.kind {
    case .word(let text), .number(let text): text
    case .quoted(let text): "\"\(text)\""
    case .comparison(let comparison): comparison.rawValue
    case .keyword(let keyword): keyword.rawValue
    case .openParenthesis: "("
    case .closeParenthesis: ")"
    case .comma: ","
    case .end: ""
    }
  }

  static func describe(_ token: ConditionToken) -> String {
    token.kind == .end ? "the end of the condition" : "'\(text(of: token))'"
  }
}
