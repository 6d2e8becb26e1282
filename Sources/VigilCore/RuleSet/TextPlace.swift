/// Where a byte of a text file is, as an editor shows it: line and column from 1, the column
/// counted in Unicode scalars (what libyaml counts too), for errors that know only an offset.
public enum TextPlace {
  /// The line and column of the byte at `offset` in `bytes` (UTF-8, undecodable bytes
  /// counted one a column).
  public static func of(offset: Int, in bytes: [UInt8]) -> (line: Int, column: Int) {
    var line = 1
    var column = 1
    var parser = Unicode.UTF8.ForwardParser()
    var iterator = bytes[..<min(max(offset, 0), bytes.count)].makeIterator()
    while true {
      switch parser.parseScalar(from: &iterator) {
      case .valid(let encoded):
        if encoded.count == 1, encoded.first == UInt8(ascii: "\n") {
          line += 1
          column = 1
        } else {
          column += 1
        }
      case .error:
        column += 1
      case .emptyInput:
        return (line, column)
      }
    }
  }

  /// Where the first byte sequence that is not UTF-8 begins; nil when the text is UTF-8.
  public static func firstInvalidUTF8(in bytes: [UInt8]) -> (line: Int, column: Int)? {
    firstInvalidUTF8Offset(in: bytes).map { of(offset: $0, in: bytes) }
  }

  /// The offset of the first byte sequence that is not UTF-8; nil when the text is UTF-8.
  /// (Counted by decoding, not by looking for U+FFFD in a repaired string: the text may
  /// hold a real U+FFFD before its first bad byte.)
  public static func firstInvalidUTF8Offset(in bytes: some Collection<UInt8>) -> Int? {
    var parser = Unicode.UTF8.ForwardParser()
    var iterator = bytes.makeIterator()
    var offset = 0
    while true {
      switch parser.parseScalar(from: &iterator) {
      case .valid(let encoded): offset += encoded.count
      case .error: return offset
      case .emptyInput: return nil
      }
    }
  }

  /// A code point as Unicode writes it, ` (U+0001)`, for libyaml's problem value; empty
  /// when there is none (-1).
  public static func codePoint(_ value: Int32) -> String {
    guard value >= 0 else { return "" }
    let hex = String(value, radix: 16, uppercase: true)
    return " (U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex + ")"
  }
}
