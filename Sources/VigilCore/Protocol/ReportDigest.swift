import Crypto

/// Digests for the duplicate index (docs/protocol.md): a report resubmitted as the same JSON
/// value — whatever its key order, white space or escapes, numbers compared by value — has
/// the same content digest. Only digests are kept, not the reports.
public enum ReportDigest {
  /// The first 16 bytes of the SHA-256 of the report's canonical form.
  public static func content(of json: [UInt8]) throws(JSONSyntaxError) -> Digest128 {
    let tape = try JSONScanner.scan(json)
    return json.withUnsafeBufferPointer { content(of: tape, $0, at: 0) }
  }

  /// The digest of the value at `index` of a tape already scanned: no second scan.
  static func content(of tape: JSONTape, _ bytes: UnsafeBufferPointer<UInt8>, at index: Int) -> Digest128 {
    var writer = CanonicalWriter(capacity: tape[index].endOffset - tape[index].startOffset + 64)
    writer.write(tape, bytes, at: index)
    return content(ofCanonical: writer.output)
  }

  /// The digest of a canonical form written already (`CanonicalWriter`, `CanonicalStream`).
  static func content(ofCanonical canonical: [UInt8]) -> Digest128 {
    Digest128(SHA256.hash(data: canonical))
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
