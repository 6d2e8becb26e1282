/// A rule's `output`: text with `%field.path` replaced by the report's value (arrays
/// joined with ", ", absent as `<none>`, timestamps as written) and `%%` by `%`.
public struct OutputTemplate: Sendable {
  private enum Piece: Sendable {
    case text(String)
    case field(ReportSchema.Field)
  }

  private let pieces: [Piece]

  /// Checks every path against the schema; errors carry the offset (in Unicode scalars)
  /// of the offending `%`.
  public init(_ template: String) throws(ConditionError) {
    let scalars = Array(template.unicodeScalars)
    var pieces: [Piece] = []
    var text = ""
    var index = 0
    func isPathScalar(_ scalar: Unicode.Scalar) -> Bool {
      scalar == "_" || scalar == "." || scalar.properties.isAlphabetic || scalar.properties.numericType == .decimal
    }
    while index < scalars.count {
      let scalar = scalars[index]
      guard scalar == "%" else {
        text.unicodeScalars.append(scalar)
        index += 1
        continue
      }
      if index + 1 < scalars.count, scalars[index + 1] == "%" {
        text.append("%")
        index += 2
        continue
      }
      var end = index + 1
      while end < scalars.count, isPathScalar(scalars[end]) { end += 1 }
      while end > index + 1, scalars[end - 1] == "." { end -= 1 }
      guard end > index + 1 else {
        throw ConditionError(index, index + 1, "a '%' must be followed by a field path, or doubled as '%%' for itself")
      }
      var path = ""
      path.unicodeScalars.append(contentsOf: scalars[index + 1..<end])
      guard let field = ReportSchema.field(path) else {
        throw ConditionError(index, end, "unknown field %\(path)\(ConditionCompiler.suggestion(for: path))")
      }
      if field.type == .object {
        throw ConditionError(index, end, "%\(path) is an object; name one of its fields")
      }
      if !text.isEmpty { pieces.append(.text(text)) }
      text = ""
      pieces.append(.field(field))
      index = end
    }
    if !text.isEmpty { pieces.append(.text(text)) }
    self.pieces = pieces
  }

  /// Rendered as UTF-8 bytes and made a `String` once: report texts are copied as they
  /// are, without a `String` (and its validation) for each.
  public func render(_ report: Report) -> String {
    var message: [UInt8] = []
    message.reserveCapacity(160)
    for piece in pieces {
      switch piece {
      case .text(let text): message.append(contentsOf: text.utf8)
      case .field(let field):
        switch field.read(report) {
        case .text(let text)?: text.withUTF8 { message.append(contentsOf: $0) }
        case .timestamp(let timestamp)?: timestamp.text.withUTF8 { message.append(contentsOf: $0) }
        case let value?: message.append(contentsOf: Self.show(value).utf8)
        case nil: message.append(contentsOf: "<none>".utf8)
        }
      }
    }
    return String(decoding: message, as: UTF8.self)
  }

  static func show(_ value: FieldValue) -> String {
    switch value {
    case .text(let text): text.string
    case .string(let string): string
    case .number(let number): show(number)
    case .bool(let flag): flag ? "true" : "false"
    case .timestamp(let timestamp): timestamp.text.string
    case .present: "present"
    case .texts(let texts): texts.map(\.string).joined(separator: ", ")
    case .weapons(let weapons): weapons.map(\.rawValue).joined(separator: ", ")
    case .victims(let victims): victims.map(\.rawValue).joined(separator: ", ")
    case .json(let json): show(json)
    }
  }

  private static func show(_ number: Double) -> String {
    if abs(number) < 1e15, Double(Int64(number)) == number { return String(Int64(number)) }
    return String(number)
  }

  private static func show(_ json: JSONValue) -> String {
    switch json {
    case .null: "<none>"
    case .bool(let flag): flag ? "true" : "false"
    case .number(let number): show(number)
    case .string(let string): string
    case .array(let elements): elements.map(show).joined(separator: ", ")
    case .object(let object): "{" + object.members.map { "\($0.key): \(show($0.value))" }.joined(separator: ", ") + "}"
    }
  }
}
