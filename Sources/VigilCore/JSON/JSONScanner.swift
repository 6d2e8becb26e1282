#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A strict JSON parser that turns one line of bytes into a `JSONTape`.
///
/// Written by hand because parsing is the daemon's hot path: Foundation's
/// `JSONSerialization` manages about 116,000 of the generator's reports per second on one
/// core here and `JSONDecoder` about 250,000 for a three-field struct, against a target
/// of 500,000 for parse + validate (see `bench/run-parse` for this parser's figure).
///
/// It enforces RFC 8259 and the extra rules of docs/reports.md: valid UTF-8 (no overlong forms,
/// no surrogates), no raw control characters in strings, no lone surrogate escapes, no
/// duplicate keys within an object, numbers that fit a 64-bit float, and at most
/// `maxDepth` levels of nesting. It never recurses, so no input can overflow the stack.
public enum JSONScanner {
  public static let maxDepth = 64

  /// A journal line, `{"received_at":…,"report":{…}}`, holds a report one level down: a
  /// report nested `maxDepth` deep, which a line may be, makes a line one deeper.
  public static let journalEnvelope = 1

  /// `envelope`: levels around the value that `maxDepth` does not count (a journal line's,
  /// `journalEnvelope`). A line on the socket has none: REPORTS.md bounds the line.
  public static func scan(_ bytes: UnsafeBufferPointer<UInt8>, envelope: Int = 0) throws(JSONSyntaxError) -> JSONTape {
    var parser = Parser(bytes: bytes, depthLimit: maxDepth + envelope)
    do {
      try parser.parseDocument()
    } catch {
      parser.nodes.deallocate()
      throw error
    }
    return JSONTape(nodes: parser.nodes, count: parser.nodeCount)
  }

  public static func scan(_ bytes: [UInt8], envelope: Int = 0) throws(JSONSyntaxError) -> JSONTape {
    let result: Result<JSONTape, JSONSyntaxError> = bytes.withUnsafeBufferPointer { buffer in
      Result { () throws(JSONSyntaxError) in try scan(buffer, envelope: envelope) }
    }
    return try result.get()
  }
}

private struct Parser {
  var cursor: JSONCursor
  var bytes: UnsafeBufferPointer<UInt8> { cursor.bytes }
  var index: Int {
    get { cursor.index }
    set { cursor.index = newValue }
  }
  /// The tape under construction; handed to `JSONTape`, which frees it.
  var nodes: UnsafeMutablePointer<JSONTape.Node>
  var nodeCount = 0
  var nodeCapacity: Int
  /// Tape indices of the containers that are open, innermost last.
  var open: [Int32] = []

  /// The most containers open at once (`maxDepth`, and a request's envelope).
  let depthLimit: Int

  init(bytes: UnsafeBufferPointer<UInt8>, depthLimit: Int = JSONScanner.maxDepth) {
    self.depthLimit = depthLimit
    cursor = JSONCursor(bytes: bytes)
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
    guard open.count < depthLimit else {
      throw JSONSyntaxError(
        offset: index, reason: JSONSyntaxError.tooDeep)
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
    let string = try cursor.scanString()
    append(.string, start: string.start, end: string.end, hasEscapes: string.hasEscapes)
  }

  mutating func parseNumber() throws(JSONSyntaxError) {
    let start = index
    let value = try cursor.scanNumber()
    append(.number, start: start, end: index, payload: value.bitPattern)
  }

  mutating func parseLiteral(_ word: StaticString, _ kind: JSONTape.Kind) throws(JSONSyntaxError) {
    let start = index
    try cursor.scanLiteral(word)
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

  /// Many members: sorted by fingerprint, then by the key's bytes, so equal keys end up
  /// side by side and each is compared with its neighbour only. Comparing every pair of a
  /// run of equal fingerprints was quadratic: 4,000 keys that differed only in their middle
  /// bytes (which the fingerprint does not read) held the connection's thread for 22 s.
  /// The duplicate reported is the first repeat in the object's order, as with few members.
  func duplicateBySorting(_ keys: UnsafeMutableBufferPointer<Int>) -> JSONSyntaxError? {
    var keys = keys
    keys.sort { first, second in
      let (a, b) = (nodes[first].payload, nodes[second].payload)
      if a != b { return a < b }
      let order = keyOrder(first, second)
      return order != 0 ? order < 0 : first < second
    }
    var firstRepeat: Int?
    for current in 1..<keys.count
    where nodes[keys[current]].payload == nodes[keys[current - 1]].payload
      && keyOrder(keys[current - 1], keys[current]) == 0
    {
      // Equal keys are in the object's order, so this one repeats an earlier key.
      firstRepeat = min(firstRepeat ?? keys[current], keys[current])
    }
    return firstRepeat.map(duplicateKey)
  }

  /// How two keys order by their (unescaped) bytes: negative, zero when equal, or positive.
  func keyOrder(_ first: Int, _ second: Int) -> Int {
    let a = nodes[first]
    let b = nodes[second]
    if !a.hasEscapes, !b.hasEscapes {
      let (countA, countB) = (a.endOffset - a.startOffset, b.endOffset - b.startOffset)
      let order = memcmp(bytes.baseAddress! + a.startOffset, bytes.baseAddress! + b.startOffset, min(countA, countB))
      return order != 0 ? Int(order) : countA - countB
    }
    let (textA, textB) = (JSONString.unescapedBytes(bytes, a), JSONString.unescapedBytes(bytes, b))
    return textA.lexicographicallyPrecedes(textB) ? -1 : textA == textB ? 0 : 1
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

  mutating func skipWhitespace() { cursor.skipWhitespace() }

  func unexpectedEnd() -> JSONSyntaxError { cursor.unexpectedEnd() }

  func unexpectedByte(expecting: String) -> JSONSyntaxError { cursor.unexpectedByte(expecting: expecting) }
}
