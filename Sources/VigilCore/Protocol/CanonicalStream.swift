/// The canonical form of `CanonicalWriter`, written by a parser as it walks a value once,
/// in document order: each object's members are put in key order when the object closes.
/// `ReportFastPath` uses it so that one pass over a report gives both the report and its
/// content digest; the complete parser's tape goes through `CanonicalWriter` instead. The
/// two must write the same bytes for the same value (tests and the fuzz target hold them
/// to it): the duplicate index compares digests made either way.
struct CanonicalStream {
  private(set) var output: [UInt8] = []
  /// The members of the objects open, innermost last: where each member's bytes (`"key":`,
  /// its value and a comma) are in `output`, and where its key's bytes are.
  private var members: [Member] = []
  /// Per open object: where its members start in `members`, and where it starts in `output`.
  private var objects: [(firstMember: Int, start: Int)] = []
  private var scratch: [UInt8] = []

  private struct Member {
    var start: Int32
    var end: Int32
    var keyStart: Int32
    var keyEnd: Int32
  }

  init(capacity: Int) {
    output.reserveCapacity(capacity)
    members.reserveCapacity(32)
    objects.reserveCapacity(8)
  }

  mutating func openObject() {
    objects.append((members.count, output.count))
    output.append(UInt8(ascii: "{"))
  }

  /// A member's key (without escapes); its value follows, then `endMember`.
  mutating func key(_ key: UnsafeBufferPointer<UInt8>) {
    let start = output.count
    output.append(UInt8(ascii: "\""))
    output.append(contentsOf: key)
    output.append(UInt8(ascii: "\""))
    output.append(UInt8(ascii: ":"))
    members.append(Member(start: Int32(start), end: 0, keyStart: Int32(start + 1), keyEnd: Int32(start + 1 + key.count)))
  }

  mutating func endMember() {
    output.append(UInt8(ascii: ","))
    members[members.count - 1].end = Int32(output.count)
  }

  /// Closes the innermost object, its members in key order (UTF-8 bytes, as CanonicalWriter).
  mutating func closeObject() {
    let (first, start) = objects.removeLast()
    let count = members.count - first
    if count > 1 {
      var sorted = true
      output.withUnsafeBufferPointer { bytes in
        func key(_ member: Member) -> UnsafeBufferPointer<UInt8> {
          UnsafeBufferPointer(rebasing: bytes[Int(member.keyStart)..<Int(member.keyEnd)])
        }
        for index in first + 1..<members.count where !key(members[index - 1]).lexicographicallyPrecedes(key(members[index])) {
          sorted = false
          break
        }
        if !sorted {
          members[first...].sort { key($0).lexicographicallyPrecedes(key($1)) }
        }
      }
      if !sorted {
        // The members' bytes again, in their new order.
        let body = start + 1
        scratch.removeAll(keepingCapacity: true)
        scratch.append(contentsOf: output[body...])
        output.removeSubrange(body...)
        for member in members[first...] {
          output.append(contentsOf: scratch[(Int(member.start) - body)..<(Int(member.end) - body)])
        }
      }
    }
    members.removeSubrange(first...)
    output.append(UInt8(ascii: "}"))
  }

  mutating func openArray() { output.append(UInt8(ascii: "[")) }
  mutating func endElement() { output.append(UInt8(ascii: ",")) }
  mutating func closeArray() { output.append(UInt8(ascii: "]")) }

  /// A string without escapes: its bytes are its canonical form.
  mutating func plainString(_ content: UnsafeBufferPointer<UInt8>) {
    output.append(UInt8(ascii: "\""))
    output.append(contentsOf: content)
    output.append(UInt8(ascii: "\""))
  }

  /// A string that had escapes, by its decoded value.
  mutating func decodedString(_ value: String) {
    JSONText.appendString(value, to: &output)
  }

  mutating func number(_ value: Double) {
    var pattern = (value == 0 ? 0 : value.bitPattern).littleEndian
    output.append(UInt8(ascii: "#"))
    withUnsafeBytes(of: &pattern) { output.append(contentsOf: $0) }
  }

  mutating func bool(_ value: Bool) { output.append(UInt8(ascii: value ? "t" : "f")) }
  mutating func null() { output.append(UInt8(ascii: "n")) }
}
