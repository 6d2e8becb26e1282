import Foundation
import Testing

@testable import VigilCore

@Suite("The plugins' text cache: its table and its hash")
struct TextCacheTests {
  /// A cache whose value is the text reversed, counting the computations.
  final class Counted: @unchecked Sendable {
    let cache: TextCache<String>
    let lock = NSLock()
    var computed = 0
    init(limit: Int, seed: UInt64 = 0x5EED) { cache = TextCache(limit: limit, seed: seed) }

    func value(_ text: String) -> String {
      cache.value(for: ReportText(text)) { text in
        lock.withLock { computed += 1 }
        return String(text.string.reversed())
      }
    }
  }

  @Test func aTextIsComputedOnceAndThenRemembered() {
    let counted = Counted(limit: 1_000)
    let texts = (0..<300).map { "place \($0) قرية" }
    for text in texts { #expect(counted.value(text) == String(text.reversed())) }
    for text in texts { #expect(counted.value(text) == String(text.reversed())) }
    #expect(counted.computed == texts.count)
    #expect(counted.cache.count == texts.count)
  }

  @Test func textsThatDifferOnlyInTheirLastByteOrLengthAreApart() {
    let counted = Counted(limit: 10_000)
    let texts = [""] + (1...40).flatMap { length in
      ["a", "b", "c"].map { String(repeating: "a", count: length - 1) + $0 }
    }
    for _ in 0..<2 {
      for text in texts { #expect(counted.value(text) == String(text.reversed())) }
    }
    // Each computed once: none taken for another, none forgotten.
    #expect(counted.computed == texts.count)
  }

  @Test func aCacheRemembersNearlyAllOfAsManyTextsAsItsLimit() {
    for seed: UInt64 in [1, 2, 3, 0xDEAD_BEEF] {
      let counted = Counted(limit: 1_000, seed: seed)
      let texts = (0..<1_000).map { "name \($0) \(seed)" }
      for text in texts { _ = counted.value(text) }
      for text in texts { #expect(counted.value(text) == String(text.reversed())) }
      // Half full at its limit, a text whose eight slots are all taken replaces one: about
      // one in a hundred is forgotten and computed again.
      #expect(counted.computed >= texts.count && counted.computed <= texts.count + 20, "seed \(seed)")
      #expect(counted.cache.count > 980 && counted.cache.count <= texts.count, "seed \(seed)")
    }
  }

  @Test("Texts that share one hash: never an answer of another text, never growth on their account")
  func collidingTextsAreForgottenNotConfused() {
    typealias Table = TextCache<Int>.Table
    var table = Table(largest: 1_024)
    let hash = Table.stored(0xC011_1DE5)
    let keys = (0..<40).map { ReportText("collider \($0)") }
    for (index, key) in keys.enumerated() { table.insert(index, for: key, hash: hash) }
    // Eight slots near home hold eight of them; the rest took the home slot in turn.
    #expect(table.slots.count == 64)
    #expect(table.count == Table.probes)
    for (index, key) in keys.enumerated() {
      if let found = table.value(for: key, hash: hash) { #expect(found == index) }
    }
    #expect(table.value(for: keys[39], hash: hash) == 39)
    #expect(table.value(for: ReportText("another"), hash: hash) == nil)
  }

  @Test func aFullCacheForgetsButNeverAnswersWrong() {
    let counted = Counted(limit: 16)
    for round in 0..<3 {
      for index in 0..<2_000 {
        let text = "text \(index)"
        #expect(counted.value(text) == String(text.reversed()), "round \(round)")
      }
    }
    // Its table: twice the limit's slots at most.
    #expect(counted.cache.count <= 32)
    #expect(counted.computed > 2_000)
  }

  @Test func threadsSharingACacheGetEachTextsOwnValue() async {
    let counted = Counted(limit: 256)
    await withTaskGroup(of: Bool.self) { group in
      for worker in 0..<4 {
        group.addTask {
          var right = true
          for index in 0..<5_000 {
            let text = "w\((index * 7 + worker) % 600)"
            right = right && counted.value(text) == String(text.reversed())
          }
          return right
        }
      }
      for await right in group { #expect(right) }
    }
  }

  @Test func theHashTellsApartNearTextsAndDependsOnTheSeed() {
    func hash(_ text: String, seed: UInt64 = 7) -> UInt64 {
      var text = text
      return text.withUTF8 { TextHash.of($0, seed: seed) }
    }
    // Distinct texts of every length up to 50, near one another.
    let distinct = Set((0...48).flatMap { length in
      ["", "y", "z", "yz"].map { String(repeating: "x", count: length) + $0 }
    })
    #expect(Set(distinct.map { hash($0) }).count == distinct.count)
    // No bytes hash alike wherever they are (or are not).
    let empty = UnsafeBufferPointer<UInt8>(start: nil, count: 0)
    #expect(TextHash.of(empty, seed: 7) == hash(""))
    #expect(hash("Aleppo") == hash("Aleppo"))
    #expect(hash("Aleppo", seed: 1) != hash("Aleppo", seed: 2))
    // Each of the 64 bits is set for some texts and clear for others.
    let many = (0..<2_000).map { hash("name \($0)") }
    let union = many.reduce(0, |)
    let intersection = many.reduce(~0, &)
    #expect(union == ~0 && intersection == 0)
  }
}
