/// Splits a condition into tokens. Positions are offsets in Unicode scalars.
struct ConditionLexer {
  private let text: String
  private let scalars: [Unicode.Scalar]
  /// Where each scalar starts in `text` (and, last, where the text ends), so tokens are
  /// cut out as slices rather than rebuilt scalar by scalar.
  private let indices: [String.Index]
  private var index = 0

  init(_ text: String) {
    self.text = text
    scalars = Array(text.unicodeScalars)
    indices = Array(text.unicodeScalars.indices) + [text.endIndex]
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
      // A bare word starts with a letter or a digit of any script, as it may continue.
      guard scalar.properties.isAlphabetic || scalar.properties.numericType == .decimal else {
        throw ConditionError(start, start + 1, "unexpected character \(Self.shown(scalar))")
      }
      return wordOrNumber(from: start)
    }
  }

  /// A character as an error names it: quoted when it can be seen, else by its code point
  /// and name (a zero-width space pasted from a document shows as nothing between quotes).
  static func shown(_ scalar: Unicode.Scalar) -> String {
    let invisible: Set<Unicode.GeneralCategory> = [
      .control, .format, .spaceSeparator, .lineSeparator, .paragraphSeparator, .nonspacingMark, .enclosingMark,
      .unassigned, .privateUse, .surrogate,
    ]
    guard invisible.contains(scalar.properties.generalCategory) || scalar.properties.isDefaultIgnorableCodePoint else {
      return "'\(scalar)'"
    }
    let hex = String(scalar.value, radix: 16, uppercase: true)
    let code = "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
    return scalar.properties.name.map { "\(code) (\($0), which cannot be seen)" } ?? "\(code) (which cannot be seen)"
  }

  private mutating func single(_ kind: ConditionToken.Kind) -> ConditionToken {
    index += 1
    return ConditionToken(kind: kind, start: index - 1, end: index)
  }

  /// A bare word, keyword or number: letters (any script), digits and `_ - . : / +`.
  private mutating func wordOrNumber(from start: Int) -> ConditionToken {
    while index < scalars.count, Self.isWordScalar(scalars[index]) { index += 1 }
    let text = String(self.text.unicodeScalars[indices[start]..<indices[index]])
    if isNumber(scalars[start..<index]) {
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

  static func isWordScalar(_ scalar: Unicode.Scalar) -> Bool {
    switch scalar {
    case "_", "-", ".", ":", "/", "+", "a"..."z", "A"..."Z", "0"..."9": true
    case _ where scalar.isASCII: false
    default:
      scalar.properties.isAlphabetic || scalar.properties.numericType == .decimal
        || scalar.properties.generalCategory == .nonspacingMark
    }
  }

  /// `-?digits[.digits]`
  private func isNumber(_ word: ArraySlice<Unicode.Scalar>) -> Bool {
    var digits = word.first == "-" ? word.dropFirst() : word
    var sawDot = false
    var run = 0
    while let scalar = digits.popFirst() {
      if scalar == "." {
        guard !sawDot, run > 0 else { return false }
        sawDot = true
        run = 0
      } else if "0"..."9" ~= scalar {
        run += 1
      } else {
        return false
      }
    }
    return run > 0
  }
}
