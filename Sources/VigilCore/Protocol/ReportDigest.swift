import Crypto

/// Digests for the duplicate index (docs/protocol.md): a report resubmitted as the same JSON
/// value — whatever its key order, white space or escapes, numbers compared by value — has
/// the same content digest. Only digests are kept, not the reports.
public enum ReportDigest {
  /// The first 16 bytes of the SHA-256 of the report's canonical form.
  public static func content(of json: [UInt8]) throws(JSONSyntaxError) -> Digest128 {
    let tape = try JSONScanner.scan(json)
    var writer = CanonicalWriter(capacity: json.count + 64)
    json.withUnsafeBufferPointer { writer.write(tape, $0, at: 0) }
    return Digest128(SHA256.hash(data: writer.output))
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
