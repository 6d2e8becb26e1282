import Foundation
import Testing
import VigilCore
@testable import VigilImport

/// Mapping files (docs/import.md): loading with errors at their place, examples run at
/// load, and each way a row becomes a report.
@Suite("Import: mapping files")
struct MappingTests {
  static func load(_ text: String) -> Result<Mapping, RuleSetErrors> {
    MappingLoader.load(Array(text.utf8), path: "m.yaml")
  }

  /// A mapper for a table with `header`; `serialsWritten` as a workbook's (its cells may
  /// be dates' serial numbers) or a text file's.
  static func mapper(_ text: String, header: [String], hashtags: [String]? = nil, serialsWritten: Bool = false) throws
    -> RowMapper
  {
    RowMapper(mapping: try load(text).get(), header: header, hashtags: hashtags, serialsWritten: serialsWritten)
  }

  static func report(_ outcome: RowMapper.Outcome) -> [String: Any]? {
    guard case .report(let json, _) = outcome else { return nil }
    return try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
  }

  static let base = """
    mapping: t
    id: {prefix: "T/", column: Code}
    fields:
      occurred_at: {date: {column: When, formats: ["dd/MM/yyyy"]}}
      type:
        when:
          - {column: What, contains: [bomb, shell], value: attack}
          - {column: What, matches: "^(?i)blocked", value: access}
        else: attack
      location.governorate: {hxl: "#adm1 +name", column: Province}
      location.lat: {column: Lat, only_when: {column: Precision, one_of: [Exact, Town]}}
      location.lon: {column: Lon, only_when: {column: Precision, one_of: [Exact, Town]}}
      location.populated: Populated
      target.type: {column: Facility, map: {Health Building: hospital, Market: market}}
      weapons: {column: What, map: {Barrel bomb: [barrel_bomb], Shelling: [shelling, artillery], Blocked: []}}
      casualties.killed: {column: Killed, skip: [unknown]}
      narrative: {join: [Story, Notes], separator: " / "}
    extra:
      facility: Facility
    """

  static let header = ["Code", "When", "What", "Province", "Lat", "Lon", "Precision", "Populated", "Facility", "Killed", "Story", "Notes"]

  /// Two headers differing only in case are one column twice to a mapping that names one
  /// of them (the other's values would be lost); a mapping that names each as written
  /// reads each.
  @Test func headersDifferingInCaseAreReadEachWhenTheMappingNamesEach() throws {
    let header = ["Code", "When", "Notes", "NOTES"]
    let one = try Self.mapper(
      "mapping: t\nid: {column: Code}\nfields:\n  occurred_at: {date: {column: When}}\n  type: {value: attack}\n"
        + "  narrative: {column: Notes}\n",
      header: header)
    #expect(one.missingColumnsProblem(header: header)?.contains("(columns 3 'Notes', 4 'NOTES')") == true)
    let each = try Self.mapper(
      "mapping: t\nid: {column: Code}\nfields:\n  occurred_at: {date: {column: When}}\n  type: {value: attack}\n"
        + "  narrative: {column: Notes}\n  location.place: {column: NOTES}\n",
      header: header)
    #expect(each.missingColumnsProblem(header: header) == nil)
    var unmapped: [RowMapper.UnmappedValue] = []
    let report = try #require(
      Self.report(each.map(TableRow(number: 2, cells: ["A1", "2016-03-04", "told", "Darayya"]), unmapped: &unmapped)))
    #expect(report["narrative"] as? String == "told")
    #expect((report["location"] as? [String: Any])?["place"] as? String == "Darayya")
  }

  @Test func aRowBecomesItsReport() throws {
    let mapper = try Self.mapper(Self.base, header: Self.header)
    let row = TableRow(
      number: 7,
      cells: ["A 1?", "04/03/2016", "Barrel bomb", "Idlib", "35.93", "36.63", "Exact", "yes", "Health Building", "12.0", "Two bombs.", "Night."])
    var unmapped: [RowMapper.UnmappedValue] = []
    let report = try #require(Self.report(mapper.map(row, unmapped: &unmapped)))
    #expect((report["id"] as? String)?.hasPrefix("T/A-1-") == true, "characters the schema refuses become one '-', and a digest")
    #expect(report["occurred_at"] as? String == "2016-03-04")
    #expect(report["type"] as? String == "attack")
    let location = report["location"] as? [String: Any] ?? [:]
    #expect(location["governorate"] as? String == "Idlib", "by its header where the file has no hashtags")
    #expect(location["lat"] as? Double == 35.93 && location["populated"] as? Bool == true)
    #expect((report["target"] as? [String: Any])?["type"] as? String == "hospital")
    #expect(report["weapons"] as? [String] == ["barrel_bomb"])
    #expect((report["casualties"] as? [String: Any])?["killed"] as? Int == 12)
    #expect(report["narrative"] as? String == "Two bombs. / Night.")
    let extra = report["extra"] as? [String: Any] ?? [:]
    #expect(extra["facility"] as? String == "Health Building")
    #expect(extra["import"] as? [String: String] == ["mapping": "t"], "the provenance: the mapping, not the file's row")
    #expect(unmapped.isEmpty)
  }

  @Test func emptyCellsAreAbsentCoarsePointsGoToExtraAndUnmappedValuesAreCounted() throws {
    let mapper = try Self.mapper(Self.base, header: Self.header, serialsWritten: true)
    let row = TableRow(
      number: 8, cells: ["B2", "42632", "Blocked road", "", "35.9", "36.6", "Governorate", "", "School", "UNKNOWN", "", ""])
    var unmapped: [RowMapper.UnmappedValue] = []
    let report = try #require(Self.report(mapper.map(row, unmapped: &unmapped)))
    #expect(report["occurred_at"] as? String == "2016-09-19", "an Excel serial number")
    #expect(report["type"] as? String == "access")
    #expect(report["location"] == nil && report["narrative"] == nil && report["casualties"] == nil)
    let extra = report["extra"] as? [String: Any] ?? [:]
    #expect(extra["location_lat"] as? Double == 35.9 && extra["location_lon"] as? Double == 36.6)
    // Under `extra` a value is not held to the field's type: a coarse row's `unknown` is kept.
    let unknown = TableRow(
      number: 9, cells: ["B3", "42632", "Blocked road", "", "unknown", "n/a", "Governorate", "", "School", "", "", ""])
    var alsoUnmapped: [RowMapper.UnmappedValue] = []
    let kept = try #require(Self.report(mapper.map(unknown, unmapped: &alsoUnmapped)), "\(mapper.map(unknown, unmapped: &alsoUnmapped))")
    let keptExtra = kept["extra"] as? [String: Any] ?? [:]
    #expect(keptExtra["location_lat"] as? String == "unknown" && keptExtra["location_lon"] as? String == "n/a", "\(keptExtra)")
    // The column by its header, as `vigil import` prints it (`Facility: 'School' unmapped`).
    #expect(unmapped.map { "\($0.column)=\($0.value)" } == ["Facility=School", "What=Blocked road"])
  }

  /// A value the map does not cover from a `join` or a `when` is said by the columns it
  /// joins, or the field its `when` gives, never by "?" (audit 24).
  @Test func anUnmappedValueOfAJoinOrAWhenNamesItsSource() throws {
    let text = """
      mapping: j
      id: {prefix: J-, column: ID}
      fields:
        occurred_at: {date: {column: Date}}
        type: {value: attack}
        target.type: {join: [A, B], separator: " ", map: {"school bus": school}}
        location.place: {when: [{column: A, equals: x, value: somewhere}], else: elsewhere, map: {somewhere: Idlib}}
      """
    let mapper = try Self.mapper(text, header: ["ID", "Date", "A", "B"])
    var unmapped: [RowMapper.UnmappedValue] = []
    _ = mapper.map(TableRow(number: 2, cells: ["1", "2016-03-04", "y", "car"]), unmapped: &unmapped)
    #expect(unmapped.map { "\($0.column)=\($0.value)" }.sorted() == ["A + B=y car", "location.place (its when)=elsewhere"], "\(unmapped)")
  }

  /// The unmapped values are counted by row: one row saying `catapult` three times is one.
  @Test func anUnmappedValueIsCountedOnceARow() throws {
    let mapping = Self.base.replacingOccurrences(
      of: "weapons: {column: What, map:", with: "weapons: {column: What, split: \";\", map:")
    #expect(mapping != Self.base)
    let mapper = try Self.mapper(mapping, header: Self.header)
    var unmapped: [RowMapper.UnmappedValue] = []
    _ = mapper.map(
      TableRow(number: 2, cells: ["C1", "2016-03-01", "Catapult;catapult;CATAPULT;Barrel bomb", "", "", "", "", "", "", "", "", ""]),
      unmapped: &unmapped)
    #expect(unmapped.map(\.value) == ["Catapult"])
  }

  /// A number is a plain decimal, its thousands grouped by commas or not, in Latin or
  /// Arabic-Indic digits; a decimal comma, hex and words are refused, not misread.
  @Test(arguments: [
    ("1,234", "1234"), ("1,234,567", "1234567"), ("12.0", "12"), ("١٢", "12"), ("۱۲٫۰", "12"), ("+7", "7"),
    ("1,5", nil), ("35,9", nil), ("0x1A", nil), ("inf", nil), ("1,23", nil), ("12 dead", nil),
  ] as [(String, String?)])
  func aNumberIsReadAsWrittenOrRefused(cell: String, expected: String?) throws {
    let mapper = try Self.mapper(Self.base, header: Self.header)
    let row = TableRow(number: 9, cells: ["N", "2016-03-01", "bomb", "", "", "", "", "", "", cell, "", ""])
    switch mapper.map(row) {
    case .report(let json, _):
      let killed = (Self.report(.report(json: json, id: "N"))?["casualties"] as? [String: Any])?["killed"]
      #expect(expected != nil && "\(killed ?? "none")" == expected!, "\(cell) became \(killed ?? "none")")
    case .refused(let reason, _):
      #expect(expected == nil, "\(cell): \(reason)")
      #expect(reason == "casualties.killed: '\(cell)' is not a number")
    case .filtered:
      Issue.record("\(cell): filtered")
    }
  }

  /// Date patterns: a field followed by no separator takes its width, and two-digit years
  /// are read as POSIX reads them (68 is 2068: a date still to come, refused).
  @Test(arguments: [
    ("20160304", "2016-03-04"), ("4.3.16", "2016-03-04"), ("4.3.98", "1998-03-04"), ("1.1.68", nil),
    ("1.1.69", "1969-01-01"), ("201603041", nil), ("20161304", nil),
    // Arabic-Indic digits, as monitors write dates in Arabic reports.
    ("٢٠١٦٠٣٠٤", "2016-03-04"), ("٤.٣.١٦", "2016-03-04"), ("۴.۳.۱۶", "2016-03-04"), ("٢٠١٦-٠٣-٠٤", "2016-03-04"),
    // ISO text with a time to the minute, as ISO 8601 allows: its seconds are 00.
    ("2016-03-04T06:40+02:00", "2016-03-04T06:40:00+02:00"), ("2016-03-04 06:40Z", "2016-03-04T06:40:00Z"),
    ("2016-03-04T06:40:30+02:00", "2016-03-04T06:40:30+02:00"),
    // Without its zone it is refused as written (a report's time needs its offset).
    ("2016-03-04T06:40", nil),
  ] as [(String, String?)])
  func datePatternsReadWithoutSeparatorsAndTwoDigitYears(cell: String, expected: String?) throws {
    let mapping = Self.base.replacingOccurrences(of: #"formats: ["dd/MM/yyyy"]"#, with: #"formats: ["yyyyMMdd", "d.M.yy"]"#)
    let mapper = try Self.mapper(mapping, header: Self.header)
    let outcome = mapper.map(TableRow(number: 9, cells: ["N", cell, "bomb", "", "", "", "", "", "", "", "", ""]))
    #expect(Self.report(outcome)?["occurred_at"] as? String == expected, "\(cell): \(outcome)")
  }

  /// A mapping's own formats come before a serial number: six digits in `ddMMyy` are a
  /// date so written, not the serial of another (040316 is 2010-05-18 as a serial). A
  /// number that fits no format is a serial in a workbook, or where the mapping says
  /// `serials: true`; in a text file whose formats the mapping gives, it is refused: there
  /// it is a date whose leading zero a spreadsheet dropped (40316 for 040316) or a typo,
  /// and read as a serial it was a wrong date, recorded for good.
  @Test(arguments: [
    ("ddMMyy", "040316", true, "2016-03-04"), ("yyMMdd", "160304", true, "2016-03-04"),
    ("ddMMyy", "42632", true, "2016-09-19"), ("ddMMyy", "42632", false, nil), ("ddMMyy", "40316", false, nil),
    ("ddMMyy+", "42632", false, "2016-09-19"), ("ddMMyy-", "42632", true, nil),
    // A workbook's serial as it may write a number, in E notation.
    ("ddMMyy", "4.2632E4", true, "2016-09-19"),
    // A number with a leading zero is no count of days, in a workbook either: a date of
    // digits no format read, refused rather than 2010-05-18 (audit 24).
    ("dd/MM/yyyy", "040316", true, nil), ("dd/MM/yyyy+", "040316", false, nil), ("dd/MM/yyyy", "0042632", true, nil),
    // Not a date still to come, whatever reads it: a typo in yyyyMMdd made the year 2452.
    ("yyyyMMdd", "201634", true, nil), ("yyyyMMdd", "2016304", true, nil),
  ] as [(String, String, Bool, String?)])
  func theMappingsFormatsComeBeforeASerialNumber(format: String, cell: String, workbook: Bool, expected: String?) throws {
    // `+`, `-`: the mapping says `serials: true`, `false`.
    let serials = format.hasSuffix("+") ? ", serials: true" : format.hasSuffix("-") ? ", serials: false" : ""
    let mapping = Self.base.replacingOccurrences(
      of: #"formats: ["dd/MM/yyyy"]"#, with: #"formats: ["\#(format.trimmingCharacters(in: ["+", "-"]))"]"# + serials)
    let mapper = try Self.mapper(mapping, header: Self.header, serialsWritten: workbook)
    let outcome = mapper.map(TableRow(number: 9, cells: ["N", cell, "bomb", "", "", "", "", "", "", "", "", ""]))
    #expect(Self.report(outcome)?["occurred_at"] as? String == expected, "\(cell): \(outcome)")
  }

  /// A row the `where` period cannot place is refused, not filtered out of sight: a month
  /// without its day when the period starts or ends inside that month, and a date cell
  /// that is no date (40316 is not a year 4031). A month wholly inside is its first day.
  @Test func aRowThePeriodCannotPlaceIsRefused() throws {
    let mapping = """
      mapping: t
      id: {column: Code}
      where: [{occurred_at: {from: 2015-11-14, to: 2016-12-20}}]
      fields:
        occurred_at: {date: {year: Y, month: M, day: D}}
        type: {value: attack}
      """
    let mapper = try Self.mapper(mapping, header: ["Code", "Y", "M", "D"])
    func outcome(_ cells: [String]) -> String { "\(mapper.map(TableRow(number: 2, cells: cells)))" }
    #expect(
      outcome(["A", "2015", "11", ""])
        == "refused: occurred_at: the row gives the month 2015-11 but no day, and the period (where) starts 2015-11-14 "
        + "inside it: the incident cannot be placed inside or outside the period")
    #expect(outcome(["B", "2016", "12", ""]).contains("ends 2016-12-20 inside it"))
    #expect(outcome(["C", "2015", "12", ""]).contains(#""occurred_at":"2015-12-01""#))
    #expect(outcome(["D", "2015", "10", ""]) == "filtered out")
    #expect(outcome(["E", "2015", "11", "20"]).contains(#""occurred_at":"2015-11-20""#))
    let typed = try Self.mapper(
      mapping.replacingOccurrences(of: "{year: Y, month: M, day: D}", with: #"{column: When, formats: ["ddMMyy"]}"#),
      header: ["Code", "When"])
    #expect("\(typed.map(TableRow(number: 3, cells: ["F", "40316"])))" == "refused: occurred_at: '40316' is not a date this mapping reads")
    let future = "\(typed.map(TableRow(number: 4, cells: ["G", "010152"])))"
    #expect(future.contains("'010152' reads as 2052-01-01, a date still to come"), "\(future)")
    // A time with its zone is said whole, and the day it is after (audit 51).
    let unbounded = try Self.mapper(
      mapping.replacingOccurrences(of: "{year: Y, month: M, day: D}", with: "{column: When}")
        .replacingOccurrences(of: "where: [{occurred_at: {from: 2015-11-14, to: 2016-12-20}}]", with: ""),
      header: ["Code", "When"])
    let zoned = "\(unbounded.map(TableRow(number: 5, cells: ["H", "2099-01-01T23:00:00-05:00"])))"
    #expect(
      zoned.contains("'2099-01-01T23:00:00-05:00' reads as 2099-01-01T23:00:00-05:00, after ")
        && zoned.contains(" in UTC, a date still to come"), "\(zoned)")
  }

  /// Tests compare without regard to case, `matches` too; `skip` applies to each part of a
  /// split cell; a year cell of two digits is no year.
  @Test func matchesIgnoresCaseSkipTakesSplitPartsAndAYearHasFourDigits() throws {
    let mapping = """
      mapping: t
      id: {column: Code}
      where: [{column: Status, matches: "^(ok|verified)$"}]
      fields:
        occurred_at: {date: {year: Y, month: M, day: D}}
        type: {value: attack}
        weapons: {column: W, split: " ", skip: [unknown], map: {barrel: [barrel_bomb]}}
      """
    let mapper = try Self.mapper(mapping, header: ["Code", "Status", "Y", "M", "D", "W"])
    var unmapped: [RowMapper.UnmappedValue] = []
    for status in ["OK", "Verified", "ok"] {
      let report = Self.report(mapper.map(TableRow(number: 2, cells: ["A", status, "2016", "3", "4", "barrel unknown"]), unmapped: &unmapped))
      #expect(report?["weapons"] as? [String] == ["barrel_bomb"], "\(status)")
    }
    #expect(unmapped.isEmpty, "a skipped word is not unmapped: \(unmapped)")
    guard case .filtered = mapper.map(TableRow(number: 3, cells: ["B", "pending", "2016", "3", "4", ""])) else {
      Issue.record("a status the test does not match is filtered")
      return
    }
    let twoDigits = mapper.map(TableRow(number: 4, cells: ["C", "ok", "16", "3", "4", ""]))
    guard case .refused(let reason, _) = twoDigits else {
      Issue.record("year 16: \(twoDigits)")
      return
    }
    #expect(reason == "occurred_at: '16' is not a year: a year has four digits")
    // No year at all: said so, not as a date written "3/4".
    guard case .refused(let noYear, let field) = mapper.map(TableRow(number: 5, cells: ["D", "ok", "", "3", "4", ""])) else {
      Issue.record("no year")
      return
    }
    #expect(noYear == "occurred_at: the row gives no year (its month is 3): no date can be made" && field == "occurred_at", "\(noYear)")
  }

  /// A cell is compared as the rules read a name: diacritics, tatweel, bidirectional marks
  /// and Arabic letter forms aside. Those spellings of Aleppo were filtered out, and a map
  /// key written with a hamza did not take the cell written without.
  @Test func arabicCellsMeetTheirValuesInEverySpelling() throws {
    let mapping = """
      mapping: t
      id: {column: Code}
      where: [{column: Gov, equals: [حلب, إدلب]}]
      fields:
        occurred_at: {value: "2016-03-04"}
        type: {value: attack}
        target.type: {column: Target, map: {مستشفى: hospital, مدرسة: school}}
        narrative: {column: Gov, skip: [ادلب]}
      """
    let mapper = try Self.mapper(mapping, header: ["Code", "Gov", "Target"])
    var unmapped: [RowMapper.UnmappedValue] = []
    for (number, governorate) in ["حلب", "حلـب", "حَلَب", "حلب\u{200F}", "\u{2067}حلب\u{2069}", "ادلب"].enumerated() {
      let report = Self.report(mapper.map(TableRow(number: number + 2, cells: ["A\(number)", governorate, "مدرسه"]), unmapped: &unmapped))
      #expect((report?["target"] as? [String: Any])?["type"] as? String == "school", "\(governorate)")
      #expect((report?["narrative"] == nil) == (governorate == "ادلب"), "skip: \(governorate)")
    }
    #expect(unmapped.isEmpty, "\(unmapped)")
    // `contains` keeps its spaces: " war " is not in "warehouse".
    let spaced = try Self.mapper(
      "mapping: t\nid: {column: Code}\nwhere: [{column: Gov, contains: \" war \"}]\nfields:\n  occurred_at: {value: \"2016-03-04\"}\n  type: {value: attack}\n",
      header: ["Code", "Gov"])
    guard case .filtered = spaced.map(TableRow(number: 2, cells: ["C", "warehouse"])) else {
      Issue.record("' war ' is not in 'warehouse'")
      return
    }
    guard case .report = spaced.map(TableRow(number: 3, cells: ["D", "after the war ended"])) else {
      Issue.record("' war ' is in 'after the war ended'")
      return
    }
    // Words stay words: a longer name is another.
    guard case .filtered = mapper.map(TableRow(number: 9, cells: ["B", "ريف حلب", "مدرسة"])) else {
      Issue.record("ريف حلب is not حلب")
      return
    }
  }

  /// A no-break space (Excel and web pages write one) is a space: in a header, in a value
  /// `map` compares; a message spells it out, since it looks like one.
  @Test func aNoBreakSpaceIsASpace() throws {
    let mapping = """
      mapping: t
      id: {column: Incident ID}
      fields:
        occurred_at: {column: Date}
        type: {value: attack}
        location.governorate: {column: G, map: {Aleppo Governorate: Aleppo}}
      """
    let header = ["Incident\u{00A0}ID", "Date", "G"]
    let mapper = try Self.mapper(mapping, header: header)
    #expect(mapper.missingColumnsProblem(header: header) == nil)
    var unmapped: [RowMapper.UnmappedValue] = []
    let report = try #require(
      Self.report(mapper.map(TableRow(number: 2, cells: ["7", "2016-03-04", "Aleppo\u{00A0}Governorate"]), unmapped: &unmapped)))
    #expect((report["location"] as? [String: Any])?["governorate"] as? String == "Aleppo" && unmapped.isEmpty)
    _ = mapper.map(TableRow(number: 3, cells: ["8", "2016-03-04", "Idlib\u{00A0}Governorate"]), unmapped: &unmapped)
    #expect(unmapped.map(\.shownValue) == ["Idlib<U+00A0>Governorate"])
    let missing = try Self.mapper(mapping.replacingOccurrences(of: "Incident ID", with: "Incident Code"), header: header)
    #expect(missing.missingColumnsProblem(header: header)?.hasSuffix("its columns: 'Incident<U+00A0>ID', 'Date', 'G'") == true)
    // A file separated by semicolons or tabs reads as one column: said so.
    for (line, name) in [("Incident ID;Date;G", "semicolons"), ("Incident ID\tDate\tG", "tabs")] {
      let one = try Self.mapper(mapping, header: [line])
      let problem = one.missingColumnsProblem(header: [line]) ?? ""
      #expect(problem.hasSuffix("(the header is one column holding \(name): the file seems separated by \(name); CSV here is comma-separated, so save it as CSV UTF-8 with commas)"), "\(problem)")
    }
  }

  /// The letter forms name matching folds all fold here too — ؤ, ئ and presentation forms
  /// — and numbers, dates and yes/no read through the invisible marks right-to-left text
  /// carries (Windows' Arabic dates put U+200F between the parts), as does a header.
  @Test func invisibleMarksAndEveryLetterFormAreSetAside() throws {
    let mapping = """
      mapping: t
      id: {column: Code}
      where: [{column: Org, equals: [مؤسسة الإغاثة, هيئة الإغاثة, لاجئون]}]
      fields:
        occurred_at: {date: {column: date, formats: ["dd/MM/yyyy"]}}
        type: {value: attack}
        weapons: {column: W, map: {قذائف هاون: [mortar], غارة جوية: [air_strike]}}
        casualties.killed: {column: K}
        location.populated: {column: P}
      """
    let mapper = try Self.mapper(mapping, header: ["Code", "Org", "date\u{200F}", "W", "K", "P"])
    #expect(mapper.missingColumnsProblem(header: ["Code", "Org", "date\u{200F}", "W", "K", "P"]) == nil)
    let rows: [[String]] = [
      ["A", "موسسة الإغاثة", "\u{200F}04\u{200F}/03\u{200F}/2016", "قذايف هاون", "12\u{200F}", "نعم\u{200F}"],
      ["B", "هييه الإغاثة", "٠٤\u{200F}/٠٣\u{200F}/٢٠١٦", "ﻏﺎﺭﺓ ﺟﻮﻳﺔ", "\u{061C}١٢", "نَعَم"],
      ["C", "ﻻجئون", "2016-03-04\u{200E}", "قذائف هاون", "12", "Yes"],
    ]
    var unmapped: [RowMapper.UnmappedValue] = []
    for (number, cells) in rows.enumerated() {
      let outcome = mapper.map(TableRow(number: number + 2, cells: cells), unmapped: &unmapped)
      let report = try #require(Self.report(outcome), "\(cells): \(outcome)")
      #expect(report["occurred_at"] as? String == "2016-03-04", "\(cells)")
      #expect((report["casualties"] as? [String: Any])?["killed"] as? Int == 12, "\(cells)")
      #expect((report["location"] as? [String: Any])?["populated"] as? Bool == true, "\(cells)")
      #expect((report["weapons"] as? [String])?.count == 1, "\(cells)")
    }
    #expect(unmapped.isEmpty, "\(unmapped)")
    // A mapping whose column name was copied with its mark finds the header with or without one.
    for header in ["date\u{200F}", "date"] {
      let copied = try Self.mapper(mapping.replacingOccurrences(of: "column: date", with: "column: \"date\\u200F\""),
        header: ["Code", "Org", header, "W", "K", "P"])
      #expect(copied.missingColumnsProblem(header: ["Code", "Org", header, "W", "K", "P"]) == nil, "\(header.unicodeScalars.count)")
    }
    // A column the file lacks: its columns are shown with their invisible and control
    // characters spelt out, so two names that look alike show how they differ.
    let lacking = try Self.mapper(mapping, header: ["Code", "Org", "\u{202E}etad\u{1B}[31m", "W", "K", "P"])
    let problem = try #require(lacking.missingColumnsProblem(header: ["Code", "Org", "\u{202E}etad\u{1B}[31m", "W", "K", "P"]))
    #expect(problem.contains("'<U+202E>etad<U+001B>[31m'"), "\(problem)")
    #expect(!problem.unicodeScalars.contains { $0.value == 0x1B || $0.value == 0x202E }, "\(problem)")
  }

  /// A row outside the `where` date range is filtered, whatever else is wrong with it; one
  /// inside it is refused for what is wrong.
  @Test func aRowOutsideTheDateRangeIsFilteredThoughACellIsBad() throws {
    let mapping = Self.base.replacingOccurrences(
      of: "fields:", with: "where:\n  - {occurred_at: {from: 2016-01-01, to: 2016-12-31}}\nfields:")
    let mapper = try Self.mapper(mapping, header: Self.header)
    let old = mapper.map(TableRow(number: 9, cells: ["O", "06/03/2012", "bomb", "", "", "", "", "perhaps", "", "many", "", ""]))
    guard case .filtered = old else {
      Issue.record("a row of 2012 with bad cells: \(old)")
      return
    }
    let inside = mapper.map(TableRow(number: 10, cells: ["I", "06/03/2016", "bomb", "", "", "", "", "", "", "many", "", ""]))
    guard case .refused(let reason, _) = inside else {
      Issue.record("a row of 2016 with a bad cell: \(inside)")
      return
    }
    #expect(reason == "casualties.killed: 'many' is not a number")
  }

  @Test func hashtagsFindTheirColumnByTagAndAttributes() throws {
    let header = Self.header.map { $0 == "Province" ? "Region name" : $0 }
    let tags = header.map { $0 == "Region name" ? "#adm1 +name +v_pcode" : "" }
    let mapper = try Self.mapper(Self.base, header: header, hashtags: tags)
    let row = TableRow(number: 3, cells: ["C", "2016-03-01", "Shelling", "Aleppo", "", "", "", "", "", "", "", ""])
    let report = try #require(Self.report(mapper.map(row)))
    #expect((report["location"] as? [String: Any])?["governorate"] as? String == "Aleppo")
    #expect(report["weapons"] as? [String] == ["shelling", "artillery"])
  }

  /// A map's `[]` says "none of the list's words": an empty list, which rules read as
  /// present (`weapons exists`), not the list left out, which they read as unknown.
  @Test func aValueMappedToNoneIsAnEmptyList() throws {
    let mapper = try Self.mapper(Self.base, header: Self.header)
    let row = TableRow(number: 5, cells: ["E1", "2016-03-01", "Blocked", "", "", "", "", "", "", "", "", ""])
    let report = try #require(Self.report(mapper.map(row)), "\(mapper.map(row))")
    #expect(report["weapons"] as? [String] == [], "\(report)")
  }

  /// `[]` is "none" only when the whole cell says so: a part the map does not cover leaves
  /// the list unknown. A skipped sentinel date is no date still to come, and the `where`
  /// period, which is `occurred_at`'s, does not refuse another date's month.
  @Test func noneSkipAndThePeriodApplyWhereTheyShould() throws {
    let mapping = """
      mapping: t
      id: {column: C}
      where: [{occurred_at: {from: 2015-11-14}}]
      fields:
        occurred_at: {column: D}
        type: {value: attack}
        weapons: {column: W, split: ";", map: {none: [], Shelling: [shelling]}}
        reported_at: {date: {column: R}, skip: ["9999-12-31"]}
        access.decided_at: {date: {year: Y, month: M, day: DD}}
      """
    let mapper = try Self.mapper(mapping, header: ["C", "D", "W", "R", "Y", "M", "DD"])
    let mixed = try #require(Self.report(mapper.map(TableRow(number: 2, cells: ["1", "2016-03-04", "none;Mortar", "", "", "", ""]))))
    #expect(mixed["weapons"] == nil, "\(mixed)")
    let none = try #require(Self.report(mapper.map(TableRow(number: 3, cells: ["2", "2016-03-04", "none", "", "", "", ""]))))
    #expect(none["weapons"] as? [String] == [], "\(none)")
    let sentinel = mapper.map(TableRow(number: 4, cells: ["3", "2016-03-04", "", "9999-12-31", "2015", "11", ""]))
    let report = try #require(Self.report(sentinel), "\(sentinel)")
    #expect(report["reported_at"] == nil)
    #expect((report["access"] as? [String: Any])?["decided_at"] as? String == "2015-11-01", "\(report)")
  }

  /// A required field whose value is not in its map refuses the row saying so, not as a
  /// field missing from the file.
  @Test func aRequiredFieldsUnmappedValueIsTheReason() throws {
    let mapper = try Self.mapper(
      "mapping: t\nid: {column: C}\nfields:\n  occurred_at: {column: D}\n  type: {column: T, map: {Airstrike: attack}}\n",
      header: ["C", "D", "T"])
    #expect(
      "\(mapper.map(TableRow(number: 2, cells: ["1", "2016-03-04", "Shelling"])))"
        == "refused: type: 'Shelling' is not in its map (add it, or skip the row with where)")
  }

  /// A hashtag several columns answer to equally is no one column: `#affected +killed`
  /// over children's and adults' columns stops the import, naming them; a `+total` column
  /// is the one; a column another field reads by its exact tag is not taken; two columns
  /// tagged exactly the same stop it too.
  @Test func aHashtagSeveralColumnsCarryIsNotGuessed() throws {
    let mapping = """
      mapping: t
      id: {hxl: "#event +id"}
      fields:
        occurred_at: {hxl: "#date"}
        type: {value: attack}
        casualties.killed: {hxl: "#affected +killed", optional: true}
        casualties.children_killed: {hxl: "#affected +killed +children", optional: true}
      """
    func killed(_ tags: [String], _ cells: [String]) throws -> (killed: Int?, problem: String?) {
      let header = tags.indices.map { "C\($0)" }
      let mapper = try Self.mapper(mapping, header: header, hashtags: tags)
      if let problem = mapper.missingColumnsProblem(header: header) { return (nil, problem) }
      let report = try #require(Self.report(mapper.map(TableRow(number: 3, cells: cells))))
      return ((report["casualties"] as? [String: Any])?["killed"] as? Int, nil)
    }
    let both = try killed(["#event +id", "#date", "#affected +killed +adults", "#affected +killed +children"], ["H", "2016-03-04", "9", "2"])
    #expect(both.problem?.contains("which 2 columns of the file carry (3 ('#affected +killed +adults', 'C2'); 4 (") == true, "\(both)")
    let total = try killed(
      ["#event +id", "#date", "#affected +killed +children", "#affected +killed +adults", "#affected +killed +total"],
      ["H", "2016-03-04", "2", "9", "11"])
    #expect(total.killed == 11 && total.problem == nil, "\(total)")
    let childrenOnly = try killed(["#event +id", "#date", "#affected +killed +children"], ["H", "2016-03-04", "2"])
    #expect(childrenOnly.killed == nil && childrenOnly.problem == nil, "\(childrenOnly)")
    let healthworkers = try killed(["#event +id", "#date", "#affected +killed +healthworker"], ["H", "2016-03-04", "4"])
    #expect(healthworkers.killed == 4, "one column with more attributes is still found: \(healthworkers)")
    let twice = try killed(["#event +id", "#date", "#affected +killed", "#affected +killed"], ["H", "2016-03-04", "2", "9"])
    #expect(twice.problem?.contains("which 2 columns of the file carry") == true, "\(twice)")
  }

  @Test func aValueTheSchemaRefusesRefusesTheRowWithItsField() throws {
    let mapper = try Self.mapper(Self.base, header: Self.header)
    for (cells, reason) in [
      (["D", "31/02/2016", "bomb", "", "", "", "", "", "", "", "", ""], "occurred_at: '31/02/2016' is not a date"),
      (["E", "2016-03-01", "bomb", "", "", "", "", "perhaps", "", "", "", ""], "location.populated: 'perhaps' is neither yes nor no"),
      (["F", "2016-03-01", "bomb", "", "", "", "", "", "", "many", "", ""], "casualties.killed: 'many' is not a number"),
      (["G", "2016-03-01", "bomb", "", "95", "36", "Exact", "", "", "", "", ""], "location.lat"),
      (["", "2016-03-01", "bomb", "", "", "", "", "", "", "", "", ""], "no identifier"),
      // The space between date and time becomes `T`, and only it: the one before the
      // offset is shown as written (it was shown as `…00T+02:00`).
      (["H", "2016-03-04 06:40:00 +02:00", "bomb", "", "", "", "", "", "", "", "", ""], #""2016-03-04T06:40:00 +02:00""#),
    ] {
      guard case .refused(let why, _) = mapper.map(TableRow(number: 4, cells: cells)) else {
        Issue.record("not refused: \(cells)")
        continue
      }
      #expect(why.contains(reason), "\(why)")
    }
  }

  @Test func aLongOrStrangeIdIsMadeValidAndStaysDistinct() throws {
    let mapper = try Self.mapper(Self.base, header: Self.header)
    let long = String(repeating: "x", count: 200)
    var ids: [String] = []
    for code in [long + "1", long + "2", "إدلب 12"] {
      let outcome = mapper.map(TableRow(number: 2, cells: [code, "2016-03-01", "bomb", "", "", "", "", "", "", "", "", ""]))
      guard case .report(_, let id) = outcome else {
        Issue.record("\(outcome)")
        continue
      }
      #expect(id.count <= 128)
      ids.append(id)
    }
    #expect(ids.count == 3 && ids[0] != ids[1])
    #expect(ids[2].hasPrefix("T/-12-"))
    // Two identifiers that differ only in what had to be changed stay apart.
    let pair = ["A 1", "A-1"].map { code -> String in
      guard case .report(_, let id) = mapper.map(TableRow(number: 2, cells: [code, "2016-03-01", "bomb", "", "", "", "", "", "", "", "", ""])) else { return "" }
      return id
    }
    #expect(pair[0] != pair[1] && pair[1] == "T/A-1", "\(pair)")
  }

  /// An identifier is read as a number is: without the invisible marks an Arabic sheet
  /// leaves, and with Western digits, so one incident saved again in another locale is
  /// one id, and "already recorded".
  /// "After tomorrow (UTC)" is the instant a time names, not the date it writes.
  @Test func aDateStillToComeIsCountedInUTC() {
    #expect(RowMapper.isAfter("2026-12-07T23:00:00-05:00", "2026-12-07"))
    #expect(!RowMapper.isAfter("2026-12-08T01:00:00+05:00", "2026-12-07"))
    #expect(!RowMapper.isAfter("2026-12-07T23:59:59Z", "2026-12-07"))
    #expect(RowMapper.isAfter("2026-12-08", "2026-12-07"))
    #expect(!RowMapper.isAfter("2026-12-07", "2026-12-07"))
  }

  @Test func anIdsInvisibleMarksAndArabicIndicDigitsMakeNoNewId() throws {
    let mapper = try Self.mapper(Self.base, header: Self.header)
    let ids = ["7", "7\u{200F}", "\u{200F}7", "7\u{00A0}", "٧", "۷", "\u{200E}٧\u{200F}"].map { code -> String in
      guard case .report(_, let id) = mapper.map(TableRow(number: 2, cells: [code, "2016-03-01", "bomb", "", "", "", "", "", "", "", "", ""])) else { return "" }
      return id
    }
    #expect(Set(ids) == ["T/7"], "\(ids)")
  }

  /// A digest id is worked out over the cells as an id reads them: one incident saved in
  /// another locale (Arabic-Indic digits, a right-to-left mark between a date's parts) is
  /// the same id, "already recorded", not a second report (audit 24).
  @Test func aDigestIdReadsItsCellsAsAnIdIs() throws {
    let text = """
      mapping: tdg
      id: {prefix: DG-, digest: [Date, Place]}
      fields:
        occurred_at: {date: {column: Date, formats: ["dd/MM/yyyy"]}}
        type: {value: attack}
        location.place: Place
      """
    let mapper = try Self.mapper(text, header: ["Date", "Place"])
    let ids = ["04/03/2016", "٠٤/٠٣/٢٠١٦", "04/03\u{200F}/2016", "04/03/2016\u{200F}"].map { date -> String in
      guard case .report(_, let id) = mapper.map(TableRow(number: 2, cells: [date, "Idlib"])) else { return "" }
      return id
    }
    #expect(Set(ids).count == 1 && ids[0].hasPrefix("DG-"), "\(ids)")
    guard case .report(_, let other) = mapper.map(TableRow(number: 3, cells: ["05/03/2016", "Idlib"])) else {
      Issue.record("not mapped")
      return
    }
    #expect(other != ids[0])
    // Cells holding the separator do not join alike (audit 51); the digest of cells without
    // it is as before (the id of 04/03/2016 in Idlib, recorded by earlier versions).
    let three = try Self.mapper(
      text.replacingOccurrences(of: "digest: [Date, Place]", with: "digest: [Date, Place, Note]"), header: ["Date", "Place", "Note"])
    let mapped = { (cells: [String]) -> String in
      guard case .report(_, let id) = three.map(TableRow(number: 4, cells: cells)) else { return "" }
      return id
    }
    let (first, second) = (mapped(["04/03/2016", "ab\u{1F}", "c"]), mapped(["04/03/2016", "ab", "\u{1F}c"]))
    #expect(!first.isEmpty && !second.isEmpty && first != second, "\(first) \(second)")
    #expect(ids[0] == "DG-" + RowMapper.digest("04/03/2016\u{1F}Idlib"), "\(ids[0])")
  }

  /// A time field from a plain column reads ISO dates (`T`, `t` or a space before the
  /// time) and serials; any other text is refused with its row, never dropped: the report
  /// would be recorded without the field, and its id taken.
  @Test func aPlainColumnsUnreadableDateRefusesTheRow() throws {
    let text = """
      mapping: bare
      id: {prefix: B-, column: ID}
      fields:
        occurred_at: Date
        type: {value: attack}
        reported_at: {column: Reported, skip: [unknown]}
      """
    let mapper = try Self.mapper(text, header: ["ID", "Date", "Reported"])
    for (cells, reason) in [
      (["1", "2016-03-04", "yesterday"], "reported_at: 'yesterday' is not a date this mapping reads"),
      (["2", "04/03/2016", ""], "occurred_at: '04/03/2016' is not a date this mapping reads"),
      (["3", "2016-03-04", "2016-13-45"], "reported_at: '2016-13-45' is not a date this mapping reads"),
    ] {
      guard case .refused(let why, _) = mapper.map(TableRow(number: 2, cells: cells)) else {
        Issue.record("not refused: \(cells)")
        continue
      }
      #expect(why.contains(reason), "\(why)")
    }
    for cells in [["4", "2016-03-04t06:40:00z", "unknown"], ["5", "2016-03-04", "\u{200F}"], ["6", "2016-03-04", ""]] {
      guard case .report(let json, _) = mapper.map(TableRow(number: 2, cells: cells)) else {
        Issue.record("refused: \(cells)")
        continue
      }
      #expect(!json.contains("reported_at"), "\(json)")
      if cells[0] == "4" { #expect(json.contains(#""occurred_at":"2016-03-04T06:40:00z""#), "\(json)") }
    }
  }

  /// (the mapping, where the error is, the start of its message)
  static let mistakes: [(String, String, String)] = [
    ("mapping: t\nid: {column: A}\nfields:\n  occurred_at: When\n", "m.yaml:1:1", "a mapping file needs fields.type"),
    ("mapping: t\nid: {column: A}\nfields:\n  occurred_at: When\n  type: {value: attack}\n  location.plac: B\n", "m.yaml:6:3", "fields.location.plac: no such report field"),
    ("mapping: t\nid: {column: A}\nfields:\n  occurred_at: When\n  type: {value: attack, colour: red}\n", "m.yaml:5:25", "unknown key 'colour' for type"),
    ("mapping: t\nid: {column: A}\nfields:\n  occurred_at: {date: {column: W, formats: [dd/qq/yyyy]}}\n  type: {value: attack}\n", "m.yaml:4:44", "formats: 'dd/qq/yyyy' is not a date pattern"),
    ("mapping: t\nid: {column: A}\nfields:\n  occurred_at: When\n  type: {value: attack, column: B}\n", "m.yaml:5:9", "type: give exactly one of"),
    ("mapping: t\nid: {column: A}\nwhere: [{column: B, matches: \"(\"}]\nfields:\n  occurred_at: When\n  type: {value: attack}\n", "m.yaml:3:30", "matches: not a regular expression"),
    ("mapping: t\nid: {column: A}\nfields:\n  occurred_at: When\n  type: {hxl: adm1}\n", "m.yaml:5:15", "hxl must be a hashtag"),
    ("mapping: t\nid: {column: A}\nfields:\n  occurred_at: When\n  type: {value: attack}\n  location.lat: {column: Lat, only_when: {column: P, equals: [x]}}\nextra:\n  location_lat: Other\n", "m.yaml:8:17", "extra.location_lat is where location.lat goes when its only_when does not hold"),
    ("mapping: t\nid: {column: A}\nfields:\n  occurred_at: When\n  type: {value: attack}\nextras: {}\n", "m.yaml:6:1", "unknown key 'extras' in a mapping file"),
    ("mapping: t\nid: {column: A}\nfields:\n  occurred_at: When\n  type: {value: atack}\n", "m.yaml:5:9", "type: 'atack' is not one of its words"),
    ("mapping: t\nid: {column: A}\nfields:\n  occurred_at: When\n  type: {value: attack}\n  weapons: {column: W, map: {Jet: [airstrike]}}\n", "m.yaml:6:35", "weapons: 'airstrike' is not one of its words"),
    // In a long map, at the entry that gives the word, not the field's first key (audit 56).
    ("mapping: t\nid: {column: A}\nfields:\n  occurred_at: When\n  type: {value: attack}\n  weapons:\n    column: W\n    map:\n      Jet: [air_strike]\n      Barrel: barrel_bomb\n      Shelling: [shellling]\n", "m.yaml:11:17", "weapons: 'shellling' is not one of its words"),
    ("mapping: t\nid: {prefix: B-, column: Ref, sufix: x}\nfields:\n  occurred_at: When\n  type: {value: attack}\n", "m.yaml:2:31", "unknown key 'sufix' for id (known: prefix, column"),
    ("mapping: t\nid: {column: A}\nfields:\n  occurred_at: When\n  type: {value: attack}\n  location.place: {column: P, optional: maybe}\n", "m.yaml:6:41", "location.place optional: expected true or false, got 'maybe'"),
    ("mapping: t\nid: {column: A}\nfields:\n  occurred_at: When\n  type: {value: attack}\n  narrative: {column: N, prefix: X}\n", "m.yaml:6:26", "unknown key 'prefix' for narrative; prefix is the id's"),
    ("mapping: t\nid: {column: A}\nfields:\n  occurred_at: When\n  type: {value: attack}\n  narrative: {column: N, separator: \" \"}\n", "m.yaml:6:26", "narrative: separator goes with join"),
    ("mapping: t\nid: {column: A}\nfields:\n  occurred_at: When\n  type: {value: attack, else: access}\n", "m.yaml:5:25", "type: else goes with when"),
    ("mapping: t\nid: {column: A}\nwhere: [{column: B, equals: Homs, value: x}]\nfields:\n  occurred_at: When\n  type: {value: attack}\n", "m.yaml:3:35", "unknown key 'value' in a test"),
    ("mapping: t\nid: {column: A}\nwhere: [{occurred_at: {from: 2016-01-01}, column: B, equals: Homs}]\nfields:\n  occurred_at: When\n  type: {value: attack}\n", "m.yaml:3:43", "'column' beside occurred_at"),
    ("mapping: t\nid: {column: A}\nwhere: [{occurred_at: {from: 2016-12-01, to: 2016-01-01}}]\nfields:\n  occurred_at: When\n  type: {value: attack}\n", "m.yaml:3:23", "occurred_at in where runs from 2016-12-01 to 2016-01-01"),
    ("mapping: t\nid: {column: A}\nwhere: [{column: B, equals: Homs, not: True}]\nfields:\n  occurred_at: When\n  type: {value: attack}\n", "m.yaml:3:40", "not: expected true or false, got 'True'"),
    ("mapping: t\nid: {column: A}\nfields:\n  occurred_at: When\n  type: {value: attack}\nextra:\n  import: B\n", "m.yaml:7:3", "extra.import is the import's own"),
    // One kind of test: with two, one would silently be the other's.
    ("mapping: t\nid: {column: A}\nwhere: [{column: C, equals: a, contains: zzz}]\nfields:\n  occurred_at: When\n  type: {value: attack}\n", "m.yaml:3:9", "a test takes one of equals (or one_of), contains, matches; this one gives equals, contains"),
    ("mapping: t\nid: {column: A}\nfields:\n  occurred_at: When\n  type: {when: [{column: C, one_of: [a], equals: b, value: access}]}\n", "m.yaml:5:17", "a test takes one of equals (or one_of), contains, matches; this one gives one_of, equals"),
    // A list for a field of one value would keep its first word.
    ("mapping: t\nid: {column: A}\nfields:\n  occurred_at: When\n  type: {value: attack}\n  target.type: {column: T, map: {a: [school, market], b: hospital}}\n", "m.yaml:6:16", "target.type takes one value, but map gives 'a' 2: school, market"),
    ("mapping: t\nid: {column: A}\nfields:\n  occurred_at: When\n  type: {value: attack}\nextra:\n  kind: {column: K, split: \" \"}\n", "m.yaml:7:21", "split is for list fields"),
    // An id source many rows share: every row after the first would be an id_conflict.
    ("mapping: t\nid: {prefix: ID-, value: incident}\nfields:\n  occurred_at: When\n  type: {value: attack}\n", "m.yaml:2:19", "id cannot be 'value': a value is the same for every row"),
    ("mapping: t\nid: {prefix: ID-, date: {column: When}}\nfields:\n  occurred_at: When\n  type: {value: attack}\n", "m.yaml:2:19", "id cannot be 'date': a date is shared by every incident of its day"),
    ("mapping: t\nid: {when: [{column: C, equals: a, value: x}], else: y}\nfields:\n  occurred_at: When\n  type: {value: attack}\n", "m.yaml:2:6", "id cannot be 'when'"),
    // An id with no source is told what an id takes, not the sources it refuses.
    ("mapping: t\nid: {prefix: D-}\nfields:\n  occurred_at: When\n  type: {value: attack}\n", "m.yaml:2:5", "id: give one of column (or hxl) or join, or digest: [columns]"),
    // The id is the mapping's id:, not a field that would replace it with a cell.
    ("mapping: t\nid: {prefix: T-, column: A}\nfields:\n  occurred_at: When\n  type: {value: attack}\n  id: {column: P}\n", "m.yaml:6:3", "fields.id: a report's id is made by the mapping's id:"),
    // A map's value a yes/no or number field cannot take; a date for a field that is no time.
    ("mapping: t\nid: {column: A}\nfields:\n  occurred_at: When\n  type: {value: attack}\n  location.populated: {column: R, map: {Rural: maybe}}\n", "m.yaml:6:23", "location.populated is yes or no, but map gives 'Rural' 'maybe'"),
    ("mapping: t\nid: {column: A}\nfields:\n  occurred_at: When\n  type: {value: attack}\n  casualties.killed: {column: K, map: {many: lots}}\n", "m.yaml:6:22", "casualties.killed is a number, but map gives 'many' 'lots'"),
    ("mapping: t\nid: {column: A}\nfields:\n  occurred_at: When\n  type: {value: attack}\n  perpetrator.party: {date: {column: D}}\n", "m.yaml:6:22", "perpetrator.party: date is for time fields"),
    // A value the mapping gives itself that its field cannot take: an error at load, not
    // the refusal of every row.
    ("mapping: t\nid: {column: A}\nfields:\n  occurred_at: When\n  type: {value: attack}\n  casualties.killed: {value: many}\n", "m.yaml:6:22", "casualties.killed: 'many' is not a number"),
    ("mapping: t\nid: {column: A}\nfields:\n  occurred_at: When\n  type: {value: attack}\n  location.populated: {when: [{column: P, equals: x, value: perhaps}]}\n", "m.yaml:6:23", "location.populated: 'perhaps' is neither yes nor no"),
    // Two keys that are one cell to the map, mapped apart.
    ("mapping: t\nid: {column: A}\nfields:\n  occurred_at: When\n  type: {value: attack}\n  weapons: {column: W, map: {Shelling: [shelling], SHELLING: [artillery]}}\n", "m.yaml:6:52", "map: 'SHELLING' and 'Shelling' are the same cell to the map"),
  ]

  @Test(arguments: mistakes)
  func refusesAMistakeAtItsPlace(_ text: String, _ place: String, _ message: String) {
    guard case .failure(let errors) = Self.load(text) else {
      Issue.record("loaded: \(text)")
      return
    }
    #expect(errors.errors.contains { $0.description.hasPrefix(place + ": " + message) }, "\(errors)")
    // An id given but wrong is not also said to be missing.
    if text.contains("\nid:") { #expect(!errors.errors.contains { $0.description.contains("needs 'id'") }, "\(errors)") }
  }

  @Test func examplesRunAtLoadAndAWrongOneShowsBoth() {
    let good = Self.base + """

      examples:
        - row: {Code: "9", When: "01/03/2016", What: Barrel bomb, Province: "", Lat: "", Lon: "", Precision: "", Populated: "", Facility: Market, Killed: "3", Story: x, Notes: ""}
          report: {id: T/9, occurred_at: 2016-03-01, type: attack, target: {type: market}, weapons: [barrel_bomb], casualties: {killed: 3}, narrative: x, extra: {facility: Market}}
      """
    #expect((try? Self.load(good).get()) != nil)
    let wrong = good.replacingOccurrences(of: "casualties: {killed: 3}", with: "casualties: {killed: 4}")
    guard case .failure(let errors) = Self.load(wrong) else {
      Issue.record("a wrong example was not caught")
      return
    }
    #expect(errors.errors.count == 1)
    #expect(errors.description.contains("example 1: the row became"), "\(errors)")
    #expect(errors.description.contains(#""killed":3"#) && errors.description.contains(#""killed":4"#), "\(errors)")
    // Both shown with their keys sorted, to be read side by side.
    #expect(errors.description.contains("not\n  " + #"{"casualties":{"killed":4},"extra":{"facility":"Market"},"id":"T\/9""#), "\(errors)")
    // An expected report may write the provenance every report gets, or leave it out.
    let provenance = good.replacingOccurrences(of: "extra: {facility: Market}", with: "extra: {facility: Market, import: {mapping: t}}")
    #expect(provenance != good && (try? Self.load(provenance).get()) != nil)
    // but a wrong one is wrong, and shown.
    let otherMapping = good.replacingOccurrences(of: "extra: {facility: Market}", with: "extra: {facility: Market, import: {mapping: u}}")
    guard case .failure(let wrongSource) = Self.load(otherMapping) else {
      Issue.record("a wrong extra.import was not caught")
      return
    }
    #expect(wrongSource.description.contains(#""import":{"mapping":"u"}"#) && wrongSource.description.contains(#""import":{"mapping":"t"}"#), "\(wrongSource)")
  }

  @Test func theShippedMappingsLoadWithTheirExamples() throws {
    let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent().appendingPathComponent("Config/mappings")
    let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".yaml") }
    #expect(!names.isEmpty)
    for name in names {
      switch MappingLoader.load(path: folder.appendingPathComponent(name).path) {
      case .success: break
      case .failure(let errors): Issue.record("\(name): \(errors)")
      }
    }
  }
}
