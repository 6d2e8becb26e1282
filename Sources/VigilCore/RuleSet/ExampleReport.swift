/// Turns a rule's example (a YAML mapping) into report JSON. Each scalar becomes the JSON
/// type its field has in the schema, read from its text: `killed: 3` a number,
/// `populated: true` a boolean, `origin_country: NO` the string "NO". Where the schema has
/// no type (`extra`, unknown fields) YAML's plain scalars keep their usual meaning.
public enum ExampleReport {
  static let defaultOccurredAt = "2016-03-01T12:00:00Z"

  /// The JSON of the example, with `id` and `occurred_at` filled in when it leaves them out.
  public static func json(_ node: RuleNode, ruleID: String, index: Int) -> String {
    guard case .mapping(let members, _) = node else { return value(node, path: "") }
    var fields = members.map { JSONText.string($0.key) + ":" + value($0.value, path: $0.key) }
    if !members.contains(where: { $0.key == "id" }) {
      fields.insert("\"id\":" + JSONText.string("example:\(ruleID):\(index)"), at: 0)
    }
    if !members.contains(where: { $0.key == "occurred_at" }) {
      fields.insert("\"occurred_at\":\"\(defaultOccurredAt)\"", at: 1)
    }
    return "{" + fields.joined(separator: ",") + "}"
  }

  private static func value(_ node: RuleNode, path: String) -> String {
    switch node {
    case .mapping(let members, _):
      let fields = members.map { member in
        JSONText.string(member.key) + ":"
          + value(member.value, path: path.isEmpty ? member.key : path + "." + member.key)
      }
      return "{" + fields.joined(separator: ",") + "}"
    case .sequence(let elements, _):
      return "[" + elements.map { value($0, path: path) }.joined(separator: ",") + "]"
    case .scalar(let scalar):
      if node.isNull { return "null" }
      let type = path.hasPrefix("extra") ? nil : ReportSchema.field(path)?.type
      switch type {
      case .number?:
        return isJSONNumber(scalar.text) ? scalar.text : JSONText.string(scalar.text)
      case .bool?:
        return scalar.text == "true" || scalar.text == "false" ? scalar.text : JSONText.string(scalar.text)
      case .text?, .word?, .timestamp?, .texts?, .words?, .object?:
        return JSONText.string(scalar.text)
      case .dynamic?, nil:
        guard scalar.style == .plain else { return JSONText.string(scalar.text) }
        if scalar.text == "true" || scalar.text == "false" || isJSONNumber(scalar.text) { return scalar.text }
        return JSONText.string(scalar.text)
      }
    }
  }

  /// Whether the text is a number as JSON writes one.
  private static func isJSONNumber(_ text: String) -> Bool {
    let bytes = Array(text.utf8)
    return bytes.withUnsafeBufferPointer { buffer in
      guard !buffer.isEmpty else { return false }
      var cursor = JSONCursor(bytes: buffer)
      guard buffer[0] == UInt8(ascii: "-") || buffer[0] &- UInt8(ascii: "0") < 10 else { return false }
      do {
        _ = try cursor.scanNumber()
      } catch {
        return false
      }
      return cursor.index == buffer.count
    }
  }
}
