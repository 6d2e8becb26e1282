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
    init(limit: Int) { cache = TextCache(limit: limit) }

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
    for length in 1...40 {
      let stem = String(repeating: "a", count: length - 1)
      for last in ["a", "b", "c"] {
        #expect(counted.value(stem + last) == String((stem + last).reversed()))
      }
    }
    #expect(counted.value("") == "")
    #expect(counted.computed == 40 * 3 + 1)
  }

  @Test func aFullCacheForgetsButNeverAnswersWrong() {
    let counted = Counted(limit: 16)
    for round in 0..<3 {
      for index in 0..<2_000 {
        let text = "text \(index)"
        #expect(counted.value(text) == String(text.reversed()), "round \(round)")
      }
    }
    #expect(counted.cache.count <= 16)
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
    var seen = Set<UInt64>()
    var texts = 0
    for length in 0...48 {
      let stem = String(repeating: "x", count: length)
      for variant in ["", "y", "z", "yz"] {
        seen.insert(hash(stem + variant))
        texts += 1
      }
    }
    // Distinct texts (some coincide: "x" + "" at one length is the stem of the next).
    let distinct = Set((0...48).flatMap { length in
      ["", "y", "z", "yz"].map { String(repeating: "x", count: length) + $0 }
    })
    #expect(seen.count == distinct.count)
    #expect(texts >= distinct.count)
    #expect(hash("Aleppo") == hash("Aleppo"))
    #expect(hash("Aleppo", seed: 1) != hash("Aleppo", seed: 2))
    // Each of the 64 bits is set for some texts and clear for others.
    let many = (0..<2_000).map { hash("name \($0)") }
    let union = many.reduce(0, |)
    let intersection = many.reduce(~0, &)
    #expect(union == ~0 && intersection == 0)
  }
}
