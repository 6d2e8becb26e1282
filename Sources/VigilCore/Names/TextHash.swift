/// A 64-bit hash of some bytes, eight at a time, for the text caches' tables: each
/// `Hasher` (SipHash) pass over a name cost ~130 instructions, this one ~30
/// (bench/count-instructions). The seed varies it between processes, but it is no defence
/// against texts made to collide: such collisions can be built whatever the seed. The
/// tables that use it bound what colliding texts cost (`TextCache`).
public enum TextHash {
  @inlinable
  public static func of(_ bytes: UnsafeBufferPointer<UInt8>, seed: UInt64) -> UInt64 {
    let count = bytes.count
    let hash = seed ^ (UInt64(truncatingIfNeeded: count) &* 0x9E37_79B9_7F4A_7C15)
    if count < 8 {
      // The bytes as one little word, the first lowest (none: the word 0).
      var word: UInt64 = 0
      for index in 0..<count { word |= UInt64(bytes[index]) << (8 * UInt64(index)) }
      return finished(mixed(hash, word))
    }
    let base = UnsafeRawPointer(bytes.baseAddress!)
    var mixing = hash
    var offset = 0
    while offset + 8 < count {
      mixing = mixed(mixing, base.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
      offset += 8
    }
    // The last eight bytes, overlapping the word before when the count is not a multiple.
    return finished(mixed(mixing, base.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self)))
  }

  @inlinable @inline(__always)
  static func mixed(_ hash: UInt64, _ word: UInt64) -> UInt64 {
    let product = (hash ^ word) &* 0xBF58_476D_1CE4_E5B9
    return product ^ (product >> 31)
  }

  /// The finalizer of MurmurHash3: every bit of the input moves about half the output bits.
  @inlinable @inline(__always)
  static func finished(_ hash: UInt64) -> UInt64 {
    var hash = hash ^ (hash >> 33)
    hash &*= 0xFF51_AFD7_ED55_8CCD
    hash ^= hash >> 33
    hash &*= 0xC4CE_B9FE_1A85_EC53
    return hash ^ (hash >> 33)
  }
}
