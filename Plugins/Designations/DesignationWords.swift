import VigilCore

/// Names as the designations plugin compares them: the words of name matching, read a
/// little more leniently (`NameNormalizer.lenientWords`), then made alike across the ways
/// one Arabic name is written in Latin letters (`TransliteratedWords`), as place names are —
/// so that the listed `al-Dawla al-Islamiya` is also `ad-Dawlah al-Islamiyyah`, and
/// `Hayat Tahrir al-Sham` is `Hayyat Tahrir as-Sham`. Every name listed, every opposing
/// word and every text read is read this way.
///
/// - An article in a Latin form other than `al` is dropped where it is one: `el` before
///   any word, the others only as they assimilate to the next word (`ad-Dawla`,
///   `ash-Sham`), and the forms that are English words (`as`, `an`, `at`) only where a
///   hyphen joins them to it (`as-Sham`, `an-Nusra`): "as well as so-called" keeps its words.
/// - A Latin word of five letters or more is read as `TransliteratedWords.latinKey` reads it (`Dawlah` and
///   `Dawla`, `Islamiyya` and `Islamiya`, `Nosra` and `Nusra`, `Tahreer` and `Tahrir`,
///   `Shaam` and `Sham`); an Arabic word written together with the next after its
///   article is two.
/// - French elided articles go (`l'État islamique` is `État islamique`).
/// - An Arabic word a name lists with its article must have it in the text
///   (`DesignationName`).
enum DesignationWords {
  /// The text without the article forms that are English words (`as`, `an`, `at`) where
  /// they are joined to the next word by a hyphen (`as-Sham`, `an-Nusra`): there they are
  /// the article. Written apart they are words ("as well as so-called ISIS").
  static func withoutHyphenedEnglishArticles(_ text: String) -> String {
    let hyphens: Set<Unicode.Scalar> = ["-", "\u{2010}", "\u{2011}"]
    guard text.unicodeScalars.contains(where: hyphens.contains) else { return text }
    let scalars = Array(text.unicodeScalars)
    let isWordScalar = { (scalar: Unicode.Scalar) in scalar.properties.isAlphabetic || scalar.properties.numericType != nil }
    var kept = String.UnicodeScalarView()
    var index = 0
    while index < scalars.count {
      // `as-`, `an-`, `at-` starting a word, a letter after the hyphen: left out.
      if index + 3 < scalars.count, index == 0 || !isWordScalar(scalars[index - 1]),
        scalars[index] == "a" || scalars[index] == "A", "sntSNT".unicodeScalars.contains(scalars[index + 1]),
        hyphens.contains(scalars[index + 2]), scalars[index + 3].properties.isAlphabetic
      {
        index += 3
        continue
      }
      kept.append(scalars[index])
      index += 1
    }
    return String(kept)
  }

  /// The text without French elided articles: `l'` and `d'` starting a word before a
  /// letter (`l'État islamique`, `combattants d’EI`), which name matching would join to
  /// the word (`letat`).
  static func withoutFrenchElisions(_ text: String) -> String {
    let apostrophes: Set<Unicode.Scalar> = ["'", "\u{2019}", "\u{2018}", "\u{2BC}", "`", "\u{B4}"]
    guard text.unicodeScalars.contains(where: apostrophes.contains) else { return text }
    let scalars = Array(text.unicodeScalars)
    var kept = String.UnicodeScalarView()
    var index = 0
    while index < scalars.count {
      if index + 2 < scalars.count, index == 0 || !scalars[index - 1].properties.isAlphabetic,
        "lLdD".unicodeScalars.contains(scalars[index]), apostrophes.contains(scalars[index + 1]),
        scalars[index + 2].properties.isAlphabetic
      {
        index += 2
        continue
      }
      kept.append(scalars[index])
      index += 1
    }
    return String(kept)
  }

  /// The fewest letters of a Latin word whose spelling is made alike with others.
  static let shortestTransliteration = 5

  /// A text's words as designations compare them, each with whether it had an Arabic
  /// article (`DesignationName`).
  static func words(of text: String) -> [NameNormalizer.Word] {
    let words = NameNormalizer.lenientWords(
      of: withoutHyphenedEnglishArticles(withoutFrenchElisions(text)), splittingJoinedArticles: true)
    var result: [NameNormalizer.Word] = []
    result.reserveCapacity(words.count)
    for (index, word) in words.enumerated() {
      if TransliteratedWords.isArabic(word.text) {
        result.append(word)
        continue
      }
      if index < words.count - 1, TransliteratedWords.isAssimilatedArticle(word.text, before: words[index + 1].text) { continue }
      // A word of fewer than five letters is an acronym (`EI`, `JN`, `ISIS`) or a word of its
      // own (`II`, `i.e.`, `E`): made alike, `EI` would be every `I`, `II` and `E`, and
      // `ISIS` every `Esis` (audit 50). The spellings to make alike are longer.
      result.append(
        word.text.unicodeScalars.count < Self.shortestTransliteration
          ? word : NameNormalizer.Word(TransliteratedWords.latinKey(word.text)))
    }
    return result
  }

  /// The words alone, for what is compared without articles (opposing words, fillers).
  static func plainWords(of text: String) -> [String] {
    words(of: text).map(\.text)
  }
}
