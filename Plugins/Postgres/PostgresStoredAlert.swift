import VigilCore

/// One row of `vigil.alerts` as `vigil verify --sink postgres` reads it back: the exact
/// line the hash chain covers, and the columns the sink derived from it, which queries
/// read (docs/postgres.md, "The common questions"). The chain proves the lines; this checks
/// that each column still says what its line says, so a row edited in its columns alone
/// (its `message`, its `rule`, its `seq`) is named too.
public struct PostgresStoredAlert: Sendable {
  /// A column's value or a line's as a verdict quotes it: whole up to 80 characters (a
  /// hash's 64 included), else its start and an ellipsis, which says it was cut.
  static func shown(_ text: String) -> String {
    text.count <= 80 ? text : String(text.prefix(60)) + "…"
  }

  public let seq: UInt64
  /// The `seq` column as it is (a bigint: a row planted under -1 is -1, not `seq`'s 2^64 - 1).
  public let seqColumn: Int64
  public let line: String
  let rule: String
  let priority: String
  let reportID: String?
  let message: String
  /// `basis` and `tags` as written (a NULL element, which no line gives, as nil).
  let basis: [String?]
  let tags: [String?]
  let ruleset: String
  let prev: String
  let hash: String
  /// `time` and `occurred_at` in microseconds since 1970 (PostgreSQL keeps microseconds);
  /// nil past what a bigint holds of them (`infinity`, the year 294270), which no line
  /// gives, and for `occurred_at`'s NULL; with their text.
  let timeMicroseconds: Int64?
  let timeText: String
  let occurredAtMicroseconds: Int64?
  let occurredAtText: String?
  /// The `record` column (`jsonb`) as PostgreSQL writes it back.
  let record: String

  /// The SELECT that reads a node's rows in this shape, by `seq`.
  static let query = """
    SELECT seq, line, rule, priority, report_id, message, array_to_json(basis)::text, array_to_json(tags)::text,
           ruleset, prev, hash,
           CASE WHEN abs(extract(epoch FROM time)) < 9e12 THEN (extract(epoch FROM time) * 1000000)::bigint END,
           time::text,
           CASE WHEN abs(extract(epoch FROM occurred_at)) < 9e12
             THEN (extract(epoch FROM occurred_at) * 1000000)::bigint END,
           occurred_at::text, record::text
    FROM vigil.alerts WHERE node = $1 ORDER BY seq
    """

  /// Every column read as something any row decodes as — a value the writer role can
  /// plant (`infinity`, a NULL in an array) is a disagreement to name, not a row that
  /// stops the reading of all the others.
  typealias Columns = (
    Int64, String, String, String, String?, String, String, String, String, String, String, Int64?, String, Int64?,
    String?, String
  )

  init(_ columns: Columns) {
    (
      seq, seqColumn, line, rule, priority, reportID, message, ruleset, prev, hash, timeMicroseconds, timeText,
      occurredAtMicroseconds, occurredAtText, record
    ) = (
      UInt64(bitPattern: columns.0), columns.0, columns.1, columns.2, columns.3, columns.4, columns.5, columns.8, columns.9,
      columns.10, columns.11, columns.12, columns.13, columns.14, columns.15
    )
    basis = Self.texts(inJSONArray: columns.6)
    tags = Self.texts(inJSONArray: columns.7)
  }

  /// An array column as `array_to_json` gives it: its strings, a NULL as nil.
  static func texts(inJSONArray json: String) -> [String?] {
    guard case .array(let values)? = try? JSONValue.parse(Array(json.utf8)) else { return [] }
    return values.map { if case .string(let value) = $0 { value } else { nil } }
  }

  /// The first column that says something else than the row's line, as a sentence; nil when
  /// they all agree, or when the line is no record (the chain's check names that).
  public func disagreement() -> String? {
    // Read as the sink read it for the columns: jsonb has no room for U+0000, which it
    // stored as U+FFFD (PostgresSchema.json); the line itself keeps it.
    let stored = Self.asStored(line)
    guard case .object(let fields)? = try? JSONValue.parse(Array(stored.utf8)) else { return nil }
    func text(_ key: String) -> String? {
      if case .string(let value)? = fields[key] { return value }
      return nil
    }
    func texts(_ key: String) -> [String] {
      guard case .array(let values)? = fields[key] else { return [] }
      return values.compactMap { if case .string(let value) = $0 { value } else { nil } }
    }
    func differs(_ column: String, _ stored: String, _ written: String) -> String {
      "its \(column) column says \(JSONText.string(Self.shown(stored))), its line \(JSONText.string(Self.shown(written)))"
    }
    if case .number(let written)? = fields["seq"], UInt64(exactly: written) != seq {
      return "its seq column says \(seqColumn), its line seq \(Int64(exactly: written).map(String.init) ?? "\(written)")"
    }
    for (column, stored, key) in [
      ("rule", rule, "rule"), ("priority", priority, "priority"), ("message", message, "message"),
      ("ruleset", ruleset, "ruleset"), ("prev", prev, "prev"), ("hash", hash, "hash"),
    ] where stored != (text(key) ?? "") {
      return differs(column, stored, text(key) ?? "")
    }
    if reportID != text("report_id") { return differs("report_id", reportID ?? "null", text("report_id") ?? "null") }
    for (column, stored) in [("basis", basis), ("tags", tags)] where stored != texts(column) {
      return differs(column, stored.map { $0 ?? "NULL" }.joined(separator: ", "), texts(column).joined(separator: ", "))
    }
    if let time = text("time"), let written = Self.microseconds(time), written != timeMicroseconds {
      return differs("time", timeMicroseconds.map(Self.utc(microseconds:)) ?? timeText, time)
    }
    let occurred = text("occurred_at")
    let writtenOccurred = occurred.flatMap(Self.microseconds)
    let occurredAgrees =
      switch (writtenOccurred, occurredAtMicroseconds) {
      // (`infinity`, which no line gives, is no NULL.)
      case (nil, nil): occurredAtText == nil
      case (let written?, let stored?): abs(written - stored) <= 1
      // A time PostgreSQL cannot read is stored as NULL (`vigil.timestamp_or_null`).
      case (_?, nil): occurredAtText == nil && (occurred.map(Self.beyondPostgres) ?? false)
      default: false
      }
    if !occurredAgrees {
      return differs(
        "occurred_at", occurredAtMicroseconds.map(Self.utc(microseconds:)) ?? occurredAtText ?? "null", occurred ?? "null")
    }
    if !ReportContent.same(ReportText(record), ReportText(stored)) {
      return "its record column (jsonb) is not the record its line holds"
    }
    return nil
  }

  /// The line as the sink gave it to `jsonb`: each `\u0000` escape as `\ufffd`, an escaped
  /// backslash before `u0000` (the text `\u0000` in a message) left alone.
  static func asStored(_ line: String) -> String {
    guard line.contains(#"\u0000"#) else { return line }
    return line.replacingOccurrences(of: #"\\"#, with: "\u{1}")
      .replacingOccurrences(of: #"\u0000"#, with: #"\ufffd"#)
      .replacingOccurrences(of: "\u{1}", with: #"\\"#)
  }

  /// Whether PostgreSQL refuses a time RFC 3339 allows: the year 0000 (PostgreSQL counts
  /// 1 BC, not 0) or an offset of 16 hours or more (it reads up to 15:59).
  static func beyondPostgres(_ text: String) -> Bool {
    if text.hasPrefix("0000") { return true }
    let offset = text.suffix(6)
    guard let sign = offset.first, sign == "+" || sign == "-", offset.dropFirst(3).first == ":",
      let hours = Int(offset.dropFirst().prefix(2))
    else { return false }
    return hours >= 16
  }

  /// A column's instant (microseconds since 1970) as RFC 3339 in UTC, to the microsecond:
  /// how `verify` shows a column that disagrees with its line.
  static func utc(microseconds: Int64) -> String {
    let milliseconds = microseconds >= 0 ? microseconds / 1000 : (microseconds - 999) / 1000
    let rest = microseconds - milliseconds * 1000
    let text = UTCTime.format(millisecondsSinceEpoch: milliseconds)
    return String(text.dropLast()) + String(format: "%03d", rest) + "Z"
  }

  /// A timestamp of a record in microseconds since 1970, as PostgreSQL keeps it (rounded).
  static func microseconds(_ text: String) -> Int64? {
    guard let instant = Timestamp(text) else { return nil }
    return instant.seconds * 1_000_000 + (Int64(instant.nanoseconds) + 500) / 1000
  }
}
