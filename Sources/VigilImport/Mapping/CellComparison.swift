import Foundation

/// How a mapping compares a cell with the values it writes (`equals`, `contains`, `map`,
/// `skip`): case aside, and the ways one Arabic word is written aside — diacritics
/// (`حَلَب`), tatweel (`حلـب`), the invisible marks bidirectional text carries (`حلب` then
/// U+200F), presentation forms, and the letter forms name matching folds (`إدلب`, `ادلب`,
/// `مؤسسة`, `موسسة`). A cell written so was
/// filtered out, or its value left unmapped, though the rules read it as the same name.
/// Words are not changed otherwise: `Kidnapping` is not `Kidnap-killing`.
enum CellComparison {
  static func folded(_ text: String) -> String {
    folded(text, trimming: true)
  }

  /// `trimming`: white space at the ends left out (for equality, not for `contains`).
  static func folded(_ text: String, trimming: Bool) -> String {
    // Arabic presentation forms (`ﻏﺎﺭﺓ`, the ligature `ﻻ`), as some PDFs and old tools
    // write Arabic, are the letters NFKC makes of them, as in name matching.
    let text =
      text.unicodeScalars.contains { (0xFB50...0xFDFF).contains($0.value) || (0xFE70...0xFEFC).contains($0.value) }
      ? text.precomposedStringWithCompatibilityMapping : text
    var scalars = String.UnicodeScalarView()
    for scalar in text.unicodeScalars {
      if isInvisibleMark(scalar) { continue }
      if isOtherSpace(scalar) {
        scalars.append(" ")
        continue
      }
      switch scalar.value {
      case 0x064B...0x065F, 0x0670, 0x0640:
        continue  // diacritics, tatweel
      case 0x0623, 0x0625, 0x0622, 0x0671: scalars.append("\u{0627}")  // أ إ آ ٱ → ا
      case 0x0649, 0x06CC, 0x0626: scalars.append("\u{064A}")  // ى ی ئ → ي
      case 0x06A9: scalars.append("\u{0643}")  // ک → ك
      case 0x0629: scalars.append("\u{0647}")  // ة → ه
      case 0x0624: scalars.append("\u{0648}")  // ؤ → و
      default: scalars.append(scalar)
      }
    }
    let lowered = String(scalars).lowercased()
    return trimming ? lowered.trimmingCharacters(in: .whitespacesAndNewlines) : lowered
  }

  /// The marks that show nothing: zero-width spaces and joiners, the direction marks,
  /// embeddings, overrides and isolates right-to-left text carries (Windows' Arabic date
  /// formats put U+200F between a date's parts), the soft hyphen, the word joiner, a BOM.
  static func isInvisibleMark(_ scalar: Unicode.Scalar) -> Bool {
    switch scalar.value {
    case 0x200B...0x200F, 0x061C, 0x202A...0x202E, 0x2066...0x2069, 0xFEFF, 0x00AD, 0x2060...0x2064: true
    default: false
    }
  }

  /// Whether a cell shows nothing: empty, or only spaces, tabs, line breaks, other spaces
  /// and invisible marks (a cell that held a direction mark, or a space typed and left).
  /// Such a cell is an absent field, and past the header's columns no ragged row.
  static func showsNothing(_ cell: String) -> Bool {
    cell.unicodeScalars.allSatisfy {
      $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" || isInvisibleMark($0) || isOtherSpace($0)
    }
  }

  /// The spaces that are not U+0020 but look like it: the no-break space (Excel and web
  /// pages write it: `Incident ID` with U+00A0 looks like the header a mapping names), the
  /// typographic spaces, the narrow no-break space, the ideographic space.
  static func isOtherSpace(_ scalar: Unicode.Scalar) -> Bool {
    switch scalar.value {
    case 0x00A0, 0x1680, 0x2000...0x200A, 0x202F, 0x205F, 0x3000: true
    default: false
    }
  }

  /// The text without its invisible marks, and its other spaces plain ones: what a number,
  /// a date, a yes or no, or a column's name is read from.
  static func withoutMarks(_ text: String) -> String {
    guard text.unicodeScalars.contains(where: { isInvisibleMark($0) || isOtherSpace($0) }) else { return text }
    var scalars = String.UnicodeScalarView()
    for scalar in text.unicodeScalars where !isInvisibleMark(scalar) {
      scalars.append(isOtherSpace(scalar) ? " " : scalar)
    }
    return String(scalars)
  }

  /// A text from a file as a message shows it: control characters, invisible marks and
  /// spaces other than U+0020 as `<U+200F>`, so that two names that look the same show how they differ, and a
  /// file cannot write to the terminal.
  static func shown(_ text: String) -> String {
    var shown = ""
    for scalar in text.unicodeScalars {
      if isInvisibleMark(scalar) || isOtherSpace(scalar) || scalar.properties.generalCategory == .control
        || scalar.properties.generalCategory == .format
      {
        shown += "<U+" + String(scalar.value, radix: 16, uppercase: true).leftPadded(to: 4) + ">"
      } else {
        shown.unicodeScalars.append(scalar)
      }
    }
    return shown
  }
}

extension String {
  fileprivate func leftPadded(to width: Int) -> String {
    count >= width ? self : String(repeating: "0", count: width - count) + self
  }
}
