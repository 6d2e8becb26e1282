/// Text from a report made safe to print on a terminal: a report's fields are hostile
/// input, and an escape sequence in a place name could erase a line of `vigil tail` and
/// print a forged one. Control characters (C0 but tab, DEL, C1) become `�`, a tab a
/// space, and bidirectional overrides and isolates `␣`, as the console shows them
/// (docs/console.md, "Hostile reports"). `--json` output is JSON, where they are escaped.
enum TerminalText {
  static func safe(_ text: String) -> String {
    guard text.unicodeScalars.contains(where: needsReplacing) else { return text }
    var out = String.UnicodeScalarView()
    for scalar in text.unicodeScalars {
      switch scalar.value {
      case 0x09: out.append(" ")
      case 0x00..<0x20, 0x7F..<0xA0, 0x2028, 0x2029: out.append("\u{FFFD}")  // and the line/paragraph separators
      case 0x202A...0x202E, 0x2066...0x2069: out.append("\u{2423}")
      default: out.append(scalar)
      }
    }
    return String(out)
  }

  private static func needsReplacing(_ scalar: Unicode.Scalar) -> Bool {
    switch scalar.value {
    case 0x00..<0x20, 0x7F..<0xA0, 0x2028, 0x2029, 0x202A...0x202E, 0x2066...0x2069: true
    default: false
    }
  }
}
