import Crypto

/// Digests for the duplicate index (PROTOCOL.md): a report resubmitted as the same JSON
/// value — whatever its key order, white space or escapes, numbers compared by value — has
/// the same content digest. Only digests are kept, not the reports.
public enum ReportDigest {
  /// The first 16 bytes of the SHA-256 of the report's canonical form.
  public static func content(of json: [UInt8]) throws(JSONSyntaxError) -> Digest128 {
    var canonical: [UInt8] = []
    canonical.reserveCapacity(json.count)
    write(try JSONValue.parse(json), into: &canonical)
    return Digest128(SHA256.hash(data: canonical))
  }

  public static func id(_ id: String) -> Digest128 {
    Digest128(SHA256.hash(data: Array(id.utf8)))
  }

  /// Canonical JSON: object members sorted by key (UTF-8 order), strings re-encoded from
  /// their values, numbers as their 64-bit pattern with -0 taken as 0.
  private static func write(_ value: JSONValue, into output: inout [UInt8]) {
    switch value {
    case .null: output.append(contentsOf: "n".utf8)
    case .bool(let flag): output.append(contentsOf: (flag ? "t" : "f").utf8)
    case .number(let number):
      output.append(contentsOf: "#\(number == 0 ? 0 : number.bitPattern);".utf8)
    case .string(let string): JSONText.appendString(string, to: &output)
    case .array(let elements):
      output.append(UInt8(ascii: "["))
      for element in elements {
        write(element, into: &output)
        output.append(UInt8(ascii: ","))
      }
      output.append(UInt8(ascii: "]"))
    case .object(let object):
      output.append(UInt8(ascii: "{"))
      for member in object.members.sorted(by: { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }) {
        JSONText.appendString(member.key, to: &output)
        output.append(UInt8(ascii: ":"))
        write(member.value, into: &output)
        output.append(UInt8(ascii: ","))
      }
      output.append(UInt8(ascii: "}"))
    }
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
