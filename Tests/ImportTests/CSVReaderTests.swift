import Foundation
import Testing
import VigilTestSupport

@testable import VigilImport

/// Reads `text` (or `bytes`) whole: the header, the hashtags and every row.
private func readAll(
  _ bytes: [UInt8], chunkSize: Int = CSVReader.defaultChunkSize,
  maxRecordBytes: Int = CSVReader.defaultMaxRecordBytes
) throws(TableError) -> (header: [String], hashtags: [String]?, rows: [TableRow]) {
  var reader = try CSVReader(bytes: bytes, chunkSize: chunkSize, maxRecordBytes: maxRecordBytes)
  var rows: [TableRow] = []
  while let row = try reader.next() { rows.append(row) }
  return (reader.header, reader.hashtags, rows)
}

private func readAll(_ text: String, chunkSize: Int = CSVReader.defaultChunkSize) throws(TableError) -> (
  header: [String], hashtags: [String]?, rows: [TableRow]
) {
  try readAll(Array(text.utf8), chunkSize: chunkSize)
}

/// The error the reader throws for `text`, from its initialiser or from a `next()`.
private func firstError(_ bytes: [UInt8], maxRecordBytes: Int = CSVReader.defaultMaxRecordBytes) -> TableError? {
  do {
    _ = try readAll(bytes, maxRecordBytes: maxRecordBytes)
    return nil
  } catch {
    return error
  }
}

private func firstError(_ text: String) -> TableError? { firstError(Array(text.utf8)) }

@Suite("Import: CSV files")
struct CSVReaderTests {
  // MARK: RFC 4180

  @Test func quotedFieldsHoldCommasLineBreaksAndDoubledQuotes() throws {
    let table = try readAll("name,note\n\"Aleppo, east\",\"said \"\"stop\"\"\nthen left\"\n\"\",\"a\r\nb\"\n")
    #expect(table.header == ["name", "note"])
    #expect(
      table.rows == [
        TableRow(number: 2, cells: ["Aleppo, east", "said \"stop\"\nthen left"]),
        TableRow(number: 4, cells: ["", "a\r\nb"]),
      ])
  }

  @Test func recordsEndWithCRLFAsWithLF() throws {
    let table = try readAll("a,b\r\n1,2\r\n\"3\",4\r\n")
    #expect(table.header == ["a", "b"])
    #expect(table.rows == [TableRow(number: 2, cells: ["1", "2"]), TableRow(number: 3, cells: ["3", "4"])])
  }

  @Test func aLoneCarriageReturnIsText() throws {
    let table = try readAll("a,b\nx\ry,z\n")
    #expect(table.rows == [TableRow(number: 2, cells: ["x\ry", "z"])])
  }

  /// A file whose lines end with CRs alone (Excel's "CSV (Macintosh)") is read line by
  /// line, blank lines and quoted fields as elsewhere, whatever the chunks.
  @Test(arguments: [4, 64 * 1024])
  func aFileOfOldMacLineEndsIsReadByItsLines(chunkSize: Int) throws {
    let table = try readAll("\u{FEFF}ID,Date,Note\r1,04/03/2016,x\r\r2,05/03/2016,\"a\rb\"\r3,06/03/2016,\"q\"\r", chunkSize: chunkSize)
    #expect(table.header == ["ID", "Date", "Note"])
    #expect(
      table.rows == [
        TableRow(number: 2, cells: ["1", "04/03/2016", "x"]),
        TableRow(number: 4, cells: ["2", "05/03/2016", "a\rb"]),
        TableRow(number: 6, cells: ["3", "06/03/2016", "q"]),
      ])
    // A header cell of two lines does not decide how the lines end.
    let twoLineHeader = try readAll("Incident,\"Killed\n(total)\"\rK1,1\rK2,2\r", chunkSize: chunkSize)
    #expect(twoLineHeader.header == ["Incident", "Killed\n(total)"])
    #expect(twoLineHeader.rows.map(\.cells) == [["K1", "1"], ["K2", "2"]])
  }

  @Test func aByteOrderMarkIsSkipped() throws {
    let table = try readAll([0xEF, 0xBB, 0xBF] + Array("Incident ID,Year\n1,2015\n".utf8))
    #expect(table.header == ["Incident ID", "Year"])
    #expect(table.rows == [TableRow(number: 2, cells: ["1", "2015"])])
  }

  @Test func theLastRecordMayLackItsLineBreak() throws {
    #expect(try readAll("a,b\n1,2").rows == [TableRow(number: 2, cells: ["1", "2"])])
    #expect(try readAll("a,b\n1,\"2\"").rows == [TableRow(number: 2, cells: ["1", "2"])])
    #expect(try readAll("a,b\n1,").rows == [TableRow(number: 2, cells: ["1", ""])])
  }

  @Test func blankLinesAreSkippedButStillCounted() throws {
    let table = try readAll("\na,b\n\n1,2\n\r\n3,4\n\n")
    #expect(table.header == ["a", "b"])
    #expect(table.rows == [TableRow(number: 4, cells: ["1", "2"]), TableRow(number: 6, cells: ["3", "4"])])
  }

  /// A spreadsheet saved as CSV writes its formatted empty rows as `,,,`: no rows, as in
  /// XLSX, where a row without a value is none.
  @Test func rowsOfEmptyCellsAreSkippedLikeBlankLines() throws {
    let table = try readAll("a,b,c\n1,2,3\n,,\n, ,\t\n\"\",,\n4,,\n")
    #expect(table.rows == [TableRow(number: 2, cells: ["1", "2", "3"]), TableRow(number: 6, cells: ["4", "", ""])])
  }

  @Test func aRowIsTheLineWhereItsRecordStarts() throws {
    // Row 3 spans lines 3–4, so the next record is row 5.
    let table = try readAll("id,details\n1,short\n2,\"two\nlines\"\n3,\"a \"\"quote\"\"\"\n")
    #expect(table.rows.map(\.number) == [2, 3, 5])
  }

  @Test func theHeaderIsTrimmedAndCellsAreNot() throws {
    let table = try readAll("Date, Location ,\" Killed\"\n 2016 , Aleppo ,\" 3\"\n")
    #expect(table.header == ["Date", "Location", "Killed"])
    #expect(table.rows == [TableRow(number: 2, cells: [" 2016 ", " Aleppo ", " 3"])])
  }

  // MARK: Rows fitted to the header

  @Test func aShortRowIsPaddedWithEmptyCells() throws {
    let table = try readAll("a,b,c\n1\n1,2\n")
    #expect(table.rows == [TableRow(number: 2, cells: ["1", "", ""]), TableRow(number: 3, cells: ["1", "2", ""])])
  }

  @Test func emptyCellsBeyondTheHeaderAreDropped() throws {
    let table = try readAll("a,b\n1,2,,\n")
    #expect(table.rows == [TableRow(number: 2, cells: ["1", "2"])])
  }

  @Test func aRaggedRowIsAnErrorAtItsFirstExtraColumnAndTheReaderGoesOn() throws {
    var reader = try CSVReader(bytes: Array("a,b\n1,2,,x\n3,4\n".utf8))
    #expect(throws: TableError(row: 2, column: 3, "this row has 4 cells, the header has 2 (a ragged row)")) {
      try reader.next()
    }
    #expect(try reader.next() == TableRow(number: 3, cells: ["3", "4"]))
    #expect(try reader.next() == nil)
  }

  /// A cell of spaces or invisible marks alone shows nothing: past the header it makes no
  /// ragged row, and a row of such cells is no row, as one of empty cells is none (audit 45).
  @Test func cellsThatShowNothingAreEmptyPastTheHeaderAndInABlankRow() throws {
    var reader = try CSVReader(bytes: Array("a,b\n1,2, \n3,4,\u{200F}\n \u{200F}, ,\t,\u{00A0}\n5,6,\u{200F}x\n7,8\n".utf8))
    #expect(try reader.next() == TableRow(number: 2, cells: ["1", "2"]))
    #expect(try reader.next() == TableRow(number: 3, cells: ["3", "4"]))
    #expect(throws: TableError(row: 5, column: 3, "this row has 3 cells, the header has 2 (a ragged row)")) {
      try reader.next()
    }
    #expect(try reader.next() == TableRow(number: 6, cells: ["7", "8"]))
    #expect(try reader.next() == nil)
  }

  // MARK: HXL hashtags

  @Test func aHashtagRowAfterTheHeaderIsReadAsHashtags() throws {
    let table = try readAll("Date,Location ,Killed,Notes\n#date, #adm1 ,#affected +killed,\n2016-02-01,Aleppo,3,\n")
    #expect(table.header == ["Date", "Location", "Killed", "Notes"])
    #expect(table.hashtags == ["#date", "#adm1", "#affected +killed", ""])
    #expect(table.rows == [TableRow(number: 3, cells: ["2016-02-01", "Aleppo", "3", ""])])
  }

  /// Hashtags alone, with no header row above (HXL allows it): the first row is both the
  /// header and the hashtags, and the data follows.
  @Test func aSheetOfHashtagsAloneIsReadByThem() throws {
    let table = try readAll("#event +id,#date,#affected +killed\nH8-1,2016-03-04,3\n")
    #expect(table.header == ["#event +id", "#date", "#affected +killed"])
    #expect(table.hashtags == ["#event +id", "#date", "#affected +killed"])
    #expect(table.rows == [TableRow(number: 2, cells: ["H8-1", "2016-03-04", "3"])])
    // And the header row with the hashtags under it is read as before.
    let both = try readAll("#event +id,#date\n#event +id,#date\nH8-1,2016-03-04\n")
    #expect(both.rows == [TableRow(number: 3, cells: ["H8-1", "2016-03-04"])])
  }

  @Test func aShortHashtagRowIsPadded() throws {
    let table = try readAll("Date,Location,Killed\n#date\n")
    #expect(table.hashtags == ["#date", "", ""])
    #expect(table.rows.isEmpty)
  }

  @Test func aDataRowAfterTheHeaderIsNotTakenForHashtags() throws {
    // One cell starting with "#" is not enough, nor is a row of empty cells.
    let first = try readAll("Rank,Name\n#1,Aleppo\n#2,Idleb\n")
    #expect(first.hashtags == nil)
    #expect(first.rows.map(\.number) == [2, 3])
    let second = try readAll("Rank,Name\n3,#hashtag\n")
    #expect(second.hashtags == nil)
    #expect(second.rows == [TableRow(number: 2, cells: ["3", "#hashtag"])])
    let empty = try readAll("Rank,Name\n,\n")
    #expect(empty.hashtags == nil)
    #expect(empty.rows.isEmpty, "a row of empty cells is no row")
    #expect(try readAll("Rank,Name\n").hashtags == nil)
    // Every cell starting with "#" is not enough either: each must be a hashtag.
    let numbers = try readAll("Rank,Name\n#1,#2\n# of victims,#adm1\n")
    #expect(numbers.hashtags == nil)
    #expect(numbers.rows.map(\.number) == [2, 3])
  }

  /// The first data row is read with the header (it could be the hashtag row); a fault of
  /// its own refuses it in its turn, and the rows after it are read, as for any other row.
  @Test func aFaultInTheFirstDataRowRefusesThatRowAlone() throws {
    var quote = try CSVReader(bytes: Array("a,b\n1,x\"y\n3,4\n".utf8))
    #expect(quote.header == ["a", "b"] && quote.hashtags == nil)
    #expect(throws: TableError(row: 2, column: 2, "a quote inside an unquoted field; quote the whole field and double the quote")) {
      try quote.next()
    }
    #expect(try quote.next() == TableRow(number: 3, cells: ["3", "4"]))
    #expect(try quote.next() == nil)
    var latin1 = try CSVReader(bytes: Array("a,b\n".utf8) + [0x31, 0x2C, 0xF4, 0x0A] + Array("3,4\n".utf8))
    #expect(throws: TableError(row: 2, column: 2, "not UTF-8: convert the file first, naming the encoding it was saved in: iconv -f windows-1256 -t utf-8 (Arabic, as Excel on Windows saves it), or -f latin1 (Western European)")) {
      try latin1.next()
    }
    #expect(try latin1.next() == TableRow(number: 3, cells: ["3", "4"]))
    // A fault of the file there ends it at that row, as it would a later one: the header
    // is read, and the fault comes when the row is asked for, then again (the place is
    // lost), so an import gives its summary rather than failing before its first row.
    var unclosed = try CSVReader(bytes: Array("a,b\n1,\"2\n".utf8))
    #expect(unclosed.header == ["a", "b"])
    for _ in 1...2 {
      #expect(throws: TableError(row: 2, column: 2, "a quoted field is never closed")) { try unclosed.next() }
    }
  }

  /// UTF-16 text and a zip given as CSV are told apart by their first bytes and refused
  /// whole, saying what they are, rather than row by row as "not UTF-8".
  @Test func aFileInUTF16OrAZipIsRefusedSayingWhatItIs() {
    let utf16: [UInt8] = [0xFF, 0xFE] + "a,b\n".utf16.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }
    #expect(throws: TableError(row: nil, "the file is UTF-16 (its first bytes say so), not UTF-8: save it as UTF-8 (Excel: \"CSV UTF-8\"), or convert it with iconv -f utf-16 -t utf-8")) {
      try CSVReader(bytes: utf16)
    }
    #expect(throws: TableError(row: nil, "the file is a zip archive (an XLSX workbook?), not text")) {
      try CSVReader(bytes: [0x50, 0x4B, 0x03, 0x04, 0x14, 0x00])
    }
    // Without its byte order mark (iconv -t utf-16le writes none): told by the NUL in every
    // other byte, and which order it is (audit 24).
    let little: [UInt8] = "ID,Date\n".utf16.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }
    #expect(throws: TableError(row: nil, "the file is UTF-16 without a byte order mark (a NUL in every other byte), not UTF-8: save it as UTF-8 (Excel: \"CSV UTF-8\"), or convert it with iconv -f utf-16le -t utf-8")) {
      try CSVReader(bytes: little)
    }
    // A header that starts in Arabic: the comma and the line's end still tell it.
    let arabic: [UInt8] = "معرف,date\n".utf16.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }
    #expect(throws: TableError(row: nil, "the file is UTF-16 without a byte order mark (a NUL in every other byte), not UTF-8: save it as UTF-8 (Excel: \"CSV UTF-8\"), or convert it with iconv -f utf-16le -t utf-8")) {
      try CSVReader(bytes: arabic)
    }
    let big: [UInt8] = "ID,Date\n".utf16.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }
    #expect(throws: TableError(row: nil, "the file is UTF-16 without a byte order mark (a NUL in every other byte), not UTF-8: save it as UTF-8 (Excel: \"CSV UTF-8\"), or convert it with iconv -f utf-16be -t utf-8")) {
      try CSVReader(bytes: big)
    }
  }

  /// A mapping that gives no `format:`: the file's name chooses the reader.
  static func mappingWithoutFormat() throws -> Mapping {
    try MappingLoader.load(
      Array("mapping: any\nid: {column: A}\nfields:\n  occurred_at: B\n  type: {value: attack}\n".utf8), path: "m.yaml"
    ).get()
  }

  /// A workbook named by a pipe (`<(…)`, a FIFO) is refused for what it is — a pipe, with
  /// no end to read a zip archive from — not called damaged (audit 24).
  @Test func aWorkbookGivenAsAPipeIsRefusedSayingSo() throws {
    let directory = try TemporaryDirectory()
    let fifo = directory.path + "/book.xlsx"
    #expect(mkfifo(fifo, 0o600) == 0)
    let byName = try Self.mappingWithoutFormat()
    #expect(
      throws: TableError(
        row: nil,
        "it is a pipe, not a file, and a workbook is read from its end: give the file itself, or pipe it to standard "
          + "input (-), which is copied to a temporary file first")
    ) { try TableOpening.reader(for: fifo, mapping: byName) }
  }

  /// Opened by its mapping's format or its name, the error says which chose the reader:
  /// a workbook named .xlsx read by a CSV mapping is not told to be named .xlsx.
  @Test func whatChoseTheReaderIsSaidWithItsError() throws {
    let directory = try TemporaryDirectory()
    let zip: [UInt8] = [0x50, 0x4B, 0x03, 0x04, 0x14, 0x00]
    for name in ["book.xlsx", "book.csv"] {
      FileManager.default.createFile(atPath: directory.path + "/" + name, contents: Data(zip))
    }
    let csvMapping = try MappingLoader.load(
      Array("mapping: sheets\nformat: csv\nid: {column: A}\nfields:\n  occurred_at: B\n  type: {value: attack}\n".utf8),
      path: "m.yaml"
    ).get()
    let byName = try Self.mappingWithoutFormat()
    #expect(
      throws: TableError(
        row: nil,
        "the file is a zip archive (an XLSX workbook?), not text (the mapping sheets reads csv files, its format:; this file is named .xlsx: is it this file's mapping?)"
      )
    ) { try TableOpening.reader(for: directory.path + "/book.xlsx", mapping: csvMapping) }
    #expect(throws: TableError(row: nil, "the file is a zip archive (an XLSX workbook?), not text: name it .xlsx, or read it with a mapping whose format: is xlsx")) {
      try TableOpening.reader(for: directory.path + "/book.csv", mapping: byName)
    }
    // Named .csv under a mapping whose format is csv: renaming would not help.
    try FileManager.default.copyItem(atPath: directory.path + "/book.xlsx", toPath: directory.path + "/named.csv")
    #expect(
      throws: TableError(
        row: nil,
        "the file is a zip archive (an XLSX workbook?), not text: the mapping sheets reads csv files (its format:); read it with a mapping whose format: is xlsx"
      )
    ) { try TableOpening.reader(for: directory.path + "/named.csv", mapping: csvMapping) }
  }

  // MARK: Errors, at their row and column

  @Test func anEmptyFileHasNoHeader() {
    let empty = TableError(row: nil, "the file is empty: no header row")
    #expect(firstError("") == empty)
    #expect(firstError("\n\r\n\n") == empty)
    #expect(firstError([0xEF, 0xBB, 0xBF]) == empty)
  }

  @Test func aQuotedFieldNeverClosedIsAnErrorWhereItsRecordStarts() {
    #expect(firstError("a,b\n1,2\n3,\"four\n5,6\n") == TableError(row: 3, column: 2, "a quoted field is never closed"))
    #expect(firstError("\"a,b\n") == TableError(row: 1, column: 1, "a quoted field is never closed"))
  }

  @Test func aQuoteInsideAnUnquotedFieldIsRefused() {
    let message = "a quote inside an unquoted field; quote the whole field and double the quote"
    #expect(firstError("a,b,c\n1,2\n3,4 \"inch\",5\n") == TableError(row: 3, column: 2, message))
    #expect(firstError("a,b\n1, \"2\"\n") == TableError(row: 2, column: 2, message))
  }

  @Test func textAfterAClosingQuoteIsRefused() {
    let message = "text after the closing quote"
    #expect(firstError("a,b\n\"x\ny\",\"1\"2\n") == TableError(row: 2, column: 2, message))
    #expect(firstError("a,b\n\"1\" ,2\n") == TableError(row: 2, column: 1, message))
    #expect(firstError("a,b\n\"1\"\r2\n") == TableError(row: 2, column: 1, message))
  }

  @Test func latin1BytesAreNotUTF8AndTheReaderGoesOn() throws {
    // "Alep,Hôpital" in Latin-1: ô is the single byte F4.
    var reader = try CSVReader(
      bytes: Array("city,place\n1,2\n".utf8) + [0x41, 0x6C, 0x65, 0x70, 0x2C, 0x48, 0xF4, 0x70, 0x0A]
        + Array("3,4\n".utf8))
    #expect(try reader.next() == TableRow(number: 2, cells: ["1", "2"]))
    #expect(
      throws: TableError(
        row: 3, column: 2, "not UTF-8: convert the file first, naming the encoding it was saved in: iconv -f windows-1256 -t utf-8 (Arabic, as Excel on Windows saves it), or -f latin1 (Western European)")
    ) { try reader.next() }
    #expect(try reader.next() == TableRow(number: 4, cells: ["3", "4"]))
    #expect(firstError([0x4C, 0xE9, 0x67, 0x65, 0x6E, 0x64, 0x65, 0x0A])?.row == 1)
  }

  /// A stray quote spoils its cell, not the record's end (an unquoted field ends at the
  /// line break), so its row is refused and the rows after it are read, a quoted one
  /// over two lines included.
  @Test func aStrayQuoteRefusesItsRowAndReadingGoesOn() throws {
    var reader = try CSVReader(bytes: Array("a,b\n0,1\n1,x\"y\n\"3\n3\",4\n5,6\n".utf8))
    #expect(try reader.next() == TableRow(number: 2, cells: ["0", "1"]))
    let error = TableError(
      row: 3, column: 2, "a quote inside an unquoted field; quote the whole field and double the quote")
    #expect(throws: error) { try reader.next() }
    #expect(try reader.next() == TableRow(number: 4, cells: ["3\n3", "4"]))
    #expect(try reader.next() == TableRow(number: 6, cells: ["5", "6"]))
    #expect(try reader.next() == nil)
    // Text after a closing quote likewise.
    var after = try CSVReader(bytes: Array("a,b\n0,1\n\"1\"x,2\n3,4\n".utf8))
    #expect(try after.next() == TableRow(number: 2, cells: ["0", "1"]))
    #expect(throws: TableError(row: 3, column: 1, "text after the closing quote")) { try after.next() }
    #expect(try after.next() == TableRow(number: 4, cells: ["3", "4"]))
  }

  @Test func aRunawayRecordIsAnErrorAtItsStart() {
    let bytes = Array("a,b\n1,\"never closed\n".utf8) + Array(repeating: UInt8(ascii: "x"), count: 100)
    #expect(
      firstError(bytes, maxRecordBytes: 64)
        == TableError(row: 2, column: 2, "this record is longer than 64 bytes (is a quote never closed?)"))
    let mebibyte = Array("a\n\"".utf8) + Array(repeating: UInt8(ascii: "x"), count: 1024 * 1024)
    #expect(
      firstError(mebibyte, maxRecordBytes: 1024 * 1024)
        == TableError(row: 2, column: 1, "this record is longer than 1 MiB (is a quote never closed?)"))
    // A record of exactly the limit is fine.
    #expect(firstError(Array("a\n12345678".utf8), maxRecordBytes: 8) == nil)
  }

  @Test func aFileThatCannotBeOpenedSaysWhy() {
    #expect(throws: TableError(row: nil, "cannot read /nonexistent/incidents.csv: No such file or directory")) {
      try CSVReader(path: "/nonexistent/incidents.csv")
    }
    let folder = FileManager.default.temporaryDirectory.path
    #expect(throws: TableError(row: nil, "cannot read \(folder): Is a directory")) {
      try CSVReader(path: folder)
    }
  }

  // MARK: Chunks

  @Test func recordsStraddlingChunksReadAsWhole() throws {
    // With 7-byte chunks, the header's CRLF is split between chunks 1 and 2 (bytes 6 and 7),
    // the doubled quote in row 2 between chunks 2 and 3 (bytes 13 and 14), and the
    // three bytes of "Ḥ" between chunks 4 and 5 (bytes 26–28).
    let text = "ab,cde\r\n1,\"a,\"\"b\"\r\n2,Alep Ḥ\n"
    let bytes = Array(text.utf8)
    #expect(bytes[6] == 0x0D && bytes[7] == 0x0A)
    #expect(bytes[13] == 0x22 && bytes[14] == 0x22)
    #expect(bytes[26...28] == [0xE1, 0xB8, 0xA4])
    let table = try readAll(text, chunkSize: 7)
    #expect(table.header == ["ab", "cde"])
    #expect(table.rows == [TableRow(number: 2, cells: ["1", "a,\"b"]), TableRow(number: 3, cells: ["2", "Alep Ḥ"])])
  }

  @Test func everyChunkSizeReadsTheSame() throws {
    // A BOM, CRLFs, quoted line breaks, blank lines and 2-, 3- and 4-byte characters:
    // every chunk size from one byte up splits each of them somewhere.
    let bytes =
      [0xEF, 0xBB, 0xBF]
      + Array("Lieu ,Note\r\n#loc,#note\r\n\"Alep, حلب\",\"il a dit \"\"stop\"\"\r\npuis 🚑\"\r\n\r\nÉcole,\r\n".utf8)
    let whole = try readAll(bytes)
    #expect(whole.header == ["Lieu", "Note"])
    #expect(whole.hashtags == ["#loc", "#note"])
    #expect(
      whole.rows == [
        TableRow(number: 3, cells: ["Alep, حلب", "il a dit \"stop\"\r\npuis 🚑"]),
        TableRow(number: 6, cells: ["École", ""]),
      ])
    for chunkSize in 1...bytes.count {
      let table = try readAll(bytes, chunkSize: chunkSize)
      #expect(table.header == whole.header && table.hashtags == whole.hashtags, "chunk size \(chunkSize)")
      #expect(table.rows == whole.rows, "chunk size \(chunkSize)")
    }
  }

  @Test func aFileIsReadInChunks() throws {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("csv-reader-\(UUID()).csv").path
    let text = "id,note\n1,\"first\r\nsecond\"\n2,Ḥama\n"
    #expect(FileManager.default.createFile(atPath: path, contents: Data(text.utf8)))
    defer { try? FileManager.default.removeItem(atPath: path) }
    var reader = try CSVReader(path: path, chunkSize: 3, maxRecordBytes: CSVReader.defaultMaxRecordBytes)
    #expect(reader.header == ["id", "note"])
    #expect(try reader.next() == TableRow(number: 2, cells: ["1", "first\r\nsecond"]))
    #expect(try reader.next() == TableRow(number: 4, cells: ["2", "Ḥama"]))
    #expect(try reader.next() == nil)
  }

  // MARK: The real file

  @Test func theAidWorkerSecurityDatabaseReadsWhole() throws {
    let path = try #require(SharedData.path("awsd-security-incidents.csv"), "\(SharedData.missing("awsd-security-incidents.csv"))")
    var reader = try CSVReader(path: path)
    #expect(reader.header.count == 41)
    #expect(reader.header.first == "Incident ID")
    #expect(reader.hashtags == nil)
    let header = reader.header
    func column(_ name: String) throws -> Int { try #require(header.firstIndex(of: name), "no column \(name)") }
    let (code, year, month, day) = try (column("Country Code"), column("Year"), column("Month"), column("Day"))

    var rows = 0
    var syria = 0
    var lastNumber = 1
    while let row = try reader.next() {
      rows += 1
      #expect(row.cells.count == 41)
      #expect(row.number > lastNumber)
      lastNumber = row.number
      // SOURCES.md: 25 Syria rows fall between 2015-11-14 and 2016-12-31. An empty Day
      // counts when its month is in range; a row without a month cannot be placed.
      guard row.cells[code] == "SY", let y = Int(row.cells[year]), let m = Int(row.cells[month]) else { continue }
      let d = Int(row.cells[day])
      let inRange =
        switch (y, m) {
        case (2016, _), (2015, 12): true
        case (2015, 11): d.map { $0 >= 14 } ?? true
        default: false
        }
      if inRange { syria += 1 }
    }
    #expect(rows == 4337)
    #expect(syria == 25)
  }
}
