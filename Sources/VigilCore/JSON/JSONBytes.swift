/// JSON text being written as UTF-8 bytes, a piece at a time: punctuation and member names
/// as given, strings escaped (`JSONText.appendString`), numbers in decimal. A struct with
/// mutating methods rather than helpers nested in the writing function: a nested function
/// that captures the byte array boxes it, and every append then pays for a dynamic
/// exclusivity check (about half the cost of writing a response, Callgrind).
public struct JSONBytes {
  public var bytes: [UInt8] = []

  public init(capacity: Int) {
    bytes.reserveCapacity(capacity)
  }

  /// Goes on writing after `bytes` (moved in and out, so not copied).
  public init(bytes: [UInt8]) {
    self.bytes = bytes
  }

  /// ASCII text as it is: punctuation, member names.
  @inlinable public mutating func raw(_ text: StaticString) {
    text.withUTF8Buffer { bytes.append(contentsOf: $0) }
  }

  /// Text as it is, already fit to stand in JSON (a hash's hex, an enum's word). Named
  /// apart from `raw`, so that literals take the `StaticString` path.
  public mutating func verbatim(_ text: String) {
    bytes.append(contentsOf: text.utf8)
  }

  /// A JSON string literal of `text`, quotes included.
  public mutating func string(_ text: String) {
    JSONText.appendString(text, to: &bytes)
  }

  /// `["a","b"]`.
  public mutating func strings(_ items: [String]) {
    bytes.append(UInt8(ascii: "["))
    for (index, item) in items.enumerated() {
      if index > 0 { bytes.append(UInt8(ascii: ",")) }
      JSONText.appendString(item, to: &bytes)
    }
    bytes.append(UInt8(ascii: "]"))
  }

  /// A whole number in decimal, `-` first when negative.
  public mutating func decimal(_ value: Int) {
    if value < 0 { bytes.append(UInt8(ascii: "-")) }
    decimal(UInt64(value.magnitude))
  }

  /// A whole number in decimal, without making a `String` of it.
  public mutating func decimal(_ value: UInt64) {
    guard value >= 10 else {
      bytes.append(UInt8(ascii: "0") + UInt8(value))
      return
    }
    var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // room for the 20 digits of UInt64.max
    withUnsafeMutableBytes(of: &digits) { buffer in
      var rest = value
      var start = buffer.count
      while rest > 0 {
        start -= 1
        buffer[start] = UInt8(ascii: "0") + UInt8(rest % 10)
        rest /= 10
      }
      bytes.append(contentsOf: buffer[start...])
    }
  }
}

