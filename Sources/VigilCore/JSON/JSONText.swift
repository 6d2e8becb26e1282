/// Writing JSON text.
public enum JSONText {
  /// `text` as a JSON string literal: quotes, backslashes and control characters escaped,
  /// everything else as UTF-8.
  public static func string(_ text: String) -> String {
    // Most text needs no escaping: then it is copied whole, not scalar by scalar.
    let plain = text.withUTF8InPlace { utf8 in
      utf8.baseAddress.map { JSONStringBytes.firstSpecial(in: $0, from: 0, to: utf8.count).index == utf8.count } ?? true
    }
    if plain { return "\"" + text + "\"" }
    var bytes: [UInt8] = []
    bytes.reserveCapacity(text.utf8.count + 8)
    appendString(text, to: &bytes)
    return String(decoding: bytes, as: UTF8.self)
  }

  /// Appends `text` as a JSON string literal (quotes included) to UTF-8 `bytes`.
  public static func appendString(_ text: String, to bytes: inout [UInt8]) {
    text.withUTF8InPlace { appendString($0, to: &bytes) }
  }

  /// Appends UTF-8 text as a JSON string literal (`JSONBytes.string(utf8:)`).
  public static func appendString(_ utf8: UnsafeBufferPointer<UInt8>, to bytes: inout [UInt8]) {
    var out = JSONBytes(capacity: utf8.count + 8)
    out.string(utf8: utf8)
    out.withWritten { bytes.append(contentsOf: $0) }
  }

  /// A JSON value written compactly, members in their order.
  public static func value(_ value: JSONValue) -> String {
    switch value {
    case .null: "null"
    case .bool(let flag): flag ? "true" : "false"
    case .number(let number): number.isFinite ? "\(number)" : "null"
    case .string(let text): string(text)
    case .array(let elements): "[" + elements.map(Self.value).joined(separator: ",") + "]"
    case .object(let object):
      "{" + object.members.map { string($0.key) + ":" + Self.value($0.value) }.joined(separator: ",") + "}"
    }
  }
}
