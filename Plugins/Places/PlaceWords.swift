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
/// - An Arabic word written together with the next after its article (`ديرالزور`,
///   `بابالهوى`) is split before the last `ال` that has two letters or more before it and
///   three or more after (`NameNormalizer.words(of:splittingJoinedArticles:)`).
enum PlaceWords {
  /// The article in any of its Latin forms, dropped before another word whatever it is
  /// (place names are short: `Tell as` is the one case of a final article).
  static let articles = TransliteratedWords.articles.union(["al"])

  /// The words of the texts read so far: a place text first seen is read through many
  /// of its pieces, each again for each reading (the Latin key of each word, uncached
  /// below this, was some 1,400 instructions a report, bench/count-instructions).
  private static let known = TextCache<[String]>()

  static func words(of text: String) -> [String] {
    known.value(for: ReportText(text)) { _ in read(text) }
  }

  private static func read(_ text: String) -> [String] {
    let words = NameNormalizer.words(of: text, splittingJoinedArticles: true)
    var result: [String] = []
    result.reserveCapacity(words.count)
    for (index, word) in words.enumerated() {
      if index < words.count - 1, articles.contains(word.text) { continue }
      result.append(TransliteratedWords.isArabic(word.text) ? word.text : TransliteratedWords.latinKey(word.text))
    }
    return result
  }
}
