/// A strict JSON parser that turns one line of bytes into a `JSONTape`.
///
/// Written by hand because parsing is the daemon's hot path: Foundation's
/// `JSONSerialization` manages about 116,000 of the generator's reports per second on one
/// core here and `JSONDecoder` about 250,000 for a three-field struct, against a target
/// of 500,000 for parse + validate (see `bench/run-parse` for this parser's figure).
///
/// It enforces RFC 8259 and the extra rules of REPORTS.md: valid UTF-8 (no overlong forms,
/// no surrogates), no raw control characters in strings, no lone surrogate escapes, no
/// duplicate keys within an object, numbers that fit a 64-bit float, and at most
/// `maxDepth` levels of nesting. It never recurses, so no input can overflow the stack.
public enum JSONScanner {
  public static let maxDepth = 64

  public static func scan(_ bytes: UnsafeBufferPointer<UInt8>) throws(JSONSyntaxError) -> JSONTape {
    var parser = Parser(bytes: bytes)
    do {
      try parser.parseDocument()
    } catch {
      parser.nodes.deallocate()
      throw error
    }
    return JSONTape(nodes: parser.nodes, count: parser.nodeCount)
  }

  public static func scan(_ bytes: [UInt8]) throws(JSONSyntaxError) -> JSONTape {
    let result: Result<JSONTape, JSONSyntaxError> = bytes.withUnsafeBufferPointer { buffer in
      Result { () throws(JSONSyntaxError) in try scan(buffer) }
    }
    return try result.get()
  }
}

private struct Parser {
  let bytes: UnsafeBufferPointer<UInt8>
  var index = 0
  /// The tape under construction; handed to `JSONTape`, which frees it.
  var nodes: UnsafeMutablePointer<JSONTape.Node>
  var nodeCount = 0
  var nodeCapacity: Int
  /// Tape indices of the containers that are open, innermost last.
  var open: [Int32] = []

  init(bytes: UnsafeBufferPointer<UInt8>) {
    self.bytes = bytes
    nodeCapacity = max(16, bytes.count / 6)
    nodes = .allocate(capacity: nodeCapacity)
    open.reserveCapacity(16)
  }

  mutating func parseDocument() throws(JSONSyntaxError) {
    guard bytes.count < Int(Int32.max) else {
      throw JSONSyntaxError(offset: 0, reason: "the text is larger than 2 GiB")
    }
    while true {
      while try parseValue() {}
      try finishValues()
      if open.isEmpty { return }
    }
  }

  /// Parses one value. Returns true when it opened a non-empty container, whose first
  /// value is due next: the caller loops instead of this function recursing.
  mutating func parseValue() throws(JSONSyntaxError) -> Bool {
    skipWhitespace()
    guard index < bytes.count else { throw unexpectedEnd() }
    if let parent = open.last, nodes[Int(parent)].kind == .array {
      nodes[Int(parent)].count += 1
    }
    switch bytes[index] {
    case UInt8(ascii: "{"):
      try openContainer(.object)
      skipWhitespace()
      if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
        index += 1
        try closeContainer()
        return false
      }
      try parseKey()
      return true
    case UInt8(ascii: "["):
      try openContainer(.array)
      skipWhitespace()
      if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
        index += 1
        try closeContainer()
        return false
      }
      return true
    case UInt8(ascii: "\""):
      try parseString()
    case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
      try parseNumber()
    case UInt8(ascii: "t"):
      try parseLiteral("true", .true)
    case UInt8(ascii: "f"):
      try parseLiteral("false", .false)
    case UInt8(ascii: "n"):
      try parseLiteral("null", .null)
    default:
      throw unexpectedByte(expecting: "a JSON value")
    }
    return false
  }

  /// After a value: consumes `,` (and the next key) or closing brackets until a new value
  /// is due or the document is complete.
  mutating func finishValues() throws(JSONSyntaxError) {
    while true {
      skipWhitespace()
      guard let top = open.last else {
        if index != bytes.count {
          throw unexpectedByte(expecting: "the end of the line after the JSON value")
        }
        return
      }
      guard index < bytes.count else { throw unexpectedEnd() }
      let isObject = nodes[Int(top)].kind == .object
      switch bytes[index] {
      case UInt8(ascii: ","):
        index += 1
        if isObject {
          skipWhitespace()
          try parseKey()
        }
        return
      case UInt8(ascii: "}") where isObject, UInt8(ascii: "]") where !isObject:
        index += 1
        try closeContainer()
      default:
        throw unexpectedByte(expecting: isObject ? "',' or '}'" : "',' or ']'")
      }
    }
  }

  // MARK: Containers

  mutating func openContainer(_ kind: JSONTape.Kind) throws(JSONSyntaxError) {
    guard open.count < JSONScanner.maxDepth else {
      throw JSONSyntaxError(
        offset: index, reason: "nesting deeper than \(JSONScanner.maxDepth) levels")
    }
    open.append(Int32(nodeCount))
    append(kind, start: index, end: index)
    index += 1
  }

  mutating func closeContainer() throws(JSONSyntaxError) {
    let position = Int(open.removeLast())
    nodes[position].end = Int32(index)
    nodes[position].next = Int32(nodeCount)
    if nodes[position].kind == .object {
      try rejectDuplicateKeys(inObjectAt: position)
    }
  }

  /// Parses `"key"` and the `:` after it, counting the member.
  mutating func parseKey() throws(JSONSyntaxError) {
    guard index < bytes.count else { throw unexpectedEnd() }
    guard bytes[index] == UInt8(ascii: "\"") else {
      throw unexpectedByte(expecting: "a key in double quotes")
    }
    let object = Int(open[open.count - 1])
    nodes[object].count += 1
    try parseString()
    let key = nodeCount - 1
    nodes[key].payload = Self.keyHash(nodes[key], in: bytes)
    skipWhitespace()
    guard index < bytes.count else { throw unexpectedEnd() }
    guard bytes[index] == UInt8(ascii: ":") else {
      throw unexpectedByte(expecting: "':' after the key")
    }
    index += 1
  }

  // MARK: Scalars

  mutating func parseString() throws(JSONSyntaxError) {
    index += 1
    let start = index
    var hasEscapes = false
    while index < bytes.count {
      skipPlainASCII()
      guard index < bytes.count else { break }
      let byte = bytes[index]
      if byte == UInt8(ascii: "\"") {
        append(.string, start: start, end: index, hasEscapes: hasEscapes)
        index += 1
        return
      } else if byte == UInt8(ascii: "\\") {
        hasEscapes = true
        try skipEscape()
      } else if byte < 0x20 {
        throw JSONSyntaxError(
          offset: index, reason: "raw control character \(hexByte(byte)) in a string (escape it)")
      } else if byte < 0x80 {
        index += 1
      } else {
        try skipMultiByteScalar()
      }
    }
    throw JSONSyntaxError(offset: start - 1, reason: "unterminated string")
  }

  /// Skips printable ASCII other than `"` and `\\`, eight bytes at a time (SWAR: each
  /// test sets the high bit of the byte lanes that need a closer look; the lowest such
  /// lane is exact, so its position is where the plain run ends).
  mutating func skipPlainASCII() {
    let base = bytes.baseAddress!
    let ones: UInt64 = 0x0101_0101_0101_0101
    let highBits: UInt64 = 0x8080_8080_8080_8080
    while index + 8 <= bytes.count {
      let word = UInt64(littleEndian: UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self))
      let quote = word ^ (ones &* 0x22)
      let backslash = word ^ (ones &* 0x5C)
      let special =
        (((quote &- ones) & ~quote) | ((backslash &- ones) & ~backslash)
          | ((word &- ones &* 0x20) & ~word) | word) & highBits
      if special != 0 {
        index += special.trailingZeroBitCount >> 3
        return
      }
      index += 8
    }
    while index < bytes.count {
      let byte = bytes[index]
      guard byte >= 0x20, byte < 0x80, byte != UInt8(ascii: "\""), byte != UInt8(ascii: "\\") else { return }
      index += 1
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

  /// One UTF-8 sequence of 2 to 4 bytes, per RFC 3629's table of well-formed sequences.
  mutating func skipMultiByteScalar() throws(JSONSyntaxError) {
    let lead = bytes[index]
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
    default: throw invalidUTF8()
    }
    guard index + length <= bytes.count, secondRange.contains(bytes[index + 1]) else {
      throw invalidUTF8()
    }
    for offset in 2..<length where bytes[index + offset] & 0xC0 != 0x80 {
      throw invalidUTF8()
    }
    index += length
  }

  mutating func parseNumber() throws(JSONSyntaxError) {
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
        if exponent < 100_000 { exponent = exponent * 10 + Int(bytes[index] &- 48) }
        index += 1
      }
      if exponentNegative { exponent = -exponent }
    }
    var value: Double
    let power = exponent - fractionDigits
    if significantDigits <= 15, (-22...22).contains(power) {
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
    append(.number, start: start, end: index, payload: value.bitPattern)
  }

  mutating func accumulateDigit(_ mantissa: inout UInt64, _ significantDigits: inout Int) {
    let digit = UInt64(bytes[index] &- 48)
    if significantDigits > 0 || digit != 0 {
      if significantDigits < 19 { mantissa = mantissa &* 10 &+ digit }
      significantDigits += 1
    }
    index += 1
  }

  mutating func parseLiteral(_ word: StaticString, _ kind: JSONTape.Kind) throws(JSONSyntaxError) {
    let length = word.utf8CodeUnitCount
    let start = index
    guard index + length <= bytes.count else { throw unexpectedLiteral(start) }
    let expected = word.utf8Start
    for offset in 0..<length where bytes[index + offset] != expected[offset] {
      throw unexpectedLiteral(start)
    }
    index += length
    append(kind, start: start, end: index)
  }

  // MARK: Duplicate keys

  func rejectDuplicateKeys(inObjectAt position: Int) throws(JSONSyntaxError) {
    let memberCount = nodes[position].memberCount
    guard memberCount > 1 else { return }
    let result: JSONSyntaxError? = withUnsafeTemporaryAllocation(of: Int.self, capacity: memberCount) {
      keys in
      var cursor = position + 1
      for member in 0..<memberCount {
        keys[member] = cursor
        cursor = nodes[cursor + 1].nextIndex
      }
      return memberCount <= 32 ? duplicateByPairs(keys) : duplicateBySorting(keys)
    }
    if let result { throw result }
  }

  func duplicateByPairs(_ keys: UnsafeMutableBufferPointer<Int>) -> JSONSyntaxError? {
    for later in 1..<keys.count {
      let hash = nodes[keys[later]].payload
      for earlier in 0..<later
      where nodes[keys[earlier]].payload == hash && sameKey(keys[earlier], keys[later]) {
        return duplicateKey(keys[later])
      }
    }
    return nil
  }

  func duplicateBySorting(_ keys: UnsafeMutableBufferPointer<Int>) -> JSONSyntaxError? {
    var keys = keys
    keys.sort { (nodes[$0].payload, $0) < (nodes[$1].payload, $1) }
    var runStart = 0
    for current in 1...keys.count {
      if current < keys.count, nodes[keys[current]].payload == nodes[keys[runStart]].payload {
        continue
      }
      for later in runStart..<current {
        for earlier in runStart..<later where sameKey(keys[earlier], keys[later]) {
          return duplicateKey(keys[later])
        }
      }
      runStart = current
    }
    return nil
  }

  func sameKey(_ first: Int, _ second: Int) -> Bool {
    let a = nodes[first]
    let b = nodes[second]
    if !a.hasEscapes, !b.hasEscapes {
      guard a.end - a.start == b.end - b.start else { return false }
      return bytes[a.startOffset..<a.endOffset].elementsEqual(bytes[b.startOffset..<b.endOffset])
    }
    return JSONString.unescapedBytes(bytes, a) == JSONString.unescapedBytes(bytes, b)
  }

  /// A cheap fingerprint for finding duplicate keys: equal keys have equal hashes, and
  /// `sameKey` settles the rare collisions.
  static func keyHash(_ node: JSONTape.Node, in bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
    if node.hasEscapes {
      return JSONString.unescapedBytes(bytes, node).withUnsafeBufferPointer { fingerprint($0) }
    }
    return fingerprint(UnsafeBufferPointer(rebasing: bytes[node.startOffset..<node.endOffset]))
  }

  static func fingerprint(_ key: UnsafeBufferPointer<UInt8>) -> UInt64 {
    let count = key.count
    var head: UInt64 = 0
    var tail: UInt64 = 0
    if count >= 8 {
      let base = UnsafeRawPointer(key.baseAddress!)
      head = base.loadUnaligned(as: UInt64.self)
      tail = base.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self)
    } else {
      for position in 0..<count { head = head << 8 | UInt64(key[position]) }
    }
    return (head &* 0x9E37_79B9_7F4A_7C15) ^ (tail &* 0xC2B2_AE3D_27D4_EB4F) ^ UInt64(count)
  }

  func duplicateKey(_ keyIndex: Int) -> JSONSyntaxError {
    let key = JSONString.decode(bytes, nodes[keyIndex])
    return JSONSyntaxError(
      offset: nodes[keyIndex].startOffset - 1,
      reason: "duplicate key \(JSONString.quoted(key, limit: 40)) in one object")
  }

  // MARK: Helpers

  mutating func append(
    _ kind: JSONTape.Kind, start: Int, end: Int, hasEscapes: Bool = false, payload: UInt64 = 0
  ) {
    if nodeCount == nodeCapacity {
      let larger = UnsafeMutablePointer<JSONTape.Node>.allocate(capacity: nodeCapacity * 2)
      larger.moveInitialize(from: nodes, count: nodeCount)
      nodes.deallocate()
      nodes = larger
      nodeCapacity *= 2
    }
    (nodes + nodeCount).initialize(
      to: JSONTape.Node(
        kind: kind, hasEscapes: hasEscapes, start: Int32(start), end: Int32(end),
        next: Int32(nodeCount + 1), count: 0, payload: payload))
    nodeCount += 1
  }

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

  func invalidUTF8() -> JSONSyntaxError {
    JSONSyntaxError(offset: index, reason: "invalid UTF-8")
  }

  func unexpectedLiteral(_ start: Int) -> JSONSyntaxError {
    JSONSyntaxError(offset: start, reason: "unexpected characters, expected a JSON value")
  }

  func unexpectedByte(expecting: String) -> JSONSyntaxError {
    let byte = bytes[index]
    if byte >= 0x80 {
      return JSONSyntaxError(offset: index, reason: "unexpected byte \(hexByte(byte)), expected \(expecting)")
    }
    let shown = byte < 0x20 || byte == 0x7F ? hexByte(byte) : "'\(Character(Unicode.Scalar(byte)))'"
    return JSONSyntaxError(offset: index, reason: "unexpected \(shown), expected \(expecting)")
  }

  func hexByte(_ byte: UInt8) -> String {
    let digits = Array("0123456789ABCDEF")
    return "0x\(digits[Int(byte >> 4)])\(digits[Int(byte & 0xF)])"
  }
}

private let powersOfTen: [Double] = (0...22).map { exponent in
  var value = 1.0
  for _ in 0..<exponent { value *= 10 }
  return value
}
