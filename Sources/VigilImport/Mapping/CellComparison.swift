import Foundation

/// How a mapping compares a cell with the values it writes (`equals`, `contains`, `map`,
/// `skip`): case aside, and the ways one Arabic word is written aside — diacritics
/// (`حَلَب`), tatweel (`حلـب`), the invisible marks bidirectional text carries (`حلب` then
/// U+200F), and the letter forms name matching folds (`إدلب`, `ادلب`). A cell written so was
/// filtered out, or its value left unmapped, though the rules read it as the same name.
/// Words are not changed otherwise: `Kidnapping` is not `Kidnap-killing`.
enum CellComparison {
  static func folded(_ text: String) -> String {
    folded(text, trimming: true)
  }

  /// `trimming`: white space at the ends left out (for equality, not for `contains`).
  static func folded(_ text: String, trimming: Bool) -> String {
    var scalars = String.UnicodeScalarView()
    for scalar in text.unicodeScalars {
      switch scalar.value {
      case 0x064B...0x065F, 0x0670, 0x0640, 0x200B...0x200F, 0x061C, 0x202A...0x202E, 0x2066...0x2069, 0xFEFF:
        continue  // diacritics, tatweel, invisible and direction marks
      case 0x0623, 0x0625, 0x0622, 0x0671: scalars.append("\u{0627}")  // أ إ آ ٱ → ا
      case 0x0649, 0x06CC: scalars.append("\u{064A}")  // ى ی → ي
      case 0x06A9: scalars.append("\u{0643}")  // ک → ك
      case 0x0629: scalars.append("\u{0647}")  // ة → ه
      default: scalars.append(scalar)
      }
    }
    let lowered = String(scalars).lowercased()
    return trimming ? lowered.trimmingCharacters(in: .whitespacesAndNewlines) : lowered
  }
}
