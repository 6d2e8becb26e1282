import Foundation

#if canImport(FoundationXML)
  import FoundationXML
#endif

/// A sheet's row as its part writes it: the row number (`<row r=>`) and the cells' text
/// by column (index 0 is column A), up to the last cell with text.
struct XLSXSheetRow: Sendable, Equatable {
  let number: Int
  let cells: [String]
}

/// Turns a worksheet part's XML into rows of text, one at a time, as `XMLParser` reads it;
/// `deliver` gets each row or a row's error, and returns false to stop the parse.
///
/// A cell is placed by its reference (`r="B7"`), since empty cells are left out of the
/// XML; its text depends on its type: a shared string's text (`t="s"`), an inline
/// string (`t="inlineStr"`), a formula's text result (`t="str"`), `true`/`false`
/// (`t="b"`), nothing for an error such as `#N/A` (`t="e"`), the date of an ISO 8601
/// date cell (`t="d"`), else the value as written — a date is its serial number
/// (`42632`), left for the mapping to read. Rows without text (only
/// formatting, common at a sheet's end) are left out, like rows the XML leaves out.
final class XLSXSheetParser: XLSXPartParser {
  typealias Delivery = (Result<XLSXSheetRow, TableError>) -> Bool

  /// Excel's last column, XFD: it bounds a row's width.
  static let maxColumn = 16_384
  /// Excel holds 32,767 characters in a cell; past this, a cell is an error, not memory.
  static let maxCellBytes = 1 << 20

  private let sharedStrings: [String]
  private let deliver: Delivery

  // The row being read.
  private var rowNumber = 0
  private var inRow = false
  private var cells: [String] = []
  /// A row whose cell cannot be read is delivered as this error, once the row has ended.
  private var rowError: TableError?

  // The cell being read.
  private var inCell = false
  private var column = 0
  private var type: String?
  private var value = ""
  private var collecting = false
  private var inInlineString = false
  private var phoneticDepth = 0

  init(part: String, sharedStrings: [String], deliver: @escaping Delivery) {
    self.sharedStrings = sharedStrings
    self.deliver = deliver
    super.init(part: part)
  }

  /// The row an XML error falls in; nil between rows (an error there is the file's, not
  /// the row's before it, which was read whole and may have been recorded).
  override var currentRow: Int? { inRow && rowNumber > 0 ? rowNumber : nil }

  override func start(_ element: String, attributes: [String: String], parser: XMLParser) {
    switch element {
    case "row":
      // `r` is optional: a row without it follows the previous one.
      rowNumber = attributes["r"].flatMap { Int($0) } ?? rowNumber + 1
      inRow = true
      cells.removeAll(keepingCapacity: true)
      rowError = nil
    case "c":
      inCell = true
      type = attributes["t"]
      value = ""
      if let reference = attributes["r"] {
        guard let referenced = Self.column(of: reference) else {
          failRow("the cell reference \(reference) is not a column and row such as B7", column: column + 1)
          column += 1
          return
        }
        column = referenced
      } else {
        column += 1  // `r` is optional here too
      }
    case "v": collecting = inCell
    case "is": inInlineString = inCell
    case "rPh": phoneticDepth += 1
    case "t": collecting = inInlineString && phoneticDepth == 0
    default: break
    }
  }

  override func end(_ element: String, parser: XMLParser) {
    switch element {
    case "v", "t": collecting = false
    case "is": inInlineString = false
    case "rPh": phoneticDepth -= 1
    case "c":
      inCell = false
      place(cellText())
    case "row":
      inRow = false
      defer { column = 0 }
      let delivered: Bool
      if let rowError {
        delivered = deliver(.failure(rowError))
      } else if cells.isEmpty {
        return
      } else {
        delivered = deliver(.success(XLSXSheetRow(number: rowNumber, cells: cells)))
      }
      if !delivered { parser.abortParsing() }
    default: break
    }
  }

  override func text(_ string: String) {
    guard collecting else { return }
    guard value.utf8.count + string.utf8.count <= Self.maxCellBytes else {
      failRow("this cell's text is longer than 1 MiB", column: column)
      collecting = false
      return
    }
    value += string
  }

  // MARK: Cells

  /// A number cell's text: a whole number as its digits, however the workbook's writer
  /// spelt it (`20475.0`, as pandas and openpyxl write a float, and `2.0474E4` are `20475`
  /// and `20474`), so that an id read from it is the number's (audit 51); any other number
  /// as written (`-0.25`, `1E-3`, and a whole number past 2^53, which a double does not
  /// hold exactly).
  static func numberText(_ value: String) -> String {
    guard value.utf8.contains(where: { $0 == UInt8(ascii: ".") || $0 | 0x20 == UInt8(ascii: "e") }),
      let number = Double(value.trimmingCharacters(in: .whitespaces)), number.isFinite, number == number.rounded(),
      abs(number) <= 9_007_199_254_740_992
    else { return value }
    return String(Int64(number))
  }

  private func cellText() -> String {
    // A cell without a value is formatting only, whatever its type.
    guard !value.isEmpty else { return "" }
    switch type {
    case nil, "n":
      return Self.numberText(value)
    // A formula's error (`#N/A`, `#DIV/0!`) holds no value: the cell is empty, not the
    // error's name recorded as a place or a perpetrator.
    case "e":
      return ""
    // An ISO 8601 date cell (Excel's "ISO 8601 dates" option, Strict OOXML) is a date as a
    // serial number is, with no zone: a time of day in it is dropped as a serial's
    // fraction is (`2016-03-04T00:00:00` is 2016-03-04); one with a zone is kept.
    case "d":
      let trimmed = value.trimmingCharacters(in: .whitespaces)
      guard trimmed.count > 10, DateReading.isoDate(String(trimmed.prefix(10))) != nil else { return value }
      let time = trimmed.dropFirst(10)
      let zoned = time.hasSuffix("Z") || time.hasSuffix("z") || time.dropFirst(1).contains("+") || time.dropFirst(1).contains("-")
      return zoned ? value : String(trimmed.prefix(10))
    case "s":
      guard let index = Int(value.trimmingCharacters(in: .whitespaces)), sharedStrings.indices.contains(index) else {
        let table =
          sharedStrings.isEmpty
          ? "the workbook has no shared strings" : "the shared-strings table ends at \(sharedStrings.count - 1)"
        failRow("the cell names shared string \(value), but \(table)", column: column)
        return ""
      }
      return sharedStrings[index]
    case "inlineStr", "str":
      return Self.unescaped(value)
    case "b":
      switch value.trimmingCharacters(in: .whitespaces) {
      case "1": return "true"
      case "0": return "false"
      default:
        failRow("the cell's boolean value is \(value), not 0 or 1", column: column)
        return ""
      }
    case let other?:
      failRow("the cell's type \(other) is not one of SpreadsheetML's (s, inlineStr, str, b, e, n, d)", column: column)
      return ""
    }
  }

  private func place(_ text: String) {
    guard !text.isEmpty, column >= 1 else { return }
    guard column <= Self.maxColumn else {
      failRow("the cell is in column \(column), past Excel's last column XFD (\(Self.maxColumn))", column: column)
      return
    }
    if column > cells.count {
      cells.append(contentsOf: repeatElement("", count: column - 1 - cells.count))
      cells.append(text)
    } else {
      cells[column - 1] = text
    }
  }

  private func failRow(_ message: String, column: Int) {
    if rowError == nil { rowError = TableError(row: rowNumber, column: column, message) }
  }

  /// The column (1-based) of a reference such as `B7` or `AJ8856`; nil when it is not one.
  static func column(of reference: String) -> Int? {
    let letters = reference.utf8.prefix { (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0 & 0xDF) }
    let digits = reference.utf8.dropFirst(letters.count)
    guard (1...3).contains(letters.count), !digits.isEmpty,
      digits.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) })
    else { return nil }
    // `& 0xDF` upper-cases an ASCII letter: some writers use lowercase references.
    return letters.reduce(0) { $0 * 26 + Int($1 & 0xDF - UInt8(ascii: "A")) + 1 }
  }
}
