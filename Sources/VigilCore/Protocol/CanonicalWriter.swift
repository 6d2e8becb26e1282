/// The canonical form reports are compared in (ReportContent): object members sorted
/// by key (UTF-8 order), those whose value is null left out (null is absence), strings re-encoded from their values, numbers by their exact
/// decimal value (JSONNumberText.appendExact), -0 being 0. Written straight from the scanner's tape, with no value
/// tree and no String per key.
/// The form is only ever compared, never stored: it may change between versions.
struct CanonicalWriter {
  private(set) var output: [UInt8] = []
  /// The members of the objects being written, innermost last: where each key's bytes
  /// are (in the report, or in `decodedKeys` when it had escapes) and its value's node.
  private var members: [Member] = []
  private var decodedKeys: [UInt8] = []

  private struct Member {
    var keyStart: Int32
    var keyEnd: Int32
    var keyIsDecoded: Bool
    var value: Int32
  }

  init(capacity: Int) {
    output.reserveCapacity(capacity)
    members.reserveCapacity(32)
  }

  mutating func write(_ tape: JSONTape, _ bytes: UnsafeBufferPointer<UInt8>, at index: Int) {
    let node = tape[index]
    switch node.kind {
    case .null: output.append(UInt8(ascii: "n"))
    case .true: output.append(UInt8(ascii: "t"))
    case .false: output.append(UInt8(ascii: "f"))
    case .number:
      // By its exact value as written, not its Double: 9007199254740993 and
      // 9007199254740992 (a 64-bit id in `extra`) are one Double but two values.
      output.append(UInt8(ascii: "#"))
      JSONNumberText.appendExact(UnsafeBufferPointer(rebasing: bytes[node.startOffset..<node.endOffset]), to: &output)
      output.append(UInt8(ascii: ";"))
    case .string: writeString(node, bytes)
    case .array:
      output.append(UInt8(ascii: "["))
      var cursor = index + 1
      for _ in 0..<node.memberCount {
        write(tape, bytes, at: cursor)
        output.append(UInt8(ascii: ","))
        cursor = tape[cursor].nextIndex
      }
      output.append(UInt8(ascii: "]"))
    case .object:
      writeObject(node, tape, bytes, at: index)
    }
  }

  private mutating func writeObject(_ node: JSONTape.Node, _ tape: JSONTape, _ bytes: UnsafeBufferPointer<UInt8>, at index: Int) {
    let first = members.count
    var cursor = index + 1
    for _ in 0..<node.memberCount {
      let key = tape[cursor]
      // A member whose value is null is the member absent (docs/reports.md): the same report.
      if tape[cursor + 1].kind == .null {
        cursor = tape[cursor + 1].nextIndex
        continue
      }
      if key.hasEscapes {
        let start = decodedKeys.count
        decodedKeys += JSONString.unescapedBytes(bytes, key)
        members.append(Member(keyStart: Int32(start), keyEnd: Int32(decodedKeys.count), keyIsDecoded: true, value: Int32(cursor + 1)))
      } else {
        members.append(Member(keyStart: key.start, keyEnd: key.end, keyIsDecoded: false, value: Int32(cursor + 1)))
      }
      cursor = tape[cursor + 1].nextIndex
    }
    decodedKeys.withUnsafeBufferPointer { decoded in
      members[first...].sort { left, right in
        let a = Self.key(left, bytes, decoded)
        let b = Self.key(right, bytes, decoded)
        return a.lexicographicallyPrecedes(b)
      }
    }
    output.append(UInt8(ascii: "{"))
    for position in first..<members.count {
      let member = members[position]
      if member.keyIsDecoded {
        let key = Array(decodedKeys[Int(member.keyStart)..<Int(member.keyEnd)])
        JSONText.appendString(String(decoding: key, as: UTF8.self), to: &output)
      } else {
        appendQuoted(UnsafeBufferPointer(rebasing: bytes[Int(member.keyStart)..<Int(member.keyEnd)]))
      }
      output.append(UInt8(ascii: ":"))
      write(tape, bytes, at: Int(member.value))
      output.append(UInt8(ascii: ","))
    }
    output.append(UInt8(ascii: "}"))
    members.removeSubrange(first...)
    if first == 0 { decodedKeys.removeAll(keepingCapacity: true) }
  }

  private static func key(_ member: Member, _ bytes: UnsafeBufferPointer<UInt8>, _ decoded: UnsafeBufferPointer<UInt8>)
    -> UnsafeBufferPointer<UInt8>
  {
    let range = Int(member.keyStart)..<Int(member.keyEnd)
    return UnsafeBufferPointer(rebasing: member.keyIsDecoded ? decoded[range] : bytes[range])
  }

  /// A string without escapes is its own canonical form; one with escapes is decoded and
  /// written the one way `JSONText` writes strings.
  private mutating func writeString(_ node: JSONTape.Node, _ bytes: UnsafeBufferPointer<UInt8>) {
    guard node.hasEscapes else {
      appendQuoted(UnsafeBufferPointer(rebasing: bytes[node.startOffset..<node.endOffset]))
      return
    }
    JSONText.appendString(JSONString.decode(bytes, node), to: &output)
  }

  private mutating func appendQuoted(_ content: UnsafeBufferPointer<UInt8>) {
    output.append(UInt8(ascii: "\""))
    output.append(contentsOf: content)
    output.append(UInt8(ascii: "\""))
  }
}
