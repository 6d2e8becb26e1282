import Foundation
import Testing
import VigilTestSupport
import ZIPFoundation

@testable import VigilImport

@Suite("Import: XLSX workbooks, read a sheet row by row")
struct XLSXReaderTests {
  // MARK: The real workbook (../shared/data/SOURCES.md)

  /// A dataset of `../shared/data` (SharedData): its absence is a failure, never a skip.
  static func sharedData(_ name: String) throws -> String {
    try #require(SharedData.path(name), "\(SharedData.missing(name))")
  }

  static let attacksOnHealthCare = "insecurity-insight-attacks-on-health-care-2016-2023.xlsx"

  @Test func theAttacksOnHealthCareWorkbookReadsWhole() throws {
    var reader = try XLSXReader(path: Self.sharedData(Self.attacksOnHealthCare))
    #expect(Array(reader.header.prefix(5)) == ["Date", "Event Description", "Country", "Country ISO", "Admin 1"])
    #expect(reader.header.count == 35)
    #expect(reader.header[11] == "Location")  // written "Location "
    let hashtags = try #require(reader.hashtags)
    #expect(hashtags.count == 35)
    #expect(Array(hashtags.prefix(5)) == ["#date", "", "#country +name", "#country +ISO", "#admin1"])
    #expect(hashtags[5] == "#lat")
    #expect(hashtags[11] == "#loc")
    #expect(hashtags[21] == "#affected +healthworker +killed")

    let date = try #require(reader.header.firstIndex(of: "Date"))
    let iso = try #require(reader.header.firstIndex(of: "Country ISO"))
    var rows = 0
    var syria2016 = 0
    var first: TableRow?
    var last: TableRow?
    var known: TableRow?
    while let row = try reader.next() {
      rows += 1
      if first == nil { first = row }
      last = row
      #expect(row.cells.count == 35)
      // 42370 is 2016-01-01, 42735 2016-12-31; every date is a whole serial here.
      if row.cells[iso] == "SYR", let serial = Int(row.cells[date]), (42370...42735).contains(serial) {
        syria2016 += 1
      }
      if row.number == 8385 { known = row }
    }
    #expect(rows == 8854)
    #expect(first?.number == 3)
    #expect(last?.number == 8856)  // rows 8857–8864 are formatting only
    #expect(syria2016 == 285)

    let row = try #require(known)
    #expect(row.cells[date] == "42734")  // 2016-12-30: a serial, not a formatted date
    #expect(row.cells[1] == "December 2016: A pharmacy was partially damaged by Syrian warplanes.")
    #expect(row.cells[iso] == "SYR")
    #expect(row.cells[4] == "Hama Governorate")
    #expect(row.cells[5] == "35.261027599999998")  // as written, not re-formatted
    #expect(row.cells[7] == "(2) 25 km Precision ")  // data cells keep their spaces
    #expect(row.cells[20] == "false")  // a boolean cell
    #expect(row.cells[25] == "")  // a cell the XML leaves out
  }

  @Test func aSheetIsFoundByItsNameDespiteStraySpaces() throws {
    // The sheet is named "2016-23 Attacks on Health Care " (a trailing space).
    let reader = try XLSXReader(
      path: Self.sharedData(Self.attacksOnHealthCare), sheet: "2016-23 attacks on health care")
    #expect(reader.header.first == "Date")
  }

  // MARK: Cells

  @Test func cellsReadAsText() throws {
    let workbook = try Workbook(
      sharedStrings: [
        "<si><t>Name</t></si>",
        "<si><t xml:space=\"preserve\">  padded </t></si>",
        "<si><r><t>rich </t></r><r><rPr><b/></rPr><t>text</t></r></si>",
        "<si><t>東京</t><rPh sb=\"0\" eb=\"2\"><t>トウキョウ</t></rPh></si>",
        "<si><t>line_x000D_break &amp; more</t></si>",
      ],
      sheets: [
        (
          "Data",
          sheetXML(
            """
            <row r="1"><c r="A1" t="inlineStr"><is><t>Text</t></is></c><c r="B1" t="inlineStr"><is><t>Number</t></is></c>\
            <c r="C1" t="inlineStr"><is><t>Flag</t></is></c><c r="D1" t="inlineStr"><is><t>Other</t></is></c></row>
            <row r="2"><c r="A2" t="s"><v>0</v></c><c r="B2"><v>42632</v></c><c r="C2" t="b"><v>1</v></c>\
            <c r="D2" t="e"><v>#N/A</v></c></row>
            <row r="3"><c r="A3" t="s"><v>1</v></c><c r="B3" t="n"><v>7.0</v></c><c r="C3" t="b"><v>0</v></c>\
            <c r="D3" t="str"><f>A1&amp;"!"</f><v>Text!</v></c></row>
            <row r="4"><c r="A4" t="s"><v>2</v></c><c r="B4"><v>-0.25</v></c><c r="D4" s="3"/></row>
            <row r="5"><c r="A5" t="s"><v>3</v></c><c r="D5" t="inlineStr"><is><r><t>in</t></r><r><t>line</t></r></is></c></row>
            <row r="6"><c r="A6" t="s"><v>4</v></c><c r="B6"><v>1E-3</v></c></row>
            <row r="7"><c r="B7" t="d"><v>2016-03-04T00:00:00</v></c><c r="C7" t="d"><v>2016-03-04</v></c>\
            <c r="D7" t="d"><v>2016-03-04T06:40:00+02:00</v></c></row>
            """)
        )
      ])
    var reader = try XLSXReader(path: workbook.path)
    #expect(reader.header == ["Text", "Number", "Flag", "Other"])
    #expect(reader.hashtags == nil)
    // A formula's error holds no value: the cell is empty.
    #expect(try reader.next() == TableRow(number: 2, cells: ["Name", "42632", "true", ""]))
    // A whole number as its digits, however it was spelt (audit 51).
    #expect(try reader.next() == TableRow(number: 3, cells: ["  padded ", "7", "false", "Text!"]))
    #expect(try reader.next() == TableRow(number: 4, cells: ["rich text", "-0.25", "", ""]))
    #expect(try reader.next() == TableRow(number: 5, cells: ["東京", "", "", "inline"]))
    #expect(try reader.next() == TableRow(number: 6, cells: ["line\rbreak & more", "1E-3", "", ""]))
    // ISO 8601 date cells: a date, its time of day dropped as a serial's is, unless zoned.
    #expect(try reader.next() == TableRow(number: 7, cells: ["", "2016-03-04", "2016-03-04", "2016-03-04T06:40:00+02:00"]))
    #expect(try reader.next() == nil)
    #expect(try reader.next() == nil)
  }

  @Test(arguments: [(nil, SerialDateSystem.excel1900), ("1", .excel1904), ("true", .excel1904), ("0", .excel1900)])
  func serialDatesCountFromTheWorkbooksDateSystem(date1904: String?, system: SerialDateSystem) throws {
    // Excel for the Mac wrote workbooks in the 1904 system: there 42632 is 2020-09-20.
    let workbook = try Workbook(
      sheets: [
        (
          "Data",
          sheetXML(
            """
            <row r="1"><c r="A1" t="inlineStr"><is><t>Code</t></is></c><c r="B1" t="inlineStr"><is><t>When</t></is></c></row>
            <row r="2"><c r="A2" t="inlineStr"><is><t>A1</t></is></c><c r="B2" s="1"><v>42632</v></c></row>
            """)
        )
      ], date1904: date1904)
    var reader = try XLSXReader(path: workbook.path)
    #expect(reader.serialDates == system)
    let mapping = try MappingLoader.load(
      Array(
        """
        mapping: t
        id: {column: Code}
        fields:
          occurred_at: {date: {column: When}}
          type: {value: attack}
          location.governorate: {value: Idlib}
        """.utf8), path: "m.yaml"
    ).get()
    let mapper = RowMapper(mapping: mapping, table: reader)
    var unmapped: [RowMapper.UnmappedValue] = []
    let outcome = mapper.map(try #require(try reader.next()), unmapped: &unmapped)
    guard case .report(let json, _) = outcome else {
      Issue.record("the row is not a report: \(outcome)")
      return
    }
    #expect(json.contains(system == .excel1904 ? #""occurred_at":"2020-09-20""# : #""occurred_at":"2016-09-19""#), "\(json)")
  }

  /// A number cell is its number: a whole one as its digits, however the writer spelt it,
  /// so that an id read from it does not depend on the program that saved the workbook.
  @Test func aWholeNumberCellIsItsDigits() {
    for (written, read) in [
      ("20475.0", "20475"), ("2.0474E4", "20474"), ("2.0474e+4", "20474"), ("-3.0", "-3"), ("42632", "42632"),
      ("-0.25", "-0.25"), ("1E-3", "1E-3"), ("1.23456789012346E+17", "1.23456789012346E+17"), ("7.5", "7.5"),
    ] {
      #expect(XLSXSheetParser.numberText(written) == read, "\(written)")
    }
  }

  @Test func cellsArePlacedByTheirReferenceAndRowsByTheirNumber() throws {
    let workbook = try Workbook(
      sharedStrings: ["<si><t> Site </t></si>", "<si><t>#loc</t></si>"],
      sheets: [
        (
          "Data",
          sheetXML(
            """
            <row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="inlineStr"><is><t>When</t></is></c>\
            <c r="C1" t="inlineStr"><is><t>Count</t></is></c><c r="D1" s="2"/></row>
            <row r="2"><c r="A2" t="s"><v>1</v></c><c r="C2" t="inlineStr"><is><t> #affected </t></is></c></row>
            <row r="4"><c r="C4"><v>3</v></c></row>
            <row r="5" ht="18"/>
            <row r="6"><c r="A6" s="1"/><c r="B6" t="s"/></row>
            <row r="7"><c r="B7"><v>42370</v></c></row>
            <row><c><v>1</v></c><c><v>2</v></c></row>
            """)
        )
      ])
    var reader = try XLSXReader(path: workbook.path)
    #expect(reader.header == ["Site", "When", "Count"])
    #expect(reader.hashtags == ["#loc", "", "#affected"])
    #expect(try reader.next() == TableRow(number: 4, cells: ["", "", "3"]))
    #expect(try reader.next() == TableRow(number: 7, cells: ["", "42370", ""]))
    // Without `r`, a row follows the previous one and a cell the previous cell.
    #expect(try reader.next() == TableRow(number: 8, cells: ["1", "2", ""]))
    #expect(try reader.next() == nil)
  }

  /// A merged range shows its top-left value over all its cells, as the sheet does, though
  /// the XML holds it once (its `<mergeCells>` after the rows): a governorate merged over
  /// three rows reaches each of them. Not past the header's columns, nor from the header,
  /// and not over a cell with text of its own.
  @Test func mergedCellsShowTheirValueInEveryCell() throws {
    func text(_ reference: String, _ value: String) -> String {
      "<c r=\"\(reference)\" t=\"inlineStr\"><is><t>\(value)</t></is></c>"
    }
    let rows = """
      <row r="1">\(text("A1", "Governorate"))\(text("B1", "Place"))\(text("C1", "Count"))</row>
      <row r="2">\(text("A2", "Idlib"))\(text("B2", "Ariha"))<c r="C2"><v>1</v></c></row>
      <row r="3">\(text("B3", "Saraqib"))<c r="C3"><v>2</v></c></row>
      <row r="4"><c r="A4" s="3"/>\(text("B4", "Jisr"))</row>
      <row r="5">\(text("A5", "Hama"))\(text("B5", "wide"))</row>
      <row r="6">\(text("B6", "after"))</row>
      """
    let merges = #"<mergeCells count="3"><mergeCell ref="A2:A4"/><mergeCell ref="B5:D5"/><mergeCell ref="C1:C6"/></mergeCells>"#
    let xml = sheetXML(rows).replacingOccurrences(of: "</sheetData>", with: "</sheetData>" + merges)
    let workbook = try Workbook(sheets: [("Data", xml)])
    var reader = try XLSXReader(path: workbook.path)
    #expect(reader.header == ["Governorate", "Place", "Count"])
    #expect(try reader.next() == TableRow(number: 2, cells: ["Idlib", "Ariha", "1"]))
    #expect(try reader.next() == TableRow(number: 3, cells: ["Idlib", "Saraqib", "2"]))
    #expect(try reader.next() == TableRow(number: 4, cells: ["Idlib", "Jisr", ""]))
    // B5:D5 fills C5 (its text is B5's), not D5, past the header.
    #expect(try reader.next() == TableRow(number: 5, cells: ["Hama", "wide", "wide"]))
    #expect(try reader.next() == TableRow(number: 6, cells: ["", "after", ""]))
    #expect(try reader.next() == nil)
  }

  /// The scan for merged ranges reads the part in chunks of 1 MiB: an element cut by a
  /// chunk's end is read whole, wherever the cut falls; a prefixed one (`x:mergeCell`) too.
  @Test(arguments: [(1 << 20) - 12, (1 << 20) - 3, (1 << 20) + 1])
  func mergedRangesAreFoundAcrossTheScansChunks(at offset: Int) throws {
    let folder = try TemporaryFolder()
    let element = #"<x:mergeCell ref="B2:C9"/>"#
    var bytes = Data(repeating: UInt8(ascii: " "), count: offset)
    bytes.append(Data(element.utf8))
    bytes.append(Data(#"<mergeCell ref="aa10:AB11"/><mergeCells/><mergeCell ref="B3"/>"#.utf8))
    let url = folder.url.appendingPathComponent("sheet.xml")
    try bytes.write(to: url)
    #expect(
      XLSXMergedCells.read(from: url).ranges == [
        .init(top: 2, left: 2, bottom: 9, right: 3), .init(top: 10, left: 27, bottom: 11, right: 28),
      ])
  }

  @Test func aSecondRowWithTextThatIsNotAHashtagIsData() throws {
    let workbook = try Workbook(
      sheets: [
        (
          "Data",
          sheetXML(
            """
            <row r="1"><c r="A1" t="inlineStr"><is><t>Tag</t></is></c><c r="B1" t="inlineStr"><is><t>Note</t></is></c></row>
            <row r="2"><c r="A2" t="inlineStr"><is><t>#x</t></is></c><c r="B2" t="inlineStr"><is><t>y</t></is></c></row>
            """)
        )
      ])
    var reader = try XLSXReader(path: workbook.path)
    #expect(reader.hashtags == nil)
    #expect(try reader.next() == TableRow(number: 2, cells: ["#x", "y"]))
  }

  /// In a workbook of several sheets, which was read is said (with a missing column), and
  /// that another can be named; a workbook of one sheet says nothing.
  @Test func whichSheetWasReadIsSaidWhenThereAreOthers() throws {
    let row = #"<row r="1"><c r="A1" t="inlineStr"><is><t>Codes</t></is></c></row>"#
    let workbook = try Workbook(sheets: [("Lists", sheetXML(row)), ("Incidents", sheetXML(row))])
    #expect(
      try XLSXReader(path: workbook.path).partRead
        == "the sheet 'Lists' was read, the first of 'Lists', 'Incidents' (name another with the mapping's sheet:)")
    #expect(try XLSXReader(path: workbook.path, sheet: "Incidents").partRead == "the sheet 'Incidents' was read, of 'Lists', 'Incidents'")
    let single = try Workbook(sheets: [("Data", sheetXML(row))])
    #expect(try XLSXReader(path: single.path).partRead == nil)
  }

  @Test func aCellPastTheHeaderIsAnErrorAtItsRowAndColumn() throws {
    let workbook = try Workbook(
      sharedStrings: ["<si><t>only</t></si>"],
      sheets: [
        (
          "Data",
          sheetXML(
            """
            <row r="1"><c r="A1"><v>1</v></c><c r="B1"><v>2</v></c><c r="C1"><v>3</v></c></row>
            <row r="2"><c r="A2"><v>a</v></c><c r="E2"><v>e</v></c></row>
            <row r="3"><c r="A3"><v>fine</v></c><c r="E3" s="4"/></row>
            <row r="4"><c r="A4" t="s"><v>7</v></c></row>
            <row r="5"><c r="A5" t="b"><v>yes</v></c></row>
            <row r="6"><c r="A6"><v>last</v></c></row>
            """)
        )
      ])
    var reader = try XLSXReader(path: workbook.path)
    #expect(throws: TableError(row: 2, column: 5, "this row has a cell in column 5 beyond the header's 3 columns")) {
      try reader.next()
    }
    // A row's error leaves the reader at the next row.
    #expect(try reader.next() == TableRow(number: 3, cells: ["fine", "", ""]))
    #expect(
      throws: TableError(row: 4, column: 1, "the cell names shared string 7, but the shared-strings table ends at 0")
    ) { try reader.next() }
    #expect(throws: TableError(row: 5, column: 1, "the cell's boolean value is yes, not 0 or 1")) {
      try reader.next()
    }
    #expect(try reader.next()?.cells == ["last", "", ""])
  }

  /// A cell holding a space or an invisible mark alone shows nothing: past the header it
  /// is no error, and a row of such cells is no row (audit 45).
  @Test func cellsThatShowNothingAreNoTextPastTheHeaderAndNoRow() throws {
    let text = { (cell: String, value: String) in #"<c r="\#(cell)" t="inlineStr"><is><t xml:space="preserve">\#(value)</t></is></c>"# }
    let workbook = try Workbook(sheets: [
      (
        "Data",
        sheetXML(
          """
          <row r="1">\(text("A1", "a"))\(text("B1", "b"))</row>
          <row r="2">\(text("A2", "1"))\(text("D2", " "))</row>
          <row r="3">\(text("A3", " "))\(text("B3", "\u{200F}"))</row>
          <row r="4">\(text("A4", "2"))\(text("C4", "\u{200F}x"))</row>
          <row r="5">\(text("A5", "last"))</row>
          """)
      )
    ])
    var reader = try XLSXReader(path: workbook.path)
    #expect(try reader.next() == TableRow(number: 2, cells: ["1", ""]))
    #expect(throws: TableError(row: 4, column: 3, "this row has a cell in column 3 beyond the header's 2 columns")) {
      try reader.next()
    }
    #expect(try reader.next() == TableRow(number: 5, cells: ["last", ""]))
    #expect(try reader.next() == nil)
  }

  @Test func malformedSheetXMLEndsTheSheetAtItsRow() throws {
    let rows = (1...300).map { "<row r=\"\($0)\"><c r=\"A\($0)\"><v>\($0)</v></c></row>" }.joined()
    let workbook = try Workbook(sheets: [("Data", sheetXML(rows + "<row r=\"301\"><c r=\"A301\"><v>oops</c></row>"))])
    var reader = try XLSXReader(path: workbook.path)
    var read = 0
    let error = #expect(throws: TableError.self) {
      while try reader.next() != nil { read += 1 }
    }
    #expect(read == 299)  // every row before the damage
    #expect(error?.row == 301)
    #expect(error?.message.hasPrefix("the part xl/worksheets/sheet1.xml is not well-formed XML at line") == true)
    // The error stays: the rest of the sheet is unknown.
    let again = #expect(throws: TableError.self) { try reader.next() }
    #expect(again == error)
  }

  /// Damage between two rows is the file's: the row before it was read whole (and may have
  /// been recorded), so the error names no row.
  @Test func malformedSheetXMLBetweenRowsNamesNoRow() throws {
    let rows = (1...3).map { "<row r=\"\($0)\"><c r=\"A\($0)\"><v>\($0)</v></c></row>" }.joined()
    let workbook = try Workbook(sheets: [("Data", sheetXML(rows + "<oops<row r=\"4\"><c r=\"A4\"><v>4</v></c></row>"))])
    var reader = try XLSXReader(path: workbook.path)
    var read = 0
    let error = #expect(throws: TableError.self) {
      while try reader.next() != nil { read += 1 }
    }
    #expect(read == 2)  // rows 2 and 3 (row 1 is the header)
    #expect(error?.row == nil)
    #expect(error?.message.hasPrefix("the part xl/worksheets/sheet1.xml is not well-formed XML at line") == true)
  }

  // MARK: Sheets

  @Test func aSheetIsChosenByName() throws {
    let workbook = try Workbook(sheets: [
      ("First", sheetXML(#"<row r="1"><c r="A1" t="inlineStr"><is><t>one</t></is></c></row>"#)),
      ("Second", sheetXML(#"<row r="1"><c r="A1" t="inlineStr"><is><t>two</t></is></c></row>"#)),
    ])
    #expect(try XLSXReader(path: workbook.path).header == ["one"])
    #expect(try XLSXReader(path: workbook.path, sheet: "Second").header == ["two"])
    #expect(throws: TableError(row: nil, "the workbook has no sheet named Third (sheets: First, Second)")) {
      try XLSXReader(path: workbook.path, sheet: "Third")
    }
  }

  @Test func anEmptySheetHasNoHeader() throws {
    let workbook = try Workbook(sheets: [("Blank", sheetXML(#"<row r="1" ht="20"/>"#))])
    #expect(throws: TableError(row: nil, "the sheet 'Blank' is empty: no header row")) {
      try XLSXReader(path: workbook.path)
    }
  }

  // MARK: Files that are not workbooks

  @Test func aFileThatIsNotAZipIsNotAWorkbook() throws {
    let folder = try TemporaryFolder()
    let path = folder.path("incidents.xlsx")
    try Data("Date,Country\n2016-01-01,Syria\n".utf8).write(to: URL(fileURLWithPath: path))
    #expect(throws: TableError(row: nil, "not an XLSX workbook (not a zip archive): \(path)")) {
      try XLSXReader(path: path)
    }
    #expect(throws: TableError(row: nil, "cannot open \(folder.path("none.xlsx")): no such file")) {
      try XLSXReader(path: folder.path("none.xlsx"))
    }
  }

  @Test func aWorkbookCutShortIsDamagedNotAnotherKindOfFile() throws {
    let workbook = try Workbook(sheets: [("Data", sheetXML(#"<row r="1"><c r="A1"><v>1</v></c></row>"#))])
    let bytes = try Data(contentsOf: URL(fileURLWithPath: workbook.path))
    try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: workbook.path))
    #expect(
      throws: TableError(
        row: nil,
        "the workbook \(workbook.path) is damaged: it starts as a zip archive but has no end (was it cut short?)")
    ) { try XLSXReader(path: workbook.path) }
  }

  /// A deflate stream whose last block is never final: a stored block of the sheet, then
  /// a stored block that claims 65,535 bytes, more than the rest of the file holds.
  /// ZIPFoundation alone would read on past the entry and spin at the end of the file.
  @Test func aCompressedStreamThatNeverEndsIsDamagedAndStopped() throws {
    let sheet = Data(sheetXML(#"<row r="1"><c r="A1"><v>1</v></c></row>"#).utf8)
    func storedBlockHeader(_ length: Int) -> [UInt8] {
      let length = UInt16(length)
      return [0x00, UInt8(length & 0xFF), UInt8(length >> 8), UInt8(~length & 0xFF), UInt8(~length >> 8)]
    }
    let endless = Data(storedBlockHeader(sheet.count)) + sheet + Data(storedBlockHeader(0xFFFF))
    let workbook = try Workbook(sheets: [("Data", "")])
    try workbook.replace("xl/worksheets/sheet1.xml", withDeflated: endless)
    // Declared larger than it inflates before its bytes run out: the stream's own end is
    // what is missing here, not a size it passes.
    try workbook.declareSize(1 << 20, of: "xl/worksheets/sheet1.xml")
    #expect(
      throws: TableError(
        row: nil,
        "the workbook \(workbook.path) is damaged: its part xl/worksheets/sheet1.xml has a compressed stream that "
          + "does not end within its own bytes")
    ) { try XLSXReader(path: workbook.path) }
    #expect(try Self.copies(of: workbook) == 0)
    // Five bytes: the stored block's header alone. ZIPFoundation hands zlib a full buffer's
    // length of input whatever the chunk holds, so a chunk shorter than that (these five
    // bytes, kept inline on the stack) had zlib read far past it, and crash.
    let tiny = try Workbook(sheets: [("Data", "")])
    try tiny.replace("xl/worksheets/sheet1.xml", withDeflated: Data(storedBlockHeader(0xFFFF)))
    try tiny.declareSize(1 << 20, of: "xl/worksheets/sheet1.xml")
    #expect(
      throws: TableError(
        row: nil,
        "the workbook \(tiny.path) is damaged: its part xl/worksheets/sheet1.xml has a compressed stream that "
          + "does not end within its own bytes")
    ) { try XLSXReader(path: tiny.path) }
  }

  @Test func aZipWithoutAWorkbookPartIsDamaged() throws {
    let workbook = try Workbook(entries: [("notes.txt", Data("hello".utf8))])
    #expect(
      throws: TableError(row: nil, "the workbook \(workbook.path) is damaged: its part xl/workbook.xml is missing")
    ) {
      try XLSXReader(path: workbook.path)
    }
  }

  @Test func aPartWhoseBytesDoNotMatchItsChecksumIsDamaged() throws {
    let workbook = try Workbook(sheets: [("Data", sheetXML(#"<row r="1"><c r="A1"><v>12345</v></c></row>"#))])
    // Stored (not deflated) entries keep their text as is in the file: change one digit.
    var bytes = try Data(contentsOf: URL(fileURLWithPath: workbook.path))
    let at = try #require(bytes.firstRange(of: Data("12345".utf8)))
    bytes[at.lowerBound] = UInt8(ascii: "9")
    try bytes.write(to: URL(fileURLWithPath: workbook.path))
    #expect(
      throws: TableError(
        row: nil, "the workbook \(workbook.path) is damaged: its part xl/worksheets/sheet1.xml fails its checksum")
    ) { try XLSXReader(path: workbook.path) }
  }

  // MARK: Inflation bombs

  @Test func aSharedStringsTableDeclaredPastTheLimitIsRefusedWithoutInflating() throws {
    // A zip bomb shows its size before it is inflated: 300 MiB here (of zeros, that would
    // deflate to about 300 KB). The table itself is small and valid, so the refusal can
    // only come from the declared size: nothing was inflated.
    let workbook = try Workbook(
      sharedStrings: ["<si><t>x</t></si>"],
      sheets: [("Data", sheetXML(#"<row r="1"><c r="A1" t="s"><v>0</v></c></row>"#))],
      deflated: true)
    #expect(try XLSXReader(path: workbook.path).header == ["x"])
    try workbook.declareSize(300 << 20, of: "xl/sharedStrings.xml")
    #expect(
      throws: TableError(row: nil, "the shared-strings table would inflate to 314572800 bytes, past the 256 MiB limit")
    ) { try XLSXReader(path: workbook.path) }
  }

  @Test func aPartThatInflatesPastItsDeclaredSizeIsStoppedThere() throws {
    // Declares 100 bytes, holds 64 KiB: stopped once the inflated bytes pass what it
    // declares, within the limits as past them (audit 24: a sheet declared at half its size
    // was read whole, and one of 1.5 GB declared as 5,000 bytes too, past the limit).
    let payload = "<sst><si><t>" + String(repeating: "A", count: 64 * 1024) + "</t></si></sst>"
    let workbook = try Workbook(
      sheets: [("Data", sheetXML(#"<row r="1"><c r="A1" t="s"><v>0</v></c></row>"#))],
      sharedStringsXML: payload, deflated: true)
    try workbook.declareSize(100, of: "xl/sharedStrings.xml")
    var limits = XLSXReader.Limits()
    limits.sharedStrings = 4096
    let damaged = TableError(
      row: nil, "the workbook \(workbook.path) is damaged: its part xl/sharedStrings.xml inflates past the 100 bytes its headers declare")
    #expect(throws: damaged) { try XLSXReader(path: workbook.path, sheet: nil, limits: limits) }
    #expect(throws: damaged) { try XLSXReader(path: workbook.path) }
    // A sheet likewise, read as it streams: the reader stops at its first row past it.
    let rows = (1...400).map { #"<row r="\#($0)"><c r="A\#($0)"><v>\#($0)</v></c></row>"# }.joined()
    let sheet = try Workbook(sheets: [("Data", sheetXML(rows))], deflated: true)
    try sheet.declareSize(2000, of: "xl/worksheets/sheet1.xml")
    let read = Result { () throws -> Int in
      var reader = try XLSXReader(path: sheet.path)
      var count = 0
      while try reader.next() != nil { count += 1 }
      return count
    }
    guard case .failure(let error) = read, let tableError = error as? TableError else {
      Issue.record("read whole: \(read)")
      return
    }
    #expect(tableError.message.hasSuffix("its part xl/worksheets/sheet1.xml inflates past the 2000 bytes its headers declare"), "\(tableError)")
  }

  @Test func aSheetPastItsLimitIsRefused() throws {
    let workbook = try Workbook(sheets: [
      ("Data", sheetXML(String(repeating: #"<row><c><v>1</v></c></row>"#, count: 200)))
    ])
    var limits = XLSXReader.Limits()
    limits.sheet = 1024
    let error = #expect(throws: TableError.self) { try XLSXReader(path: workbook.path, sheet: nil, limits: limits) }
    #expect(error?.message.hasPrefix("the sheet 'Data' would inflate to ") == true)
    #expect(error?.message.hasSuffix(" bytes, past the 1024-byte limit") == true)
  }

  // MARK: Streaming

  @Test func rowsStreamThroughManyBatches() throws {
    let count = 5000
    let rows = (2...count + 1).map {
      "<row r=\"\($0)\"><c r=\"A\($0)\"><v>\($0)</v></c><c r=\"B\($0)\" t=\"s\"><v>\($0 % 2)</v></c></row>"
    }
    let workbook = try Workbook(
      sharedStrings: ["<si><t>even</t></si>", "<si><t>odd</t></si>"],
      sheets: [
        ("Data", sheetXML(#"<row r="1"><c r="A1"><v>n</v></c><c r="B1"><v>parity</v></c></row>"# + rows.joined()))
      ])
    var reader = try XLSXReader(path: workbook.path)
    var number = 1
    while let row = try reader.next() {
      number += 1
      #expect(row == TableRow(number: number, cells: ["\(number)", number % 2 == 0 ? "even" : "odd"]))
    }
    #expect(number == count + 1)
  }

  @Test func theSheetsTemporaryCopyIsGoneOnceItIsOpen() throws {
    let rows = (2...1000).map { "<row r=\"\($0)\"><c r=\"A\($0)\"><v>\($0)</v></c></row>" }.joined()
    let workbook = try Workbook(sheets: [("Data", sheetXML(#"<row r="1"><c r="A1"><v>n</v></c></row>"# + rows))])
    var reader = try XLSXReader(path: workbook.path)
    #expect(try reader.next()?.number == 2)
    #expect(try Self.copies(of: workbook) == 0)
    #expect(try reader.next()?.number == 3)
  }

  @Test func aStreamDroppedEarlyEndsItsParser() throws {
    let folder = try TemporaryFolder()
    let copy = folder.url.appendingPathComponent("sheet.xml")
    let rows = (1...20_000).map { "<row r=\"\($0)\"><c r=\"A\($0)\"><v>\($0)</v></c></row>" }.joined()
    try Data(sheetXML(rows).utf8).write(to: copy)
    let ended = DispatchSemaphore(value: 0)
    var stream: XLSXSheetStream? = XLSXSheetStream(
      copy: copy, part: "xl/worksheets/sheet1.xml", sharedStrings: [], onParserEnd: { ended.signal() })
    #expect(try stream?.next()?.get().number == 1)
    // The parser now waits for the reader, with 20,000 rows to go; dropping the stream
    // must end it rather than leave it waiting for ever.
    stream = nil
    #expect(ended.wait(timeout: .now() + 10) == .success)
  }

  /// Temporary copies of this workbook's sheet still on disk (matched by its content, as
  /// other tests' copies share the folder).
  private static func copies(of workbook: Workbook) throws -> Int {
    let folder = FileManager.default.temporaryDirectory
    return try FileManager.default.contentsOfDirectory(atPath: folder.path)
      .filter { $0.hasPrefix("vigil-xlsx-") }
      .filter { name in
        guard let handle = FileHandle(forReadingAtPath: folder.appendingPathComponent(name).path) else { return false }
        defer { try? handle.close() }
        return (try? handle.read(upToCount: 200)).map { Data($0).contains(workbook.marker) } ?? false
      }
      .count
  }
}

// MARK: - Workbooks made for a test

/// A folder under the temporary directory, removed when the value is released.
private final class TemporaryFolder {
  let url: URL

  init() throws {
    url = FileManager.default.temporaryDirectory.appendingPathComponent("xlsx-reader-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
  }

  deinit {
    try? FileManager.default.removeItem(at: url)
  }

  func path(_ name: String) -> String {
    url.appendingPathComponent(name).path
  }
}

/// A worksheet part around `rows` (the XML inside `<sheetData>`).
private func sheetXML(_ rows: String) -> String {
  """
  <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
  <worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" \
  xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">\
  <sheetData>\(rows)</sheetData></worksheet>
  """
}

/// An XLSX file written with ZIPFoundation: the parts Excel writes and `XLSXReader` reads.
/// Entries are stored (their bytes as they are in the file) unless `deflated`.
private struct Workbook {
  let folder: TemporaryFolder
  let path: String
  /// A comment unique to this workbook, at the start of each sheet: how its temporary
  /// copies are told apart from other tests'.
  let marker: Data

  private static let main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
  private static let relationships = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"

  init(
    sharedStrings: [String]? = nil, sheets: [(name: String, xml: String)], sharedStringsXML: String? = nil,
    deflated: Bool = false, date1904: String? = nil
  ) throws {
    let marker = Data("<!--\(UUID().uuidString)-->".utf8)
    var entries: [(String, Data)] = [("[Content_Types].xml", Data(Self.contentTypes(sheets: sheets.count).utf8))]
    entries.append(
      (
        "_rels/.rels",
        Data(
          """
          <?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">\
          <Relationship Id="rId1" Type="\(Self.relationships)/officeDocument" Target="xl/workbook.xml"/></Relationships>
          """.utf8)
      ))
    let sheetList = sheets.enumerated().map { index, sheet in
      #"<sheet name="\#(sheet.name)" sheetId="\#(index + 1)" r:id="rId\#(index + 1)"/>"#
    }
    entries.append(
      (
        "xl/workbook.xml",
        Data(
          """
          <?xml version="1.0" encoding="UTF-8"?><workbook xmlns="\(Self.main)" xmlns:r="\(Self.relationships)">\
          \(date1904.map { #"<workbookPr date1904="\#($0)"/>"# } ?? "")<sheets>\(sheetList.joined())</sheets></workbook>
          """.utf8)
      ))
    var links = sheets.indices.map { index in
      #"<Relationship Id="rId\#(index + 1)" Type="\#(Self.relationships)/worksheet" Target="worksheets/sheet\#(index + 1).xml"/>"#
    }
    if sharedStrings != nil || sharedStringsXML != nil {
      links.append(
        #"<Relationship Id="rIdS" Type="\#(Self.relationships)/sharedStrings" Target="/xl/sharedStrings.xml"/>"#)
    }
    entries.append(
      (
        "xl/_rels/workbook.xml.rels",
        Data(
          """
          <?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">\
          \(links.joined())</Relationships>
          """.utf8)
      ))
    for (index, sheet) in sheets.enumerated() {
      // After the XML declaration, which must come first.
      var xml = Data(sheet.xml.utf8)
      if let end = xml.firstRange(of: Data("?>".utf8)) { xml.insert(contentsOf: marker, at: end.upperBound) }
      entries.append(("xl/worksheets/sheet\(index + 1).xml", xml))
    }
    if let sharedStrings {
      let xml = #"<?xml version="1.0" encoding="UTF-8"?><sst xmlns="\#(Self.main)">\#(sharedStrings.joined())</sst>"#
      entries.append(("xl/sharedStrings.xml", Data(xml.utf8)))
    } else if let sharedStringsXML {
      entries.append(("xl/sharedStrings.xml", Data(sharedStringsXML.utf8)))
    }
    try self.init(entries: entries, deflated: deflated, marker: marker)
  }

  /// A zip of exactly `entries`.
  init(entries: [(String, Data)], deflated: Bool = false, marker: Data = Data()) throws {
    folder = try TemporaryFolder()
    path = folder.path("workbook.xlsx")
    self.marker = marker
    let archive = try Archive(url: URL(fileURLWithPath: path), accessMode: .create)
    for (name, data) in entries {
      try archive.addEntry(
        with: name, type: .file, uncompressedSize: Int64(data.count), compressionMethod: deflated ? .deflate : .none
      ) { position, size in
        data.subdata(in: Int(position)..<Int(position) + size)
      }
    }
  }

  /// Rewrites the uncompressed size that the zip declares for `name` (in its local header
  /// and its central directory record), as a crafted archive would.
  func declareSize(_ size: UInt32, of name: String) throws {
    var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
    // The uncompressed size: at 22 in a local header, at 24 in a central-directory record.
    Self.patchHeaders(of: name, in: &bytes, fieldOffsets: (22, 24)) { bytes, field in
      withUnsafeBytes(of: size.littleEndian) { bytes.replaceSubrange(field..<(field + 4), with: $0) }
    }
    try bytes.write(to: URL(fileURLWithPath: path))
  }

  /// Calls `patch` with the place of a field in each header of `name`: its local header
  /// (the field at `fieldOffsets.local`) and its central-directory record (`.central`).
  private static func patchHeaders(
    of name: String, in bytes: inout Data, fieldOffsets: (local: Int, central: Int), _ patch: (inout Data, Int) -> Void
  ) {
    let nameBytes = Data(name.utf8)
    // (signature, offset of the name, offset of the field) per header kind
    for (signature, nameOffset, fieldOffset) in [
      (UInt32(0x0403_4b50), 30, fieldOffsets.local), (0x0201_4b50, 46, fieldOffsets.central),
    ] {
      var start = bytes.startIndex
      while let found = bytes[start...].firstRange(of: withUnsafeBytes(of: signature.littleEndian) { Data($0) }) {
        let header = found.lowerBound
        start = found.upperBound
        let nameRange = (header + nameOffset)..<(header + nameOffset + nameBytes.count)
        guard nameRange.upperBound <= bytes.endIndex, bytes[nameRange] == nameBytes else { continue }
        patch(&bytes, header + fieldOffset)
      }
    }
  }

  /// Rewrites the zip with `name`'s bytes replaced by `deflated`, declared as a deflated
  /// entry of that size (its checksum is left as it was: the bytes are meant to be bad).
  func replace(_ name: String, withDeflated deflated: Data) throws {
    let source = try Archive(url: URL(fileURLWithPath: path), accessMode: .read)
    let stored = folder.path("stored.zip")
    let copy = try Archive(url: URL(fileURLWithPath: stored), accessMode: .create)
    for entry in source {
      var data = Data()
      _ = try source.extract(entry) { data.append($0) }
      let bytes = entry.path == name ? deflated : data
      try copy.addEntry(with: entry.path, type: .file, uncompressedSize: Int64(bytes.count), compressionMethod: .none)
      { position, size in bytes.subdata(in: Int(position)..<Int(position) + size) }
    }
    // A stored entry holds its bytes as they are: mark it deflated (method 8) in its
    // local header (offset 8) and its central-directory record (offset 10).
    var bytes = try Data(contentsOf: URL(fileURLWithPath: stored))
    Self.patchHeaders(of: name, in: &bytes, fieldOffsets: (8, 10)) { bytes, field in bytes[field] = 8 }
    try bytes.write(to: URL(fileURLWithPath: path))
  }

  private static func contentTypes(sheets: Int) -> String {
    let overrides = (0..<sheets).map {
      #"<Override PartName="/xl/worksheets/sheet\#($0 + 1).xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>"#
    }
    return """
      <?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">\
      <Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>\
      <Default Extension="xml" ContentType="application/xml"/>\
      <Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>\
      \(overrides.joined())</Types>
      """
  }
}
