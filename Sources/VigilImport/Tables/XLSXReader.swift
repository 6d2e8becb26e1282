import Foundation

/// A sheet of an XLSX workbook read row by row: row 1 (the first row with text) is the
/// header, the next is the HXL hashtag row when all its cells with text start with `#`,
/// and the rows after are data, numbered as the sheet numbers them.
///
/// Cells are text as the sheet holds it: a number as written (`31.5294`, `42632` —
/// dates are serial numbers, left for the mapping to convert in the workbook's
/// `serialDates` system), booleans as `true` and
/// `false`, errors as Excel shows them (`#N/A`). Rows without text are skipped.
///
/// Memory: the shared-strings table (refused past 256 MiB of XML) and a few hundred rows
/// (see `XLSXSheetStream`); the sheet is inflated to a temporary file, refused past 2 GiB
/// of XML, and read from there as it is parsed. A copy of the reader shares its rows, so
/// read from one copy only.
public struct XLSXReader: TableReader {
  public let header: [String]
  public let hashtags: [String]?
  public let serialDates: SerialDateSystem
  public let partRead: String?
  public var holdsSerialDates: Bool { true }

  /// How far the shared-strings table (into memory) and the sheet (onto disk) may
  /// inflate. A parameter so that tests can reach a limit without hundreds of megabytes.
  struct Limits {
    var sharedStrings: UInt64 = 256 << 20
    var sheet: UInt64 = 2 << 30
  }

  private let rows: XLSXSheetStream
  /// The sheet's merged ranges, filled in the data rows as the sheet shows them.
  private var merged: XLSXMergedCells
  /// The row after the header when it was not a hashtag row: the first data row.
  private var firstRow: XLSXSheetStream.Item?

  /// Opens the workbook at `path` and reads the header (and hashtag row) of the sheet
  /// named `sheet`, or of the first sheet.
  public init(path: String, sheet: String? = nil) throws(TableError) {
    try self.init(path: path, sheet: sheet, limits: Limits())
  }

  init(path: String, sheet name: String?, limits: Limits) throws(TableError) {
    let workbook = try XLSXWorkbook(path: path)
    let sheet = try workbook.sheet(named: name)
    // Said with a missing column when the workbook has other sheets: the data may be there.
    if workbook.sheets.count > 1 {
      let names = workbook.sheets.map { "'\($0.name)'" }.joined(separator: ", ")
      partRead =
        name == nil
        ? "the sheet '\(sheet.name)' was read, the first of \(names) (name another with the mapping's sheet:)"
        : "the sheet '\(sheet.name)' was read, of \(names)"
    } else {
      partRead = nil
    }
    serialDates = workbook.serialDates
    var sharedStrings: [String] = []
    if let part = workbook.sharedStringsPart {
      let copy = try workbook.package.extract(part, limit: limits.sharedStrings, what: "the shared-strings table")
      defer { TemporaryCopies.remove(copy.path) }
      sharedStrings = try XLSXSharedStringsParser.strings(at: copy, part: part)
    }
    let copy = try workbook.package.extract(sheet.part, limit: limits.sheet, what: "the sheet '\(sheet.name)'")
    // Before the stream takes the copy (and removes it): the ranges follow the rows.
    merged = XLSXMergedCells.read(from: copy)
    rows = XLSXSheetStream(copy: copy, part: sheet.part, sharedStrings: sharedStrings)

    guard let headerRow = try rows.next()?.get() else {
      throw TableError(row: nil, "the sheet '\(sheet.name)' is empty: no header row")
    }
    let header = headerRow.cells.map(Self.trimmed)
    // Formatted cells past the last name are not columns; `cells` ends at text, but
    // text may be only spaces.
    self.header = Array(header[..<(header.lastIndex { !$0.isEmpty }.map { $0 + 1 } ?? 0)])
    guard !self.header.isEmpty else {
      throw TableError(row: headerRow.number, "the header row has no column names")
    }

    // A sheet of hashtags alone (HXL allows them without a header row above): the first
    // row is both, and the next is data.
    let headerTags = HashtagRow.tags(self.header)
    guard let second = try rows.next() else {
      hashtags = headerTags
      return
    }
    if case .success(let row) = second, let tags = HashtagRow.tags(row.cells) {
      hashtags = try Self.shaped(tags, row: row.number, width: self.header.count)
    } else if let headerTags {
      hashtags = headerTags
      firstRow = second
    } else {
      hashtags = nil
      firstRow = second
    }
  }

  public mutating func next() throws(TableError) -> TableRow? {
    while true {
      let item: XLSXSheetStream.Item
      if let firstRow {
        item = firstRow
        self.firstRow = nil
      } else {
        guard let read = try rows.next() else { return nil }
        item = read
      }
      let row = try item.get()
      let cells = merged.fill(row.cells, row: row.number, width: header.count)
      // A row whose cells show nothing (a space, a direction mark left in one) is no row,
      // as one without a value is none, and as a CSV row of empty cells is none.
      if cells.allSatisfy(CellComparison.showsNothing) { continue }
      return TableRow(number: row.number, cells: try Self.shaped(cells, row: row.number, width: header.count))
    }
  }

  /// `cells` fitted to the header: padded with empty cells; text past the header is an
  /// error. (`cells` ends at its last text, so an empty formatted cell is never past it; a
  /// space or an invisible mark alone shows nothing, and is no text past it either.)
  private static func shaped(_ cells: [String], row: Int, width: Int) throws(TableError) -> [String] {
    if cells.count <= width { return cells + Array(repeating: "", count: width - cells.count) }
    guard let shown = cells[width...].firstIndex(where: { !CellComparison.showsNothing($0) }) else {
      return Array(cells[..<width])
    }
    let beyond = shown + 1
    throw TableError(
      row: row, column: beyond, "this row has a cell in column \(beyond) beyond the header's \(width) columns")
  }

  /// Real headers carry stray spaces ("Location "), which a mapping file does not write.
  private static func trimmed(_ cell: String) -> String {
    cell.trimmingCharacters(in: .whitespacesAndNewlines)
  }
}
