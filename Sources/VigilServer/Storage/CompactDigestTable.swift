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
    lookup(key).entry
  }

  /// Where a lookup that found nothing stopped: the empty place the key would take. The
  /// writer looks a report up when it checks it and records it only once it is durable;
  /// inserting at the place the lookup found spares a second probe, a cache miss or two
  /// on a table of millions (the probes were ~5% of the writer's time, perf).
  struct Vacancy: Sendable {
    let place: Int
    /// The table's size then: a table that has grown since has moved everything.
    let tableSize: Int
  }

  /// The key's entry, or where it would go.
  func lookup(_ key: Digest128) -> (entry: DuplicateIndex.Entry?, vacancy: Vacancy?) {
    let (position, place) = find(key)
    guard let position else { return (nil, Vacancy(place: place, tableSize: positions.count)) }
    return (chunks[position >> 16][position & (Self.chunkSize - 1)].value ?? outsized[position], nil)
  }

  mutating func set(_ key: Digest128, _ value: DuplicateIndex.Entry) {
    let (existing, place) = find(key)
    if let existing {
      let slot = Slot(key: key, value: value)
      chunks[existing >> 16][existing & (Self.chunkSize - 1)] = slot
      outsized[existing] = slot.value == nil ? value : nil
      return
    }
    insert(key, value, at: place)
  }

  /// Inserts a key that a lookup did not find, at the place the lookup found for it while
  /// that place is still empty and the table the same size: every place between the key's
  /// home and that one was taken then, and places are never emptied, so a probe for the
  /// key still reaches it there. Otherwise as `set`. The key must not have been inserted
  /// since the lookup.
  mutating func insertNew(_ key: Digest128, _ value: DuplicateIndex.Entry, at vacancy: Vacancy) {
    guard vacancy.tableSize == positions.count, positions[vacancy.place] == 0 else { return set(key, value) }
    insert(key, value, at: vacancy.place)
  }

  private mutating func insert(_ key: Digest128, _ value: DuplicateIndex.Entry, at place: Int) {
    let slot = Slot(key: key, value: value)
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
