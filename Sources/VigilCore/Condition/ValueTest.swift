import Foundation

/// The test a predicate applies to a field's value, prepared once from its operator and
/// literal after checking both against the field's type (docs/rules.md's operator table). On an
/// array, every test holds when SOME element passes it.
enum ValueTest {
  typealias Test = @Sendable (FieldValue) -> Bool

  /// One item of `( … )`, remembering where it came from for error messages.
  struct Item {
    let text: String
    let literal: ConditionSyntax.Literal
    /// The list it was taken from, if any.
    let list: String?
  }

  /// `fromFunction`: the value is a function's answer, which may be a list whatever the
  /// declared type (a field's value is one when its type says so).
  static func comparison(
    _ comparison: ComparisonOperator, _ literal: ConditionSyntax.Literal, type: FieldType, subject: String,
    fromFunction: Bool = false
  ) throws(ConditionError) -> Test {
    func refuse(_ reason: String) -> ConditionError {
      ConditionError(literal.start, literal.end, reason)
    }
    switch type {
    case .text where !fromFunction:
      return try textTest(comparison, literal)
    case .text, .texts:
      return anyElement(try textTest(comparison, literal))
    case .word(let allowed), .words(let allowed):
      if comparison == .equal || comparison == .notEqual {
        guard allowed.contains(literal.text) else {
          throw refuse(
            "'\(literal.text)' is not a value of \(subject), which is one of: \(allowed.joined(separator: ", "))")
        }
      }
      // A single value is tested as it is; only a list needs "some element passes".
      if case .word = type, !fromFunction { return try textTest(comparison, literal) }
      return anyElement(try textTest(comparison, literal))
    case .number:
      let number = try numeric(comparison, literal, subject: subject)
      return { value in
        guard case .number(let actual) = value else { return false }
        return compare(actual, comparison, number)
      }
    case .bool:
      let flag = try boolean(comparison, literal, subject: subject)
      return { value in
        guard case .bool(let actual) = value else { return false }
        return (actual == flag) == (comparison == .equal)
      }
    case .timestamp:
      guard ordering.contains(comparison) else {
        throw operatorMismatch(comparison, literal, type: type, subject: subject)
      }
      guard let instant = Timestamp(literal.text) else {
        throw refuse(
          "'\(literal.text)' is not a timestamp; write one like 2016-02-27T00:00:00+02:00 or a date like 2016-02-27")
      }
      return { value in
        guard case .timestamp(let actual) = value else { return false }
        return compare(actual, comparison, instant)
      }
    case .object:
      throw operatorMismatch(comparison, literal, type: type, subject: subject)
    case .dynamic:
      return try dynamic(comparison, literal)
    }
  }

  static func membership(
    _ membership: MembershipOperator, _ items: [Item], type: FieldType, subject: String, fromFunction: Bool = false
  ) throws(ConditionError) -> Test {
    switch type {
    case .text where !fromFunction:
      return textMembership(membership, items)
    case .text, .texts:
      return anyElement(textMembership(membership, items))
    case .word(let allowed), .words(let allowed):
      // Every word outside the enum, together: `in (barel_bomb, mortr)` has two slips.
      let unknown = items.filter {
        !(membership == .iin ? allowed.contains($0.text.lowercased()) : allowed.contains($0.text))
      }
      let mistakes = unknown.map { item in
        let source = item.list.map { " (from the list \($0))" } ?? ""
        return ConditionError(
          item.literal.start, item.literal.end,
          "'\(item.text)'\(source) is not a value of \(subject), which is one of: \(allowed.joined(separator: ", "))")
      }
      if let mistakes = ConditionError.together(mistakes) { throw mistakes }
      if case .word = type, !fromFunction { return textMembership(membership, items) }
      return anyElement(textMembership(membership, items))
    case .number where membership != .iin:
      var numbers: [Double] = []
      for item in items {
        guard let number = numberLiteral(item.text) else {
          throw ConditionError(
            item.literal.start, item.literal.end,
            Self.notANumber(item.text, subject: subject, type: type.name))
        }
        numbers.append(number)
      }
      let expected = numbers
      return { value in
        guard case .number(let actual) = value else { return false }
        return expected.contains(actual)
      }
    case .dynamic:
      let texts = textMembership(membership, items)
      let numbers = items.compactMap { numberLiteral($0.text) }
      return anyJSONElement { json in
        switch json {
        case .string(let string): texts(.string(string))
        case .number(let number): membership != .iin && numbers.contains(number)
        default: false
        }
      }
    default:
      let first = items[0].literal
      throw ConditionError(
        first.start, first.end,
        "'\(membership.rawValue)' does not fit \(subject), \(type.name); it takes text, enum words\(membership == .iin ? "" : " and numbers")"
      )
    }
  }

  // MARK: Text

  private static let ordering: Set<ComparisonOperator> = [
    .equal, .notEqual, .less, .lessOrEqual, .greater, .greaterOrEqual,
  ]

  /// A test on one textual value (a text, an enum word or the id).
  private static func textTest(
    _ comparison: ComparisonOperator, _ literal: ConditionSyntax.Literal
  ) throws(ConditionError) -> @Sendable (FieldValue) -> Bool {
    let expected = Array(literal.text.utf8)
    // Equality, the most common test, compares in place: no second closure to call.
    switch comparison {
    case .equal: return { value in withText(value) { $0.sameBytes(as: expected) } ?? false }
    case .notEqual: return { value in withText(value) { !$0.sameBytes(as: expected) } ?? false }
    default: break
    }
    let bytesTest: @Sendable (UnsafeBufferPointer<UInt8>) -> Bool
    switch comparison {
    case .equal: bytesTest = { $0.sameBytes(as: expected) }
    case .notEqual: bytesTest = { !$0.sameBytes(as: expected) }
    case .startswith: bytesTest = { $0.starts(with: expected) }
    case .endswith: bytesTest = { $0.count >= expected.count && UnsafeBufferPointer(rebasing: $0.suffix(expected.count)).sameBytes(as: expected) }
    case .contains: bytesTest = { contains($0, expected) }
    case .icontains:
      // Bytes of the case-folded texts, as `contains` compares bytes: a letter with a mark
      // (`لَ`, `e` + U+0301) still holds the bare letter, which Character comparison denies.
      let folded = Array(caseFolded(literal.text).utf8)
      bytesTest = { bytes in
        var text = caseFolded(String(decoding: bytes, as: UTF8.self))
        return text.withUTF8 { contains($0, folded) }
      }
    case .glob:
      let glob: Glob
      do {
        glob = try Glob(literal.text)
      } catch {
        throw ConditionError(literal.start, literal.end, "invalid glob pattern '\(literal.text)': \(error.reason)")
      }
      bytesTest = { glob.matches(String(decoding: $0, as: UTF8.self)) }
    case .matches:
      let regex = try RegularExpression(literal)
      bytesTest = { regex.matches(String(decoding: $0, as: UTF8.self)) }
    case .less, .lessOrEqual, .greater, .greaterOrEqual:
      throw ConditionError(
        literal.start, literal.end, "'\(comparison.rawValue)' compares numbers and timestamps, not text")
    }
    return { value in withText(value, bytesTest) ?? false }
  }

  private static func textMembership(_ membership: MembershipOperator, _ items: [Item])
    -> @Sendable (FieldValue) -> Bool
  {
    if membership == .iin {
      // Bytes of the case-folded texts, as `icontains` compares: `in` ignoring case, and
      // nothing else (a Set of Strings would take canonically equivalent texts as one).
      let folded = Set(items.map { Array(caseFolded($0.text).utf8) })
      return { value in
        withText(value) { bytes in
          var text = caseFolded(String(decoding: bytes, as: UTF8.self))
          return text.withUTF8 { folded.contains(Array($0)) }
        } ?? false
      }
    }
    let expected = items.map { Array($0.text.utf8) }
    return { value in withText(value) { bytes in expected.contains { bytes.sameBytes(as: $0) } } ?? false }
  }

  /// The text with case set aside in every script, as Unicode's full case folding does it
  /// for all but a few letters: upper then lower case, so `ß` and `SS` are both `ss`, and
  /// `Σ`, `σ` and a final `ς` are all `σ` (lowercasing alone keeps `ß` and `ς` apart).
  static func caseFolded(_ text: String) -> String {
    text.uppercased().lowercased()
  }

  /// Runs `body` on the UTF-8 of a textual value; nil for other values.
  private static func withText(_ value: FieldValue, _ body: (UnsafeBufferPointer<UInt8>) -> Bool) -> Bool? {
    switch value {
    case .text(let text): return text.withUTF8(body)
    case .string(let string): return string.withUTF8InPlace(body)
    default: return nil
    }
  }

  private static func contains(_ haystack: UnsafeBufferPointer<UInt8>, _ needle: [UInt8]) -> Bool {
    guard !needle.isEmpty else { return true }
    guard haystack.count >= needle.count else { return false }
    for start in 0...(haystack.count - needle.count) where haystack[start] == needle[0] {
      if UnsafeBufferPointer(rebasing: haystack[start..<start + needle.count]).sameBytes(as: needle) { return true }
    }
    return false
  }

  // MARK: Other types

  private static func numeric(
    _ comparison: ComparisonOperator, _ literal: ConditionSyntax.Literal, subject: String
  ) throws(ConditionError) -> Double {
    guard ordering.contains(comparison) else {
      throw operatorMismatch(comparison, literal, type: .number, subject: subject)
    }
    guard let number = numberLiteral(literal.text) else {
      throw ConditionError(
        literal.start, literal.end,
        Self.notANumber(literal.text, subject: subject, type: "a number field"))
    }
    return number
  }

  /// Why `text` is no number for a field of `type`: written otherwise, or too large for one.
  private static func notANumber(_ text: String, subject: String, type: String) -> String {
    let shown = text.count > 40 ? "\(text.prefix(40))…" : text
    if text.wholeMatch(of: /-?[0-9]+(\.[0-9]+)?/) != nil {
      return "'\(shown)' (\(text.count) characters) is too large a number: a number field holds at most about 1.8e308"
    }
    return "'\(shown)' is not a number (written -?digits[.digits]), and \(subject) is \(type)"
  }

  /// A number as the rule language writes it, `-?digits[.digits]` (docs/rules.md): `10`,
  /// `-3`, `0.5`. `Double` alone would also take `1e3`, `0x10`, `+5`, `.5`, `inf`, which the
  /// grammar reads as words.
  static func numberLiteral(_ text: String) -> Double? {
    var bytes = Substring(text).utf8[...]
    if bytes.first == UInt8(ascii: "-") { bytes = bytes.dropFirst() }
    let isDigit = { (byte: UInt8) in byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }
    let whole = bytes.prefix(while: isDigit)
    guard !whole.isEmpty else { return nil }
    bytes = bytes.dropFirst(whole.count)
    if bytes.first == UInt8(ascii: ".") {
      let fraction = bytes.dropFirst().prefix(while: isDigit)
      guard !fraction.isEmpty else { return nil }
      bytes = bytes.dropFirst(1 + fraction.count)
    }
    guard bytes.isEmpty, let number = Double(text), number.isFinite else { return nil }
    return number
  }

  private static func boolean(
    _ comparison: ComparisonOperator, _ literal: ConditionSyntax.Literal, subject: String
  ) throws(ConditionError) -> Bool {
    guard comparison == .equal || comparison == .notEqual else {
      throw operatorMismatch(comparison, literal, type: .bool, subject: subject)
    }
    switch (literal.kind, literal.text) {
    case (.word, "true"): return true
    case (.word, "false"): return false
    default:
      throw ConditionError(literal.start, literal.end, "\(subject) is true or false; '\(literal.text)' is neither")
    }
  }

  private static func compare<Value: Comparable>(_ actual: Value, _ comparison: ComparisonOperator, _ expected: Value)
    -> Bool
  {
    switch comparison {
    case .equal: actual == expected
    case .notEqual: actual != expected
    case .less: actual < expected
    case .lessOrEqual: actual <= expected
    case .greater: actual > expected
    case .greaterOrEqual: actual >= expected
    default: false
    }
  }

  /// `extra.*`: the value's JSON type decides, when the report is evaluated.
  private static func dynamic(
    _ comparison: ComparisonOperator, _ literal: ConditionSyntax.Literal
  ) throws(ConditionError) -> Test {
    let text: (@Sendable (FieldValue) -> Bool)? =
      ordering.contains(comparison) && comparison != .equal && comparison != .notEqual
      ? nil : try textTest(comparison, literal)
    let number = numberLiteral(literal.text)
    // As a number literal is read from its text, quoted or not, so is a flag: a string, a
    // number and a flag in the report each meet the value as the rule writes it.
    let flag: Bool? = ["true": true, "false": false][literal.text]
    return anyJSONElement { json in
      switch json {
      case .string(let string): text?(.string(string)) ?? false
      case .number(let actual): number.map { ordering.contains(comparison) && compare(actual, comparison, $0) } ?? false
      case .bool(let actual):
        flag.map { comparison == .equal ? actual == $0 : comparison == .notEqual && actual != $0 } ?? false
      default: false
      }
    }
  }

  private static func anyJSONElement(_ test: @escaping @Sendable (JSONValue) -> Bool) -> Test {
    { value in
      guard case .json(let json) = value else { return false }
      if case .array(let elements) = json { return elements.contains(where: test) }
      return test(json)
    }
  }

  private static func anyElement(_ test: @escaping @Sendable (FieldValue) -> Bool) -> Test {
    { value in
      switch value {
      case .texts(let texts): texts.contains { test(.text($0)) }
      case .weapons(let weapons): weapons.contains { test(.string($0.rawValue)) }
      case .victims(let victims): victims.contains { test(.string($0.rawValue)) }
      default: test(value)
      }
    }
  }

  private static func operatorMismatch(
    _ comparison: ComparisonOperator, _ literal: ConditionSyntax.Literal, type: FieldType, subject: String
  ) -> ConditionError {
    let fits: String =
      switch type {
      case .number, .timestamp: "=, !=, <, <=, > and >="
      case .bool: "= and !="
      case .object: "only 'exists'"
      default: "text operators"
      }
    return ConditionError(
      literal.start, literal.end, "'\(comparison.rawValue)' does not fit \(subject), \(type.name), which takes \(fits)")
  }
}

/// A regular expression (ICU syntax, as NSRegularExpression reads it), compiled once.
private struct RegularExpression: @unchecked Sendable {
  // NSRegularExpression is immutable and documented as safe to use from several threads.
  private let expression: NSRegularExpression

  init(_ literal: ConditionSyntax.Literal) throws(ConditionError) {
    // ICU takes a backslash before a letter it has no escape for as the letter itself:
    // `\K`, `\g{1}` (PCRE's and Swift's) would load and quietly match a `K` or a `g`
    // (audit 52). Refused, as a pattern ICU cannot read is.
    if let unknown = Self.unknownEscape(in: literal.text) {
      throw ConditionError(
        literal.start, literal.end,
        "invalid regular expression '\(literal.text)': \\\(unknown) is no escape of ICU's regular expressions, which "
          + "would read it as the letter \(unknown) (write \(unknown) alone, or the escape ICU has for what you meant)")
    }
    do {
      expression = try NSRegularExpression(pattern: literal.text)
    } catch {
      throw ConditionError(
        literal.start, literal.end, "invalid regular expression '\(literal.text)'\(Self.reason(literal.text))")
    }
  }

  /// The letters ICU's regular expressions have an escape for (`\d`, `\p{…}`, `\Q…\E`, …).
  static let escapeLetters = Set("aAbBcdDeEfGhHknNpPQrRsStuUvVwWxXzZ")

  /// The first letter a backslash escapes that ICU has no escape for; nil when there is
  /// none. Text between `\Q` and `\E` is literal, and `\c` takes the next character.
  static func unknownEscape(in pattern: String) -> Character? {
    var characters = pattern.makeIterator()
    var quoted = false
    while let character = characters.next() {
      guard character == "\\" else { continue }
      guard let escaped = characters.next() else { return nil }
      if quoted {
        if escaped == "E" { quoted = false }
        continue
      }
      switch escaped {
      case "Q": quoted = true
      case "c": _ = characters.next()
      case _ where escaped.isASCII && escaped.isLetter && !escapeLetters.contains(escaped): return escaped
      default: break
      }
    }
    return nil
  }

  /// Why a pattern NSRegularExpression refuses is wrong: Foundation on Linux gives no
  /// reason, so Swift's own regex parser, whose syntax is close to ICU's, is asked for one
  /// (`: expected ']'`); empty when it has none.
  private static func reason(_ pattern: String) -> String {
    do {
      _ = try Regex(pattern)
      return ""
    } catch {
      let said = "\(error)".trimmingCharacters(in: .whitespacesAndNewlines)
      return said.isEmpty || said.count > 200 ? "" : ": \(said)"
    }
  }

  func matches(_ text: String) -> Bool {
    expression.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
  }
}
