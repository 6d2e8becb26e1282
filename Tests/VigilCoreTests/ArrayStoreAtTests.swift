import Testing

@testable import VigilCore

@Suite("A table by number that grows as it learns its entries")
struct ArrayStoreAtTests {
  @Test func storingPastTheEndPadsThePlacesBetween() {
    var table: [Int] = [7]
    table.store(3, at: 4, padding: 0)
    #expect(table == [7, 0, 0, 0, 3])
  }

  @Test func storingInsideReplacesOnlyThatPlace() {
    var table: [String?] = ["a", nil, "c"]
    table.store("b", at: 1, padding: nil)
    #expect(table == ["a", "b", "c"])
    table.store("d", at: 3, padding: nil)
    #expect(table == ["a", "b", "c", "d"])
  }
}
