/// One request line of the socket protocol (docs/protocol.md).
public enum Request: Sendable {
  /// `submit` (or a bare report), with the report's own JSON bytes for the journal (a slice
  /// of the one copy the parser made of the line).
  case submit(ParsedReport, reportJSON: ReportText)
  case check(ParsedReport)
  case ping, status, rules, reload, reopen
  case subscribe(SubscriptionFilter)
  /// The records sinks parked (docs/protocol.md, "Parked records"): every sink's, or one's.
  case parked(sink: String?)
  /// Offer a sink's parked records again: all of them, or these seqs.
  case resend(sink: String, seqs: [UInt64]?)
}

/// What a subscriber wants to receive; filters combine with AND.
public struct SubscriptionFilter: Sendable, Equatable {
  public var minimumPriority: Priority?
  /// Rule-id globs; an alert passes when any matches.
  public var rules: [String]
  /// An alert passes when it has any of these tags.
  public var tags: [String]

  public init(minimumPriority: Priority? = nil, rules: [String] = [], tags: [String] = []) {
    self.minimumPriority = minimumPriority
    self.rules = rules
    self.tags = tags
  }
}

/// A request that could not be taken, with the protocol's error code.
public struct RequestError: Error, Equatable, Sendable {
  public enum Code: String, Sendable, CaseIterable {
    case invalidJSON = "invalid_json"
    case notAnObject = "not_an_object"
    case invalidRequest = "invalid_request"
    case invalidReport = "invalid_report"
    case tooLarge = "too_large"
    case unknownOp = "unknown_op"
    case idConflict = "id_conflict"
    case forbidden
    case overloaded
    case storage
    case `internal`
  }

  public let code: Code
  public let message: String
  /// For `invalid_report`: the first offending field.
  public let field: String?
  /// For an enum field: the words it accepts.
  public let allowedValues: [String]?
  /// The administrative op (`resend`) a malformed request named: one who may not make it
  /// is told `forbidden`, not how to write it.
  public var administrativeOp: String?

  public init(_ code: Code, _ message: String, field: String? = nil, allowedValues: [String]? = nil) {
    self.code = code
    self.message = message
    self.field = field
    self.allowedValues = allowedValues
  }

  init(_ error: ReportError) {
    let code: Code =
      switch error.code {
      case .invalidJSON: .invalidJSON
      case .notAnObject: .notAnObject
      case .invalidReport: .invalidReport
      }
    self.init(code, error.message, field: error.field, allowedValues: error.allowedValues)
  }
}
