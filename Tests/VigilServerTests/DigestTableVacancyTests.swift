import Testing

@testable import VigilCore
@testable import VigilServer

/// The writer looks a report's id up when it checks it and inserts it once it is durable,
/// at the place the lookup found (`CompactDigestTable.Vacancy`): a batch's lookups first,
/// then its inserts, as the writer does, leave every entry findable, also when keys share
/// a home place and when the table grows in between.
@Suite("The duplicate index: inserting where the lookup left off")
struct DigestTableVacancyTests {
  static func entry(_ number: Int) -> DuplicateIndex.Entry {
    .init(journalPlace: Int64(number), firstSeq: UInt64(number), alertCount: 1)
  }

  /// Batches of keys looked up together, then inserted in order.
  static func recordInBatches(_ keys: [Digest128], batch: Int) -> DuplicateIndex {
    var index = DuplicateIndex()
    var number = 0
    while number < keys.count {
      let these = Array(keys[number..<min(number + batch, keys.count)])
      let vacancies = these.map { index.lookup(key: $0) }
      for (offset, key) in these.enumerated() {
        #expect(vacancies[offset].entry == nil)
        index.recordNew(key: key, entry: entry(number + offset), at: vacancies[offset].vacancy)
      }
      number += these.count
    }
    return index
  }

  @Test(arguments: [1, 7, 500, 3_000])
  func keysSharingHomePlacesAreAllFound(batch: Int) {
    // Four keys at a time share a low word (the same home place), and every fifth group
    // the next one's home: runs of taken places that later keys probe past.
    let keys = (0..<8_000).map { (number: Int) -> Digest128 in
      let home = UInt64(number / 4)
      let spread: UInt64 = number % 20 < 4 ? 1 : 7_919
      return Digest128(high: UInt64(number), low: home * spread)
    }
    let index = Self.recordInBatches(keys, batch: batch)
    #expect(index.count == keys.count)
    for (number, key) in keys.enumerated() {
      #expect(index.lookup(key: key).entry == Self.entry(number))
    }
    #expect(index.lookup(key: Digest128(high: 1 << 40, low: 3)).entry == nil)
  }

  @Test func aLookupBeforeTheTableGrewIsDoneAgain() {
    var index = DuplicateIndex()
    let late = Digest128(high: 1 << 50, low: 99)
    let stale = index.lookup(key: late).vacancy
    // Enough keys to grow the table several times before the late key goes in.
    for number in 0..<10_000 { index.record(key: Digest128(high: UInt64(number), low: UInt64(number)), entry: Self.entry(number)) }
    index.recordNew(key: late, entry: Self.entry(77_777), at: stale)
    #expect(index.lookup(key: late).entry == Self.entry(77_777))
    #expect(index.count == 10_001)
    for number in stride(from: 0, to: 10_000, by: 13) {
      #expect(index.lookup(key: Digest128(high: UInt64(number), low: UInt64(number))).entry == Self.entry(number))
    }
  }
}
