/// A position in a line of JSON bytes and the scalar readers both parsers share: the
/// complete `JSONScanner` and the report parser's one-pass fast path.
struct JSONCursor {
  let bytes: UnsafeBufferPointer<UInt8>
  var index = 0

  init(bytes: UnsafeBufferPointer<UInt8>) {
    self.bytes = bytes
  }

  /// Reads a string from its opening quote to past its closing one, validating UTF-8
  /// and escapes, and says where its content is.
  mutating func scanString() throws(JSONSyntaxError) -> (start: Int, end: Int, hasEscapes: Bool) {
    index += 1
    let start = index
    var hasEscapes = false
    var nonASCII = false
    while true {
      nonASCII = skipOrdinaryBytes() || nonASCII
      guard index < bytes.count else {
        throw JSONSyntaxError(offset: start - 1, reason: "unterminated string")
      }
      let byte = bytes[index]
      if byte == UInt8(ascii: "\\") {
        hasEscapes = true
        try skipEscape()
        continue
      }
      // UTF-8 is checked once the run is known; an error there comes first in the line.
      if nonASCII { try validateUTF8(start..<index) }
      if byte == UInt8(ascii: "\"") {
        index += 1
        return (start, index - 1, hasEscapes)
      }
      throw JSONSyntaxError(
        offset: index, reason: "raw control character \(hexByte(byte)) in a string (escape it)")
    }
  }

  /// Skips bytes other than `"`, `\\` and control characters (JSONStringBytes). Says
  /// whether it may have passed a byte outside ASCII, which then needs `validateUTF8`.
  @inline(__always)
  mutating func skipOrdinaryBytes() -> Bool {
    let (end, mayBeNonASCII) = JSONStringBytes.firstSpecial(in: bytes.baseAddress!, from: index, to: bytes.count)
    index = end
    return mayBeNonASCII
  }

  /// Checks that `range` holds well-formed UTF-8 (RFC 3629: no overlong forms, no
  /// surrogates, nothing above U+10FFFF), skipping ASCII eight bytes at a time.
  func validateUTF8(_ range: Range<Int>) throws(JSONSyntaxError) {
    let base = bytes.baseAddress!
    var position = range.lowerBound
    while position < range.upperBound {
      if position + 8 <= range.upperBound,
        UnsafeRawPointer(base + position).loadUnaligned(as: UInt64.self) & 0x8080_8080_8080_8080 == 0
      {
        position += 8
        continue
      }
      let lead = bytes[position]
      if lead < 0x80 {
        position += 1
        continue
      }
      let length: Int
      var secondRange: ClosedRange<UInt8> = 0x80...0xBF
      switch lead {
      case 0xC2...0xDF: length = 2
      case 0xE0: length = 3; secondRange = 0xA0...0xBF
      case 0xE1...0xEC, 0xEE...0xEF: length = 3
      case 0xED: length = 3; secondRange = 0x80...0x9F
      case 0xF0: length = 4; secondRange = 0x90...0xBF
      case 0xF1...0xF3: length = 4
      case 0xF4: length = 4; secondRange = 0x80...0x8F
      default: throw JSONSyntaxError(offset: position, reason: "invalid UTF-8")
      }
      guard position + length <= range.upperBound, secondRange.contains(bytes[position + 1]) else {
        throw JSONSyntaxError(offset: position, reason: "invalid UTF-8")
      }
      for offset in 2..<length where bytes[position + offset] & 0xC0 != 0x80 {
        throw JSONSyntaxError(offset: position, reason: "invalid UTF-8")
      }
      position += length
    }
  }

  mutating func skipEscape() throws(JSONSyntaxError) {
    let escapeStart = index
    guard index + 1 < bytes.count else { throw unexpectedEnd() }
    switch bytes[index + 1] {
    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"),
      UInt8(ascii: "f"), UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
      index += 2
    case UInt8(ascii: "u"):
      let unit = try hexEscape(at: index)
      index += 6
      if (0xDC00...0xDFFF).contains(unit) {
        throw JSONSyntaxError(offset: escapeStart, reason: "lone low surrogate escape in a string")
      }
      if (0xD800...0xDBFF).contains(unit) {
        guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"),
          bytes[index + 1] == UInt8(ascii: "u"),
          (0xDC00...0xDFFF).contains(try hexEscape(at: index))
        else {
          throw JSONSyntaxError(
            offset: escapeStart, reason: "lone high surrogate escape in a string")
        }
        index += 6
      }
    default:
      throw JSONSyntaxError(offset: escapeStart, reason: "invalid escape in a string")
    }
  }

  /// The code unit of `\uXXXX` starting at `position`.
  func hexEscape(at position: Int) throws(JSONSyntaxError) -> UInt32 {
    guard position + 6 <= bytes.count else { throw unexpectedEnd() }
    var unit: UInt32 = 0
    for offset in 2..<6 {
      guard let digit = hexValue(bytes[position + offset]) else {
        throw JSONSyntaxError(offset: position, reason: "invalid \\u escape in a string")
      }
      unit = unit << 4 | digit
    }
    return unit
  }

  /// Reads a number and gives its value, correctly rounded.
  mutating func scanNumber() throws(JSONSyntaxError) -> Double {
    let start = index
    let negative = bytes[index] == UInt8(ascii: "-")
    if negative { index += 1 }
    // Significant digits (leading zeros excluded) and their value while it fits.
    var mantissa: UInt64 = 0
    var significantDigits = 0
    guard index < bytes.count, isDigit(bytes[index]) else {
      throw JSONSyntaxError(offset: start, reason: "invalid number: expected a digit")
    }
    if bytes[index] == UInt8(ascii: "0") {
      index += 1
      if index < bytes.count, isDigit(bytes[index]) {
        throw JSONSyntaxError(offset: start, reason: "invalid number: leading zero")
      }
    } else {
      while index < bytes.count, isDigit(bytes[index]) {
        accumulateDigit(&mantissa, &significantDigits)
      }
    }
    var fractionDigits = 0
    if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
      index += 1
      guard index < bytes.count, isDigit(bytes[index]) else {
        throw JSONSyntaxError(offset: start, reason: "invalid number: expected a digit after '.'")
      }
      while index < bytes.count, isDigit(bytes[index]) {
        accumulateDigit(&mantissa, &significantDigits)
        fractionDigits += 1
      }
    }
    var exponent = 0
    // An exponent past 100,000 is kept at that: only the exact parse below may read it, since
    // so many fraction digits could otherwise cancel the part kept (0.000…1e1000000).
    var exponentCut = false
    if index < bytes.count, bytes[index] | 0x20 == UInt8(ascii: "e") {
      index += 1
      var exponentNegative = false
      if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
        exponentNegative = bytes[index] == UInt8(ascii: "-")
        index += 1
      }
      guard index < bytes.count, isDigit(bytes[index]) else {
        throw JSONSyntaxError(
          offset: start, reason: "invalid number: expected a digit in the exponent")
      }
      while index < bytes.count, isDigit(bytes[index]) {
        if exponent < 100_000 { exponent = exponent * 10 + Int(bytes[index] &- 48) } else { exponentCut = true }
        index += 1
      }
      if exponentNegative { exponent = -exponent }
    }
    var value: Double
    let power = exponent - fractionDigits
    if significantDigits <= 15, !exponentCut, (-22...22).contains(power) {
      // Clinger's fast path: both operands are exact, so one IEEE operation rounds correctly.
      value = Double(mantissa)
      value = power < 0 ? value / powersOfTen[-power] : value * powersOfTen[power]
      if negative { value = -value }
    } else {
      let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
      guard let parsed = Double(text) else {
        throw JSONSyntaxError(offset: start, reason: "invalid number")
      }
      value = parsed
    }
    guard value.isFinite else {
      throw JSONSyntaxError(offset: start, reason: "number does not fit a 64-bit float")
    }
    return value
  }

  mutating func accumulateDigit(_ mantissa: inout UInt64, _ significantDigits: inout Int) {
    let digit = UInt64(bytes[index] &- 48)
    if significantDigits > 0 || digit != 0 {
      if significantDigits < 19 { mantissa = mantissa &* 10 &+ digit }
      significantDigits += 1
    }
    index += 1
  }

  mutating func scanLiteral(_ word: StaticString) throws(JSONSyntaxError) {
    let length = word.utf8CodeUnitCount
    let start = index
    guard index + length <= bytes.count else { throw unexpectedLiteral(start) }
    let expected = word.utf8Start
    for offset in 0..<length where bytes[index + offset] != expected[offset] {
      throw unexpectedLiteral(start)
    }
    index += length
  }

  @inline(__always)
  mutating func skipWhitespace() {
    while index < bytes.count {
      switch bytes[index] {
      case 0x20, 0x0A, 0x0D, 0x09: index += 1
      default: return
      }
    }
  }

  func isDigit(_ byte: UInt8) -> Bool { byte &- 48 < 10 }

  func hexValue(_ byte: UInt8) -> UInt32? {
    switch byte {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt32(byte - 48)
    case UInt8(ascii: "a")...UInt8(ascii: "f"): UInt32(byte - 87)
    case UInt8(ascii: "A")...UInt8(ascii: "F"): UInt32(byte - 55)
    default: nil
    }
  }

  func unexpectedEnd() -> JSONSyntaxError {
    JSONSyntaxError(offset: bytes.count, reason: "unexpected end of the line")
  }

  func unexpectedLiteral(_ start: Int) -> JSONSyntaxError {
    JSONSyntaxError(offset: start, reason: "unexpected characters, expected a JSON value")
  }

  func unexpectedByte(expecting: String) -> JSONSyntaxError {
    let byte = bytes[index]
    // A byte-order mark (an editor's, or a file saved as "UTF-8 with BOM") is said as one.
    if byte == 0xEF, index + 2 < bytes.count, bytes[index + 1] == 0xBB, bytes[index + 2] == 0xBF {
      return JSONSyntaxError(
        offset: index, reason: "unexpected byte-order mark (U+FEFF: save the file as UTF-8 without one), expected \(expecting)")
    }
    if byte >= 0x80 {
      // A character pasted from a word processor or a chat is named, with what JSON wants.
      var iterator = bytes[index..<min(index + 4, bytes.count)].makeIterator()
      var decoder = UTF8()
      guard case .scalarValue(let scalar) = decoder.decode(&iterator) else {
        return JSONSyntaxError(offset: index, reason: "unexpected byte \(hexByte(byte)), expected \(expecting)")
      }
      let name = scalar.properties.name.map { " \($0)" } ?? ""
      let code = "U+" + String(scalar.value, radix: 16, uppercase: true).leftPadded(to: 4)
      let visible = !scalar.properties.isWhitespace && !scalar.properties.isDefaultIgnorableCodePoint
      let shown = visible ? "'\(scalar)' (\(code)\(name))" : "\(code)\(name)"
      let hint =
        Self.typographicQuotes.contains(scalar.value)
        ? ": JSON's quotes are the straight \" (0x22)"
        : scalar.properties.isWhitespace ? ": JSON's white space is space, tab, CR and LF only" : ""
      return JSONSyntaxError(offset: index, reason: "unexpected character \(shown), expected \(expecting)\(hint)")
    }
    let shown = byte < 0x20 || byte == 0x7F ? hexByte(byte) : "'\(Character(Unicode.Scalar(byte)))'"
    return JSONSyntaxError(offset: index, reason: "unexpected \(shown), expected \(expecting)")
  }

  /// “ ” „ ‟ ‘ ’ ‚ ‛ « » ＂ ″: what word processors and phones put for a typed `"`.
  static let typographicQuotes: Set<UInt32> = [
    0x201C, 0x201D, 0x201E, 0x201F, 0x2018, 0x2019, 0x201A, 0x201B, 0x00AB, 0x00BB, 0xFF02, 0x2033,
  ]

  func hexByte(_ byte: UInt8) -> String {
    let digits = Array("0123456789ABCDEF")
    return "0x\(digits[Int(byte >> 4)])\(digits[Int(byte & 0xF)])"
  }
}

/// 10^0 through 10^22, each exact in a `Double`. Literals, so the compiler lays the array
/// out in the binary: made by a closure, every number a report holds read it through
/// `swift_once`.
let powersOfTen: [Double] = [
  1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19,
  1e20, 1e21, 1e22,
]

extension String {
  /// Zeros before it up to `width` characters: `A0` as `00A0`.
  fileprivate func leftPadded(to width: Int) -> String {
    String(repeating: "0", count: max(0, width - count)) + self
  }
}
