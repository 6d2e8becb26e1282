import Foundation
import Testing

@testable import VigilPlugins

/// A place text's parts (territorial control reads "Al-Sukkari, Aleppo" part by part) are
/// split scalar by scalar as Foundation split them: at " - ", then at each separator.
@Suite("Territorial control: a place text's parts")
struct PlacePartsTests {
  static func foundationParts(_ text: String) -> [String] {
    let separators = CharacterSet(charactersIn: ",،;؛/()[]").union(CharacterSet(charactersIn: "–—"))
    return text.components(separatedBy: " - ").flatMap { $0.components(separatedBy: separators) }
  }

  @Test func namedPlacesSplitAsFoundationSplitThem() {
    for text in [
      "", "Raqqa", "Raqqa sector 17", "Al-Sukkari, Aleppo", "Manbij - Aleppo", "حي الشعار، حلب", "a - b - c",
      "a -- b", "a - - b", " - ", " -", "- ", "Idlib (countryside)", "Deir ez-Zor – city", "x/y;z", "x؛y", "x [y]", "—", "a  -  b", "a - \u{301}b", "a \u{301}- b", "a -\u{301} b",
    ] {
      #expect(ControlMap.partTexts(text) == Self.foundationParts(text), "\(text.debugDescription)")
    }
  }

  @Test func randomTextsSplitAsFoundationSplitThem() {
    let alphabet: [String] = [" ", "-", "\u{301}", ",", "،", ";", "؛", "/", "(", ")", "[", "]", "–", "—", "a", "B", "ح", "ل", "é", "😀"]
    var generator = SystemRandomNumberGenerator()
    for _ in 0..<2_000 {
      let text = String((0..<Int.random(in: 0..<16, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! }.joined())
      #expect(ControlMap.partTexts(text) == Self.foundationParts(text), "\(text.debugDescription)")
    }
  }

  /// A token's outer punctuation goes as Foundation's `punctuationCharacters` trimmed it,
  /// and a text's tokens are its runs between white space, as the standard library splits.
  @Test func randomTokensTrimAndSplitAsFoundationDid() {
    let alphabet: [String] = [
      " ", "\t", "\n", "\r\n", "\u{A0}", "\u{2003}", "\u{85}", "-", "\u{301}", ",", "،", ".", "!", "?", "\"", "'", "«", "»",
      "(", ")", "_", "@", "#", "$", "+", "<", "|", "~", "a", "B", "ح", "ل", "é", "😀", "٪", "؟",
    ]
    var generator = SystemRandomNumberGenerator()
    for _ in 0..<2_000 {
      let text = String((0..<Int.random(in: 0..<12, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! }.joined())
      #expect(
        ControlMap.withoutOuterPunctuation(Substring(text)) == text.trimmingCharacters(in: .punctuationCharacters),
        "\(text.debugDescription)")
      #expect(ControlMap.whitespaceTokens(text) == text.split(whereSeparator: \.isWhitespace), "\(text.debugDescription)")
    }
  }
}
