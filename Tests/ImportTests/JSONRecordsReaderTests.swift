import Foundation
import Testing

@testable import VigilImport

/// Reads `text` whole with the columns wanted: the header and every row.
private func readAll(
  _ text: String, columns: [String], ndjson: Bool = false, chunkSize: Int = JSONRecordsReader.defaultChunkSize,
  maxRecordBytes: Int = JSONRecordsReader.defaultMaxRecordBytes
) throws(TableError) -> (header: [String], rows: [TableRow]) {
  try readAll(Array(text.utf8), columns: columns, ndjson: ndjson, chunkSize: chunkSize, maxRecordBytes: maxRecordBytes)
}

private func readAll(
  _ bytes: [UInt8], columns: [String], ndjson: Bool = false, chunkSize: Int = JSONRecordsReader.defaultChunkSize,
  maxRecordBytes: Int = JSONRecordsReader.defaultMaxRecordBytes
) throws(TableError) -> (header: [String], rows: [TableRow]) {
  var reader = try JSONRecordsReader(
    bytes: bytes, columns: columns, ndjson: ndjson, chunkSize: chunkSize, maxRecordBytes: maxRecordBytes)
  #expect(reader.hashtags == nil)
  var rows: [TableRow] = []
  while let row = try reader.next() { rows.append(row) }
  return (reader.header, rows)
}

/// The error the reader throws for `text`, from its initialiser or from a `next()`, and
/// the rows read before it.
private func firstError(
  _ text: String, columns: [String] = ["a"], ndjson: Bool = false, chunkSize: Int = JSONRecordsReader.defaultChunkSize
) -> (error: TableError?, rows: [TableRow]) {
  firstError(Array(text.utf8), columns: columns, ndjson: ndjson, chunkSize: chunkSize)
}

private func firstError(
  _ bytes: [UInt8], columns: [String] = ["a"], ndjson: Bool = false,
  chunkSize: Int = JSONRecordsReader.defaultChunkSize, maxRecordBytes: Int = JSONRecordsReader.defaultMaxRecordBytes
) -> (error: TableError?, rows: [TableRow]) {
  var rows: [TableRow] = []
  do {
    var reader = try JSONRecordsReader(
      bytes: bytes, columns: columns, ndjson: ndjson, chunkSize: chunkSize, maxRecordBytes: maxRecordBytes)
    while let row = try reader.next() { rows.append(row) }
    return (nil, rows)
  } catch {
    return (error, rows)
  }
}

/// A KoboToolbox API v2 export, in the shape of `GET /api/v2/assets/{uid}/data/`.
private let koboExport = #"""
  {"count": 2, "next": null, "previous": null, "results": [
    {"_id": 101, "_uuid": "a1b2", "_submission_time": "2016-03-02T10:15:00",
     "_geolocation": [35.93, 36.63], "incident/date": "2016-03-01", "incident/type": "shelling",
     "location": {"adm1": "Aleppo", "adm2": "Jebel Saman"},
     "victims": [{"age": 34, "sex": "m"}, {"age": 8.5, "sex": "f"}],
     "verified": true, "casualties": 3, "ratio": 0.25, "amount": 2.0, "witness": null,
     "note": "he said \"stop\" {then} [left] \\ ok", "_tags": []},
    {"_id": 102, "_uuid": "c3d4", "_submission_time": "2016-03-05T08:00:00",
     "_geolocation": [null, null], "incident/date": "2016-03-04", "incident/type": "raid",
     "location": {"adm1": "Idlib"},
     "victims": [],
     "verified": false, "casualties": 0, "ratio": -1.5e-1, "amount": 1e3, "witness": "Ali",
     "note": "}]\"{[", "_tags": ["urgent", "follow-up"]}
  ]}
  """#

private let koboColumns = [
  "_id", "_submission_time", "_geolocation/0", "_geolocation/1", "_geolocation", "incident/date", "incident/type",
  "location/adm1", "location/adm2", "victims/0/age", "victims/0/sex", "victims/1/age", "verified", "casualties",
  "ratio", "amount", "witness", "note", "_tags", "missing",
]

private let koboRows = [
  TableRow(
    number: 1,
    cells: [
      "101", "2016-03-02T10:15:00", "35.93", "36.63", "35.93 36.63", "2016-03-01", "shelling", "Aleppo",
      "Jebel Saman", "34", "m", "8.5", "true", "3", "0.25", "2", "", #"he said "stop" {then} [left] \ ok"#, "", "",
    ]),
  TableRow(
    number: 2,
    cells: [
      "102", "2016-03-05T08:00:00", "", "", "", "2016-03-04", "raid", "Idlib", "", "", "", "", "false", "0",
      "-0.15", "1000", "Ali", #"}]"{["#, "urgent follow-up", "",
    ]),
]

@Suite("Import: JSON exports")
struct JSONRecordsReaderTests {
  // MARK: NDJSON

  @Test func ndjsonRowsAreLinesAndBlankLinesAreSkipped() throws {
    let text = "{\"a\": 1, \"b\": \"x\"}\n\n  \n{\"b\": \"y\", \"a\": 2.5}\r\n{\"a\": -3}"
    let table = try readAll(text, columns: ["a", "b"], ndjson: true)
    #expect(table.header == ["a", "b"])
    #expect(
      table.rows == [
        TableRow(number: 1, cells: ["1", "x"]),
        TableRow(number: 4, cells: ["2.5", "y"]),
        TableRow(number: 5, cells: ["-3", ""]),
      ])
  }

  @Test func ndjsonNumbersAreTextAsWritten() throws {
    let text = """
      {"n": 0}
      {"n": 42}
      {"n": 2.0}
      {"n": 35.93}
      {"n": 1e3}
      {"n": -0.5}
      {"n": 9223372036854775807}
      {"n": 123456789012345678901}
      {"n": true}
      {"n": false}
      {"n": 1}
      {"n": null}
      """
    let table = try readAll(text, columns: ["n"], ndjson: true)
    #expect(
      table.rows.map(\.cells[0]) == [
        "0", "42", "2", "35.93", "1000", "-0.5", "9223372036854775807", "123456789012345678901", "true", "false",
        "1", "",
      ])
  }

  @Test func ndjsonEmptyFileHasNoRows() throws {
    #expect(try readAll("", columns: ["a"], ndjson: true).rows.isEmpty)
    #expect(try readAll("\n\n", columns: ["a"], ndjson: true).rows.isEmpty)
  }

  // MARK: JSON

  @Test func aKoboExportIsReadFromItsResults() throws {
    let table = try readAll(koboExport, columns: koboColumns)
    #expect(table.header == koboColumns)
    #expect(table.rows == koboRows)
  }

  @Test func resultsNeedNotComeFirst() throws {
    let text = #"""
      {"count": 2, "meta": {"results": "no", "list": [1, {"a": "]"}]}, "note": "\"results\": [",
       "results": [{"a": "one"}, {"a": "two"}], "next": null}
      """#
    #expect(try readAll(text, columns: ["a"]).rows.map(\.cells) == [["one"], ["two"]])
    let first = #"{"results": [{"a": 1}], "count": 1}"#
    #expect(try readAll(first, columns: ["a"]).rows == [TableRow(number: 1, cells: ["1"])])
  }

  /// A page of a paged export (KoboToolbox's API gives 100 records a page) says so, by its
  /// `next` or a `count` past the records it holds: it was imported in part, silently.
  @Test func aPageOfAPagedExportSaysSo() throws {
    func partial(_ text: String) throws -> String? {
      var reader = try JSONRecordsReader(bytes: Array(text.utf8), columns: ["a"], ndjson: false)
      while try reader.next() != nil {}
      return reader.partial
    }
    let page = #"{"count": 250, "next": "https://kf.example/api/v2/assets/x/data/?start=100", "previous": null, "results": [{"a": 1}]}"#
    #expect(
      try partial(page)
        == #"the export is one page of several; it counts 250 records and holds 1; its next page is "#
        + #"https://kf.example/api/v2/assets/x/data/?start=100: export every record (KoboToolbox: the API's "#
        + "?limit=30000, or an XLSX or CSV export; ODK Central: the OData feed without $top)")
    #expect(try partial(#"{"count": 1, "next": null, "results": [{"a": 1}]}"#) == nil)
    #expect(try partial(#"[{"a": 1}]"#) == nil)
    // ODK Central writes them after the records.
    let footer = #"{"value": [{"a": 1}], "@odata.context": "x", "@odata.nextLink": "https://c.example/s?$skip=1", "@odata.count": 9}"#
    #expect(try partial(footer) == "the export is one page of several; it counts 9 records and holds 1; its next page is https://c.example/s?$skip=1: export every record (KoboToolbox: the API's ?limit=30000, or an XLSX or CSV export; ODK Central: the OData feed without $top)")
    // A fault after the records is none of the import's: nothing is said of paging.
    #expect(try partial(#"{"value": [{"a": 1}], "@odata.count": 1, oops}"#) == nil)
    // OData's own names for them (ODK Central).
    let odata = #"{"@odata.count": 500, "@odata.nextLink": "https://central.example/x.svc/Submissions?$skip=250", "value": [{"a": 1}]}"#
    #expect(try partial(odata)?.contains("it counts 500 records and holds 1; its next page is https://central.example/x.svc/Submissions?$skip=250") == true)
    #expect(try partial(#"{"count": 3, "results": [{"a": 1}]}"#)?.hasPrefix("the export is one page of several; it counts 3 records and holds 1") == true)
  }

  /// ODK Central serves submissions as OData: the records are in `value`, a geopoint is
  /// GeoJSON (longitude first).
  @Test func anODataExportIsReadFromItsValue() throws {
    let text = #"""
      {"@odata.context": "https://central.example/v1/projects/1/forms/x.svc/$metadata#Submissions",
       "value": [{"__id": "uuid:1", "location": {"type": "Point", "coordinates": [36.63, 35.93, 0]}}]}
      """#
    let table = try readAll(text, columns: ["__id", "location/coordinates/0", "location/coordinates/1"])
    #expect(table.rows.map(\.cells) == [["uuid:1", "36.63", "35.93"]])
  }

  @Test func aTopLevelArrayHoldsTheRecords() throws {
    let text = "\u{FEFF}[ {\"a\": \"x\"} ,\n{\"a\": \"y\", \"b\": [1, 2]} ]\n"
    let table = try readAll(text, columns: ["a", "b", "b/1"])
    #expect(
      table.rows == [
        TableRow(number: 1, cells: ["x", "", ""]),
        TableRow(number: 2, cells: ["y", "1 2", "2"]),
      ])
    #expect(try readAll("[]", columns: ["a"]).rows.isEmpty)
    #expect(try readAll(#"{"count": 0, "results": []}"#, columns: ["a"]).rows.isEmpty)
  }

  @Test func nestedObjectsAndRepeatGroupsFlatten() throws {
    let text = #"""
      [{"group": {"inner": {"deep": "d"}, "list": [{"x": [true, null]}]}, "flat/path": "f"}]
      """#
    let table = try readAll(text, columns: ["group/inner/deep", "group/list/0/x", "group/list/0/x/0", "flat/path"])
    #expect(table.rows == [TableRow(number: 1, cells: ["d", "true", "true", "f"])])
  }

  @Test func scalarTextKeepsBooleansApartFromNumbers() {
    #expect(JSONRecordsReader.scalarText(NSNumber(value: 1)) == "1")
    #expect(JSONRecordsReader.scalarText(NSNumber(value: 0)) == "0")
    #expect(JSONRecordsReader.scalarText(NSNumber(value: 3.0)) == "3")
    #expect(JSONRecordsReader.scalarText(NSNull()) == "")
    #expect(JSONRecordsReader.scalarText("s") == "s")
    #expect(JSONRecordsReader.scalarText([1]) == nil)
  }

  // MARK: Streaming

  @Test func recordsStraddlingChunksReadTheSame() throws {
    for chunkSize in 1...40 {
      let table = try readAll(koboExport, columns: koboColumns, chunkSize: chunkSize)
      #expect(table.rows == koboRows, "chunk size \(chunkSize)")
    }
    let ndjson = "\u{FEFF}{\"a\": \"x\\\"y\"}\n\n{\"a\": [1, 2]}\n"
    for chunkSize in 1...40 {
      let table = try readAll(ndjson, columns: ["a"], ndjson: true, chunkSize: chunkSize)
      #expect(table.rows == [TableRow(number: 1, cells: ["x\"y"]), TableRow(number: 3, cells: ["1 2"])])
    }
  }

  @Test func fiveByteChunks() throws {
    let table = try readAll(koboExport, columns: koboColumns, chunkSize: 5)
    #expect(table.rows == koboRows)
  }

  @Test func aFileIsReadFromItsPath() throws {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-json-\(UUID()).json").path
    try Data(koboExport.utf8).write(to: URL(fileURLWithPath: path))
    defer { try? FileManager.default.removeItem(atPath: path) }
    var reader = try JSONRecordsReader(path: path, columns: koboColumns, ndjson: false)
    var rows: [TableRow] = []
    while let row = try reader.next() { rows.append(row) }
    #expect(rows == koboRows)
    #expect(throws: TableError.self) {
      _ = try JSONRecordsReader(path: path + ".absent", columns: [], ndjson: true)
    }
  }

  @Test func aRecordOverTheLimitIsAnError() {
    let long = #"[{"a": "0123456789"}, {"a": "0123456789012345678901234567890123456789"}]"#
    let result = firstError(Array(long.utf8), maxRecordBytes: 30)
    #expect(result.rows.map(\.cells) == [["0123456789"]])
    #expect(result.error == TableError(row: 2, "a record is longer than 30 bytes"))
    let ndjson = firstError(Array("{\"a\": 1}\n{\"a\": \"0123456789012345678901234567890123\"}\n".utf8), ndjson: true, maxRecordBytes: 30)
    #expect(ndjson.error == TableError(row: 2, "a record is longer than 30 bytes"))
    let mib = JSONRecordsReader.defaultMaxRecordBytes
    let huge = firstError("[{\"a\": \"" + String(repeating: "x", count: mib) + "\"}]")
    #expect(huge.error == TableError(row: 1, "a record is longer than 16 MiB"))
  }

  // MARK: Errors

  @Test func anInvalidRecordIsAnErrorAtItsRow() {
    let json = firstError(#"[{"a": 1}, {"a": tru}, {"a": 3}]"#)
    #expect(json.rows.map(\.number) == [1])
    #expect(json.error?.row == 2)
    #expect(json.error?.message.hasPrefix("not valid JSON: ") == true)
    let ndjson = firstError("{\"a\": 1}\n{\"a\" 1}\n", ndjson: true)
    #expect(ndjson.error?.row == 2)
    #expect(ndjson.error?.message.hasPrefix("not valid JSON: ") == true)
    #expect(ndjson.error?.description.hasPrefix("row 2: not valid JSON: ") == true)
  }

  @Test func anInvalidRecordLeavesTheNextReadable() throws {
    var reader = try JSONRecordsReader(bytes: Array("{\"a\": }\n{\"a\": 2}\n".utf8), columns: ["a"], ndjson: true)
    #expect(throws: TableError.self) { _ = try reader.next() }
    #expect(try reader.next() == TableRow(number: 2, cells: ["2"]))
  }

  /// A key given twice in a record is refused, as on the socket: Foundation's reading
  /// keeps the last one, and `{"id":"P4",…,"id":"P5"}` became P5 unsaid. An escaped
  /// spelling of the key is the same key.
  @Test func aKeyGivenTwiceRefusesItsRecordAlone() throws {
    for text in [#"{"a": 1, "a": 2}"#, #"{"a": 1, "\u0061": 2}"#, #"{"b": {"c": 1, "c": 1}, "a": 3}"#] {
      var reader = try JSONRecordsReader(bytes: Array((text + "\n{\"a\": 4}\n").utf8), columns: ["a"], ndjson: true)
      #expect(throws: TableError.self) { _ = try reader.next() }
      var alone = try JSONRecordsReader(bytes: Array(text.utf8), columns: ["a"], ndjson: true)
      do {
        _ = try alone.next()
        Issue.record("read: \(text)")
      } catch {
        #expect(error.row == 1 && error.message.hasPrefix("not valid JSON: duplicate key"), "\(error)")
      }
      #expect(try reader.next() == TableRow(number: 2, cells: ["4"]), "\(text)")
    }
  }

  @Test func aRecordMustBeAnObject() {
    let json = firstError(#"[{"a": 1}, [1, 2]]"#)
    #expect(json.error == TableError(row: 2, "a record must be a JSON object"))
    let scalar = firstError(#"[{"a": 1}, {"a": 2}, "three"]"#)
    #expect(scalar.error == TableError(row: 3, "a record must be a JSON object"))
    let ndjson = firstError("\n42\n", ndjson: true)
    #expect(ndjson.error == TableError(row: 2, "a record must be a JSON object"))
  }

  @Test func aTruncatedFileIsAnErrorAtTheRecord() {
    for chunkSize in [1, 5, 64] {
      let inside = firstError(#"{"count": 2, "results": [{"a": 1}, {"a": "2}"#, chunkSize: chunkSize)
      #expect(inside.rows.map(\.cells) == [["1"]])
      #expect(inside.error == TableError(row: 2, "the file ends inside this record"))
    }
    let unclosed = firstError(#"[{"a": 1}, "#)
    #expect(unclosed.error == TableError(row: nil, "the file ends before the array of records is closed"))
    let beforeResults = firstError(#"{"count": 2, "next": "#)
    #expect(beforeResults.error?.row == nil)
    #expect(beforeResults.error?.message == "the file ends inside the top-level object")
    #expect(firstError("").error == TableError(row: nil, "the file is empty: no JSON"))
  }

  @Test func theTopLevelMustHoldRecords() {
    let shape =
      "the top level must be an array of records, or an object with \"results\" (a KoboToolbox export) or \"value\" "
      + "(ODK Central's OData)"
    #expect(firstError(#"{"count": 0, "next": null}"#).error == TableError(row: nil, shape))
    #expect(firstError(#"{}"#).error == TableError(row: nil, shape))
    #expect(firstError(#""text""#).error == TableError(row: nil, shape))
    #expect(firstError("42").error == TableError(row: nil, shape))
    #expect(
      firstError(#"{"results": {"a": 1}}"#).error == TableError(row: nil, "\"results\" must be an array of records"))
  }

  @Test func badSeparatorsAreErrors() {
    let missing = firstError(#"[{"a": 1} {"a": 2}]"#)
    // The file's error, not record 1's: that one was read whole (and may be recorded).
    #expect(missing.error == TableError(row: nil, "expected \",\" or \"]\" after record 1"))
    let extra = firstError(#"[{"a": 1},]"#)
    #expect(extra.error == TableError(row: 2, "a record is missing (a comma too many?)"))
  }

  @Test func invalidUTF8IsAnError() {
    var bytes = Array(#"[{"a": "ok"}, {"a": "caf"#.utf8)
    bytes += [0xE9]
    bytes += Array(#""}]"#.utf8)
    let result = firstError(bytes)
    #expect(result.rows.map(\.cells) == [["ok"]])
    #expect(result.error?.row == 2)
    #expect(result.error?.message.contains("UTF-8") == true)
  }

  // MARK: Column matching

  @Test func aColumnMatchesByLastSegmentThenCaseInsensitively() throws {
    let text = #"""
      [{"incident/date": "2016-03-01", "group": {"Type": "raid"}, "Name": "Ali", "date": null, "where": {"Adm1": "x"}},
       {"incident": {"date": "2016-03-04"}, "name": "Bea", "NAME": "B"}]
      """#
    let table = try readAll(text, columns: ["type", "TYPE", "incident/date", "adm1", "group/type"])
    #expect(
      table.rows == [
        // "type" matches the last segment "Type" case-insensitively.
        TableRow(number: 1, cells: ["raid", "raid", "2016-03-01", "x", "raid"]),
        TableRow(number: 2, cells: ["", "", "2016-03-04", "", ""]),
      ])
    // "name" is the key "name", which record 2 has, but record 1's "Name" and record 2's
    // "NAME" answer to it too: one of them would be lost unsaid.
    #expect(firstError(text, columns: ["name"]).error?.message.contains("differing only in case (NAME, Name, name)") == true)
    let bySegment = try readAll(#"[{"incident/date": "d", "incident": {"type": "t"}}]"#, columns: ["date", "type"])
    #expect(bySegment.rows == [TableRow(number: 1, cells: ["d", "t"])])
  }

  @Test func anExactKeyWinsOverASegment() throws {
    let text = #"[{"date": "top", "incident/date": "nested"}]"#
    #expect(try readAll(text, columns: ["date", "incident/date"]).rows[0].cells == ["top", "nested"])
  }

  @Test func anAmbiguousColumnIsAnError() {
    let text = #"[{"victims": [{"age": 34}, {"age": 8}]}]"#
    let result = firstError(text, columns: ["victims/0/age", "age"])
    #expect(
      result.error
        == TableError(
          row: nil, column: 2,
          "\"age\" matches several fields of the export (victims/0/age, victims/1/age); name one in full"))
    let cases = firstError(#"[{"Name": "a", "NAME": "b"}]"#, columns: ["name"])
    #expect(cases.error?.row == nil)
    #expect(cases.error?.column == 1)
  }

  /// A short name means one field over the whole export, not one per record: a record
  /// without `incident/killed` (Kobo leaves an unanswered question out) does not take
  /// `followup/killed` for it. The two fields are an error before any record is read.
  @Test func aShortNameIsOneFieldOverTheWholeExport() {
    let text = #"[{"_id": 5, "followup/killed": 9}, {"_id": 6, "incident/killed": 3, "followup/killed": 9}]"#
    let result = firstError(text, columns: ["_id", "killed"])
    #expect(result.rows.isEmpty)
    #expect(
      result.error
        == TableError(
          row: nil, column: 2,
          "\"killed\" matches several fields of the export (followup/killed, incident/killed); name one in full"))
    let named = firstError(text, columns: ["_id", "incident/killed"])
    #expect(named.rows.map(\.cells) == [["5", ""], ["6", "3"]] && named.error == nil)
  }

  /// Two arrays of records at the top level (files joined by hand): the first is read,
  /// then the file breaks off naming the second, whose records were passed over unsaid.
  @Test func aSecondArrayOfRecordsIsAnError() {
    let text = #"{"count": 3, "results": [{"a": 1}, {"a": 2}], "results": [{"a": 3}]}"#
    let result = firstError(text)
    #expect(result.rows.map(\.cells) == [["1"], ["2"]])
    #expect(
      result.error
        == TableError(
          row: nil,
          "the top-level object has \"results\" again after the 2 records read: its records would not be read; "
            + "make the export one array of records"), "\(String(describing: result.error))")
    let odata = #"{"value": [{"a": 1}], "@odata.count": 1}"#
    #expect(firstError(odata).error == nil)
  }

  /// A key differing only in case from the one named is a second field answering to it,
  /// even where the name is a key exactly: the record that has only the other one would
  /// lose its value unsaid.
  @Test func aKeyDifferingOnlyInCaseIsASecondField() {
    let text = #"[{"_id": 1, "incident": {"killed": 2}}, {"_id": 2, "incident": {"Killed": 3}}]"#
    let result = firstError(text, columns: ["_id", "incident/killed"])
    #expect(result.rows.isEmpty)
    #expect(
      result.error
        == TableError(
          row: nil, column: 2,
          "\"incident/killed\" matches several fields of the export, differing only in case (incident/Killed, incident/killed); "
            + "make them one in the export"))
    // The same by a short name: its last part as written (`killed`) does not hide a key
    // whose last part differs only in case (audit 24).
    let short = firstError(#"[{"_id": 11, "a/killed": 1}, {"_id": 12, "a/Killed": 2}]"#, columns: ["_id", "killed"])
    #expect(short.rows.isEmpty)
    #expect(
      short.error
        == TableError(
          row: nil, column: 2,
          "\"killed\" matches several fields of the export, differing only in case (a/Killed, a/killed); make them one in the export"),
      "\(String(describing: short.error))")
    let alone = #"[{"_id": 1, "incident": {"killed": 2}}, {"_id": 2, "incident": {"killed": 3}}]"#
    #expect(firstError(alone, columns: ["_id", "incident/killed"]).rows.map(\.cells) == [["1", "2"], ["2", "3"]])
    // Both named as written: each is a column of its own, in a file read twice or once.
    let both = #"[{"_id": 1, "incident": {"killed": 2, "Killed": 5}}, {"_id": 2, "incident": {"Killed": 3}}]"#
    let each = firstError(both, columns: ["_id", "incident/killed", "incident/Killed"])
    #expect(each.rows.map(\.cells) == [["1", "2", "5"], ["2", "", "3"]] && each.error == nil, "\(String(describing: each.error))")
  }

  /// A column that holds an object in a record has no one value: the record is refused,
  /// naming a member to read, and the next is read (its field was dropped unsaid).
  @Test func aColumnHoldingAnObjectRefusesItsRecord() {
    let text = #"[{"_id": 1, "tags": "x"}, {"_id": 2, "tags": {"a": 1, "b": 2}}, {"_id": 3, "tags": "y"}]"#
    var reader: JSONRecordsReader
    do {
      reader = try JSONRecordsReader(bytes: Array(text.utf8), columns: ["_id", "tags"], ndjson: false)
    } catch {
      Issue.record("\(error)")
      return
    }
    #expect((try? reader.next())?.cells == ["1", "x"])
    #expect(throws: TableError(row: 2, column: 2, "\"tags\" holds an object or a list here, not one value (tags/a, …); name the member to read")) {
      try reader.next()
    }
    #expect((try? reader.next())?.cells == ["3", "y"])
  }

  /// Read once (from a pipe), each record decides, and a record with both is refused.
  @Test func aRecordWithTwoKeysDifferingInCaseIsRefusedWhenReadOnce() {
    #expect(throws: TableError.self) {
      try JSONRecordsReader.cells(["killed"], of: ["killed": "2", "Killed": "3"], row: 4)
    }
    #expect((try? JSONRecordsReader.cells(["killed"], of: ["killed": "2", "other": "3"], row: 4)) == ["2"])
  }
}
