import VigilCore

/// A hash table from report-id digests to duplicate-index entries, laid out to cost about
/// 56 bytes a report: entries in fixed-size chunks (never copied as they grow) and an
/// open-addressing table of 4-byte positions, at most half full. A `Dictionary` of the same
/// entries measured ~96 MB at a million reports and ~144 MB while it doubled; this one
/// ~56 MB, ~72 MB while its position table doubles (ALERTS.md: "about 50 bytes a report").
struct CompactDigestTable: Sendable {
  struct Slot: Sendable {
    var key: Digest128
    var value: DuplicateIndex.Entry
  }

  private static let chunkSize = 1 << 16
  private var chunks: [[Slot]] = []
  /// Position + 1 of each slot in `chunks`; 0 marks an empty place.
  private var positions = [UInt32](repeating: 0, count: 1 << 10)
  private(set) var count = 0

  subscript(key: Digest128) -> DuplicateIndex.Entry? {
    guard let position = find(key).position else { return nil }
    return chunks[position >> 16][position & (Self.chunkSize - 1)].value
  }

  mutating func set(_ key: Digest128, _ value: DuplicateIndex.Entry) {
    let (existing, place) = find(key)
    if let existing {
      chunks[existing >> 16][existing & (Self.chunkSize - 1)].value = value
      return
    }
    if chunks.isEmpty || chunks[chunks.count - 1].count == Self.chunkSize {
      var chunk: [Slot] = []
      chunk.reserveCapacity(Self.chunkSize)
      chunks.append(chunk)
    }
    chunks[chunks.count - 1].append(Slot(key: key, value: value))
    positions[place] = UInt32(count + 1)
    count += 1
    if count * 2 > positions.count { grow() }
  }

  /// Where the key is (its position in the chunks), or else the empty place it would take.
  private func find(_ key: Digest128) -> (position: Int?, place: Int) {
    let mask = positions.count - 1
    var place = Int(truncatingIfNeeded: key.low) & mask
    while true {
      let stored = positions[place]
      if stored == 0 { return (nil, place) }
      let position = Int(stored) - 1
      if chunks[position >> 16][position & (Self.chunkSize - 1)].key == key { return (position, place) }
      place = (place + 1) & mask
    }
  }

  private mutating func grow() {
    var larger = [UInt32](repeating: 0, count: positions.count * 2)
    let mask = larger.count - 1
    for position in 0..<count {
      var place = Int(truncatingIfNeeded: chunks[position >> 16][position & (Self.chunkSize - 1)].key.low) & mask
      while larger[place] != 0 { place = (place + 1) & mask }
      larger[place] = UInt32(position + 1)
    }
    positions = larger
  }
}
