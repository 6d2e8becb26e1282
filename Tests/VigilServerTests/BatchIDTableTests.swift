import Testing
import VigilCore

@testable import VigilServer

@Suite("BatchIDTable: the reports a commit accepted so far, by id digest")
struct BatchIDTableTests {
  @Test("what was inserted is found at its position, nothing else is; a reset empties it")
  func insertedDigestsAreFound() {
    var generator = SystemRandomNumberGenerator()
    var table = BatchIDTable()
    var previous: [Digest128] = []
    for batch in [1, 7, 300, 200, 5, 2_000, 3] {
      table.reset(forUpTo: batch)
      for key in previous { #expect(table.position(of: key) == nil) }
      // Some share their low word (the table's home place) and differ in the high one.
      let keys = (0..<batch).map { index in
        Digest128(high: generator.next(), low: index % 3 == 0 ? 42 : generator.next())
      }
      for (position, key) in keys.enumerated() {
        #expect(table.position(of: key) == nil)
        table.insert(key, position: position)
      }
      for (position, key) in keys.enumerated() {
        #expect(table.position(of: key) == position)
      }
      #expect(table.position(of: Digest128(high: generator.next(), low: 42)) == nil)
      #expect(table.position(of: Digest128(high: keys[0].high, low: keys[0].low &+ 1)) == nil)
      previous = keys
    }
  }
}
