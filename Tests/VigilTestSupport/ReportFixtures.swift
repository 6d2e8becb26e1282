import Testing
import VigilCore

/// A minimal valid report with `members` (JSON text, comma-separated) added at the end.
public func reportLine(_ members: String = "") -> String {
  let base = #"{"id":"SY-1","occurred_at":"2016-03-04T06:40:00+02:00","type":"attack""#
  return members.isEmpty ? base + "}" : base + "," + members + "}"
}

public func parsed(_ line: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> ParsedReport {
  switch ReportParser.parse(line) {
  case .success(let parsed): return parsed
  case .failure(let error):
    Issue.record("refused: \(error)", sourceLocation: sourceLocation)
    throw error
  }
}

public func refusalOf(_ line: String) -> ReportError? {
  refusalOf(Array(line.utf8))
}

public func refusalOf(_ bytes: [UInt8]) -> ReportError? {
  switch ReportParser.parse(bytes) {
  case .success: nil
  case .failure(let error): error
  }
}
