import Foundation

extension String {
  /// The text without the spaces at its ends, as `trimmingCharacters(in: .whitespaces)`
  /// gives it. A text with none there (nearly every one) comes back as it is: through
  /// Foundation's `NSString` the call cost about 8,500 instructions, on every report with
  /// an alert (bench/count-instructions).
  public var trimmingSpaces: String {
    guard let first = unicodeScalars.first, let last = unicodeScalars.last,
      Self.isSpace(first) || Self.isSpace(last)
    else { return self }
    return trimmingCharacters(in: .whitespaces)
  }

  /// Foundation's own set, which holds more than category Zs (U+200B, for one).
  private static let spaces = CharacterSet.whitespaces

  private static func isSpace(_ scalar: Unicode.Scalar) -> Bool { spaces.contains(scalar) }
}
