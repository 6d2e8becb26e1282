import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A CSV file read record by record (RFC 4180): fields separated by commas, records ended
/// by LF or CRLF, quoted fields that may hold commas, quotes (doubled) and line breaks.
///
/// Written by hand: the CSV libraries available do not both stream and report an error's row and column.
///
/// It reads the file in chunks (64 KiB), so memory stays bounded by the longest record;
/// a record longer than 16 MiB — most likely a quote never closed — is an error rather
/// than the whole file in memory. Strict where a guess would be wrong: a stray quote, text
/// after a closing quote, an unclosed quote and bytes that are not UTF-8 are errors at the
/// row where the record starts and the column (field) where they are. Lenient where the
/// intent is plain: a UTF-8 byte order mark is skipped, blank lines and rows of empty cells are skipped, the last
/// record may lack its line break, a lone CR (not before an LF) is text — unless the file's
/// lines end with CRs alone (the old Mac line ends: its first line break is a lone CR).
///
/// The reader owns its open file; a copy shares it, so read from one copy only.
public struct CSVReader: TableReader {
  /// A file saved in another encoding: which one cannot be told from its bytes, and the
  /// wrong guess records mangled text for good, so the likely ones are named.
  static let notUTF8 =
    "not UTF-8: convert the file first, naming the encoding it was saved in: iconv -f windows-1256 -t utf-8 "
    + "(Arabic, as Excel on Windows saves it), or -f latin1 (Western European)"

  public let header: [String]
  public let hashtags: [String]?

  static let defaultChunkSize = 64 * 1024
  static let defaultMaxRecordBytes = 16 * 1024 * 1024

  private var records: CSVRecords
  /// The record after the header when it was not a hashtag row: the first data row, or
  /// the error that refuses it (a stray quote, bytes that are not UTF-8), which `next()`
  /// throws in its turn, as it would any other row's.
  private var firstRow: Result<CSVRecords.Record, TableError>?

  /// Opens the CSV file at `path` and reads its header (and hashtag row, if any).
  public init(path: String) throws(TableError) {
    try self.init(path: path, chunkSize: Self.defaultChunkSize, maxRecordBytes: Self.defaultMaxRecordBytes)
  }

  /// Reads CSV text held in memory (tests; small uploads), as the file reader does.
  public init(bytes: [UInt8]) throws(TableError) {
    try self.init(bytes: bytes, chunkSize: Self.defaultChunkSize, maxRecordBytes: Self.defaultMaxRecordBytes)
  }

  /// The sizes are parameters so that tests can make records straddle chunk boundaries
  /// and hit the record limit without megabytes of input.
  init(path: String, chunkSize: Int, maxRecordBytes: Int) throws(TableError) {
    try self.init(ChunkSource(path: path, chunkSize: chunkSize), maxRecordBytes: maxRecordBytes)
  }

  init(bytes: [UInt8], chunkSize: Int, maxRecordBytes: Int) throws(TableError) {
    try self.init(ChunkSource(bytes: bytes, chunkSize: chunkSize), maxRecordBytes: maxRecordBytes)
  }

  /// Reads the header and the record after it, which is either the hashtag row or the
  /// first data row; so an error in either is thrown here.
  private init(_ source: ChunkSource, maxRecordBytes: Int) throws(TableError) {
    var records = try CSVRecords(source: source, maxRecordBytes: maxRecordBytes)
    guard let header = try records.next() else {
      throw TableError(row: nil, "the file is empty: no header row")
    }
    self.header = header.fields.map(Self.trimmed)
    let second: Result<CSVRecords.Record, TableError>?
    do {
      second = try records.next().map { .success($0) }
    } catch {
      // Thrown when the row is asked for, as for any later row: one of the row alone
      // refuses it and the rest is read; a fault of the file (an unclosed quote, a read
      // error) ends the file there, with the summary, as it would a row later.
      second = .failure(error)
    }
    self.records = records
    if case .success(let record)? = second, let tags = HashtagRow.tags(record.fields) {
      hashtags = try Self.shaped(tags, row: record.row, width: self.header.count)
    } else if let tags = HashtagRow.tags(header.fields) {
      // A sheet of hashtags alone (HXL allows them without a header row above): the first
      // row is both, and the next is data.
      hashtags = tags
      firstRow = second
    } else {
      hashtags = nil
      firstRow = second
    }
  }

  public mutating func next() throws(TableError) -> TableRow? {
    while true {
      let record: CSVRecords.Record
      if let firstRow {
        self.firstRow = nil
        record = try firstRow.get()
      } else {
        guard let read = try records.next() else { return nil }
        record = read
      }
      // A row of empty cells (`,,,`: a spreadsheet's formatted empty rows, saved as CSV) is
      // no record, as a blank line is none, and as an XLSX row without a value is none.
      // A cell of spaces or invisible marks alone counts as empty here too (audit 45).
      if record.fields.allSatisfy(CellComparison.showsNothing) { continue }
      return TableRow(number: record.row, cells: try Self.shaped(record.fields, row: record.row, width: header.count))
    }
  }

  /// `cells` fitted to the header: padded with empty cells, or cut when the cells beyond
  /// the header are all empty (a trailing comma, a spreadsheet's empty columns; a space or
  /// an invisible mark left in one shows nothing either).
  private static func shaped(_ cells: [String], row: Int, width: Int) throws(TableError) -> [String] {
    if cells.count == width { return cells }
    if cells.count < width { return cells + Array(repeating: "", count: width - cells.count) }
    guard cells[width...].allSatisfy(CellComparison.showsNothing) else {
      throw TableError(
        row: row, column: width + 1, "this row has \(cells.count) cells, the header has \(width) (a ragged row)")
    }
    return Array(cells[..<width])
  }

  /// Real headers carry stray spaces ("Location "), which a mapping file does not write.
  private static func trimmed(_ cell: String) -> String {
    cell.trimmingCharacters(in: .whitespacesAndNewlines)
  }
}

/// The records of CSV text, as written: the parser under `CSVReader`, which gives them
/// their meaning (header, hashtags, rows fitted to the header).
private struct CSVRecords {
  /// One record: the line it starts on, and its fields as written.
  struct Record {
    var row: Int
    var fields: [String]
  }

  /// Where the bytes come from; refills `buffer`.
  private let source: ChunkSource
  /// The current chunk, and the next byte's index in it.
  private var buffer: [UInt8] = []
  private var position = 0
  private var atEnd = false
  /// The line the next byte is on (1-based): a record's row is the line where it starts.
  private var line = 1
  private let maxRecordBytes: Int
  /// A malformed record leaves the parser at an unknown place in the file: every later
  /// call throws the same error. (A field that is not UTF-8 does not: the record was read
  /// to its end, and the next call reads the next one.)
  private var failure: TableError?
  /// Whether the file cannot be read further (every later `next()` throws the same error).
  var failed: Bool { failure != nil }

  /// How the file ends its lines, decided by its first line break: LF or CRLF, or a CR
  /// alone — the old Mac line ends (Excel's "CSV (Macintosh)"), where each CR is a line
  /// break; read otherwise, its rows were one header line, and nothing was imported.
  private enum LineEnds { case undecided, lineFeeds, carriageReturns }
  private var lineEnds = LineEnds.undecided

  init(source: ChunkSource, maxRecordBytes: Int) throws(TableError) {
    self.source = source
    self.maxRecordBytes = maxRecordBytes
    try skipByteOrderMark()
  }

  /// After a CR: whether it ends a line alone (no LF after it, in a file whose lines end
  /// so). The file's first line break decides how its lines end.
  private mutating func isLoneLineEnd() -> Bool {
    let beforeLineFeed = peekByte() == Self.lineFeed
    if lineEnds == .undecided { lineEnds = beforeLineFeed ? .lineFeeds : .carriageReturns }
    return !beforeLineFeed && lineEnds == .carriageReturns
  }

  /// After an LF: the file's lines end with LF (or CRLF).
  private mutating func sawLineFeed() {
    if lineEnds == .undecided { lineEnds = .lineFeeds }
  }


  private static let comma = UInt8(ascii: ",")
  private static let quote = UInt8(ascii: "\"")
  private static let lineFeed = UInt8(ascii: "\n")
  private static let carriageReturn = UInt8(ascii: "\r")

  private enum State {
    /// Nothing of the field read yet: a quote here opens a quoted field.
    case fieldStart
    case unquoted
    case quoted
    /// A quote inside a quoted field: the closing one, or the first of a doubled pair.
    case quoteInQuoted
  }

  /// The next record, skipping blank lines; nil at the end of the file.
  mutating func next() throws(TableError) -> Record? {
    if let failure { throw failure }
    var row = line
    var fields: [String] = []
    var field: [UInt8] = []
    var state = State.fieldStart
    var recordBytes = 0
    // The record's first fault (bytes that are not UTF-8, a stray quote), thrown once the
    // record is read to its end, so the caller refuses it and goes on to the next one.
    var rowError: TableError?

    func finishField() {
      if let text = String(validating: field, as: UTF8.self) {
        fields.append(text)
      } else {
        fields.append("")
        if rowError == nil {
          rowError = TableError(
            row: row, column: fields.count,
            CSVReader.notUTF8)
        }
      }
      field.removeAll(keepingCapacity: true)
    }
    func finishRecord() throws(TableError) -> Record {
      finishField()
      if let rowError { throw rowError }
      return Record(row: row, fields: fields)
    }

    while true {
      guard let byte = nextByte() else {
        if let error = source.error { throw failed(error) }
        switch state {
        case .quoted: throw failed(TableError(row: row, column: fields.count + 1, "a quoted field is never closed"))
        case .fieldStart where fields.isEmpty: return nil  // the end, after a line break or none
        default: return try finishRecord()
        }
      }
      recordBytes += 1
      if recordBytes > maxRecordBytes {
        let limit =
          maxRecordBytes % (1024 * 1024) == 0 ? "\(maxRecordBytes / 1024 / 1024) MiB" : "\(maxRecordBytes) bytes"
        throw failed(
          TableError(
            row: row, column: fields.count + 1, "this record is longer than \(limit) (is a quote never closed?)"))
      }
      switch state {
      case .fieldStart, .unquoted:
        switch byte {
        case Self.comma:
          finishField()
          state = .fieldStart
        case Self.quote where state == .fieldStart:
          state = .quoted
        case Self.quote:
          // The record still ends at its line break: read on as if the quote were text.
          if rowError == nil {
            rowError = TableError(
              row: row, column: fields.count + 1,
              "a quote inside an unquoted field; quote the whole field and double the quote")
          }
          field.append(byte)
        case Self.lineFeed, Self.carriageReturn:
          // A lone CR is text (unless the file's lines end so); LF and CRLF end the record.
          if byte == Self.lineFeed {
            sawLineFeed()
          } else if !isLoneLineEnd() {
            guard peekByte() == Self.lineFeed else {
              field.append(byte)
              state = .unquoted
              continue
            }
            position += 1
          }
          line += 1
          if state == .fieldStart && fields.isEmpty {
            // A blank line: no record.
            row = line
            recordBytes = 0
            continue
          }
          return try finishRecord()
        default:
          field.append(byte)
          state = .unquoted
        }
      case .quoted:
        if byte == Self.quote {
          state = .quoteInQuoted
        } else {
          // (A line break inside quotes does not decide how the file's lines end: a header
          // cell of two lines in a file of CRs.)
          if byte == Self.lineFeed {
            line += 1
          } else if byte == Self.carriageReturn, lineEnds == .carriageReturns, peekByte() != Self.lineFeed {
            line += 1
          }
          field.append(byte)
        }
      case .quoteInQuoted:
        switch byte {
        case Self.quote:
          field.append(byte)
          state = .quoted
        case Self.comma:
          finishField()
          state = .fieldStart
        case Self.lineFeed:
          sawLineFeed()
          line += 1
          return try finishRecord()
        case Self.carriageReturn where isLoneLineEnd():
          line += 1
          return try finishRecord()
        case Self.carriageReturn where peekByte() == Self.lineFeed:
          position += 1
          line += 1
          return try finishRecord()
        default:
          // As a stray quote: the field is spoilt, not the record's end; read on as text.
          if rowError == nil { rowError = TableError(row: row, column: fields.count + 1, "text after the closing quote") }
          field.append(byte)
          state = .unquoted
        }
      }
    }
  }

  /// Notes a malformed record, after which the parser cannot go on.
  private mutating func failed(_ error: TableError) -> TableError {
    failure = error
    return error
  }

  /// The next byte, reading the next chunk when this one is used up; nil at the end.
  private mutating func nextByte() -> UInt8? {
    if position == buffer.count {
      refill()
      if atEnd { return nil }
    }
    let byte = buffer[position]
    position += 1
    return byte
  }

  /// The next byte without taking it (a CR's, to see whether an LF follows).
  private mutating func peekByte() -> UInt8? {
    if position == buffer.count {
      refill()
      if atEnd { return nil }
    }
    return buffer[position]
  }

  /// Replaces the used-up chunk with the next one. After a read error there is none, and
  /// `next()` throws the error rather than take it for the end of the file.
  private mutating func refill() {
    buffer = source.nextChunk()
    position = 0
    atEnd = buffer.isEmpty
  }

  /// Skips the byte order mark Excel writes at the start of the file.
  private mutating func skipByteOrderMark() throws(TableError) {
    (buffer, position) = try source.firstChunkPastByteOrderMark()
  }
}
