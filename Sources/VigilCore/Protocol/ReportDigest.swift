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
    canonical.withUnsafeBytes { Digest128(SHA256.hash(data: $0)) }
  }

  public static func id(_ id: String) -> Digest128 {
    var id = id
    return id.withUTF8 { Digest128(SHA256.hash(data: UnsafeRawBufferPointer($0))) }
  }
}

/// 128 bits of a SHA-256 digest: enough to tell reports apart, small enough to keep a
/// million of them in memory.
public struct Digest128: Hashable, Sendable {
  public let high: UInt64
  public let low: UInt64

  /// Its first 16 bytes as two big-endian words (read straight from the digest's bytes: as
  /// a generic walk over the digest's collection it cost some 600 instructions).
  init(_ digest: SHA256.Digest) {
    (high, low) = digest.withUnsafeBytes { bytes in
      (
        UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: 0, as: UInt64.self)),
        UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
      )
    }
  }
}
