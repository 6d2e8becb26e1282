import Foundation
import VigilCore

/// A mapping applied to the rows of one table: its column references resolved against the
/// table's header (and hashtag row), then each row made a report, filtered out, or refused
/// with the reason.
public struct RowMapper: Sendable {
  /// What became of a row.
  public enum Outcome: Sendable, CustomStringConvertible {
    /// A report, as the JSON a client sends, and its id.
    case report(json: String, id: String)
    /// Left out by the mapping's `where`.
    case filtered
    /// Not a report the schema takes, with why, and the field when one is to blame.
    case refused(String, field: String? = nil)

    public var description: String {
      switch self {
      case .report(let json, _): json
      case .filtered: "filtered out"
      case .refused(let reason, _): "refused: \(reason)"
      }
    }
  }

  public let mapping: Mapping
  /// The column references the table lacks.
  public let missingColumnNames: [String]
  let missingColumns: [ColumnReference]
  /// Where each referenced column is, by its `shown` text.
  private let indices: [String: Int]
  /// A column the mapping names by a header the file has more than once, and where.
  private let ambiguous: (reference: ColumnReference, columns: [Int])?
  /// What the table's serial dates count from.
  private let serialDates: SerialDateSystem
  /// Whether the table holds serial numbers for dates (a workbook's cells do; a text file's
  /// are what was written).
  private let serialsWritten: Bool
  /// The last date an incident can have (`YYYY-MM-DD`): tomorrow, in UTC.
  private let latestDate: String
  /// The table's hashtag row, for naming its columns in a message.
  private let hashtags: [String]?

  /// Where each report says which mapping made it.
  public static let provenancePath = "extra.import"

  /// The mapping for `table`: its header, hashtag row and date system.
  public init(mapping: Mapping, table: some TableReader) {
    self.init(
      mapping: mapping, header: table.header, hashtags: table.hashtags, serialDates: table.serialDates,
      serialsWritten: table.holdsSerialDates)
  }

  public init(
    mapping: Mapping, header: [String], hashtags: [String]?, serialDates: SerialDateSystem = .excel1900,
    serialsWritten: Bool = false
  ) {
    self.mapping = mapping
    self.serialDates = serialDates
    self.serialsWritten = serialsWritten
    latestDate = DateReading.format(Date().addingTimeInterval(86_400))
    var indices: [String: Int] = [:]
    var missing: [ColumnReference] = []
    // Compared without invisible marks: a header pasted from right-to-left text may end
    // with U+200F, and looks like the name the mapping gives.
    let trimmedHeader = header.map { CellComparison.withoutMarks($0).trimmingCharacters(in: .whitespaces) }
    let tags = hashtags.map { $0.map(Self.hashtag) }
    // The columns some hashtag reference of the mapping names exactly: another reference
    // with fewer attributes does not take them (`#affected +killed` is not the column
    // `#affected +killed +children` that children_killed reads).
    let exactlyTagged = Set(
      mapping.columns.compactMap { reference -> Int? in
        guard case .hashtag(let tag, let attributes, _, _) = reference, let tags else { return nil }
        let exact = tags.indices.filter { tags[$0]?.tag == tag && tags[$0]?.attributes == Set(attributes) }
        return exact.count == 1 ? exact[0] : nil
      })
    // The header names the mapping gives, as written: `Killed` and `KILLED` both named are
    // two columns, each read by its own name.
    let namedHeaders = Set(
      mapping.columns.flatMap { reference -> [String] in
        switch reference {
        case .header(let name, _): [CellComparison.withoutMarks(name)]
        case .hashtag(_, _, let fallback, _): fallback.map { [CellComparison.withoutMarks($0)] } ?? []
        }
      })
    var ambiguous: (reference: ColumnReference, columns: [Int])?
    for reference in mapping.columns where indices[reference.shown] == nil {
      switch Self.resolve(
        reference, header: trimmedHeader, hashtags: tags, takenExactly: exactlyTagged, namedHeaders: namedHeaders)
      {
      case .column(let index):
        indices[reference.shown] = index
      case .several(let columns):
        indices[reference.shown] = columns[0]
        if ambiguous == nil { ambiguous = (reference, columns) }
      case .none:
        if !missing.contains(reference), !mapping.optionalColumns.contains(reference) { missing.append(reference) }
      }
    }
    self.indices = indices
    self.ambiguous = ambiguous
    self.hashtags = hashtags
    missingColumns = missing
    missingColumnNames = missing.map { "\($0.shown) (\($0.position))" }
  }

  /// Why the table cannot be read with this mapping: a column it names that the table has
  /// twice, or a hashtag several columns carry (a guess between them would be wrong), or
  /// the first column it lacks, where the mapping names it, and the columns the table has.
  /// - Parameter partRead: which part of the file was read, when it has others (a sheet of
  ///   several), said with a missing column.
  public func missingColumnsProblem(header: [String], partRead: String? = nil) -> String? {
    if let (reference, columns) = ambiguous {
      let numbers = columns.map { String($0 + 1) }
      let listed = numbers.dropLast().joined(separator: ", ") + " and " + numbers.last!
      if case .hashtag = reference {
        let described = columns.map { index in
          let tag = hashtags.flatMap { index < $0.count ? $0[index] : nil } ?? ""
          let name = index < header.count ? header[index].trimmingCharacters(in: .whitespaces) : ""
          return "\(index + 1) ('\(CellComparison.shown(tag))'\(name.isEmpty ? "" : ", '\(CellComparison.shown(name))'"))"
        }
        return "the mapping names the hashtag \(CellComparison.shown(reference.shown)) at \(reference.position), which "
          + "\(columns.count) columns of the file carry (\(described.joined(separator: "; "))): one value cannot be "
          + "chosen among them; tag one column exactly so (or with +total), or name a column by its header"
      }
      // Each named, since they may differ in case (`Killed` and `KILLED` are one to a mapping).
      let named = columns.map { index in
        "\(index + 1) '\(CellComparison.shown(index < header.count ? header[index].trimmingCharacters(in: .whitespaces) : ""))'"
      }
      return "the mapping names the column \(CellComparison.shown(reference.shown)) at \(reference.position), which the file has "
        + "\(columns.count) times, headers compared without regard to case (columns \(named.joined(separator: ", "))); "
        + "rename all but one in the file, or name the column by its HXL hashtag"
    }
    guard let first = missingColumns.first else { return nil }
    let others = missingColumns.count > 1 ? " (and \(missingColumns.count - 1) more)" : ""
    return "the mapping names the column \(CellComparison.shown(first.shown)) at \(first.position)\(others), which the file lacks; "
      + "its columns: \(header.map { "'\(CellComparison.shown($0.trimmingCharacters(in: .whitespaces)))'" }.joined(separator: ", "))"
      + Self.separatorHint(header) + (partRead.map { "; " + $0 } ?? "")
  }

  /// A header read as one column that holds another separator (Excel's semicolons where
  /// the decimal comma is used, a tab-separated "Unicode Text" export): said, since the
  /// reader takes only commas.
  static func separatorHint(_ header: [String]) -> String {
    guard header.count == 1, let only = header.first else { return "" }
    for (separator, name) in [(";", "semicolons"), ("\t", "tabs"), ("|", "bars")] where only.contains(separator) {
      return " (the header is one column holding \(name): the file seems separated by \(name); CSV here is "
        + "comma-separated, so save it as CSV UTF-8 with commas)"
    }
    return ""
  }

  /// Maps one row; `unmapped` gets each (column, value) no `map` covered, for a row that
  /// is not filtered out.
  public func map(_ row: TableRow, unmapped: inout [UnmappedValue]) -> Outcome {
    var found: [UnmappedValue] = []
    let outcome = map(row, found: &found)
    if case .filtered = outcome { return outcome }
    // Once a row each: the summary counts rows (`catapult;catapult` is one row's).
    var seen = Set<String>()
    unmapped += found.filter { seen.insert($0.column + "\u{1F}" + $0.comparedValue).inserted }
    return outcome
  }

  private func map(_ row: TableRow, found unmapped: inout [UnmappedValue]) -> Outcome {
    for filter in mapping.filters {
      if case .test(let test) = filter, !holds(test, row) { return .filtered }
    }
    var report = JSONObjectBuilder()
    // The fields left out because their value was not in the map, and that value.
    var leftOutUnmapped: [String: String] = [:]
    // Without the invisible marks an Arabic sheet leaves (U+200F) and with Western digits
    // (`٧` is 7), as numbers are read: a release saved again in another locale names the
    // same incidents, and must be "already recorded", not recorded twice.
    guard let written = value(of: mapping.id.source, row, forDate: false),
      case let rawID = Self.westernDigits(written).trimmingCharacters(in: .whitespaces), !rawID.isEmpty
    else { return .refused("no identifier for the report id (the id's source is empty)", field: "id") }
    let id = Self.validID(mapping.id.prefix + rawID)
    report.set("id", JSONText.string(id))
    for field in mapping.fields + mapping.extras {
      // A field whose `only_when` does not hold goes under `extra`: typed as the field when
      // it can be (a coarse latitude stays a number), else as an extra is read, since
      // `extra` takes any value (`Lat: unknown` on a district-level row is kept, not a
      // refusal of the row).
      var rule = field
      let unmappedBefore = unmapped.count
      var converted = convert(field, row, unmapped: &unmapped)
      if case .none = converted, unmapped.count > unmappedBefore { leftOutUnmapped[field.path] = unmapped.last?.value }
      if let test = field.onlyWhen, !holds(test, row) {
        rule = FieldRule(
          path: "extra." + field.path.replacingOccurrences(of: ".", with: "_"), source: field.source, skip: field.skip,
          map: field.map, onlyWhen: nil, split: field.split, position: field.position)
        if case .problem = converted { converted = convert(rule, row, unmapped: &unmapped) }
      }
      switch converted {
      case .none: continue
      case .value(let json):
        report.set(rule.path, json)
      case .problem(let reason):
        // A date too vague to read (a year alone) is still filtered by its year.
        if rule.path == "occurred_at", let year = year(of: rule.source, row), outsideDateRange(year: year) {
          return .filtered
        }
        // A row the `where` range leaves out is filtered whatever else is wrong with it.
        if rule.path != "occurred_at", outsideDateRange(row, unmapped: &unmapped) { return .filtered }
        return .refused("\(rule.path): \(reason)", field: rule.path)
      }
    }
    // The provenance: the mapping, not the file and the row, which change between releases
    // of a dataset (a row added at the top moves every other), and would make each report
    // of the next release a conflict with the one recorded. The id carries the source's own.
    report.set(Self.provenancePath, "{\"mapping\":\(JSONText.string(mapping.name))}")
    let json = report.json
    switch ReportParser.parse(json) {
    case .failure(let error):
      // A required field missing because its value was not in the map: that is the reason.
      let reason = "\(error)"
      if let (path, value) = leftOutUnmapped.first(where: { reason.hasSuffix(" " + $0.key + ": missing required field") }) {
        return .refused("\(path): '\(CellComparison.shown(value))' is not in its map (add it, or skip the row with where)", field: path)
      }
      return .refused(reason, field: error.field)
    case .success(let parsed):
      for filter in mapping.filters {
        guard case .dateRange(let from, let to) = filter else { continue }
        let day = String(parsed.report.occurredAt.text.string.prefix(10))
        if let from, day < from { return .filtered }
        if let to, day > to { return .filtered }
      }
      return .report(json: json, id: id)
    }
  }

  public func map(_ row: TableRow) -> Outcome {
    var ignored: [UnmappedValue] = []
    return map(row, unmapped: &ignored)
  }

  /// A value a `map` did not cover: what the import counts and reports.
  public struct UnmappedValue: Hashable, Sendable {
    public let column: String
    public let value: String

    /// The value as a message shows it: invisible marks and unusual spaces spelled out.
    public var shownValue: String { CellComparison.shown(value) }
    /// The value as a `map` compares it (case, diacritics and invisible marks aside).
    public var comparedValue: String { CellComparison.folded(value) }
  }

  private enum Converted {
    case none
    case value(String)
    case problem(String)
  }

  private func convert(_ rule: FieldRule, _ row: TableRow, unmapped: inout [UnmappedValue]) -> Converted {
    let type = rule.path.hasPrefix("extra.") ? FieldType.dynamic : (ReportSchema.field(rule.path)?.type ?? .dynamic)
    let isDate = type == .timestamp
    guard let raw = value(of: rule.source, row, forDate: isDate) else {
      if case .date(_, _, _, let parts?) = rule.source, let year = cell(parts.year, row) {
        guard cell(parts.month, row) != nil else { return .problem("the row gives the year \(year) but no month: no date can be made") }
        guard DateReading.isYear(Self.westernDigits(year)) else {
          return .problem("'\(year)' is not a year: a year has four digits")
        }
        return .problem("'\(rawDateText(rule.source, row) ?? "")' (year/month/day) is not a date")
      }
      if case .date(_, _, _, let parts?) = rule.source, cell(parts.month, row) != nil {
        return .problem("the row gives no year (its month is \(cell(parts.month, row) ?? "")): no date can be made")
      }
      if case .date = rule.source, let text = rawDateText(rule.source, row), !text.isEmpty {
        return .problem("'\(CellComparison.shown(text))' is not a date this mapping reads")
      }
      // A plain column for a time field reads ISO 8601 dates and spreadsheet serials; any
      // other text in it is said, not dropped (the report would be recorded without it).
      if isDate, case .column(let reference) = rule.source, let written = cell(reference, row) {
        let text = written.trimmingCharacters(in: .whitespacesAndNewlines)
        if !CellComparison.withoutMarks(text).trimmingCharacters(in: .whitespacesAndNewlines).isEmpty,
          !rule.skip.contains(text), !rule.foldedSkip.contains(CellComparison.folded(text))
        {
          return .problem(
            "'\(CellComparison.shown(text))' is not a date this mapping reads (a plain column takes ISO 8601 dates "
              + "and spreadsheet serials; for others, `date: {column: …, formats: […]}`)")
        }
      }
      return .none
    }
    let text = raw.trimmingCharacters(in: .whitespacesAndNewlines)
    // A month without its day is read as its first; when the `where` period starts or
    // ends inside that month, the incident may be on either side: refused, as a year
    // alone is, rather than filtered (or kept) on a guess.
    if isDate, rule.path == "occurred_at", case .date(_, _, _, let parts?) = rule.source,
      parts.day.flatMap({ cell($0, row) }) == nil,
      let straddled = periodEdge(insideMonthOf: String(text.prefix(10)))
    {
      return .problem(
        "the row gives the month \(text.prefix(7)) but no day, and the period (where) \(straddled) inside it: "
          + "the incident cannot be placed inside or outside the period")
    }
    // `skip` compares as `map` and the tests do: case aside; a split cell's parts each.
    // A cell of invisible marks alone (a right-to-left mark, a zero-width space) is empty.
    func skipped(_ value: String) -> Bool {
      value.isEmpty || CellComparison.withoutMarks(value).trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
        || rule.skip.contains(value) || rule.foldedSkip.contains(CellComparison.folded(value))
    }
    guard !skipped(text) else { return .none }
    // A date after tomorrow (UTC; a day's leeway for the zones ahead) is no report's: a
    // misread cell (a typo, a format that does not fit) that could not be put right once
    // recorded, since the report's id is then taken.
    if isDate, text.count >= 10, Self.isAfter(text, latestDate) {
      let written = rawDateText(rule.source, row) ?? text
      // A time with its zone is said whole: its own day may be tomorrow's while the moment,
      // in UTC, is after it (audit 51: "reads as 2026-12-08" on the 7th).
      let shown = text.count > 10 ? "\(text), after \(latestDate) in UTC," : String(text.prefix(10)) + ","
      return .problem(
        "'\(CellComparison.shown(written))' reads as \(shown) a date still to come "
          + "(is the cell mistyped, or are the mapping's formats not the file's?)")
    }
    let given = rule.split.map { separator in
      text.components(separatedBy: separator).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !skipped($0) }
    } ?? [text]
    var values: [String] = []
    // A value the map sends to `[]`: none of the list's words, said (an empty list), which
    // is not a list left out (unknown).
    var mappedToNone = false
    // A part of the cell the map does not cover: what it names is not known, so the list is
    // not "none" (`none;Mortar` with Mortar unmapped).
    var anyUnmapped = false
    for value in given {
      guard let map = rule.map else {
        values.append(value)
        continue
      }
      guard let mapped = map[value] ?? rule.foldedMap?[CellComparison.folded(value)]
      else {
        unmapped.append(UnmappedValue(column: sourceName(rule.source, field: rule.path), value: value))
        anyUnmapped = true
        continue
      }
      if mapped.isEmpty { mappedToNone = true }
      for item in mapped where !values.contains(item) { values.append(item) }
    }
    if values.isEmpty {
      switch type {
      case .texts, .words: return mappedToNone && !anyUnmapped ? .value("[]") : .none
      default: return .none
      }
    }
    switch type {
    case .number:
      guard let written = Self.decimal(values[0]), let number = Double(written), number.isFinite else {
        return .problem("'\(CellComparison.shown(values[0]))' is not a number")
      }
      // Whole numbers as integers ("12.0" is 12); others as written, digits kept.
      if number == number.rounded() && abs(number) < 1e15 { return .value(String(Int64(number))) }
      let isJSONNumber = written.range(of: #"^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$"#, options: .regularExpression) != nil
      return .value(isJSONNumber ? written : String(number))
    case .bool:
      guard let answer = Self.yesOrNo(values[0]) else {
        return .problem("'\(CellComparison.shown(values[0]))' is neither yes nor no")
      }
      return .value(answer ? "true" : "false")
    case .texts, .words:
      return .value("[" + values.map(JSONText.string).joined(separator: ",") + "]")
    default:
      return .value(JSONText.string(values[0]))
    }
  }

  /// The text a source gives for the row; nil when it gives nothing (an empty cell, a date
  /// it cannot read).
  private func value(of source: ValueSource, _ row: TableRow, forDate: Bool) -> String? {
    switch source {
    case .constant(let value): return value
    case .column(let reference):
      guard let text = cell(reference, row) else { return nil }
      guard forDate else { return text }
      let western = Self.westernDigits(text)
      return DateReading.isoDate(western) ?? DateReading.excelSerial(western, serialDates)
    case .join(let references, let separator):
      let parts = references.compactMap { cell($0, row)?.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }
      return parts.isEmpty ? nil : parts.joined(separator: separator)
    case .date(let column, let patterns, let serials, let parts):
      if let parts {
        guard let year = cell(parts.year, row), let month = cell(parts.month, row) else { return nil }
        return DateReading.fromParts(
          year: Self.westernDigits(year), month: Self.westernDigits(month),
          day: parts.day.flatMap { cell($0, row) }.map(Self.westernDigits))
      }
      guard let column, let cellText = cell(column, row), !cellText.isEmpty else { return nil }
      // Dates are written in Arabic-Indic digits too (`٠٤/٠٣/٢٠١٦`), as numbers are.
      let text = Self.westernDigits(cellText)
      // The mapping's own formats before a serial number: `ddMMyy` reads 040316 as
      // 2016-03-04, which is also a serial (of 2010). A text file whose dates the formats
      // describe holds no serials unless the mapping says so: there a number that fits no
      // format is a date whose zero a spreadsheet dropped (40316), or a typo.
      let readsSerials = serials ?? (patterns.isEmpty || serialsWritten)
      return DateReading.isoDate(text) ?? patterns.lazy.compactMap { DateReading.withPattern(text, $0) }.first
        ?? (readsSerials ? DateReading.excelSerial(text, serialDates) : nil)
    case .choice(let cases, let otherwise):
      return cases.first { holds($0.0, row) }?.1 ?? otherwise
    case .digest(let references):
      // Over the cells as an id reads them (without invisible marks, Western digits): one
      // incident saved again in another locale is the same digest, "already recorded".
      let cells = references.map { cell($0, row).map(Self.westernDigits)?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "" }
      guard cells.contains(where: { !$0.isEmpty }) else { return nil }
      // The separator, and the mark that escapes it, escaped in a cell that holds one, so
      // that no two rows' cells join alike (audit 51: `ab␟`,`c` and `ab`,`␟c`); a cell
      // without either is as it was, and so is its row's digest.
      let escaped = cells.map { cell in
        cell.unicodeScalars.contains { $0 == "\u{1B}" || $0 == "\u{1F}" }
          ? cell.replacingOccurrences(of: "\u{1B}", with: "\u{1B}\u{1B}").replacingOccurrences(of: "\u{1F}", with: "\u{1B}\u{1F}")
          : cell
      }
      return Self.digest(escaped.joined(separator: "\u{1F}"))
    }
  }

  /// The year a date source names, when it names one (a year cell, or text starting so).
  private func year(of source: ValueSource, _ row: TableRow) -> Int? {
    guard let text = rawDateText(source, row)?.trimmingCharacters(in: .whitespaces) else { return nil }
    // Four digits, alone or before a separator (`2015`, `2015/11`): not the start of a
    // longer number (`40316`), which names no year.
    let digits = text.prefix { $0.isASCII && $0.isNumber }
    return digits.count == 4 ? Int(digits) : nil
  }

  /// Whether the row's `occurred_at`, read as the mapping reads it, is outside the date range.
  private func outsideDateRange(_ row: TableRow, unmapped: inout [UnmappedValue]) -> Bool {
    guard let rule = mapping.fields.first(where: { $0.path == "occurred_at" }),
      case .value(let json) = convert(rule, row, unmapped: &unmapped), json.hasPrefix("\"")
    else { return false }
    let day = String(json.dropFirst().prefix(10))
    return mapping.filters.contains { filter in
      guard case .dateRange(let from, let to) = filter else { return false }
      return from.map { day < $0 } == true || to.map { day > $0 } == true
    }
  }

  /// Where the `where` period begins or ends inside the month of `firstDay` (`YYYY-MM-01`),
  /// cutting it in two (`starts 2015-11-14`); nil when the month is wholly in or out.
  private func periodEdge(insideMonthOf firstDay: String) -> String? {
    let month = firstDay.prefix(7)
    for filter in mapping.filters {
      guard case .dateRange(let from, let to) = filter else { continue }
      if let from, from.prefix(7) == month, from > firstDay { return "starts \(from)" }
      // The month's last day is at most its 31st: an end before it cuts the month.
      if let to, to.prefix(7) == month, to < DateReading.lastDay(ofMonth: firstDay) { return "ends \(to)" }
    }
    return nil
  }

  /// Whether every day of `year` is outside the mapping's date range.
  private func outsideDateRange(year: Int) -> Bool {
    mapping.filters.contains { filter in
      guard case .dateRange(let from, let to) = filter else { return false }
      if let from, let first = Int(from.prefix(4)), year < first { return true }
      if let to, let last = Int(to.prefix(4)), year > last { return true }
      return false
    }
  }

  private func rawDateText(_ source: ValueSource, _ row: TableRow) -> String? {
    guard case .date(let column, _, _, let parts) = source else { return nil }
    if let column { return cell(column, row) }
    if let parts { return [cell(parts.year, row), cell(parts.month, row), parts.day.flatMap { cell($0, row) }].compactMap { $0 }.joined(separator: "/") }
    return nil
  }

  /// What the summary names a source by: its column, the columns it joins or reads a date
  /// from, else the field it gives (a `when`, a value).
  private func sourceName(_ source: ValueSource, field: String) -> String {
    switch source {
    case .column(let reference): reference.name
    case .join(let references, _): references.map(\.name).joined(separator: " + ")
    case .date(let column?, _, _, _): column.name
    case .date(nil, _, _, let parts?): [parts.year, parts.month].map(\.name).joined(separator: " + ") + (parts.day.map { " + " + $0.name } ?? "")
    case .digest(let references): references.map(\.name).joined(separator: " + ")
    case .choice: "\(field) (its when)"
    case .constant, .date: "\(field) (its value)"
    }
  }

  private func cell(_ reference: ColumnReference, _ row: TableRow) -> String? {
    guard let index = indices[reference.shown], index < row.cells.count else { return nil }
    let text = row.cells[index]
    return text.isEmpty ? nil : text
  }

  private func holds(_ test: RowTest, _ row: TableRow) -> Bool {
    let text = (cell(test.column, row) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
    let result: Bool
    switch test.kind {
    case .equals(let values):
      let folded = CellComparison.folded(text)
      result = values.contains(text) || test.foldedValues.contains(folded)
    case .contains(let values):
      let folded = CellComparison.folded(text, trimming: false)
      result = zip(values, test.foldedValues).contains { value, foldedValue in
        !value.isEmpty
          && (text.range(of: value, options: .caseInsensitive) != nil
            || (!foldedValue.isEmpty && folded.contains(foldedValue)))
      }
    case .matches(let pattern): result = text.range(of: pattern, options: [.regularExpression, .caseInsensitive]) != nil
    }
    return result != test.negated
  }

  /// An id the schema takes: each character outside `A-Z a-z 0-9 . _ : / -` becomes `-`
  /// (runs of them one), at most 128 characters. An id that had to be changed gets a short
  /// digest of the original, so two identifiers that differ only there ("A 1", "A-1") stay
  /// two ids.
  static func validID(_ text: String) -> String {
    let cleaned = cleanedID(text)
    guard cleaned != text || cleaned.count > 128 else { return cleaned }
    return String(cleaned.prefix(114)) + "-" + digest(text)
  }

  /// Whether a date or time falls after the UTC day `latest` (`YYYY-MM-DD`): a time with
  /// its offset as the instant it names (`2026-12-08T01:00:00+05:00` is the 7th in UTC), a
  /// bare date as written.
  static func isAfter(_ text: String, _ latest: String) -> Bool {
    if text.count > 10, let time = Timestamp(text), let end = Timestamp(latest + "T23:59:59.999999999Z") {
      return time > end
    }
    return String(text.prefix(10)) > latest
  }

  private static func cleanedID(_ text: String) -> String {
    var id = ""
    for scalar in text.unicodeScalars {
      let allowed = scalar.isASCII && (CharacterSet.alphanumerics.contains(scalar) || "._:/-".unicodeScalars.contains(scalar))
      if allowed {
        id.unicodeScalars.append(scalar)
      } else if !id.hasSuffix("-") {
        id += "-"
      }
    }
    while id.hasSuffix("-") && id.count > 1 { id.removeLast() }
    if id.isEmpty { id = "-" }
    return id
  }

  /// 64 bits of FNV-1a over the text, in base 36 (13 characters at most): short, and the
  /// same on every machine and run (Swift's own hashing is seeded per process).
  static func digest(_ text: String) -> String {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in text.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
    return String(hash, radix: 36)
  }

  /// A cell as a plain decimal number (`-12`, `3.5`, `1e3`), or nil when it is not one. A
  /// comma only groups thousands (`1,234`, `12,345,678`): `1,5` is a decimal comma, which
  /// cannot be told from a list, so it is refused rather than read as 15. Arabic-Indic
  /// digits (`١٢`, `۱۲`) are digits; `0x1A`, `inf` and `nan` are not numbers.
  static func decimal(_ text: String) -> String? {
    var ascii = ""
    for scalar in westernDigits(text).unicodeScalars {
      switch scalar.value {
      case 0x066B: ascii.append(".")  // the Arabic decimal separator
      case 0x066C: ascii.append(",")  // the Arabic thousands separator
      default: ascii.unicodeScalars.append(scalar)
      }
    }
    let grouped = #"^[+-]?[0-9]{1,3}(,[0-9]{3})+(\.[0-9]+)?$"#
    let plain = #"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$"#
    if ascii.range(of: grouped, options: .regularExpression) != nil { return ascii.replacingOccurrences(of: ",", with: "") }
    return ascii.range(of: plain, options: .regularExpression) != nil ? ascii : nil
  }

  /// A cell as yes or no, folded as `map` compares (`نَعَم`, `Yes` then U+200F); nil for
  /// anything else.
  static func yesOrNo(_ text: String) -> Bool? {
    switch CellComparison.folded(text) {
    case "true", "yes", "y", "1", "نعم": true
    case "false", "no", "n", "0", "لا": false
    default: nil
    }
  }

  /// The text with its Arabic-Indic digits (`٠`–`٩`, and the Persian `۰`–`۹`) as ASCII ones.
  static func westernDigits(_ text: String) -> String {
    // Invisible marks go first: `12` then U+200F is 12, `04/03/2016` with U+200F between
    // its parts (as Windows' Arabic date formats write it) is that date.
    let text = CellComparison.withoutMarks(text)
    guard text.unicodeScalars.contains(where: { (0x0660...0x0669).contains($0.value) || (0x06F0...0x06F9).contains($0.value) })
    else { return text }
    var ascii = ""
    for scalar in text.unicodeScalars {
      switch scalar.value {
      case 0x0660...0x0669: ascii.unicodeScalars.append(Unicode.Scalar(scalar.value - 0x0660 + 0x30)!)
      case 0x06F0...0x06F9: ascii.unicodeScalars.append(Unicode.Scalar(scalar.value - 0x06F0 + 0x30)!)
      default: ascii.unicodeScalars.append(scalar)
      }
    }
    return ascii
  }

  /// A column's hashtag and attributes, lowercased (`#Affected +Killed` → affected, [killed]).
  private static func hashtag(_ text: String) -> (tag: String, attributes: Set<String>)? {
    let words = HashtagRow.words(text.lowercased()).map(String.init)
    guard let tag = words.first, tag.hasPrefix("#") else { return nil }
    return (tag, Set(words.dropFirst().filter { $0.hasPrefix("+") }.map { String($0.dropFirst()) }))
  }

  /// Where a reference finds its column in a table.
  private enum Resolution {
    case column(Int)
    /// More than one column it could be, with nothing to choose between them.
    case several([Int])
    case none
  }

  /// A header name: the columns written so, in any case; several (`Killed` and `killed`)
  /// are `several`, since the one not read would lose its values unsaid, unless the mapping
  /// names each of them as written (`namedHeaders`): then each name reads its own. A hashtag: the column tagged exactly so; else the
  /// one tagged with more attributes (HXL's rule: `#affected +killed` also finds
  /// `#affected +killed +healthworker`), a `+total` one before others; several such are
  /// `several` (children's and adults' columns are parts, neither the whole); the only one
  /// is not taken when another reference names it exactly (`takenExactly`: the children's
  /// count is not the toll). Without such a column, the hashtag's fallback header.
  private static func resolve(
    _ reference: ColumnReference, header: [String], hashtags: [(tag: String, attributes: Set<String>)?]?,
    takenExactly: Set<Int>, namedHeaders: Set<String>
  ) -> Resolution {
    func one(_ columns: [Int]) -> Resolution {
      columns.isEmpty ? .none : columns.count == 1 ? .column(columns[0]) : .several(columns)
    }
    func byName(_ written: String) -> Resolution {
      // The header's invisible marks are gone already; the mapping's go too.
      let name = CellComparison.withoutMarks(written)
      let columns = header.indices.filter { header[$0].caseInsensitiveCompare(name) == .orderedSame }
      let exact = columns.filter { header[$0] == name }
      if columns.count > 1, exact.count == 1, columns.allSatisfy({ namedHeaders.contains(header[$0]) }) {
        return .column(exact[0])
      }
      return one(columns)
    }
    switch reference {
    case .header(let name, _): return byName(name)
    case .hashtag(let tag, let attributes, let fallback, _):
      if let hashtags {
        let wanted = Set(attributes)
        let exact = hashtags.indices.filter { hashtags[$0]?.tag == tag && hashtags[$0]?.attributes == wanted }
        if !exact.isEmpty { return one(exact) }
        let more = hashtags.indices.filter { index in
          guard let column = hashtags[index] else { return false }
          return column.tag == tag && wanted.isSubset(of: column.attributes)
        }
        let totals = more.filter { hashtags[$0]!.attributes.subtracting(wanted) == ["total"] }
        if !totals.isEmpty { return one(totals) }
        if more.count > 1 { return .several(more) }
        if let only = more.first, !takenExactly.contains(only) { return .column(only) }
      }
      return fallback.map(byName) ?? .none
    }
  }
}

/// A JSON object built from dotted paths (`location.place`), members in the order set.
struct JSONObjectBuilder {
  private indirect enum Node {
    case leaf(String)
    case object([(String, Node)])
  }

  private var members: [(String, Node)] = []

  mutating func set(_ path: String, _ json: String) {
    Self.set(&members, path.split(separator: ".").map(String.init)[...], json)
  }

  private static func set(_ members: inout [(String, Node)], _ keys: ArraySlice<String>, _ json: String) {
    guard let key = keys.first else { return }
    let index = members.firstIndex { $0.0 == key }
    if keys.count == 1 {
      if let index { members[index].1 = .leaf(json) } else { members.append((key, .leaf(json))) }
      return
    }
    var inner: [(String, Node)] = []
    if let index, case .object(let existing) = members[index].1 { inner = existing }
    set(&inner, keys.dropFirst(), json)
    if let index { members[index].1 = .object(inner) } else { members.append((key, .object(inner))) }
  }

  var json: String { Self.render(members) }

  private static func render(_ members: [(String, Node)]) -> String {
    "{" + members.map { key, node in
      JSONText.string(key) + ":" + {
        switch node {
        case .leaf(let json): json
        case .object(let inner): render(inner)
        }
      }()
    }.joined(separator: ",") + "}"
  }
}
