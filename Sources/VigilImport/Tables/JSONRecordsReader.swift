import Foundation
import VigilCore

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// The records of a JSON export read as a table: NDJSON (one object a line), a top-level
/// array of objects, or an object whose `"results"` holds that array (the KoboToolbox API
/// v2 export: `{"count": 2, "next": null, "results": [ {…}, {…} ]}`) or whose `"value"`
/// does (OData, as ODK Central serves submissions: `{"@odata.context": …, "value": [ … ]}`).
///
/// A JSON record has no fixed columns, so the caller names the ones it wants (its mapping's
/// references): `header` is exactly those, and a row's cells are the record's values at
/// those names, `""` where the record has none. A record is flattened first: nested objects
/// join their keys with "/" (`{"incident": {"date": …}}` gives `incident/date`; keys that
/// already hold "/" — Kobo writes its group paths flat — stay as they are), an array gives
/// `key/0`, `key/1`, … (and, when its elements are all scalars, `key` = them joined by a
/// space, nulls and empty strings left out), so a repeat group's fields are `key/0/field`.
/// Scalars as text: strings as they are, numbers as written where possible (`35.93`, `2`
/// for `2.0`), `true`/`false`, and null as `""`. A wanted column matches a flattened key
/// exactly, else the key's last path segment (`date` for `incident/date`), else the key
/// case-insensitively, else its last segment case-insensitively; a name that matches
/// several keys at the first step that matches is an error, as a guess would be wrong.
///
/// It reads the file in chunks (64 KiB) and finds a record's end by scanning its bytes
/// (depth of brackets and braces, strings and their escapes), so memory stays bounded by
/// one record; a record longer than 16 MiB is an error. Each record is then parsed with
/// `JSONSerialization`. A row's number is its line in NDJSON, else the record's index from
/// 1. Once the array of records ends, the rest of the file is not read.
///
/// The reader owns its open file; a copy shares it, so read from one copy only.
public struct JSONRecordsReader: TableReader {
  public let header: [String]
  public let hashtags: [String]? = nil

  static let defaultChunkSize = 64 * 1024
  static let defaultMaxRecordBytes = 16 * 1024 * 1024

  private var records: JSONRecordSplitter
  /// The wanted columns that no record has had a value for yet, by their place in `header`.
  private var withoutValues: Set<Int>

  public var columnsWithoutValues: [String] { withoutValues.sorted().map { header[$0] } }
  public var partial: String? { records.pageNote }

  /// Opens the export at `path`: NDJSON when `ndjson`, else JSON. `columns` are the names
  /// wanted; for JSON the top level is read here, so a file of another shape throws here.
  public init(path: String, columns: [String], ndjson: Bool) throws(TableError) {
    try self.init(
      path: path, columns: columns, ndjson: ndjson, chunkSize: Self.defaultChunkSize,
      maxRecordBytes: Self.defaultMaxRecordBytes)
  }

  /// The sizes are parameters so that tests can make records straddle chunk boundaries
  /// and hit the record limit without megabytes of input.
  init(path: String, columns: [String], ndjson: Bool, chunkSize: Int, maxRecordBytes: Int) throws(TableError) {
    try self.init(
      ChunkSource(path: path, chunkSize: chunkSize), columns: columns, ndjson: ndjson,
      maxRecordBytes: maxRecordBytes)
  }

  /// Reads an export held in memory (tests), as the file reader does.
  init(
    bytes: [UInt8], columns: [String], ndjson: Bool, chunkSize: Int = defaultChunkSize,
    maxRecordBytes: Int = defaultMaxRecordBytes
  ) throws(TableError) {
    try self.init(
      ChunkSource(bytes: bytes, chunkSize: chunkSize), columns: columns, ndjson: ndjson,
      maxRecordBytes: maxRecordBytes)
  }

  private init(_ source: ChunkSource, columns: [String], ndjson: Bool, maxRecordBytes: Int) throws(TableError) {
    header = columns
    withoutValues = Set(columns.indices)
    // The keys of every record first, so that a short name (`killed`) means one field over
    // the whole export: record by record, a record without `incident/killed` (Kobo leaves
    // unanswered questions out) took `followup/killed` for it.
    if source.canRewind {
      var keys = Set<String>()
      var scan = try JSONRecordSplitter(source: source, ndjson: ndjson, maxRecordBytes: maxRecordBytes)
      // Records that do not parse, and a broken structure, are the reading's to report.
      while let record = try? scan.next() {
        if let fields = try? Self.fields(of: record) { keys.formUnion(fields.keys) }
      }
      guard source.rewind() else { throw TableError(row: nil, "cannot read the file a second time") }
      bound = try Self.bind(columns, keys: keys)
    } else {
      bound = nil
    }
    records = try JSONRecordSplitter(source: source, ndjson: ndjson, maxRecordBytes: maxRecordBytes)
  }

  /// Each wanted column's key, decided over the whole export (nil: the file could be read
  /// only once, and each record decides).
  private let bound: [String?]?

  /// The key each column names over the whole export, by the steps `cells` takes; nil for
  /// a column no record has. A name several keys answer at its first step is an error.
  static func bind(_ columns: [String], keys: Set<String>) throws(TableError) -> [String?] {
    let indexes = KeyIndexes(keys)
    var bound: [String?] = []
    for (offset, column) in columns.enumerated() {
      let lowered = column.lowercased()
      // Another key differing only in case answers to it too: a record that has only that
      // one would lose its value. Unless the mapping names each as written: each is read.
      if keys.contains(column), let alike = indexes.byLowercased[lowered], alike.count > 1,
        !alike.allSatisfy(columns.contains)
      {
        throw TableError(
          row: nil, column: offset + 1,
          "\"\(column)\" matches several fields of the export, differing only in case (\(alike.sorted().joined(separator: ", "))); "
            + "make them one in the export")
      }
      if keys.contains(column) {
        bound.append(column)
        continue
      }
      // Every key the name could stand for — its last part as written, or either in another
      // case: one only, over the whole export, or a record with another would lose its value.
      let steps = [indexes.bySegment[column], indexes.byLowercased[lowered], indexes.byLowercasedSegment[lowered]]
      let keys = Array(Set(steps.compactMap { $0 }.joined()))
      guard !keys.isEmpty else {
        bound.append(nil)
        continue
      }
      if keys.count > 1, Set(keys.map { $0.lowercased() }).count == 1 {
        throw TableError(
          row: nil, column: offset + 1,
          "\"\(column)\" matches several fields of the export, differing only in case (\(keys.sorted().joined(separator: ", "))); "
            + "make them one in the export")
      }
      guard keys.count == 1 else {
        throw TableError(
          row: nil, column: offset + 1,
          "\"\(column)\" matches several fields of the export (\(keys.sorted().joined(separator: ", "))); name one in full")
      }
      bound.append(keys[0])
    }
    return bound
  }

  public mutating func next() throws(TableError) -> TableRow? {
    guard let record = try records.next() else { return nil }
    let fields = try Self.fields(of: record)
    let cells: [String]
    if let bound {
      cells = bound.map { key in key.flatMap { fields[$0] } ?? "" }
    } else {
      cells = try Self.cells(header, of: fields, row: record.row)
    }
    // A column the mapping reads that holds an object (or a list of objects) in this record:
    // it has no one value, and left empty its field would be dropped unsaid.
    for (index, cell) in cells.enumerated() where cell.isEmpty {
      let key = bound?[index] ?? header[index]
      // (A list of values is one value, its values joined: `key/0`, `key/1` are its own.)
      let inObject = { (member: String) in
        member.hasPrefix(key + "/") && !member.dropFirst(key.count + 1).allSatisfy { $0.isASCII && $0.isNumber }
      }
      if let member = fields.keys.filter(inObject).min() {
        throw TableError(
          row: record.row, column: index + 1,
          "\"\(key)\" holds an object or a list here, not one value (\(member), …); name the member to read")
      }
    }
    if !withoutValues.isEmpty { withoutValues = withoutValues.filter { cells[$0].isEmpty } }
    return TableRow(number: record.row, cells: cells)
  }

  // MARK: A record's fields

  /// The record parsed and flattened: its keys as paths, its values as text.
  static func fields(of record: JSONRecordSplitter.Record) throws(TableError) -> [String: String] {
    guard String(validating: record.bytes, as: UTF8.self) != nil else {
      throw TableError(row: record.row, "not UTF-8 (JSON must be UTF-8): " + CSVReader.notUTF8.dropFirst("not UTF-8: ".count))
    }
    // The strict reading first, as reports on the socket are read: Foundation's takes a key
    // given twice and keeps the last one, so `{"id":"P4",…,"id":"P5"}` became P5 unsaid.
    do {
      _ = try JSONScanner.scan(record.bytes)
    } catch {
      throw TableError(row: record.row, "not valid JSON: \(error)")
    }
    let value: Any
    do {
      value = try JSONSerialization.jsonObject(with: Data(record.bytes), options: [.fragmentsAllowed])
    } catch {
      let reason = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String ?? "\(error)"
      throw TableError(row: record.row, "not valid JSON: \(reason)")
    }
    guard let object = value as? [String: Any] else {
      throw TableError(row: record.row, "a record must be a JSON object")
    }
    var fields: [String: String] = [:]
    for (key, value) in object { flatten(value, path: key, into: &fields) }
    return fields
  }

  private static func flatten(_ value: Any, path: String, into fields: inout [String: String]) {
    if let object = value as? [String: Any] {
      for (key, value) in object { flatten(value, path: path + "/" + key, into: &fields) }
    } else if let array = value as? [Any] {
      var scalars: [String]? = []
      for (index, element) in array.enumerated() {
        flatten(element, path: path + "/" + String(index), into: &fields)
        if let text = scalarText(element) { scalars?.append(text) } else { scalars = nil }
      }
      // Nulls leave no gap: Kobo's `_geolocation: [null, null]` gives `""`, not `" "`.
      if let scalars { fields[path] = scalars.filter { !$0.isEmpty }.joined(separator: " ") }
    } else {
      fields[path] = scalarText(value) ?? ""
    }
  }

  /// A string, number, boolean or null as text; nil for an object or an array.
  static func scalarText(_ value: Any) -> String? {
    if let string = value as? String { return string }
    if value is NSNull { return "" }
    guard let number = value as? NSNumber else { return nil }
    // `as? Bool` is no test: on Linux it succeeds for the numbers 0 and 1 too. A JSON
    // boolean is the one NSNumber of type "c" (char) that JSONSerialization makes.
    if !(number is NSDecimalNumber) {
      switch UInt8(bitPattern: number.objCType.pointee) {
      case UInt8(ascii: "c"), UInt8(ascii: "B"):
        return number.boolValue ? "true" : "false"
      case UInt8(ascii: "d"), UInt8(ascii: "f"):
        let double = number.doubleValue
        if double.isFinite && double == double.rounded() && abs(double) < 1e15 {
          return String(Int64(double))
        }
        return "\(double)"
      default:
        break
      }
    }
    return number.stringValue
  }

  // MARK: Columns

  /// The cells of `columns` in a record's `fields`: see the type's comment for how a name
  /// matches a key.
  static func cells(_ columns: [String], of fields: [String: String], row: Int) throws(TableError) -> [String] {
    var indexes: KeyIndexes?
    var cells: [String] = []
    cells.reserveCapacity(columns.count)
    for (offset, column) in columns.enumerated() {
      let lowered = column.lowercased()
      if let value = fields[column] {
        if fields.count > 1 {
          if indexes == nil { indexes = KeyIndexes(fields.keys) }
          if let alike = indexes!.byLowercased[lowered], alike.count > 1, !alike.allSatisfy(columns.contains) {
            throw TableError(
              row: row, column: offset + 1,
              "\"\(column)\" matches several fields, differing only in case (\(alike.sorted().joined(separator: ", "))); make them one")
          }
        }
        cells.append(value)
        continue
      }
      if indexes == nil { indexes = KeyIndexes(fields.keys) }
      let steps = [indexes!.bySegment[column], indexes!.byLowercased[lowered], indexes!.byLowercasedSegment[lowered]]
      var value = ""
      for case let keys? in steps {
        guard keys.count == 1 else {
          let names = keys.sorted().joined(separator: ", ")
          throw TableError(
            row: row, column: offset + 1, "\"\(column)\" matches several fields (\(names)); name one in full")
        }
        value = fields[keys[0]] ?? ""
        break
      }
      cells.append(value)
    }
    return cells
  }

  /// A record's keys by their last path segment, lowercased, and both: built when a
  /// column does not match a key exactly.
  private struct KeyIndexes {
    var bySegment: [String: [String]] = [:]
    var byLowercased: [String: [String]] = [:]
    var byLowercasedSegment: [String: [String]] = [:]

    init(_ keys: some Sequence<String>) {
      for key in keys {
        let segment = key.split(separator: "/", omittingEmptySubsequences: false).last.map(String.init) ?? key
        bySegment[segment, default: []].append(key)
        byLowercased[key.lowercased(), default: []].append(key)
        byLowercasedSegment[segment.lowercased(), default: []].append(key)
      }
    }
  }
}

/// The records of JSON or NDJSON text as bytes, each still to be parsed: the splitter
/// under `JSONRecordsReader`.
struct JSONRecordSplitter {
  /// One record: its row (line in NDJSON, index from 1 in JSON) and its bytes.
  struct Record {
    var row: Int
    var bytes: [UInt8]
  }

  private enum Phase {
    /// NDJSON: a record a line.
    case lines
    /// Inside the array of records, before its first element or after one.
    case array(first: Bool)
    /// Past the array's end.
    case done
  }

  private var bytes: JSONByteStream
  private var phase: Phase
  private let maxRecordBytes: Int
  /// The line the next byte is on (NDJSON), or the number of records read (JSON).
  private var line = 1
  private var index = 0
  /// An error in the file's structure leaves the splitter at an unknown place: every
  /// later call throws it again. (A record that does not parse does not: its end was
  /// found, and the next call reads the next one.)
  private var failure: TableError?
  /// A paged export's top level (KoboToolbox's API gives 100 records a page by default):
  /// the records it counts in all, and where its next page is, when it says.
  private var declaredCount: Int?
  private var nextPage: String?
  /// The records are a member of a top-level object (not a top-level array).
  private var inObject = false

  /// Said when the file is one page of several: its records are not all the export's.
  var pageNote: String? {
    let counted = declaredCount.map { $0 > index ? "; it counts \($0) records and holds \(index)" : "" } ?? ""
    guard nextPage != nil || !counted.isEmpty else { return nil }
    let next = nextPage.map { "; its next page is \($0)" } ?? ""
    return "the export is one page of several\(counted)\(next): export every record (KoboToolbox: the API's "
      + "?limit=30000, or an XLSX or CSV export; ODK Central: the OData feed without $top)"
  }

  init(source: ChunkSource, ndjson: Bool, maxRecordBytes: Int) throws(TableError) {
    bytes = try JSONByteStream(source: source)
    self.maxRecordBytes = maxRecordBytes
    phase = .lines
    if !ndjson {
      try findRecords()
      phase = .array(first: true)
    }
  }

  private static let quote = UInt8(ascii: "\"")
  private static let backslash = UInt8(ascii: "\\")
  private static let comma = UInt8(ascii: ",")
  private static let colon = UInt8(ascii: ":")
  private static let lineFeed = UInt8(ascii: "\n")

  private static func isSpace(_ byte: UInt8) -> Bool {
    byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
  }

  mutating func next() throws(TableError) -> Record? {
    if let failure { throw failure }
    switch phase {
    case .lines: return try nextLine()
    case .array(let first): return try nextElement(first: first)
    case .done: return nil
    }
  }

  // MARK: NDJSON

  private mutating func nextLine() throws(TableError) -> Record? {
    while true {
      let row = line
      var record: [UInt8] = []
      var ended = false
      while let byte = bytes.next() {
        if byte == Self.lineFeed {
          line += 1
          ended = true
          break
        }
        record.append(byte)
        if record.count > maxRecordBytes { throw failed(tooLong(row: row)) }
      }
      if let error = bytes.error { throw failed(error) }
      // Surrounding spaces, and the CR of a CRLF, are no part of the record.
      let start = record.firstIndex { !Self.isSpace($0) }
      if let start {
        let end = record.lastIndex { !Self.isSpace($0) }!
        return Record(row: row, bytes: Array(record[start...end]))
      }
      if !ended { return nil }  // the end of the file
    }
  }

  // MARK: JSON

  /// Reads the top level up to the first byte inside the array of records: past `[`, or
  /// past `{`, the keys before `"results"` and their values, and `"results": [`.
  private mutating func findRecords() throws(TableError) {
    let shape =
      "the top level must be an array of records, or an object with \"results\" (a KoboToolbox export) or \"value\" "
      + "(ODK Central's OData)"
    guard let first = nextNonSpace() else { throw endOfFile("the file is empty: no JSON") }
    if first == UInt8(ascii: "[") { return }
    inObject = true
    guard first == UInt8(ascii: "{") else { throw TableError(row: nil, shape) }
    while true {
      guard let start = nextNonSpace() else { throw endOfFile("the file ends inside the top-level object") }
      if start == UInt8(ascii: "}") { throw TableError(row: nil, shape) }
      guard start == Self.quote else { throw TableError(row: nil, "the top-level object is not valid JSON") }
      let key = try scanValue(first: start, capture: true, row: nil)
      guard let colon = nextNonSpace() else { throw endOfFile("the file ends inside the top-level object") }
      guard colon == Self.colon else { throw TableError(row: nil, "the top-level object is not valid JSON") }
      guard let value = nextNonSpace() else { throw endOfFile("the file ends inside the top-level object") }
      // KoboToolbox's `results`; OData's `value` (ODK Central's submissions).
      if key == Array("\"results\"".utf8) || key == Array("\"value\"".utf8) {
        let name = String(decoding: key.dropFirst().dropLast(), as: UTF8.self)
        guard value == UInt8(ascii: "[") else { throw TableError(row: nil, "\"\(name)\" must be an array of records") }
        return
      }
      // Kobo's `count` and `next`; OData's `@odata.count` and `@odata.nextLink`.
      try takeMember(key: key, first: value)
      guard let separator = nextNonSpace() else { throw endOfFile("the file ends inside the top-level object") }
      if separator == UInt8(ascii: "}") { throw TableError(row: nil, shape) }
      guard separator == Self.comma else { throw TableError(row: nil, "the top-level object is not valid JSON") }
    }
  }

  /// A top-level member other than the records: kept when it says the file is one page of
  /// several (Kobo's `count` and `next`; OData's `@odata.count` and `@odata.nextLink`).
  private mutating func takeMember(key: [UInt8], first value: UInt8) throws(TableError) {
    let isCount = key == Array("\"count\"".utf8) || key == Array("\"@odata.count\"".utf8)
    let isNext = key == Array("\"next\"".utf8) || key == Array("\"@odata.nextLink\"".utf8)
    let scanned = try scanValue(first: value, capture: isCount || isNext, row: nil)
    if isCount { declaredCount = Int(String(decoding: scanned, as: UTF8.self)) }
    if isNext, scanned.first == Self.quote,
      let url = try? JSONSerialization.jsonObject(with: Data(scanned), options: [.fragmentsAllowed]) as? String
    {
      nextPage = url
    }
  }

  /// The members after the records (ODK Central writes `@odata.nextLink` and `@odata.count`
  /// there), for what they say of paging; the records are read, so a fault here is no
  /// fault of the import, and reading stops at it. But a second array of records (a
  /// `"results"` or `"value"` again, as files joined by hand have) is an error: its
  /// records would be passed over unsaid.
  private mutating func readMembersAfterRecords() -> TableError? {
    do throws(TableError) {
      while let separator = nextNonSpace(), separator == Self.comma {
        guard let start = nextNonSpace(), start == Self.quote else { return nil }
        let key = try scanValue(first: start, capture: true, row: nil)
        guard nextNonSpace() == Self.colon, let value = nextNonSpace() else { return nil }
        if key == Array("\"results\"".utf8) || key == Array("\"value\"".utf8) {
          let name = String(decoding: key.dropFirst().dropLast(), as: UTF8.self)
          return TableError(
            row: nil,
            "the top-level object has \"\(name)\" again after the \(index) records read: its records would not be "
              + "read; make the export one array of records")
        }
        try takeMember(key: key, first: value)
      }
    } catch {
      return nil
    }
    return nil
  }

  private mutating func nextElement(first: Bool) throws(TableError) -> Record? {
    let unclosed = "the file ends before the array of records is closed"
    guard var start = nextNonSpace() else { throw failed(endOfFile(unclosed)) }
    if start == UInt8(ascii: "]") {
      phase = .done
      if inObject, let second = readMembersAfterRecords() { throw failed(second) }
      return nil
    }
    if !first {
      guard start == Self.comma else {
        // The file's error, not the record's before it (read whole, and perhaps recorded).
        throw failed(TableError(row: nil, "expected \",\" or \"]\" after record \(index)"))
      }
      guard let next = nextNonSpace() else { throw failed(endOfFile(unclosed)) }
      start = next
    }
    index += 1
    if start == UInt8(ascii: "]") || start == Self.comma {
      throw failed(TableError(row: index, "a record is missing (a comma too many?)"))
    }
    let record = try scanValue(first: start, capture: true, row: index)
    phase = .array(first: false)
    return Record(row: index, bytes: record)
  }

  /// Reads one JSON value that starts with `first` to its end, by its bytes: brackets and
  /// braces counted outside strings, a string to its unescaped closing quote, a scalar to
  /// the next delimiter. Its bytes when `capture` (a record: then bounded in size), else
  /// none (a top-level value skipped).
  private mutating func scanValue(first: UInt8, capture: Bool, row: Int?) throws(TableError) -> [UInt8] {
    var value: [UInt8] = [first]
    var count = 1
    func take(_ byte: UInt8) throws(TableError) {
      guard capture else { return }
      value.append(byte)
      count += 1
      if count > maxRecordBytes { throw tooLong(row: row) }
    }
    let ended = "the file ends inside this record"
    switch first {
    case UInt8(ascii: "{"), UInt8(ascii: "["), Self.quote:
      var depth = first == Self.quote ? 0 : 1
      var inString = first == Self.quote
      var escaped = false
      while depth > 0 || inString {
        guard let byte = bytes.next() else {
          throw failed(endOfFile(row == nil ? "the file ends inside the top-level object" : ended, row: row))
        }
        do { try take(byte) } catch { throw failed(error) }
        if inString {
          if escaped {
            escaped = false
          } else if byte == Self.backslash {
            escaped = true
          } else if byte == Self.quote {
            inString = false
          }
        } else {
          switch byte {
          case Self.quote: inString = true
          case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
          case UInt8(ascii: "}"), UInt8(ascii: "]"): depth -= 1
          default: break
          }
        }
      }
    default:
      // A number, true, false or null (or something invalid, which parsing reports).
      while let byte = bytes.peek(), !Self.isSpace(byte), byte != Self.comma, byte != UInt8(ascii: "]"),
        byte != UInt8(ascii: "}")
      {
        _ = bytes.next()
        do { try take(byte) } catch { throw failed(error) }
      }
      if let error = bytes.error { throw failed(error) }
    }
    return capture ? value : []
  }

  private mutating func nextNonSpace() -> UInt8? {
    while let byte = bytes.next() {
      if !Self.isSpace(byte) { return byte }
    }
    return nil
  }

  /// The error at the end of the file: the read error, if reading failed, else `message`.
  private func endOfFile(_ message: String, row: Int? = nil) -> TableError {
    bytes.error ?? TableError(row: row, message)
  }

  private func tooLong(row: Int?) -> TableError {
    let limit =
      maxRecordBytes % (1024 * 1024) == 0 ? "\(maxRecordBytes / 1024 / 1024) MiB" : "\(maxRecordBytes) bytes"
    return TableError(row: row, "a record is longer than \(limit)")
  }

  /// Notes an error in the file's structure, after which the splitter cannot go on.
  private mutating func failed(_ error: TableError) -> TableError {
    failure = error
    return error
  }
}

/// The bytes of a `ChunkSource` one at a time, with a byte order mark skipped.
private struct JSONByteStream {
  private let source: ChunkSource
  private var buffer: [UInt8] = []
  private var position = 0

  init(source: ChunkSource) throws(TableError) {
    self.source = source
    (buffer, position) = try source.firstChunkPastByteOrderMark()
  }

  /// Set when reading failed: the end of the bytes is then no end of the file.
  var error: TableError? { source.error }

  mutating func next() -> UInt8? {
    guard let byte = peek() else { return nil }
    position += 1
    return byte
  }

  mutating func peek() -> UInt8? {
    if position == buffer.count {
      buffer = source.nextChunk()
      position = 0
      if buffer.isEmpty { return nil }
    }
    return buffer[position]
  }
}
