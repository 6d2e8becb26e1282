import Foundation
import NIOConcurrencyHelpers

/// Names as docs/rules.md ("Name matching") compares them: a name becomes a list of words
/// after Unicode NFKC, lowercasing, removing Arabic diacritics, tatweel and invisible
/// marks, folding Arabic letter variants, deleting quotes, turning every other
/// non-alphanumeric character into a space, dropping the Latin word `al`, and stripping
/// the attached Arabic prefixes (و ف, then لل or ب ل ك, then ال).
public enum NameNormalizer {
  /// The same names come back report after report (the groups, the agencies, the
  /// crossings), and normalising one costs a microsecond or more; so results are kept,
  /// up to a bound.
  private static let cache = NIOLockedValueBox<[CacheKey: [String]]>([:])
  /// The same for `words(of:splittingJoinedArticles: true)`, the places' and designations'
  /// reading (place texts and names come back as often).
  private static let splitCache = NIOLockedValueBox<[CacheKey: [Word]]>([:])
  private static let cacheLimit = 50_000

  public static func words(of name: String) -> [String] {
    let key = CacheKey(name: name)
    if let cached = cache.withLockedValue({ $0[key] }) { return cached }
    let words = normalise(name, splittingJoinedArticles: false).map(\.text)
    cache.withLockedValue { cache in
      if cache.count >= cacheLimit { cache.removeAll(keepingCapacity: true) }
      cache[key] = words
    }
    return words
  }

  /// A name as a cache key, hashed and compared by its UTF-8 bytes: String's own hashing
  /// normalises non-ASCII text first, which costs more than the lookup saves.
  private struct CacheKey: Hashable, Sendable {
    let name: String

    static func == (lhs: CacheKey, rhs: CacheKey) -> Bool {
      lhs.name.sameUTF8(as: rhs.name)
    }

    func hash(into hasher: inout Hasher) {
      name.withUTF8InPlace { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
    }
  }

  /// A word of a name as read, and whether an Arabic article was read off it (`ال`, alone,
  /// after و ف ب ك, or as the لل of ل before it: `النصرة`, `والنصرة` and `للنصرة` had it,
  /// `نصرة` did not). Plugins that compare names beyond name matching tell them apart.
  public struct Word: Sendable, Equatable {
    public let text: String
    public let hadArticle: Bool

    public init(_ text: String, hadArticle: Bool = false) {
      self.text = text
      self.hadArticle = hadArticle
    }
  }

  /// A name's words as `words(of:)` reads them, each with whether it had an article, and
  /// with `splittingJoinedArticles` an Arabic word written together with the next after
  /// its article read as the two (`ديرالزور` is `دير الزور`, `بابالهوى` `باب الهوى`): the
  /// word is split before its last `ال` with two letters or more before it and three or
  /// more after, before its prefixes are read off (the ب of `باب` is the word's own), unless
  /// fewer than two letters are left before it once prefixes and an article are read off
  /// (`وبالرقة` is `الرقة` after و and ب; `المالكية` and `ومالكية` are one word).
  public static func words(of name: String, splittingJoinedArticles: Bool) -> [Word] {
    guard splittingJoinedArticles else { return normalise(name, splittingJoinedArticles: false) }
    let key = CacheKey(name: name)
    if let cached = splitCache.withLockedValue({ $0[key] }) { return cached }
    let words = normalise(name, splittingJoinedArticles: true)
    splitCache.withLockedValue { cache in
      if cache.count >= cacheLimit { cache.removeAll(keepingCapacity: true) }
      cache[key] = words
    }
    return words
  }

  private static func normalise(_ name: String, splittingJoinedArticles: Bool) -> [Word] {
    var text = name
    if needsCompatibilityMapping(text) {
      // NFKC folds Arabic presentation forms and full-width letters; most names have
      // none, and Foundation's mapping costs more than the rest of the work. The quotes
      // step 4 deletes go first: NFKC would make the acute accent ´ a space and a mark.
      text.unicodeScalars.removeAll { isQuote($0) }
      text = text.precomposedStringWithCompatibilityMapping
    }
    var words: [Word] = []
    var word = String.UnicodeScalarView()
    func finish() {
      if !word.isEmpty {
        let finished = String(word)
        if finished != "al" {
          if splittingJoinedArticles {
            words += splitAtJoinedArticle(finished)
          } else {
            words.append(stripPrefixes(finished))
          }
        }
        word = String.UnicodeScalarView()
      }
    }
    for scalar in text.unicodeScalars {
      switch scalar.value {
      case 0x064B...0x065F, 0x0670, 0x0640, 0x200B...0x200F, 0x061C:
        continue  // diacritics, tatweel, invisible marks
      default:
        break
      }
      if isQuote(scalar) { continue }  // apostrophes and quotes: Da’esh is daesh
      if scalar.isASCII {
        // ASCII without Unicode's property tables (a lookup for every scalar was most of
        // the cost of a name seen the first time): letters and digits are the alphanumerics.
        switch scalar.value {
        case 0x30...0x39, 0x61...0x7A: word.append(scalar)
        case 0x41...0x5A: word.append(Unicode.Scalar(scalar.value + 32)!)
        default: finish()
        }
        continue
      }
      let folded = fold(scalar)
      if isAlphanumeric(folded) {
        if folded.isASCII {
          word.append(folded.value >= 0x41 && folded.value <= 0x5A ? Unicode.Scalar(folded.value + 32)! : folded)
        } else if (0x0600...0x06FF).contains(folded.value) {
          word.append(folded)  // Arabic has no case
        } else {
          word.append(contentsOf: String(folded).lowercased().unicodeScalars)
        }
      } else {
        finish()
      }
    }
    finish()
    return words
  }

  /// Whether a scalar is a letter or a digit (Unicode's `Alphabetic`, or any numeric
  /// type), the Arabic block read from a table made once.
  private static func isAlphanumeric(_ scalar: Unicode.Scalar) -> Bool {
    if (0x0600...0x06FF).contains(scalar.value) { return arabicAlphanumerics[Int(scalar.value - 0x0600)] }
    return scalar.properties.isAlphabetic || scalar.properties.numericType != nil
  }

  private static let arabicAlphanumerics: [Bool] = (UInt32(0x0600)...0x06FF).map { value in
    let scalar = Unicode.Scalar(value)!
    return scalar.properties.isAlphabetic || scalar.properties.numericType != nil
  }

  /// أ إ آ ٱ → ا; ى ی → ي; ک → ك; ة → ه; ؤ → و; ئ → ي
  private static func fold(_ scalar: Unicode.Scalar) -> Unicode.Scalar {
    switch scalar.value {
    case 0x0623, 0x0625, 0x0622, 0x0671: "\u{0627}"
    case 0x0649, 0x06CC: "\u{064A}"
    case 0x06A9: "\u{0643}"
    case 0x0629: "\u{0647}"
    case 0x0624: "\u{0648}"
    case 0x0626: "\u{064A}"
    default: scalar
    }
  }

  /// On an Arabic word: one leading و or ف (if 3 letters remain), then لل (if 2 remain)
  /// or one of ب ل ك (if 3 remain), then ال (if 2 remain).
  private static func stripPrefixes(_ word: String) -> Word {
    var letters = Array(word.unicodeScalars)
    guard let first = letters.first, (0x0600...0x06FF).contains(first.value) else { return Word(word) }
    var hadArticle = false
    if letters.count >= 4, letters[0] == "\u{0648}" || letters[0] == "\u{0641}" {
      letters.removeFirst()
    }
    if letters.count >= 4, letters[0] == "\u{0644}", letters[1] == "\u{0644}" {
      letters.removeFirst(2)
      hadArticle = true  // ل before ال, whose alef is not written
    } else if letters.count >= 4, ["\u{0628}", "\u{0644}", "\u{0643}"].contains(letters[0]) {
      letters.removeFirst()
    }
    if letters.count >= 4, letters[0] == "\u{0627}", letters[1] == "\u{0644}" {
      letters.removeFirst(2)
      hadArticle = true
    }
    var result = String.UnicodeScalarView()
    result.append(contentsOf: letters)
    return Word(String(result), hadArticle: hadArticle)
  }

  /// An Arabic word, or the two it was written for when an article inside it joins them
  /// (`words(of:splittingJoinedArticles:)`), each with its prefixes read off.
  private static func splitAtJoinedArticle(_ word: String) -> [Word] {
    let letters = Array(word.unicodeScalars)
    guard let first = letters.first, (0x0600...0x06FF).contains(first.value) else { return [Word(word)] }
    if let index = innerArticle(letters), ownLetters(letters[..<index]) >= 2 {
      return [stripPrefixes(text(letters[..<index])), Word(text(letters[(index + 2)...]), hadArticle: true)]
    }
    // What came before was only prefixes (وبالرقة), or prefixes and an article with one
    // letter (المالكية, للمالكية, ومالكية: the word's own ال, not an article joining two):
    // read them off, then look again.
    let stripped = stripPrefixes(word)
    let rest = Array(stripped.text.unicodeScalars)
    guard let index = innerArticle(rest) else { return [stripped] }
    return [Word(text(rest[..<index]), hadArticle: stripped.hadArticle), Word(text(rest[(index + 2)...]), hadArticle: true)]
  }

  /// Where the last `ال` of a word is that can be an article joining two: two letters or
  /// more before it, three or more after. One of the first word's own letters may spell ال
  /// too (جبالالقلمون is جبال القلمون, شمالالرقة شمال الرقة).
  private static func innerArticle(_ letters: [Unicode.Scalar]) -> Int? {
    guard letters.count >= 7 else { return nil }
    return stride(from: letters.count - 5, through: 2, by: -1).first { index in
      letters[index] == "\u{0627}" && letters[index + 1] == "\u{0644}"
    }
  }

  /// How many letters are left of the part before an inner article once every prefix and
  /// an article are read off it, whatever is left (و or ف, then لل or one of ب ل ك, then
  /// ال): `وب` has none, `الم` one, `باب` two. A first word needs two: with fewer, the ال
  /// is the word's own.
  private static func ownLetters(_ letters: ArraySlice<Unicode.Scalar>) -> Int {
    var rest = letters
    if let first = rest.first, first == "\u{0648}" || first == "\u{0641}" { rest = rest.dropFirst() }
    if rest.starts(with: ["\u{0644}", "\u{0644}"]) {
      rest = rest.dropFirst(2)
    } else if let first = rest.first, ["\u{0628}", "\u{0644}", "\u{0643}"].contains(first) {
      rest = rest.dropFirst()
    }
    if rest.starts(with: ["\u{0627}", "\u{0644}"]) { rest = rest.dropFirst(2) }
    return rest.count
  }

  private static func text<Letters: Sequence<Unicode.Scalar>>(_ letters: Letters) -> String {
    var view = String.UnicodeScalarView()
    view.append(contentsOf: letters)
    return String(view)
  }

  /// Whether NFKC could change the text: presentation forms, full-width and other
  /// compatibility characters, or anything outside the common scripts.
  private static func needsCompatibilityMapping(_ text: String) -> Bool {
    text.unicodeScalars.contains { scalar in
      switch scalar.value {
      case 0...0x7F: false
      // Latin, Arabic and punctuation hold some compatibility characters too (½, ª, ﬁ-like
      // ligatures of Latin Extended, ٵ, the dot leaders): told from a table made once.
      case 0x80...0x024F: mappedLatin[Int(scalar.value - 0x80)]
      case 0x0600...0x06FF: mappedArabic[Int(scalar.value - 0x0600)]
      case 0x2000...0x206F: mappedPunctuation[Int(scalar.value - 0x2000)]
      default: true
      }
    }
  }

  /// A name's words read leniently, for deciding who a designated group is ("in any
  /// language or spelling", RULES.md): before name matching's steps, the invisible format
  /// marks it does not name are deleted (the soft hyphen, the word joiner and its kin,
  /// bidi embeddings, overrides and isolates, the BOM: `دا⁠عش` is one word), so are the
  /// modifier letters transliteration writes for ʿayn and hamza (`Daʿesh` is `Da'esh`),
  /// and Latin letters with marks are their plain letters (`Dāʿish`, `Nuṣra`). Name
  /// matching itself (`words(of:)`, `mentions`, `normalized`) keeps to RULES.md's steps.
  public static func lenientWords(of name: String) -> [String] {
    guard name.unicodeScalars.contains(where: { !$0.isASCII }) else { return words(of: name) }
    return lenientWords(of: name, splittingJoinedArticles: false).map(\.text)
  }

  /// `lenientWords(of:)`, each word with whether it had an article, and split at a joined
  /// article as `words(of:splittingJoinedArticles:)` does.
  public static func lenientWords(of name: String, splittingJoinedArticles: Bool) -> [Word] {
    guard name.unicodeScalars.contains(where: { !$0.isASCII }) else {
      return words(of: name, splittingJoinedArticles: splittingJoinedArticles)
    }
    var cleaned = String.UnicodeScalarView()
    // Composed first: a letter typed as its base and a combining mark (NFD, as macOS and
    // some forms write) is the letter, and folds as it does.
    for scalar in name.precomposedStringWithCanonicalMapping.unicodeScalars {
      switch scalar.value {
      case 0x00AD, 0x180E, 0x202A...0x202E, 0x2060...0x2064, 0x2066...0x206F, 0xFEFF, 0x2BB, 0x2BD, 0x2BE, 0x2BF:
        continue
      case 0x00C0...0x024F, 0x1E00...0x1EFF:
        // The letter without its marks, when it has a plain Latin letter under them.
        let base = String(scalar).decomposedStringWithCanonicalMapping.unicodeScalars.first
        cleaned.append(base.map { $0.isASCII && $0.properties.isAlphabetic } == true ? base! : scalar)
      default:
        cleaned.append(scalar)
      }
    }
    return words(of: String(cleaned), splittingJoinedArticles: splittingJoinedArticles)
  }

  /// The apostrophes and quotes names lose (step 4).
  private static func isQuote(_ scalar: Unicode.Scalar) -> Bool {
    switch scalar.value {
    case 0x27, 0x2019, 0x2018, 0x60, 0x2BC, 0xB4, 0x22, 0x201C, 0x201D, 0xAB, 0xBB: true
    default: false
    }
  }

  /// For each scalar of a range, whether NFKC changes it.
  private static func changedByCompatibilityMapping(_ range: ClosedRange<UInt32>) -> [Bool] {
    range.map { value in
      guard let scalar = Unicode.Scalar(value) else { return false }
      let text = String(Character(scalar))
      return text.precomposedStringWithCompatibilityMapping != text
    }
  }

  private static let mappedLatin = changedByCompatibilityMapping(0x80...0x024F)
  private static let mappedArabic = changedByCompatibilityMapping(0x0600...0x06FF)
  private static let mappedPunctuation = changedByCompatibilityMapping(0x2000...0x206F)
}
