import Crypto

/// Digests for the duplicate index (PROTOCOL.md): a report resubmitted as the same JSON
/// value — whatever its key order, white space or escapes, numbers compared by value — has
/// the same content digest. Only digests are kept, not the reports.
public enum ReportDigest {
  /// The first 16 bytes of the SHA-256 of the report's canonical form.
  public static func content(of json: [UInt8]) throws(JSONSyntaxError) -> Digest128 {
    let tape = try JSONScanner.scan(json)
    var canonical: [UInt8] = []
    canonical.reserveCapacity(json.count)
    json.withUnsafeBufferPointer { write(tape, $0, at: 0, into: &canonical) }
    return Digest128(SHA256.hash(data: canonical))
  }

  /// Canonical JSON: object members sorted by key (UTF-8 order), strings re-encoded from
  /// their values, numbers as their 64-bit pattern with -0 taken as 0 — written straight
  /// from the scanner's tape, with no value tree built, as this is on every submit's path.
  private static func write(
    _ tape: JSONTape, _ bytes: UnsafeBufferPointer<UInt8>, at index: Int, into output: inout [UInt8]
  ) {
    let node = tape[index]
    switch node.kind {
    case .null: output.append(UInt8(ascii: "n"))
    case .true: output.append(UInt8(ascii: "t"))
    case .false: output.append(UInt8(ascii: "f"))
    case .number:
      let number = node.number
      output.append(contentsOf: "#\(number == 0 ? 0 : number.bitPattern);".utf8)
    case .string: writeString(node, bytes, into: &output)
    case .array:
      output.append(UInt8(ascii: "["))
      var cursor = index + 1
      for _ in 0..<node.memberCount {
        write(tape, bytes, at: cursor, into: &output)
        output.append(UInt8(ascii: ","))
        cursor = tape[cursor].nextIndex
      }
      output.append(UInt8(ascii: "]"))
    case .object:
      var members: [(key: String, keyIndex: Int)] = []
      members.reserveCapacity(node.memberCount)
      var cursor = index + 1
      for _ in 0..<node.memberCount {
        members.append((JSONString.decode(bytes, tape[cursor]), cursor))
        cursor = tape[cursor + 1].nextIndex
      }
      members.sort { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
      output.append(UInt8(ascii: "{"))
      for member in members {
        writeString(tape[member.keyIndex], bytes, into: &output)
        output.append(UInt8(ascii: ":"))
        write(tape, bytes, at: member.keyIndex + 1, into: &output)
        output.append(UInt8(ascii: ","))
      }
      output.append(UInt8(ascii: "}"))
    }
  }

  /// A string without escapes is its own canonical form; one with escapes is decoded and
  /// written the one way `JSONText` writes strings.
  private static func writeString(_ node: JSONTape.Node, _ bytes: UnsafeBufferPointer<UInt8>, into output: inout [UInt8]) {
    guard node.hasEscapes else {
      output.append(UInt8(ascii: "\""))
      output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[node.startOffset..<node.endOffset]))
      output.append(UInt8(ascii: "\""))
      return
    }
    JSONText.appendString(JSONString.decode(bytes, node), to: &output)
  }

  public static func id(_ id: String) -> Digest128 {
    Digest128(SHA256.hash(data: Array(id.utf8)))
  }
}

/// 128 bits of a SHA-256 digest: enough to tell reports apart, small enough to keep a
/// million of them in memory.
public struct Digest128: Hashable, Sendable {
  public let high: UInt64
  public let low: UInt64

  init(_ digest: SHA256.Digest) {
    var high: UInt64 = 0
    var low: UInt64 = 0
    for (index, byte) in digest.prefix(16).enumerated() {
      if index < 8 { high = high << 8 | UInt64(byte) } else { low = low << 8 | UInt64(byte) }
    }
    self.high = high
    self.low = low
  }
}
