/// Splits a condition into tokens. Positions are offsets in Unicode scalars.
struct ConditionLexer {
  private let scalars: [Unicode.Scalar]
  private var index = 0

  init(_ text: String) {
    scalars = Array(text.unicodeScalars)
  }

  /// Every token, ending with `.end`, or the first lexical error.
  static func tokens(of text: String) throws(ConditionError) -> [ConditionToken] {
    var lexer = ConditionLexer(text)
    var tokens: [ConditionToken] = []
    while true {
      let token = try lexer.next()
      tokens.append(token)
      if token.kind == .end { return tokens }
    }
  }

  mutating func next() throws(ConditionError) -> ConditionToken {
    while index < scalars.count, scalars[index].properties.isWhitespace { index += 1 }
    let start = index
    guard index < scalars.count else { return ConditionToken(kind: .end, start: start, end: start) }
    let scalar = scalars[index]
    switch scalar {
    case "(": return single(.openParenthesis)
    case ")": return single(.closeParenthesis)
    case ",": return single(.comma)
    case "=": return single(.comparison(.equal))
    case "!":
      guard index + 1 < scalars.count, scalars[index + 1] == "=" else {
        throw ConditionError(start, start + 1, "unexpected '!'; did you mean '!=' or 'not'?")
      }
      index += 2
      return ConditionToken(kind: .comparison(.notEqual), start: start, end: index)
    case "<", ">":
      index += 1
      let orEqual = index < scalars.count && scalars[index] == "="
      if orEqual { index += 1 }
      let comparison: ComparisonOperator =
        scalar == "<" ? (orEqual ? .lessOrEqual : .less) : (orEqual ? .greaterOrEqual : .greater)
      return ConditionToken(kind: .comparison(comparison), start: start, end: index)
    case "\"", "'":
      return try quoted(scalar)
    case "-" where index + 1 < scalars.count && isDigit(scalars[index + 1]):
      index += 1
      return wordOrNumber(from: start)
    default:
      guard scalar.properties.isAlphabetic || isDigit(scalar) else {
        throw ConditionError(start, start + 1, "unexpected character '\(scalar.escaped(asASCII: false))'")
      }
      return wordOrNumber(from: start)
    }
  }

  private mutating func single(_ kind: ConditionToken.Kind) -> ConditionToken {
    index += 1
    return ConditionToken(kind: kind, start: index - 1, end: index)
  }

  /// A bare word, keyword or number: letters (any script), digits and `_ - . : / +`.
  private mutating func wordOrNumber(from start: Int) -> ConditionToken {
    while index < scalars.count, isWordScalar(scalars[index]) { index += 1 }
    var text = ""
    text.unicodeScalars.append(contentsOf: scalars[start..<index])
    if isNumber(text) {
      return ConditionToken(kind: .number(text), start: start, end: index)
    }
    if let keyword = ConditionToken.Keyword(rawValue: text) {
      return ConditionToken(kind: .keyword(keyword), start: start, end: index)
    }
    return ConditionToken(kind: .word(text), start: start, end: index)
  }

  private mutating func quoted(_ quote: Unicode.Scalar) throws(ConditionError) -> ConditionToken {
    let start = index
    index += 1
    var text = ""
    while index < scalars.count {
      let scalar = scalars[index]
      if scalar == quote {
        index += 1
        return ConditionToken(kind: .quoted(text), start: start, end: index)
      }
      if scalar == "\\", index + 1 < scalars.count, scalars[index + 1] == quote || scalars[index + 1] == "\\" {
        text.unicodeScalars.append(scalars[index + 1])
        index += 2
        continue
      }
      text.unicodeScalars.append(scalar)
      index += 1
    }
    throw ConditionError(start, index, "unterminated quoted string")
  }

  private func isDigit(_ scalar: Unicode.Scalar) -> Bool {
    scalar.isASCII && scalar.properties.numericType == .decimal
  }

  private func isWordScalar(_ scalar: Unicode.Scalar) -> Bool {
    switch scalar {
    case "_", "-", ".", ":", "/", "+": true
    default:
      scalar.properties.isAlphabetic || scalar.properties.numericType == .decimal
        || scalar.properties.generalCategory == .nonspacingMark
    }
  }

  /// `-?digits[.digits]`
  private func isNumber(_ text: String) -> Bool {
    var body = Substring(text)
    if body.first == "-" { body = body.dropFirst() }
    let parts = body.split(separator: ".", omittingEmptySubsequences: false)
    guard (1...2).contains(parts.count) else { return false }
    return parts.allSatisfy {
      !$0.isEmpty && $0.unicodeScalars.allSatisfy { $0.isASCII && $0.properties.numericType == .decimal }
    }
  }
}
