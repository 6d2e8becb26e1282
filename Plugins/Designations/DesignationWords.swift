import VigilCore

/// Names as the designations plugin compares them: the words of name matching, read a
/// little more leniently (`NameNormalizer.lenientWords`), then made alike across the ways
/// one Arabic name is written in Latin letters (`TransliteratedWords`), as place names are —
/// so that the listed `al-Dawla al-Islamiya` is also `ad-Dawlah al-Islamiyyah`, and
/// `Hayat Tahrir al-Sham` is `Hayyat Tahrir as-Sham`. Every name listed, every opposing
/// word and every text read is read this way.
///
/// - An article in a Latin form other than `al` is dropped where it is one: `el` before
///   any word, the others only as they assimilate to the next word (`as-Sham`,
///   `ad-Dawla`, `an-Nusra`), so the English "as", "an" and "at" stay words.
/// - A Latin word is read as `TransliteratedWords.latinKey` reads it (`Dawlah` and
///   `Dawla`, `Islamiyya` and `Islamiya`, `Nosra` and `Nusra`, `Tahreer` and `Tahrir`,
///   `Shaam` and `Sham`); an Arabic word written together with the next after its
///   article is two.
enum DesignationWords {
  static func words(of text: String) -> [String] {
    let words = NameNormalizer.lenientWords(of: text)
    var result: [String] = []
    result.reserveCapacity(words.count)
    for (index, word) in words.enumerated() {
      if TransliteratedWords.isArabic(word) {
        result += TransliteratedWords.splitAtInnerArticle(word)
        continue
      }
      if index < words.count - 1, TransliteratedWords.isAssimilatedArticle(word, before: words[index + 1]) { continue }
      result.append(TransliteratedWords.latinKey(word))
    }
    return result
  }
}
