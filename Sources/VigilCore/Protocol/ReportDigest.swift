import Crypto

/// The key of the duplicate index (docs/alerts.md): a report id's digest, 128 bits of its
/// SHA-256. Reports' contents are compared only when an id comes again (`ReportContent`).
public enum ReportDigest {
  public static func id(_ id: String) -> Digest128 {
    var id = id
    return id.withUTF8 { Digest128(SHA256.hash(data: UnsafeRawBufferPointer($0))) }
  }
}

/// 128 bits of a SHA-256 digest: enough to tell report ids apart, small enough to keep a
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
