/// Maps an offset in a YAML scalar's value back to its line and column in the file. The
/// value and the source differ by quotes, escapes, indentation and folded line breaks, so
/// the source is re-read from the scalar's start, matching the value's characters in order
/// and skipping what only the source has.
struct ScalarLocator {
  private let lines: [[Unicode.Scalar]]

  /// One locator a file, made when a message first needs it (a load is on one thread).
  final class Cache: @unchecked Sendable {
    private var made: [String: ScalarLocator] = [:]

    func locator(for file: String, text: String) -> ScalarLocator {
      if let locator = made[file] { return locator }
      let locator = ScalarLocator(source: text)
      made[file] = locator
      return locator
    }
  }

  init(source: String) {
    // By scalars: "\r\n" is one Character, which a split on "\n" would not cut. A CRLF
    // file's CR ends its line; it is no column of it.
    lines = source.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false).map { line in
      var scalars = Array(line)
      if scalars.last == "\r" { scalars.removeLast() }
      return scalars
    }
  }

  /// The character a double-quoted scalar's escape at `column` stands for, and how many
  /// source characters it takes; nil when it stands for none (an escaped line break).
  private static func escape(in characters: [Unicode.Scalar], at column: Int) -> (Unicode.Scalar?, length: Int) {
    guard column + 1 < characters.count else { return (nil, 1) }
    let named: [Unicode.Scalar: Unicode.Scalar] = [
      "0": "\0", "a": "\u{07}", "b": "\u{08}", "t": "\t", "\t": "\t", "n": "\n", "v": "\u{0B}", "f": "\u{0C}",
      "r": "\r", "e": "\u{1B}", " ": " ", "\"": "\"", "/": "/", "\\": "\\", "N": "\u{85}", "_": "\u{A0}",
      "L": "\u{2028}", "P": "\u{2029}",
    ]
    let letter = characters[column + 1]
    if let scalar = named[letter] { return (scalar, 2) }
    let digits = letter == "x" ? 2 : letter == "u" ? 4 : letter == "U" ? 8 : 0
    guard digits > 0, column + 2 + digits <= characters.count else { return (nil, 2) }
    var text = ""
    text.unicodeScalars.append(contentsOf: characters[(column + 2)..<(column + 2 + digits)])
    return (UInt32(text, radix: 16).flatMap(Unicode.Scalar.init), 2 + digits)
  }

  func position(of offset: Int, in scalar: RuleNode.Scalar) -> SourcePosition {
    let value = Array(scalar.text.unicodeScalars)
    var line = scalar.position.line - 1
    var column = scalar.position.column - 1
    if scalar.style == .literal || scalar.style == .folded {
      // The content starts on the line after the indicator.
      line += 1
      column = 0
    } else if scalar.style != .plain {
      column += 1  // the opening quote
    }
    var matched = 0
    while line < lines.count {
      let characters = lines[line]
      while column < characters.count {
        guard matched < value.count else { break }
        let wanted = value[matched]
        // An escape is one character of the value, however many it takes in the source.
        if scalar.style == .doubleQuoted, characters[column] == "\\" {
          let (stands, length) = Self.escape(in: characters, at: column)
          if stands == wanted {
            if matched == offset { return SourcePosition(file: scalar.position.file, line: line + 1, column: column + 1) }
            matched += 1
          }
          column += length
          continue
        }
        if characters[column] == wanted {
          if matched == offset { return SourcePosition(file: scalar.position.file, line: line + 1, column: column + 1) }
          matched += 1
        }
        column += 1
      }
      if matched >= value.count || matched == offset && offset >= value.count { break }
      // A line break in the source stands for a space or newline in the value, or nothing.
      if matched < value.count, value[matched] == " " || value[matched] == "\n" {
        if matched == offset { return SourcePosition(file: scalar.position.file, line: line + 1, column: column + 1) }
        matched += 1
      }
      line += 1
      column = 0
    }
    // The end of the value (an error "at the end of the condition").
    return SourcePosition(file: scalar.position.file, line: line + 1, column: column + 1)
  }
}
