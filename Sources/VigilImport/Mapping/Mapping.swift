import VigilCore

/// A mapping file (docs/import.md): how each row of a table becomes a report. Loaded by
/// `MappingLoader`, applied by `RowMapper`.
public struct Mapping: Sendable {
  public let name: String
  public let path: String
  /// `csv`, `xlsx`, `json`, `ndjson`; nil: by the file's extension.
  public let format: String?
  /// The sheet of a workbook; nil: the first.
  public let sheet: String?
  /// Rows that fail any of these are counted as filtered, not refused.
  let filters: [RowFilter]
  let id: IDRule
  /// Report fields by dotted path, in the file's order.
  let fields: [FieldRule]
  /// Kept under `extra`, by name.
  let extras: [FieldRule]
  /// Each column a rule reads, with where the rule names it: checked against a file's
  /// header when it is opened.
  let columns: [ColumnReference]
  /// Those of `columns` a file may lack (fields marked `optional: true`): their cells are
  /// then empty.
  let optionalColumns: [ColumnReference]
  /// The names of the columns a file may lack (`optional: true`).
  public var optionalColumnNames: Set<String> { Set(optionalColumns.map(\.name)) }
  let position: SourcePosition

  /// The header names the mapping reads (a hashtag's fallback name included): what a
  /// JSON export's records are asked for.
  public var headerNames: [String] {
    var names: [String] = []
    for column in columns {
      let name: String? =
        switch column {
        case .header(let name, _): name
        case .hashtag(_, _, let fallback, _): fallback
        }
      if let name, !names.contains(name) { names.append(name) }
    }
    return names
  }
}

/// Where a value comes from in a row.
enum ColumnReference: Sendable, Equatable {
  /// By header name.
  case header(String, SourcePosition)
  /// By HXL hashtag and attributes (`#affected +killed`), falling back to a header name
  /// when the file has no hashtag row or no column with the tag.
  case hashtag(tag: String, attributes: [String], fallback: String?, SourcePosition)

  var position: SourcePosition {
    switch self {
    case .header(_, let position), .hashtag(_, _, _, let position): position
    }
  }

  /// The column as a person names it: its header, or its hashtag and attributes.
  var name: String {
    switch self {
    case .header(let name, _): name
    case .hashtag(let tag, let attributes, _, _): ([tag] + attributes.map { "+" + $0 }).joined(separator: " ")
    }
  }

  var shown: String {
    switch self {
    case .header(let name, _): "'\(name)'"
    case .hashtag(let tag, let attributes, let fallback, _):
      "'\(([tag] + attributes.map { "+" + $0 }).joined(separator: " "))'" + (fallback.map { " (or '\($0)')" } ?? "")
    }
  }
}

/// How one report field (or extra) gets its value.
struct FieldRule: Sendable {
  /// The report path (`location.place`) or, for an extra, `extra.<name>`.
  let path: String
  let source: ValueSource
  /// Values of the source read as empty (`Unknown`, `N/A`).
  let skip: Set<String>
  /// Source value → report value (a list for a list field); a value not in it is counted
  /// as unmapped and leaves the field absent.
  let map: [String: [String]]?
  /// The field is set only when this holds; otherwise its value goes under
  /// `extra.<path with _>` (coarse coordinates kept, but not as the place's).
  let onlyWhen: RowTest?
  /// For a list field: the cell holds several values, split on this (a form's
  /// select_multiple answer, `air_strike shelling`), each mapped by `map` if there is one.
  let split: String?
  let position: SourcePosition
  /// `skip` and `map` by their keys folded as cells are compared (`CellComparison`), made
  /// once: a key that folds like another yields to the first in sorted order.
  let foldedSkip: Set<String>
  let foldedMap: [String: [String]]?

  init(
    path: String, source: ValueSource, skip: Set<String>, map: [String: [String]]?, onlyWhen: RowTest?, split: String?,
    position: SourcePosition
  ) {
    self.path = path
    self.source = source
    self.skip = skip
    self.map = map
    self.onlyWhen = onlyWhen
    self.split = split
    self.position = position
    foldedSkip = Set(skip.map(CellComparison.folded))
    foldedMap = map.map { map in
      var folded: [String: [String]] = [:]
      for key in map.keys.sorted() where folded[CellComparison.folded(key)] == nil {
        folded[CellComparison.folded(key)] = map[key]
      }
      return folded
    }
  }
}

enum ValueSource: Sendable {
  case column(ColumnReference)
  case constant(String)
  /// Texts of several columns, the non-empty ones joined.
  case join([ColumnReference], separator: String)
  /// A date from one column (ISO text, one of `patterns`, or an Excel serial number, when
  /// `serials` allows: nil leaves it to the table), or from year, month and day columns
  /// (the day may be empty: then the month is given).
  case date(
    column: ColumnReference?, patterns: [String], serials: Bool?,
    parts: (year: ColumnReference, month: ColumnReference, day: ColumnReference?)?)
  /// The first case whose test holds, else the default.
  case choice([(RowTest, String)], otherwise: String?)
  /// A short digest of several cells: an identifier for sources that have none of their
  /// own, stable as long as those cells are.
  case digest([ColumnReference])
}

/// A test on a row's cell.
struct RowTest: Sendable {
  enum Kind: Sendable {
    case equals([String])
    case contains([String])
    case matches(String)
  }

  let column: ColumnReference
  let kind: Kind
  let negated: Bool
  /// The values of `equals` folded as cells are compared (trimmed), and those of
  /// `contains` (as written: `" war "` is not `war`), made once.
  let foldedValues: [String]

  init(column: ColumnReference, kind: Kind, negated: Bool) {
    self.column = column
    self.kind = kind
    self.negated = negated
    switch kind {
    case .equals(let values): foldedValues = values.map(CellComparison.folded)
    case .contains(let values): foldedValues = values.map { CellComparison.folded($0, trimming: false) }
    case .matches: foldedValues = []
    }
  }
}

/// A filter: a test on a cell, or a range of the report's `occurred_at` date.
enum RowFilter: Sendable {
  case test(RowTest)
  /// `occurred_at`'s date (`YYYY-MM-DD`) from `from` to `to`, both included.
  case dateRange(from: String?, to: String?)
}

/// How the report `id` is made: a prefix and the source's own identifier, made valid.
struct IDRule: Sendable {
  let prefix: String
  let source: ValueSource
}
