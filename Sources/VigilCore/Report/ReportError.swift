/// Why a line was refused as a report. `code` is the protocol's error code
/// (docs/protocol.md); `field` names the first offending field path for `invalid_report`.
public struct ReportError: Error, Equatable, Sendable, CustomStringConvertible {
  public enum Code: String, Sendable {
    case invalidJSON = "invalid_json"
    case notAnObject = "not_an_object"
    case invalidReport = "invalid_report"
  }

  public let code: Code
  /// One sentence; for `invalid_report` it starts with the field path.
  public let message: String
  public let field: String?
  /// For an enum field: the words it accepts.
  public let allowedValues: [String]?

  public init(code: Code, message: String, field: String? = nil, allowedValues: [String]? = nil) {
    self.code = code
    self.message = message
    self.field = field
    self.allowedValues = allowedValues
  }

  public var description: String { "\(code.rawValue): \(message)" }

  static func invalidJSON(_ error: JSONSyntaxError) -> ReportError {
    ReportError(code: .invalidJSON, message: "not valid JSON: \(error)")
  }

  static func invalidReport(
    _ path: FieldPath, _ problem: String, allowedValues: [String]? = nil
  ) -> ReportError {
    let field = path.text
    return ReportError(
      code: .invalidReport, message: "\(field): \(problem)", field: field,
      allowedValues: allowedValues)
  }
}

/// A dotted field path (`access.status`, `weapons[1]`), assembled only when a message
/// needs it: the parser passes its literal parts around instead of building strings.
struct FieldPath {
  let parent: String
  let name: String
  var index: Int? = nil

  init(_ parent: String, _ name: String) {
    self.parent = parent
    self.name = name
  }

  var text: String {
    let dotted = parent.isEmpty ? name : parent + "." + name
    guard let index else { return dotted }
    return dotted + "[\(index)]"
  }

  func element(_ index: Int) -> FieldPath {
    var path = self
    path.index = index
    return path
  }
}
