import Foundation

/// One Arabic word written in Latin letters in its many ways, read alike: what plugins that
/// compare names beyond name matching (places, designations) share. Name matching itself
/// (`NameNormalizer.words(of:)`, `mentions`) keeps to RULES.md's steps and does none of it.
public enum TransliteratedWords {
  /// The Arabic article in its Latin forms other than `al` (which name matching drops):
  /// `el`, and as it assimilates to the letter after it (`Ar-Raqqa`, `As-Sukhnah`,
  /// `Deir ez-Zor`, `an-Nusra`).
  public static let articles: Set<String> = [
    "el", "ar", "as", "ash", "ad", "adh", "az", "ez", "es", "esh", "an", "at", "ath", "ed", "er", "et",
  ]

  /// The forms that are English words too ("as well as so-called", "an attack", "at the").
  public static let englishArticles: Set<String> = ["as", "an", "at"]

  /// Whether `word` is the article as it assimilates to `next`: `el` before any word, any
  /// other form only before a word that starts with its own consonant (`ad-Dawla`,
  /// `ash-Sham`), and never the forms that are English words — those a caller drops only
  /// where they were written joined to the word by a hyphen (`as-Sham`, `an-Nusra`).
  public static func isAssimilatedArticle(_ word: String, before next: String) -> Bool {
    guard articles.contains(word), !englishArticles.contains(word) else { return false }
    return word == "el" || next.hasPrefix(word.dropFirst())
  }

  /// One Latin word as its spellings share it: without accents and the half rings of ayn
  /// and hamza (`Maʿarrat` is `maarrat`), a dotless ı an i (`Öncüpınar` is `oncupinar`);
  /// `ou` and `o` become `u` and `e` becomes `i` (short vowels are written either way:
  /// Homs and Hums, Idlib and Edlib, Nusra and Nosra); `gh` becomes `g`; a doubled letter
  /// is one (`Raqqa`, `Islamiyya`, `Shaam`), not a doubled digit (`Sector 11`); and a final
  /// `h` after a vowel goes (`Raqqah`, `Dawlah`).
  public static func latinKey(_ word: String) -> String {
    var text = word
    if text.unicodeScalars.contains(where: { !$0.isASCII }) {
      text = text.folding(options: [.diacriticInsensitive], locale: nil)
      text.unicodeScalars.removeAll { (0x02BB...0x02BF).contains($0.value) }
      // The dotless ı of Turkish names has no accent to fold: Öncüpınar is Oncupinar.
      text = text.replacingOccurrences(of: "\u{0131}", with: "i")
    }
    var scalars = Array(text.unicodeScalars)
    var folded: [Unicode.Scalar] = []
    folded.reserveCapacity(scalars.count)
    var index = 0
    while index < scalars.count {
      let scalar = scalars[index]
      let next = index + 1 < scalars.count ? scalars[index + 1] : nil
      var letter = scalar
      switch (scalar, next) {
      case ("o", "u"?):
        letter = "u"
        index += 1
      case ("g", "h"?):
        letter = "g"
        index += 1
      case ("o", _): letter = "u"
      case ("e", _): letter = "i"
      default: break
      }
      // A doubled letter is one (Raqqa, Raqa); a doubled digit is another number (Sector
      // 11 is not Sector 1).
      if folded.last != letter || letter.properties.numericType != nil { folded.append(letter) }
      index += 1
    }
    scalars = folded
    if scalars.count > 3, scalars.last == "h", let before = scalars.dropLast().last, "aiu".unicodeScalars.contains(before) {
      scalars.removeLast()
    }
    var view = String.UnicodeScalarView()
    view.append(contentsOf: scalars)
    return String(view)
  }

  /// Whether a word is written in Arabic letters.
  public static func isArabic(_ word: String) -> Bool {
    word.unicodeScalars.first.map { (0x0600...0x06FF).contains($0.value) } ?? false
  }
}
