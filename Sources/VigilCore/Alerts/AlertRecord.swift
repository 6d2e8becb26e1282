import Crypto

/// One line of the alert log (ALERTS.md), without its place in the chain: the log gives
/// it a `seq`, the previous record's hash and its own.
public struct AlertRecord: Sendable, Equatable {
  public var time: String
  public var rule: String
  public var priority: Priority
  /// The report that fired it; nil for rule-set records.
  public var reportID: String?
  /// The report's `occurred_at` as given; nil for rule-set records.
  public var occurredAt: String?
  public var message: String
  public var basis: [String]
  public var tags: [String]
  public var ruleset: String

  public init(
    time: String, rule: String, priority: Priority, reportID: String?, occurredAt: String?, message: String,
    basis: [String], tags: [String], ruleset: String
  ) {
    self.time = time
    self.rule = rule
    self.priority = priority
    self.reportID = reportID
    self.occurredAt = occurredAt
    self.message = message
    self.basis = basis
    self.tags = tags
    self.ruleset = ruleset
  }

  /// The record's line, `hash` last, ending with a newline.
  public func line(seq: UInt64, prev: String) -> (line: String, hash: String) {
    let prefix =
      "{\"seq\":\(seq),\"time\":\(JSONText.string(time)),\"rule\":\(JSONText.string(rule)),"
      + "\"priority\":\"\(priority.rawValue)\",\"report_id\":\(reportID.map(JSONText.string) ?? "null"),"
      + "\"occurred_at\":\(occurredAt.map(JSONText.string) ?? "null"),\"message\":\(JSONText.string(message)),"
      + "\"basis\":[\(basis.map(JSONText.string).joined(separator: ","))],"
      + "\"tags\":[\(tags.map(JSONText.string).joined(separator: ","))],"
      + "\"ruleset\":\(JSONText.string(ruleset)),\"prev\":\"\(prev)\""
    let hash = AlertChain.hash(prev: prev, prefix: Array(prefix.utf8))
    return (prefix + ",\"hash\":\"\(hash)\"}\n", hash)
  }
}

/// The tamper-evident chain of the alert log: each record's `hash` is the SHA-256 of the
/// previous record's hash (as hex text) followed by the record's line up to, not
/// including, `,"hash":`.
public enum AlertChain {
  /// The `prev` of the very first record.
  public static let genesis = String(repeating: "0", count: 64)

  public static func hash(prev: String, prefix: [UInt8]) -> String {
    var hasher = SHA256()
    hasher.update(data: Array(prev.utf8))
    hasher.update(data: prefix)
    return hasher.finalize().map { byte in
      let hex = String(byte, radix: 16)
      return hex.count == 1 ? "0" + hex : hex
    }.joined()
  }
}
