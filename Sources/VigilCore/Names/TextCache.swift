import NIOConcurrencyHelpers

/// Remembers a value computed from a text, up to a bound: names come back report after
/// report (the same groups, agencies and crossings), and matching one costs a microsecond
/// or more against the 2 µs a whole rule set may take per report. Keyed by the text's
/// bytes, so a lookup needs no `String`.
///
/// The table is its own (`Table`), not a `Dictionary`: a lookup there hashed the text with
/// SipHash and cost ~400 instructions, some 1,700 of a report's with the shipped plugins
/// (bench/count-instructions). Here a text is hashed eight bytes at a time (`TextHash`) and
/// looked for in at most `Table.probes` slots. The table has twice `limit`'s slots (rounded
/// up to a power of two) at most, and grows while a quarter of it is in use when a new text
/// finds no free slot among its eight; otherwise the new text takes its first slot's place,
/// and the text that was there is forgotten. `TextHash` does not stand an attacker who
/// makes texts to collide (collisions can be built whatever the seed), so what bounds such
/// texts is the table: at most eight slots looked at, no growth on their account, and
/// recomputation for the texts they push out.
///
/// Inlinable, so that each plugin's use is specialized for its value: called generically
/// across the module boundary, every lookup instantiated the metadata of its table and
/// optional at run time, about 1,400 instructions of some 3,200 a call.
public final class TextCache<Value: Sendable>: Sendable {
  @usableFromInline let table: NIOLockedValueBox<Table>
  @usableFromInline let seed: UInt64

  /// `limit`: how many texts it is made to remember (up to 2^30); the table grows to twice
  /// that many slots, rounded up to a power of two, so that it is at most half full then
  /// (and about one text in a hundred has been forgotten for another by then).
  public convenience init(limit: Int = 50_000) {
    self.init(limit: limit, seed: UInt64.random(in: .min ... .max))
  }

  /// With a given seed for the hash (the tests', to be repeatable).
  init(limit: Int, seed: UInt64) {
    let texts = min(max(limit, 1), 1 << 30)
    let slots = 1 << (Int.bitWidth - (2 * texts - 1).leadingZeroBitCount)
    table = NIOLockedValueBox(Table(largest: max(2 * Table.probes, slots)))
    self.seed = seed
  }

  @inlinable
  public func value(for text: ReportText, compute: (ReportText) -> Value) -> Value {
    let hash = text.withUTF8 { Table.stored(TextHash.of($0, seed: seed)) }
    if let known = table.withLockedValue({ $0.value(for: text, hash: hash) }) { return known }
    let value = compute(text)
    // A compact copy as the key: the report's text keeps its whole line alive.
    let key = text.compacted
    table.withLockedValue { $0.insert(value, for: key, hash: hash) }
    return value
  }

  /// How many texts it remembers now.
  public var count: Int {
    table.withLockedValue { $0.count }
  }

  /// Open addressing with linear probing over at most `probes` slots.
  @usableFromInline
  struct Table: Sendable {
    @usableFromInline static var probes: Int { 8 }

    @usableFromInline
    struct Slot: Sendable {
      /// The key's hash (`stored`, never 0); 0 in an empty slot.
      @usableFromInline var hash: UInt64
      @usableFromInline var key: ReportText
      @usableFromInline var value: Value?

      @inlinable init(hash: UInt64, key: ReportText, value: Value?) {
        self.hash = hash
        self.key = key
        self.value = value
      }

      @usableFromInline static var empty: Slot { Slot(hash: 0, key: ReportText(""), value: nil) }
    }

    @usableFromInline var slots: [Slot]
    @usableFromInline var count = 0
    /// The most slots it grows to (a power of two).
    @usableFromInline let largest: Int

    @usableFromInline init(largest: Int) {
      self.largest = largest
      slots = Array(repeating: .empty, count: min(64, largest))
    }

    /// A hash as slots keep it: never 0, which marks an empty slot.
    @inlinable static func stored(_ hash: UInt64) -> UInt64 { hash | 1 }

    @inlinable
    func value(for text: ReportText, hash: UInt64) -> Value? {
      let mask = slots.count - 1
      var index = Int(truncatingIfNeeded: hash >> 1) & mask
      for _ in 0..<Self.probes {
        let found = slots[index].hash
        if found == 0 { return nil }
        if found == hash, slots[index].key == text { return slots[index].value }
        index = (index + 1) & mask
      }
      return nil
    }

    @inlinable
    mutating func insert(_ value: Value, for key: ReportText, hash: UInt64) {
      if count * 2 >= slots.count, slots.count < largest { grow() }
      let mask = slots.count - 1
      let home = Int(truncatingIfNeeded: hash >> 1) & mask
      var index = home
      for _ in 0..<Self.probes {
        let found = slots[index].hash
        if found == 0 { count += 1 }
        // Another thread may have computed the same text in the meantime.
        if found == 0 || (found == hash && slots[index].key == key) {
          slots[index] = Slot(hash: hash, key: key, value: value)
          return
        }
        index = (index + 1) & mask
      }
      // No slot free near home: room is made while the table may grow and a quarter of it
      // is in use (texts made to collide do not make it grow), else what was there is
      // forgotten.
      if slots.count < largest, count * 4 >= slots.count {
        grow()
        insert(value, for: key, hash: hash)
      } else {
        slots[home] = Slot(hash: hash, key: key, value: value)
      }
    }

    /// Twice the slots, each entry moved to its place there.
    @usableFromInline
    mutating func grow() {
      let old = slots
      slots = Array(repeating: .empty, count: old.count * 2)
      count = 0
      for slot in old where slot.hash != 0 {
        if let value = slot.value { insert(value, for: slot.key, hash: slot.hash) }
      }
    }
  }
}
