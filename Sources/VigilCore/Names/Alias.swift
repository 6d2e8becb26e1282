/// One way of writing a name (`Jabhat al-Nusra`, `داعش`), normalised once, that matches
/// a name when its words occur in it contiguously and in order: "ISIS fighters" contains
/// the alias "ISIS"; "Nusrat Hospital" does not contain "Nusra".
public struct Alias: Sendable, Equatable {
  public let text: String
  public let words: [String]

  public init(_ text: String) {
    self.text = text
    words = NameNormalizer.words(of: text)
  }

  /// An alias whose words a plugin read its own way (place names, compared beyond names'
  /// normalisation); the texts it is found in must be read the same way.
  public init(_ text: String, words: [String]) {
    self.text = text
    self.words = words
  }

  /// Whether the alias occurs in a name already split by `NameNormalizer.words(of:)`.
  /// Words compare by their UTF-8: normalisation has already made equal words equal
  /// byte for byte, and String's own comparison (canonical equivalence) costs far more on
  /// Arabic text.
  public func occurs(in nameWords: [String]) -> Bool {
    !occurrences(in: nameWords, first: true).isEmpty
  }

  /// Where the alias occurs in a name's words: the ranges of words it covers (the first
  /// only, with `first`).
  public func occurrences(in nameWords: [String], first: Bool = false) -> [Range<Int>] {
    guard !words.isEmpty, nameWords.count >= words.count else { return [] }
    var found: [Range<Int>] = []
    for start in 0...(nameWords.count - words.count) where nameWords[start].sameUTF8(as: words[0]) {
      if zip(nameWords[start..<start + words.count], words).allSatisfy({ $0.sameUTF8(as: $1) }) {
        found.append(start..<start + words.count)
        if first { break }
      }
    }
    return found
  }
}
