import Testing
import VigilCore

@testable import VigilPlugins

/// `vigil verify --sink postgres` holds each row's columns to its line (docs/postgres.md):
/// a row as the sink stored it agrees, a NUL in a message included (jsonb holds it as
/// U+FFFD); a column edited alone does not.
@Suite("The postgres sink: a stored row's columns against its line")
struct PostgresStoredAlertTests {
  static let line =
    #"{"seq":5,"time":"2016-03-04T04:40:00.123Z","rule":"t.r","priority":"high","report_id":"R-1","#
    + #""occurred_at":"2016-03-04T06:40:00+02:00","message":"note a\u0000b \\u0000","basis":["ISSG ¶7"],"#
    + #""tags":["x"],"ruleset":"sha256:ab","prev":"00","hash":"11"}"#

  /// The row the sink makes of `line`, with `change` applied to its columns.
  static func row(
    message: String = "note a\u{FFFD}b \\u0000", occurredAt: Int64? = 1_457_066_400_000_000, seq: Int64 = 5,
    record: String? = nil, time: Int64? = 1_457_066_400_123_000, timeText: String = "2016-03-04 04:40:00.123+00",
    occurredAtText: String? = "2016-03-04 04:40:00+00", basis: String = #"["ISSG ¶7"]"#
  ) -> PostgresStoredAlert {
    let jsonb =
      record
      ?? #"{"seq": 5, "hash": "11", "prev": "00", "rule": "t.r", "tags": ["x"], "time": "2016-03-04T04:40:00.123Z", "#
      + #""basis": ["ISSG ¶7"], "message": "note a\ufffdb \\u0000", "ruleset": "sha256:ab", "priority": "high", "#
      + #""report_id": "R-1", "occurred_at": "2016-03-04T06:40:00+02:00"}"#
    return PostgresStoredAlert(
      (
        seq, line, "t.r", "high", "R-1", message, basis, #"["x"]"#, "sha256:ab", "00", "11", time, timeText,
        occurredAt, occurredAt == nil ? occurredAtText.flatMap { $0 == "2016-03-04 04:40:00+00" ? nil : $0 } : occurredAtText,
        jsonb
      ))
  }

  @Test func aRowAsStoredAgreesWithItsLine() {
    #expect(Self.row().disagreement() == nil)
  }

  /// A time RFC 3339 allows and PostgreSQL cannot read is stored as NULL: the row agrees
  /// with its line. A time it reads, left NULL, does not.
  @Test(arguments: [
    ("0000-01-01", true), ("0000-06-01T10:00:00+01:00", true), ("2016-03-04T06:40:00+16:00", true),
    ("2016-03-04T06:40:00-23:59", true), ("2016-03-04T06:40:00+15:59", false), ("2016-03-04", false),
  ])
  func aTimePostgresCannotReadIsNullInItsColumn(occurred: String, agrees: Bool) {
    let line = Self.line.replacingOccurrences(of: "2016-03-04T06:40:00+02:00", with: occurred)
    let record = #"{"seq": 5, "hash": "11", "prev": "00", "rule": "t.r", "tags": ["x"], "time": "2016-03-04T04:40:00.123Z", "#
      + #""basis": ["ISSG ¶7"], "message": "note a\ufffdb \\u0000", "ruleset": "sha256:ab", "priority": "high", "#
      + #""report_id": "R-1", "occurred_at": "\#(occurred)"}"#
    let row = PostgresStoredAlert(
      (
        5, line, "t.r", "high", "R-1", "note a\u{FFFD}b \\u0000", #"["ISSG ¶7"]"#, #"["x"]"#, "sha256:ab", "00", "11",
        1_457_066_400_123_000, "2016-03-04 04:40:00.123+00", nil, nil, record
      ))
    #expect((row.disagreement() == nil) == agrees, "\(occurred): \(row.disagreement() ?? "agrees")")
  }

  @Test func aColumnEditedAloneIsNamed() {
    #expect(Self.row(message: "forged").disagreement()?.hasPrefix(#"its message column says "forged""#) == true)
    let noOccurred = Self.row(occurredAt: nil).disagreement()
    #expect(noOccurred?.hasPrefix(#"its occurred_at column says "null""#) == true, "\(noOccurred ?? "nil")")
    #expect(Self.row(seq: 6).disagreement() == "its seq column says 6, its line seq 5")
    // A time column is shown as a time, to the microsecond, in UTC.
    #expect(
      Self.row(occurredAt: 1_457_066_400_001_500).disagreement()
        == #"its occurred_at column says "2016-03-04T04:40:00.001500Z", its line "2016-03-04T06:40:00+02:00""#)
    #expect(PostgresStoredAlert.utc(microseconds: -1) == "1969-12-31T23:59:59.999999Z")
    #expect(
      Self.row(record: #"{"seq": 5}"#).disagreement() == "its record column (jsonb) is not the record its line holds")
  }

  /// Values the writer role can plant that no line gives (`infinity`, a NULL in an
  /// array) are named at their row, as any other edit.
  @Test func valuesNoLineGivesAreNamed() {
    #expect(
      Self.row(time: nil, timeText: "infinity").disagreement()
        == #"its time column says "infinity", its line "2016-03-04T04:40:00.123Z""#)
    #expect(
      Self.row(occurredAt: nil, occurredAtText: "-infinity").disagreement()
        == #"its occurred_at column says "-infinity", its line "2016-03-04T06:40:00+02:00""#)
    #expect(Self.row(basis: #"["ISSG ¶7",null]"#).disagreement() == #"its basis column says "ISSG ¶7, NULL", its line "ISSG ¶7""#)
    #expect(Self.row(basis: "[null]").disagreement() == #"its basis column says "NULL", its line "ISSG ¶7""#)
  }
}

@Suite("The postgres sink: a verdict's quoted values")
struct PostgresStoredAlertShownTests {
  /// A 64-digit hash is quoted whole (cut at 60 it looked whole and was not); a longer text
  /// is cut with an ellipsis that says so.
  @Test func aHashIsWholeALongTextSaysItWasCut() {
    let hash = String(repeating: "a", count: 64)
    #expect(PostgresStoredAlert.shown(hash) == hash)
    #expect(PostgresStoredAlert.shown(String(repeating: "m", count: 81)) == String(repeating: "m", count: 60) + "…")
  }
}
