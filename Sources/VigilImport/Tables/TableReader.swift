/// A table read row by row — a CSV file, a sheet of an XLSX workbook, the records of a
/// JSON export — as `vigil import` and its mapping files see it (docs/import.md): a header
/// naming the columns, an optional HXL hashtag row, then rows of text cells. Readers
/// stream: memory stays bounded by one row (an XLSX workbook also by its shared-strings
/// table), whatever the file's size.
public protocol TableReader {
  /// The column names of the header row, as written (trimmed of surrounding spaces).
  var header: [String] { get }
  /// The HXL hashtags of the columns (`#adm1`, `#geo +lat`), when the row after the header
  /// is a hashtag row; `""` for a column without one. Nil when the file has no such row.
  var hashtags: [String]? { get }
  /// The next data row, or nil at the end. A row shorter than the header is padded with
  /// empty cells; a longer one is an error (a ragged row) unless its extra cells are empty.
  mutating func next() throws(TableError) -> TableRow?
  /// The columns no row read so far had a value in: for a JSON export, whose records name
  /// their own fields, the only sign of a column name the mapping misspelt. Empty for a
  /// table with a header row, whose missing columns are an error at once.
  var columnsWithoutValues: [String] { get }
  /// What a date's serial number counts from: an XLSX workbook says (Excel for the Mac
  /// wrote the 1904 system); other tables hold no serials of their own, so the 1900 system.
  var serialDates: SerialDateSystem { get }
  /// Whether dates may be serial numbers in its cells: a workbook's are (a date cell is
  /// its number); a text file's cells are what was written.
  var holdsSerialDates: Bool { get }
  /// What the file says of itself that its rows do not show, once they are read: a page
  /// of a paged export ("one page of several …"). Nil when it is whole, as far as it says.
  var partial: String? { get }
  /// Which part of the file was read, when the file has others: "the sheet 'Incidents',
  /// the first of 'Incidents', 'Codes'". Said with a missing column.
  var partRead: String? { get }
}

extension TableReader {
  public var columnsWithoutValues: [String] { [] }
  public var partial: String? { nil }
  public var partRead: String? { nil }
  public var serialDates: SerialDateSystem { .excel1900 }
  public var holdsSerialDates: Bool { false }
}

/// The two date systems of spreadsheet serial numbers (ECMA-376 Part 1, §18.17.4.1): a
/// whole number is a day, counted from 1899-12-30 in the 1900 system (so 42632 is
/// 2016-09-19) and from 1904-01-01 in the 1904 system (there 42632 is 2020-09-20).
public enum SerialDateSystem: Sendable, Equatable {
  case excel1900
  case excel1904

  /// The serial number of 1970-01-01.
  var unixEpochSerial: Int {
    switch self {
    case .excel1900: 25_569
    case .excel1904: 24_107
    }
  }
}

/// One data row: its cells as text (an empty cell is `""`), and where it is in the file.
public struct TableRow: Sendable, Equatable {
  /// The row's number as a person finds it: the line of a CSV file where the record
  /// starts (the header is line 1), the row number of a sheet, the record's index
  /// (from 1) in a JSON export.
  public let number: Int
  public let cells: [String]

  public init(number: Int, cells: [String]) {
    self.number = number
    self.cells = cells
  }
}

/// A file that cannot be read as a table, with where: the row (as `TableRow.number`
/// counts) and the column (1-based) when known.
public struct TableError: Error, Sendable, Equatable, CustomStringConvertible {
  public let row: Int?
  public let column: Int?
  public let message: String

  public init(row: Int?, column: Int? = nil, _ message: String) {
    self.row = row
    self.column = column
    self.message = message
  }

  public var description: String {
    switch (row, column) {
    case (let row?, let column?): "row \(row), column \(column): \(message)"
    case (let row?, nil): "row \(row): \(message)"
    default: message
    }
  }
}

/// The HXL hashtag row (hxlstandard.org): the row after the header whose cells with text
/// are each a hashtag and its attributes (`#adm1`, `#affected +healthworker +killed`).
/// A data row of `#1` or `# of victims` is not one.
enum HashtagRow {
  /// The row's cells trimmed, when it is a hashtag row; else nil.
  static func tags(_ cells: [String]) -> [String]? {
    let trimmed = cells.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
    let tagged = trimmed.filter { !$0.isEmpty }
    guard !tagged.isEmpty, tagged.allSatisfy(isHashtag) else { return nil }
    return trimmed
  }

  /// `#name`, then `+attribute`s, each a letter then letters, digits or `_`; the spaces
  /// between them optional (`#adm1+name` is `#adm1 +name`).
  static func isHashtag(_ text: String) -> Bool {
    let words = self.words(text)
    guard let name = words.first, name.hasPrefix("#"), isName(name.dropFirst()) else { return false }
    return words.dropFirst().allSatisfy { $0.hasPrefix("+") && isName($0.dropFirst()) }
  }

  /// A hashtag's words, a space put before each `+` (HXL makes the spaces optional):
  /// `#affected+killed` and `#affected +killed` are `["#affected", "+killed"]`.
  public static func words(_ text: String) -> [Substring] {
    text.replacingOccurrences(of: "+", with: " +").split(separator: " ")
  }

  private static func isName(_ text: Substring) -> Bool {
    let letter = { (scalar: Unicode.Scalar) in ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) }
    guard let first = text.unicodeScalars.first, letter(first) else { return false }
    return text.unicodeScalars.allSatisfy { letter($0) || ("0"..."9").contains($0) || $0 == "_" }
  }
}
