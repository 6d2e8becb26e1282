/// Maps an offset in a YAML scalar's value back to its line and column in the file. The
/// value and the source differ by quotes, escapes, indentation and folded line breaks, so
/// the source is re-read from the scalar's start, matching the value's characters in order
/// and skipping what only the source has.
struct ScalarLocator {
  private let lines: [[Unicode.Scalar]]

  init(source: String) {
    lines = source.split(separator: "\n", omittingEmptySubsequences: false).map { Array($0.unicodeScalars) }
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
