import VigilCore

/// A hash table from report-id digests to duplicate-index entries, laid out to cost about
/// 40 bytes a report: 32-byte entries in fixed-size chunks (never copied as they grow) and
/// an open-addressing table of 4-byte positions, at most half full. A `Dictionary` of the
/// same entries (with 16 bytes more each) measured ~96 MB at a million reports and ~144 MB
/// while it doubled (docs/alerts.md, "The duplicate index").
struct CompactDigestTable: Sendable {
  /// 32 bytes: the first alert's `seq` and the alert count share one word (48 and 16
  /// bits); an entry beyond that (a `seq` past 2^48, 65,535 alerts or more) is kept whole
  /// in `outsized`.
  struct Slot: Sendable {
    var key: Digest128
    var journalPlace: Int64
    var alerts: UInt64

    static let outsized = UInt64.max

    init(key: Digest128, value: DuplicateIndex.Entry) {
      self.key = key
      journalPlace = value.journalPlace
      alerts =
        value.firstSeq < 1 << 48 && value.alertCount < 0xFFFF
        ? value.firstSeq << 16 | UInt64(value.alertCount) : Self.outsized
    }

    var value: DuplicateIndex.Entry? {
      guard alerts != Self.outsized else { return nil }
      return DuplicateIndex.Entry(
        journalPlace: journalPlace, firstSeq: alerts >> 16, alertCount: UInt32(alerts & 0xFFFF))
    }
  }

  private static let chunkSize = 1 << 16
  private var chunks: [[Slot]] = []
  /// Position + 1 of each slot in `chunks`; 0 marks an empty place.
  private var positions = [UInt32](repeating: 0, count: 1 << 10)
  private(set) var count = 0
  /// Entries too large for a slot's packed word, by position.
  private var outsized: [Int: DuplicateIndex.Entry] = [:]

  subscript(key: Digest128) -> DuplicateIndex.Entry? {
    guard let position = find(key).position else { return nil }
    return chunks[position >> 16][position & (Self.chunkSize - 1)].value ?? outsized[position]
  }

  mutating func set(_ key: Digest128, _ value: DuplicateIndex.Entry) {
    let (existing, place) = find(key)
    let slot = Slot(key: key, value: value)
    if let existing {
      chunks[existing >> 16][existing & (Self.chunkSize - 1)] = slot
      outsized[existing] = slot.value == nil ? value : nil
      return
    }
    if slot.value == nil { outsized[count] = value }
    if chunks.isEmpty || chunks[chunks.count - 1].count == Self.chunkSize {
      var chunk: [Slot] = []
      chunk.reserveCapacity(Self.chunkSize)
      chunks.append(chunk)
    }
    chunks[chunks.count - 1].append(slot)
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
