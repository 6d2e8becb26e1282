import VigilCore

/// The groups the ISSG statement excludes from the ceasefire (¶4, ¶12): Daesh, Nusra and
/// any group designated later. Rule files list them as items:
///
/// ```yaml
/// - designation: isil                  # the party key reports use
///   names: [Daesh, "Da'esh", ISIL, ISIS, Islamic State, داعش, الدولة الإسلامية, تنظيم الدولة]
/// ```
///
/// and conditions ask `designated(perpetrator)` (or `target`, `trade.seller`,
/// `trade.buyer`): true when the actor's party key or its name names a designated group,
/// matched as docs/rules.md's "Name matching" says, read a little more leniently and with
/// the Latin spellings of one Arabic name made alike (`DesignationWords`), with English
/// possessives read as the name.
public struct Designations: RulePlugin {
  public let name = "designations"
  /// On unless a configuration names plugins without it.
  public var enabledByDefault: Bool { true }
  public let takesSettings = false
  public let itemKinds = ["designation", "opposing_words"]

  public init() {}

  /// A text's English possessives without their `'s` (`’s`, `ʼs`): "Jabhat Fatah
  /// al-Sham's fighters" names Jabhat Fatah al-Sham. Name matching deletes the apostrophe
  /// and would leave the word `shams`; giving each name an `s` instead would match plurals
  /// too ("Islamic States"), and the apostrophe is what tells the two apart.
  static func withoutPossessives(_ text: String) -> String {
    let scalars = Array(text.unicodeScalars)
    guard scalars.contains(where: isApostrophe) else { return text }
    var kept = String.UnicodeScalarView()
    var index = 0
    while index < scalars.count {
      let scalar = scalars[index]
      if isApostrophe(scalar), index > 0, scalars[index - 1].properties.isAlphabetic,
        index + 1 < scalars.count, scalars[index + 1] == "s" || scalars[index + 1] == "S",
        index + 2 == scalars.count || !isWordScalar(scalars[index + 2])
      {
        index += 2
        continue
      }
      kept.append(scalar)
      index += 1
    }
    return String(kept)
  }

  private static func isApostrophe(_ scalar: Unicode.Scalar) -> Bool {
    ["\u{27}", "\u{2019}", "\u{2018}", "\u{2BC}", "\u{60}", "\u{B4}"].contains(scalar)
  }

  private static func isWordScalar(_ scalar: Unicode.Scalar) -> Bool {
    scalar.properties.isAlphabetic || scalar.properties.numericType != nil || isApostrophe(scalar)
  }

  /// What may come between opposing words and a name, as names are read: "the",
  /// "so-called", تنظيم (organisation), ما يسمى (what is called), the areas it held
  /// ("displaced from areas held by ISIS", "النازحين من مناطق سيطرة داعش"), and what was
  /// fled of it: its rule, its shelling, its hell ("fleeing the rule of ISIS", "الفارين من
  /// جحيم داعش", "فروا من قصف داعش").
  static let fillers: [[String]] = [
    "the", "so-called", "so called", "areas held by", "areas controlled by", "areas under", "areas of",
    "rule of", "shelling by", "attacks by", "hell of",
    "تنظيم", "ما يسمى", "مايسمى", "مناطق سيطرة", "مناطق", "سيطرة", "حكم", "قصف", "جحيم", "بطش", "ظلم",
  ]
  .map { DesignationWords.plainWords(of: $0) }

  /// Whether an item lists opposing words (`- opposing_words: …`) rather than a group.
  static func isOpposingWords(_ item: RuleNode) -> Bool {
    guard case .mapping(let members, _) = item else { return false }
    return members.contains { $0.key == "opposing_words" }
  }

  /// Whether the words just before a name's occurrence (at `start`) make it the group
  /// opposed, fled or suffered rather than the actor: "the anti-ISIS coalition", "families
  /// fleeing Daesh", "التحالف ضد داعش". Fillers between are passed over ("the coalition
  /// against the Islamic State", "ضد تنظيم داعش").
  static func isOpposed(_ words: [String], before start: Int, by opposing: [[String]]) -> Bool {
    // Words that may stand between: "against the so-called Islamic State", "ضد تنظيم داعش".
    var ends = [start]
    var end = start
    while let filler = fillers.first(where: { end >= $0.count && Array(words[(end - $0.count)..<end]) == $0 }) {
      end -= filler.count
      ends.append(end)
    }
    return ends.contains { end in
      opposing.contains { phrase in
        !phrase.isEmpty && end >= phrase.count
          && zip(words[(end - phrase.count)..<end], phrase).allSatisfy { $0.sameUTF8(as: $1) }
      }
    }
  }

  /// What may join one name opposed to the next, which is opposed with it: "against ISIS
  /// and Nusra", "ضد داعش والنصرة" (an attached و is read off as prefixes are).
  static let conjunctions: Set<[String]> = Set(["and", "or", "nor", "as well as", "و", "او"].map { DesignationWords.plainWords(of: $0) })

  /// The occurrences found (`found`, ranges of `words`) that name the group opposed: one
  /// right after opposing words, and one joined to such an occurrence by "and" or "or"
  /// with only fillers between ("fighting Daesh and the Nusra Front").
  static func excused(_ found: [Range<Int>], in words: [String], by opposing: [[String]]) -> [Range<Int>] {
    var excused: [Range<Int>] = []
    for range in found.sorted(by: { ($0.lowerBound, $0.upperBound) < ($1.lowerBound, $1.upperBound) }) {
      if isOpposed(words, before: range.lowerBound, by: opposing)
        || excused.contains(where: { joined(words, from: $0.upperBound, to: range.lowerBound) })
      {
        excused.append(range)
      }
    }
    return excused
  }

  /// Whether the words from `start` up to `end` are one conjunction, with fillers about
  /// it, or nothing at all (an attached و: "داعش والنصرة").
  static func joined(_ words: [String], from start: Int, to end: Int) -> Bool {
    guard start <= end else { return false }
    var between = Array(words[start..<end])
    // Nothing between: an attached و ("داعش والنصرة"), read off as prefixes are, so only
    // between Arabic names; "anti-ISIS Nusra fighters" names Nusra, not a second opponent.
    guard !between.isEmpty else { return TransliteratedWords.isArabic(words[start - 1]) && end < words.count && TransliteratedWords.isArabic(words[end]) }
    var conjunction = 0
    while !between.isEmpty {
      if let word = conjunctions.first(where: { between.starts(with: $0) }) {
        conjunction += 1
        between.removeFirst(word.count)
      } else if let filler = fillers.first(where: { between.starts(with: $0) }) {
        between.removeFirst(filler.count)
      } else {
        return false
      }
    }
    return conjunction == 1
  }

  public func prepare(items: [RuleNode], settings: ConfigurationValue) -> Result<[ConditionFunction], RuleSetErrors> {
    var names: [DesignationName] = []
    var errors: [RuleError] = []
    var keys = ItemKeys()
    var opposing: [[String]] = []
    for item in items where Self.isOpposingWords(item) {
      if let twice = keys.note(item, kind: "opposing_words") { errors.append(twice) }
      switch NamedItem.read(item, kind: "opposing_words") {
      case .failure(let problems): errors += problems.errors
      case .success(let words): opposing += words.names.map { DesignationWords.plainWords(of: $0) }
      }
    }
    for item in items where !Self.isOpposingWords(item) {
      if let twice = keys.note(item, kind: "designation") { errors.append(twice) }
      switch NamedItem.read(item, kind: "designation") {
      case .failure(let problems): errors += problems.errors
      case .success(let designation):
        names += [DesignationName(designation.key, words: DesignationWords.words(of: designation.key))]
          // Read as reports are: a listed name with an `'s` of its own (a transliteration's
          // `Ra's`) is matched by what the report's text becomes.
          + designation.names.map { DesignationName($0, words: DesignationWords.words(of: Self.withoutPossessives($0))) }
      }
    }
    guard errors.isEmpty else { return .failure(RuleSetErrors(errors: errors)) }
    let known = names.filter { !$0.words.isEmpty }
    let opposingPhrases = opposing
    let verdicts = TextCache<Bool>()
    let designated = ConditionFunction(name: "designated", parameters: [.actor], result: .bool) {
      (arguments: [ConditionFunction.Argument]) -> ConditionFunction.Evaluation in
      guard case .field(let actor) = arguments[0] else { return { _ in .bool(false) } }
      // The actor's party key and name, resolved once for the call.
      let parts = ["party", "name"].compactMap { ReportSchema.field(actor.path + "." + $0) }
      return { report in
        for part in parts {
          guard case .text(let text)? = part.read(report) else { continue }
          let isDesignated = verdicts.value(for: text) { text in
            let read = DesignationWords.words(of: Self.withoutPossessives(text.string))
            let words = read.map(\.text)
            // An occurrence after opposing words is excused, and so is a shorter name
            // inside it ("Nusra" in "against Jabhat al-Nusra"); any other designates.
            let found = known.flatMap { $0.occurrences(in: read) }
            let excused = Self.excused(found, in: words, by: opposingPhrases)
            return found.contains { range in
              !excused.contains { $0.lowerBound <= range.lowerBound && range.upperBound <= $0.upperBound }
            }
          }
          if isDesignated { return .bool(true) }
        }
        return .bool(false)
      }
    }
    return .success([designated])
  }
}
