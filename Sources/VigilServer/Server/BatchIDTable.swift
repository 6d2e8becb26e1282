import VigilCore

/// The reports a commit has accepted so far, by their id's digest: where each is among the
/// batch's accepted reports, so the second of two equal ids in one batch is answered as a
/// duplicate or a conflict of the first. Open addressing on the digest's own bits, which
/// are a keyed hash already; a `Dictionary` hashed every key again with SipHash, about 290
/// instructions a report for its lookup and insert (bench/count-instructions).
struct BatchIDTable {
  private struct Slot {
    var key: Digest128
    /// Where the report is among the batch's accepted ones; -1 for an empty slot.
    var position: Int
  }

  private static let empty = Slot(key: Digest128(high: 0, low: 0), position: -1)
  private var slots = [Slot](repeating: empty, count: 16)

  /// Empties the table for a batch of up to `count` reports (at most half full then). A
  /// table much larger than that is made again smaller: emptying it costs its size.
  mutating func reset(forUpTo count: Int) {
    let size = max(16, (2 * count - 1).nextPowerOfTwo)
    if slots.count < size || slots.count > 4 * size {
      slots = [Slot](repeating: Self.empty, count: size)
    } else {
      slots.withUnsafeMutableBufferPointer { $0.update(repeating: Self.empty) }
    }
  }

  /// Where the report with this digest is among the accepted ones, if it is.
  func position(of key: Digest128) -> Int? {
    let mask = slots.count - 1
    var place = Int(truncatingIfNeeded: key.low) & mask
    while slots[place].position >= 0 {
      if slots[place].key == key { return slots[place].position }
      place = (place + 1) & mask
    }
    return nil
  }

  /// Records an accepted report the table does not hold yet; no more than `reset`'s count.
  mutating func insert(_ key: Digest128, position: Int) {
    let mask = slots.count - 1
    var place = Int(truncatingIfNeeded: key.low) & mask
    while slots[place].position >= 0 { place = (place + 1) & mask }
    slots[place] = Slot(key: key, position: position)
  }
}

extension Int {
  /// The least power of two not below this (1 for 0 and below).
  fileprivate var nextPowerOfTwo: Int {
    self <= 1 ? 1 : 1 << (Int.bitWidth - (self - 1).leadingZeroBitCount)
  }
}
