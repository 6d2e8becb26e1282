#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

extension UnsafeBufferPointer<UInt8> {
  /// Whether both hold the same bytes: lengths first, then `memcmp`. The generic
  /// `elementsEqual` walks both a byte at a time through their iterators, about 260
  /// instructions for a 15-byte place name against some 30 here (bench/count-instructions:
  /// the rule functions' text caches compared keys that way, 1.6% of a report's
  /// instructions).
  @inlinable
  public func sameBytes(as other: UnsafeBufferPointer<UInt8>) -> Bool {
    guard count == other.count else { return false }
    guard count > 0, let left = baseAddress, let right = other.baseAddress else { return true }
    return memcmp(left, right, count) == 0
  }
}

extension UnsafeBufferPointer<UInt8> {
  @inlinable
  public func sameBytes(as other: [UInt8]) -> Bool {
    other.withUnsafeBufferPointer { sameBytes(as: $0) }
  }
}

extension String {
  /// Whether both strings are the same UTF-8, byte for byte (not canonical equivalence, as
  /// `==` compares), by `memcmp` rather than walking two `UTF8View`s.
  @inlinable
  public func sameUTF8(as other: String) -> Bool {
    guard utf8.count == other.utf8.count else { return false }
    return withUTF8InPlace { left in other.withUTF8InPlace { right in left.sameBytes(as: right) } }
  }
}
