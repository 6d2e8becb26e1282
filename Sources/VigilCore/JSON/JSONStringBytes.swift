import CVigilBytes

/// Finding the bytes a JSON string cannot hold as they are: `"`, `\` and control characters
/// (below 0x20). The scanner stops at them to end a string or read an escape; the writer,
/// to escape them. Sixteen bytes at a time with SSE2 (CVigilBytes: ~760 instructions a
/// report fewer than eight at a time alone, bench/count-instructions), then eight at a
/// time: each SWAR test sets the high bit of the byte lanes that need a closer look; the
/// lowest such lane is exact, so its position is where the run of ordinary bytes ends.
enum JSONStringBytes {
  /// The position of the first such byte in `start..<end` of `base` (`end` when there is
  /// none), and whether a byte at or above 0x80 may have been passed (one that then needs
  /// its UTF-8 checked).
  @inline(__always)
  static func firstSpecial(in base: UnsafePointer<UInt8>, from start: Int, to end: Int) -> (
    index: Int, mayBeNonASCII: Bool
  ) {
    let ones: UInt64 = 0x0101_0101_0101_0101
    let highBits: UInt64 = 0x8080_8080_8080_8080
    // Sixteen bytes at a time first (SSE2, CVigilBytes), then a word at a time.
    var found = false
    var nonASCII = false
    var index = vigil_skip_plain_blocks(base, start, end, &found, &nonASCII)
    if found { return (index, nonASCII) }
    var seen: UInt64 = nonASCII ? highBits : 0
    while index + 8 <= end {
      let word = UInt64(littleEndian: UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self))
      seen |= word
      let quote = word ^ (ones &* 0x22)
      let backslash = word ^ (ones &* 0x5C)
      let special =
        (((quote &- ones) & ~quote) | ((backslash &- ones) & ~backslash) | ((word &- ones &* 0x20) & ~word))
        & highBits
      if special != 0 {
        return (index + special.trailingZeroBitCount >> 3, seen & highBits != 0)
      }
      index += 8
    }
    while index < end {
      let byte = base[index]
      guard byte >= 0x20, byte != UInt8(ascii: "\""), byte != UInt8(ascii: "\\") else { break }
      seen |= UInt64(byte)
      index += 1
    }
    return (index, seen & highBits != 0)
  }
}
