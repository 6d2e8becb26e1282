/// The key of the duplicate index (docs/alerts.md): a report id's digest, 128 bits of a
/// keyed hash. Reports' contents are compared only when an id comes again
/// (`ReportContent`).
public enum ReportDigest {
  /// Two SipHash digests of the id's UTF-8 bytes (the standard library's `Hasher`, keyed
  /// with a secret this process draws at start), each after a different first byte. The
  /// index lives in memory and is rebuilt from the journal at each start, so the key need
  /// not outlive the process; nobody outside it can choose ids that collide (unless the
  /// process runs with `SWIFT_DETERMINISTIC_HASHING` set, a testing aid that fixes the
  /// key). A SHA-256 of the id took some 3,750 instructions a report
  /// (bench/count-instructions, Valgrind), these two about 550.
  public static func id(_ id: String) -> Digest128 {
    id.withUTF8InPlace { bytes in
      Digest128(high: half(0x68, bytes), low: half(0x6C, bytes))
    }
  }

  private static func half(_ first: UInt8, _ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
    var hasher = Hasher()
    hasher.combine(first)
    hasher.combine(bytes: UnsafeRawBufferPointer(bytes))
    return UInt64(bitPattern: Int64(hasher.finalize()))
  }
}

/// 128 bits of digest: enough to tell report ids apart (two ids share one with odds of one
/// in 2^128), small enough to keep a million of them in memory.
public struct Digest128: Hashable, Sendable {
  public let high: UInt64
  public let low: UInt64

  public init(high: UInt64, low: UInt64) {
    self.high = high
    self.low = low
  }
}
