/// Writing JSON text.
public enum JSONText {
  /// `text` as a JSON string literal: quotes, backslashes and control characters escaped,
  /// everything else as UTF-8.
  public static func string(_ text: String) -> String {
    // Most text needs no escaping: then it is copied whole, not scalar by scalar.
    var scanned = text
    let plain = scanned.withUTF8 { utf8 in
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
    var text = text
    text.withUTF8 { appendString($0, to: &bytes) }
  }

  /// Appends UTF-8 text as a JSON string literal: the runs that need no escape are copied
  /// whole (it is on every alert line's and response's path).
  public static func appendString(_ utf8: UnsafeBufferPointer<UInt8>, to bytes: inout [UInt8]) {
    bytes.append(UInt8(ascii: "\""))
    guard let base = utf8.baseAddress else {
      bytes.append(UInt8(ascii: "\""))
      return
    }
    var run = 0
    while true {
      let index = JSONStringBytes.firstSpecial(in: base, from: run, to: utf8.count).index
      guard index < utf8.count else { break }
      bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[run..<index]))
      run = index + 1
      let byte = utf8[index]
      bytes.append(UInt8(ascii: "\\"))
      switch byte {
      case UInt8(ascii: "\""), UInt8(ascii: "\\"): bytes.append(byte)
      case UInt8(ascii: "\n"): bytes.append(UInt8(ascii: "n"))
      case UInt8(ascii: "\r"): bytes.append(UInt8(ascii: "r"))
      case UInt8(ascii: "\t"): bytes.append(UInt8(ascii: "t"))
      default:
        let hex = Array("0123456789abcdef".utf8)
        bytes.append(contentsOf: [UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), hex[Int(byte >> 4)], hex[Int(byte & 15)]])
      }
    }
    bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[run...]))
    bytes.append(UInt8(ascii: "\""))
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
