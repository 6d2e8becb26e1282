import Foundation
import VigilCore

/// Place names as this plugin compares them: the words names are compared by (docs/rules.md,
/// "Name matching"), then made alike across the ways one Arabic name is written in Latin
/// letters — so that a place listed once as `Raqqa` is also `Ar-Raqqa`, `Al-Raqqah` and
/// `Raqqah`; `Deir ez-Zor` is `Deir ez-Zour`; `Jisr al-Shughur` is `Jisr-Ash-Shugur`;
/// `Kobani` is `Kobanê`; and `دير الزور` is `ديرالزور`. Every place text and every listed
/// name is read this way, so a list needs one spelling of each name per script.
///
/// - The article in any of its Latin forms (`al`, `el`, and as it assimilates: `ar`, `as`,
///   `ash`, `ad`, `adh`, `az`, `ez`, `es`, `esh`, `an`, `at`, `ath`, `ed`, `er`, `et`) is
///   dropped before another word.
/// - A Latin word loses its accents and the half rings of ayn and hamza (`Maʿarrat` is
///   `maarrat`), and a dotless ı is an i (`Öncüpınar` is `Oncupinar`); `ou` and `o` become `u` and `e` becomes `i` (the short vowels are written
///   either way: Homs and Hums, Idlib and Edlib); `gh` becomes `g`; a doubled letter is
///   one; and a final `h` after a vowel goes (`Raqqah`, `Sukhnah`).
/// - An Arabic word written together with the next after its article (`ديرالزور`) is split
///   before the last `ال` that has two letters or more before it and three or more after.
enum PlaceWords {
  static let articles: Set<String> = [
    "al", "el", "ar", "as", "ash", "ad", "adh", "az", "ez", "es", "esh", "an", "at", "ath", "ed", "er", "et",
  ]

  static func words(of text: String) -> [String] {
    let words = NameNormalizer.words(of: text)
    var result: [String] = []
    result.reserveCapacity(words.count)
    for (index, word) in words.enumerated() {
      if index < words.count - 1, articles.contains(word) { continue }
      if let first = word.unicodeScalars.first, (0x0600...0x06FF).contains(first.value) {
        result += splitAtInnerArticle(word)
      } else {
        result.append(latinKey(word))
      }
    }
    return result
  }

  /// One Latin word as its spellings share it.
  static func latinKey(_ word: String) -> String {
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

  /// An Arabic word, or the two it was written for when an article inside it joins them.
  private static func splitAtInnerArticle(_ word: String) -> [String] {
    let letters = Array(word.unicodeScalars)
    guard letters.count >= 7 else { return [word] }
    // The last ال that can be an article: one of the first word's own letters may spell ال
    // too (جبالالقلمون is جبال القلمون, شمالالرقة شمال الرقة).
    for index in stride(from: letters.count - 5, through: 2, by: -1)
    where letters[index] == "\u{0627}" && letters[index + 1] == "\u{0644}" {
      var first = String.UnicodeScalarView()
      first.append(contentsOf: letters[..<index])
      var second = String.UnicodeScalarView()
      second.append(contentsOf: letters[(index + 2)...])
      return [String(first), String(second)]
    }
    return [word]
  }
}
