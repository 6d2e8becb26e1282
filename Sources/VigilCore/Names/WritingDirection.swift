/// Which way a text runs: as most of its letters do — Arabic (and the other right-to-left
/// scripts) right to left, the rest left to right.
public enum WritingDirection: String, Sendable {
  case leftToRight = "ltr"
  case rightToLeft = "rtl"

  /// The direction most letters of `scalars` run, nil when it has none.
  public static func ofLetters(in scalars: some Sequence<Unicode.Scalar>) -> WritingDirection? {
    var (right, left) = (0, 0)
    for scalar in scalars {
      if isRightToLeftLetter(scalar) {
        right += 1
      } else if isLetter(scalar) {
        left += 1
      }
    }
    if right == 0, left == 0 { return nil }
    return right > left ? .rightToLeft : .leftToRight
  }

  static func isLetter(_ scalar: Unicode.Scalar) -> Bool {
    switch scalar.properties.generalCategory {
    case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: true
    default: false
    }
  }

  /// A letter of a right-to-left script: Hebrew, Arabic, Syriac, Thaana, N'Ko and their
  /// extensions and presentation forms.
  public static func isRightToLeftLetter(_ scalar: Unicode.Scalar) -> Bool {
    switch scalar.value {
    case 0x0590...0x08FF, 0xFB1D...0xFDFF, 0xFE70...0xFEFF, 0x10800...0x10FFF, 0x1E800...0x1EFFF: isLetter(scalar)
    default: false
    }
  }

  public static func isLeftToRightLetter(_ scalar: Unicode.Scalar) -> Bool {
    isLetter(scalar) && !isRightToLeftLetter(scalar)
  }
}
