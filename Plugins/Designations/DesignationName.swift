import VigilCore

/// A listed name of a designated group as the plugin finds it in a text: its words read as
/// `DesignationWords` reads them, and an Arabic word the list writes with its article must
/// have had one in the text too. Name matching reads the article off, so without this the
/// listed `النصرة` (the Front) would be found in every `نصرة` ("support": `جمعية نصرة
/// المظلوم`, a charity) and the listed `تنظيم الدولة` in "تنظيم دولة" (an organisation of
/// a state). A word the list writes without it is found either way (`دواعش`, `الدواعش`).
struct DesignationName: Sendable {
  let text: String
  let words: [String]
  let needsArticle: [Bool]

  init(_ text: String, words: [NameNormalizer.Word]) {
    self.text = text
    self.words = words.map(\.text)
    needsArticle = words.map(\.hadArticle)
  }

  /// Where the name occurs in a text's words: the ranges of words it covers.
  func occurrences(in text: [NameNormalizer.Word]) -> [Range<Int>] {
    guard !words.isEmpty, text.count >= words.count else { return [] }
    return (0...(text.count - words.count)).compactMap { start in
      let matches = words.indices.allSatisfy { offset in
        let word = text[start + offset]
        return word.text.sameUTF8(as: words[offset]) && (word.hadArticle || !needsArticle[offset])
      }
      return matches ? start..<start + words.count : nil
    }
  }
}
