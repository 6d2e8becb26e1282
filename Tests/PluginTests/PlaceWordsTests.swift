import Testing

@testable import VigilPlugins

/// Place names compared across the ways one Arabic name is written (`PlaceWords`): the
/// spellings of one place read alike, other places do not.
@Suite("Places: one name in its many spellings")
struct PlaceWordsTests {
  static let sameNames: [(String, String)] = [
    ("Raqqa", "Ar-Raqqa"), ("Raqqa", "Al-Raqqah"), ("Raqqa", "Raqqah"), ("Raqqa", "ar-Raqqa"),
    ("Sukhnah", "As-Sukhnah"), ("Sukhna", "Al-Sukhnah"), ("Shaddadi", "Ash-Shaddadi"), ("Tabqa", "At-Tabqa"),
    ("Thawra", "Ath-Thawra"), ("Bab", "El-Bab"), ("Dabiq", "Ad-Dabiq"),
    ("Deir ez-Zor", "Deir ez-Zour"), ("Deir ez-Zor", "Deir el-Zor"), ("Deir ez-Zor", "Deir al-Zour"),
    ("Jisr al-Shughur", "Jisr-Ash-Shugur"), ("Jisr al-Shughur", "Jisr ash-Shughour"),
    ("Kobani", "Kobanê"), ("Homs", "Hums"), ("Idlib", "Edlib"), ("Maarat al-Numan", "Maʿarrat al-Nuʿman"),
    ("دير الزور", "ديرالزور"), ("دير الزور", "دير الزّور"), ("جبال القلمون", "جبالالقلمون"), ("شمال الرقة", "شمالالرقة"),
    ("باب الهوى", "بابالهوى"), ("باب الهوى", "باب\u{200C}الهوى"), ("باب السلامة", "بابالسلامة"), ("الرقة", "وبالرقة"),
    ("الرقة", "للرقة"), ("دير الزور", "بديرالزور"), ("دير الزور", "وديرالزور"),
    // The word's own ال after an article or a prefix and one letter is no joined article.
    ("المالكية", "مالكية"), ("المالكية", "للمالكية"), ("المالكية", "ومالكية"), ("المالكية", "بالمالكية"),
    ("الصالحية", "للصالحية"), ("الصالحية", "صالحية"), ("الخالدية", "والخالدية"),
    ("Maarrat", "Maʻarrat"), ("Öncüpınar", "Oncupinar"), ("Oncupınar", "Öncüpinar"),
  ]

  @Test(arguments: sameNames)
  func spellingsOfOneNameReadAlike(_ one: String, _ other: String) {
    #expect(PlaceWords.words(of: one) == PlaceWords.words(of: other), "\(PlaceWords.words(of: one)) \(PlaceWords.words(of: other))")
  }

  static let otherNames: [(String, String)] = [
    ("Bab", "Bab al-Hawa"), ("Nubl", "Kafr Nubl"), ("Hama", "Homs"), ("Raqqa", "Rayyan"), ("Idlib", "Adlib"),
    ("Daraa", "Dara Izza"), ("شمال", "شم"), ("خالدية", "خ"),
  ]

  @Test(arguments: otherNames)
  func otherPlacesStayApart(_ one: String, _ other: String) {
    #expect(PlaceWords.words(of: one) != PlaceWords.words(of: other))
  }

  /// An article is dropped only before another word: "Ar" alone is a name, not nothing.
  @Test func anArticleAloneIsAWord() {
    #expect(PlaceWords.words(of: "As") == ["as"])
    #expect(PlaceWords.words(of: "Tell as") == ["til", "as"])
    #expect(PlaceWords.words(of: "العمالية") == ["عماليه"], "no split: too few letters before the inner ال")
  }
}
