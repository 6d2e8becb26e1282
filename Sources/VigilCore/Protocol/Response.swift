/// Response lines of the socket protocol (docs/protocol.md), each ending with a newline.
public enum Response {
  /// An alert as a submit or check response lists it; `seq` only once it is recorded.
  public struct Alert: Sendable, Equatable {
    public let seq: UInt64?
    public let rule: String
    public let priority: Priority
    public let message: String

    public init(seq: UInt64?, rule: String, priority: Priority, message: String) {
      self.seq = seq
      self.rule = rule
      self.priority = priority
      self.message = message
    }
  }

  public static func error(_ error: RequestError) -> String {
    var members = "\"code\":\"\(error.code.rawValue)\",\"message\":\(JSONText.string(error.message))"
    if let field = error.field { members += ",\"field\":\(JSONText.string(field))" }
    if let allowed = error.allowedValues {
      members += ",\"allowed\":[\(allowed.map(JSONText.string).joined(separator: ","))]"
    }
    return "{\"ok\":false,\"error\":{\(members)}}\n"
  }

  public static let pong = "{\"ok\":true,\"op\":\"pong\"}\n"
  public static let subscribed = "{\"ok\":true,\"op\":\"subscribe\"}\n"
  public static let reopened = "{\"ok\":true,\"op\":\"reopen\"}\n"

  /// The answer to a report already recorded: the `seq`s of its alerts, as first recorded.
  public static func duplicate(reportID: String, ruleset: String, seqs: [UInt64], warnings: [String] = []) -> String {
    var out = JSONBytes(capacity: 160 + seqs.count * 16)
    appendDuplicate(to: &out, reportID: reportID, ruleset: ruleset, seqs: seqs, warnings: warnings)
    return out.withWritten { String(decoding: $0, as: UTF8.self) }
  }

  /// The same, appended as bytes.
  /// `warnings` are the resubmitted report's own (its unknown fields), as a first
  /// submission's answer gives them.
  public static func appendDuplicate(
    to out: inout JSONBytes, reportID: String, ruleset: String, seqs: [UInt64], warnings: [String] = []
  ) {
    out.raw("{\"ok\":true,\"report_id\":")
    out.string(reportID)
    out.raw(",\"duplicate\":true,\"ruleset\":")
    out.string(ruleset)
    out.raw(",\"alerts\":[")
    for (index, seq) in seqs.enumerated() {
      out.raw(index == 0 ? "{\"seq\":" : ",{\"seq\":")
      out.decimal(seq)
      out.raw("}")
    }
    appendVerdictEnd(to: &out, warnings: warnings, lastWarning: nil)
  }

  /// A `submit` response (`duplicate` given) or a `check` response (`duplicate` nil).
  public static func verdict(
    reportID: String, duplicate: Bool?, ruleset: String, alerts: [Alert], warnings: [String]
  ) -> String {
    var out = JSONBytes(capacity: 200 + alerts.count * 200)
    appendVerdict(
      to: &out, reportID: reportID, duplicate: duplicate, ruleset: ruleset, alerts: alerts, warnings: warnings)
    return out.withWritten { String(decoding: $0, as: UTF8.self) }
  }

  /// The same, appended as bytes (the writer puts a burst's responses in one buffer).
  public static func appendVerdict(
    to out: inout JSONBytes, reportID: String, duplicate: Bool?, ruleset: String, alerts: [Alert], warnings: [String]
  ) {
    appendVerdictStart(to: &out, reportID: reportID, duplicate: duplicate, ruleset: ruleset)
    for index in alerts.indices {
      if index > 0 { out.raw(",") }
      let alert = alerts[index]
      appendAlert(to: &out, seq: alert.seq, rule: alert.rule, priority: alert.priority, message: alert.message)
    }
    appendVerdictEnd(to: &out, warnings: warnings, lastWarning: nil)
  }

  /// A recorded report's `submit` response, its alerts read from the records as logged:
  /// `records[first..<first + count]`, whose `seq`s start at `firstSeq + first`. (The
  /// writer renders it; the texts are read where they are, not retained into `Alert`s.)
  /// `message(position, &out)` appends record `position`'s `message` as a JSON string, as
  /// its alert line holds it (escaped once, for the line).
  public static func appendVerdict(
    to out: inout JSONBytes, reportID: String, ruleset: String, records: [AlertRecord], first: Int, count: Int,
    firstSeq: UInt64, warnings: [String], lastWarning: String?, message: (Int, inout JSONBytes) -> Void
  ) {
    appendVerdictStart(to: &out, reportID: reportID, duplicate: false, ruleset: ruleset)
    for position in first..<first + count {
      if position > first { out.raw(",") }
      appendAlertStart(
        to: &out, seq: firstSeq + UInt64(position), rule: records[position].rule, priority: records[position].priority)
      message(position, &out)
      out.raw("}")
    }
    appendVerdictEnd(to: &out, warnings: warnings, lastWarning: lastWarning)
  }

  private static func appendVerdictStart(to out: inout JSONBytes, reportID: String, duplicate: Bool?, ruleset: String) {
    out.raw("{\"ok\":true,\"report_id\":")
    out.string(reportID)
    if let duplicate { duplicate ? out.raw(",\"duplicate\":true") : out.raw(",\"duplicate\":false") }
    out.raw(",\"ruleset\":")
    out.string(ruleset)
    out.raw(",\"alerts\":[")
  }

  private static func appendAlert(
    to out: inout JSONBytes, seq: UInt64?, rule: String, priority: Priority, message: String
  ) {
    appendAlertStart(to: &out, seq: seq, rule: rule, priority: priority)
    out.string(message)
    out.raw("}")
  }

  /// An alert's members up to its `message`'s value.
  private static func appendAlertStart(to out: inout JSONBytes, seq: UInt64?, rule: String, priority: Priority) {
    out.raw("{")
    if let seq {
      out.raw("\"seq\":")
      out.decimal(seq)
      out.raw(",")
    }
    out.raw("\"rule\":")
    out.string(rule)
    out.raw(",\"priority\":\"")
    out.verbatim(priority.rawValue)
    out.raw("\",\"message\":")
  }

  private static func appendVerdictEnd(to out: inout JSONBytes, warnings: [String], lastWarning: String?) {
    out.raw("],\"warnings\":[")
    for index in warnings.indices {
      if index > 0 { out.raw(",") }
      out.string(warnings[index])
    }
    if let lastWarning {
      if !warnings.isEmpty { out.raw(",") }
      out.string(lastWarning)
    }
    out.raw("]}\n")
  }
}
