import Testing
import VigilImport

@Suite("Import: table errors say where")
struct TableErrorTests {
  @Test func anErrorNamesItsRowAndColumnWhenKnown() {
    #expect(TableError(row: 12, column: 3, "an unbalanced quote").description == "row 12, column 3: an unbalanced quote")
    #expect(TableError(row: 12, "a ragged row").description == "row 12: a ragged row")
    #expect(TableError(row: nil, "not a zip archive").description == "not a zip archive")
  }
}
