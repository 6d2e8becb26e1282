/// Decoding of string nodes that the scanner has already validated.
enum JSONString {
  /// The string's content as UTF-8 with escapes resolved.
  static func unescapedBytes(_ bytes: UnsafeBufferPointer<UInt8>, _ node: JSONTape.Node) -> [UInt8] {
    let content = UnsafeBufferPointer(rebasing: bytes[node.startOffset..<node.endOffset])
    guard node.hasEscapes else { return Array(content) }
    return unescapedBytes(content)
  }

  /// The content of a validated string (between its quotes) with escapes resolved.
  static func unescapedBytes(_ content: UnsafeBufferPointer<UInt8>) -> [UInt8] {
    var output: [UInt8] = []
    output.reserveCapacity(content.count)
    var index = 0
    while index < content.count {
      let byte = content[index]
      guard byte == UInt8(ascii: "\\") else {
        output.append(byte)
        index += 1
        continue
      }
      let escaped = content[index + 1]
      index += 2
      switch escaped {
      case UInt8(ascii: "b"): output.append(0x08)
      case UInt8(ascii: "f"): output.append(0x0C)
      case UInt8(ascii: "n"): output.append(0x0A)
      case UInt8(ascii: "r"): output.append(0x0D)
      case UInt8(ascii: "t"): output.append(0x09)
      case UInt8(ascii: "u"):
        var scalar = hexUnit(content, at: index)
        index += 4
        if (0xD800...0xDBFF).contains(scalar) {
          let low = hexUnit(content, at: index + 2)
          index += 6
          scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
        }
        output.append(contentsOf: Unicode.UTF8.encode(Unicode.Scalar(scalar)!)!)
      default: output.append(escaped)  // " \ /
      }
    }
    return output
  }

  static func decode(_ bytes: UnsafeBufferPointer<UInt8>, _ node: JSONTape.Node) -> String {
    if node.hasEscapes {
      return String(decoding: unescapedBytes(bytes, node), as: UTF8.self)
    }
    return String(
      decoding: UnsafeBufferPointer(rebasing: bytes[node.startOffset..<node.endOffset]),
      as: UTF8.self)
  }

  /// `text` as a JSON string literal, cut to `limit` Unicode scalars for messages. A
  /// character that cannot be seen (U+0085, a no-break or zero-width space, a direction
  /// mark) is escaped, `\u0085`: shown raw, `got " "` would say nothing of it.
  static func quoted(_ text: String, limit: Int) -> String {
    var shown = String.UnicodeScalarView()
    shown.append(contentsOf: text.unicodeScalars.prefix(limit))
    var literal = String.UnicodeScalarView()
    for scalar in JSONText.string(String(shown)).unicodeScalars {
      guard Self.cannotBeSeen(scalar) else {
        literal.append(scalar)
        continue
      }
      for unit in String(scalar).utf16 {
        let hex = String(unit, radix: 16, uppercase: false)
        literal.append(contentsOf: ("\\u" + String(repeating: "0", count: 4 - hex.count) + hex).unicodeScalars)
      }
    }
    let quoted = String(literal)
    return shown.count < text.unicodeScalars.count ? quoted.dropLast() + "…\"" : quoted
  }

  /// Whether a message shows `scalar` escaped: white space but the space itself, controls,
  /// format marks and what Unicode says to ignore when it cannot be drawn.
  static func cannotBeSeen(_ scalar: Unicode.Scalar) -> Bool {
    guard scalar != " " else { return false }
    let properties = scalar.properties
    switch properties.generalCategory {
    case .control, .format, .spaceSeparator, .lineSeparator, .paragraphSeparator, .unassigned, .privateUse, .surrogate:
      return true
    default:
      return properties.isDefaultIgnorableCodePoint
    }
  }

  private static func hexUnit(_ content: UnsafeBufferPointer<UInt8>, at index: Int) -> UInt32 {
    var unit: UInt32 = 0
    for offset in 0..<4 {
      let byte = content[index + offset]
      let digit: UInt8 =
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - 48
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - 87
        default: byte - 55
        }
      unit = unit << 4 | UInt32(digit)
    }
    return unit
  }
}
