import Foundation
import VigilCore

/// Territorial control, the places plugin's second item kind: who held a place, and when.
/// Rule files list it as items, each citing its source:
///
/// ```yaml
/// - control: raqqa_city
///   names: [Raqqa, Ar-Raqqah, الرقة]
///   governorate: Ar-Raqqa
///   point: {lat: 35.95, lon: 39.0167, radius_km: 6}
///   designated: [ISIL]
///   others: []
///   from: 2014-01-13
///   to: 2017-10-17        # the first day no longer held so; omitted: still held
///   source: "https://en.wikipedia.org/wiki/Battle_of_Raqqa_(2017) — …"
/// ```
///
/// and conditions ask `control(location)`: `designated` when designated groups alone held
/// the report's place on its `occurred_at`, `shared` when they held it with others,
/// `others` when only others did, nothing when no entry covers the place on that date.
/// `control_note(location)` says the same as a phrase for messages. The place is found by
/// the report's coordinates when an entry's circle holds them, else by its place name
/// (name matching, docs/rules.md), else by its governorate for entries that name a
/// governorate alone (docs/plugins.md, "Territorial control").
enum TerritorialControl {
  static let itemKind = "control"

  /// The functions the `control` items give, or every problem in them.
  static func functions(items: [RuleNode]) -> Result<[ConditionFunction], RuleSetErrors> {
    var entries: [ControlEntry] = []
    var errors: [RuleError] = []
    var keys = ItemKeys()
    for item in items {
      if let twice = keys.note(item, kind: "control") { errors.append(twice) }
      switch ControlEntry.read(item) {
      case .failure(let problems): errors += problems.errors
      case .success(let entry): entries.append(entry)
      }
    }
    errors += ControlEntry.overlaps(in: entries)
    guard errors.isEmpty else { return .failure(RuleSetErrors(errors: errors)) }
    let map = ControlMap(entries: entries)
    // The verdicts' texts, made once rather than for every report.
    let verdicts = Dictionary(uniqueKeysWithValues: ControlFinding.Verdict.allCases.map { ($0, ReportText($0.rawValue)) })
    let control = ConditionFunction(
      name: "control", parameters: [.object(having: ["governorate", "place", "lat", "lon"])], result: .text,
      answers: .init(allowed: ControlFinding.Verdict.allCases.map(\.rawValue))
    ) { arguments in
      let read = map.reader(for: arguments)
      return { report in read(report).map { .text(verdicts[$0.verdict]!) } }
    }
    let note = ConditionFunction(name: "control_note", parameters: [.object(having: ["governorate", "place", "lat", "lon"])], result: .text) { arguments in
      let read = map.reader(for: arguments)
      // Only where designated groups held the place: control by others is the common case,
      // and no message needs to say it.
      return { report in read(report).flatMap { $0.verdict == .others ? nil : .text(ReportText(map.note(for: $0))) } }
    }
    return .success([control, note])
  }
}

/// What the entries that cover a place on a date say together: the verdict, and the
/// entries (their note is written only when a message asks for it).
struct ControlFinding {
  enum Verdict: String, CaseIterable {
    case designated, shared, others
  }

  let verdict: Verdict
  /// The covering entries' indices in the map, in the order they were found.
  let covering: [Int]
}

/// The entries, and how a report's location finds them.
struct ControlMap: Sendable {
  let entries: [ControlEntry]
  /// What the search reads of each entry, beside it: reading an entry out of `entries`
  /// copies its arrays' references, and that, the trigonometry for every entry and the
  /// note written for every report made territorial control about 6% of vigild's time on
  /// the generator's workload (perf, bench/count-instructions).
  private let reaches: [Reach]
  /// By place text: the entries whose names occur in it.
  private let byPlace = TextCache<[Int]>()
  private let governorateOfText = TextCache<String?>()
  private let governorateOfPlace = TextCache<String?>()
  /// The entries for a whole governorate, by the governorate's key.
  private let wholeGovernorates: [String: [Int]]

  /// An entry's circle and days, as numbers.
  private struct Reach: Sendable {
    let circle: (lat: Double, lon: Double, radiusKilometres: Double, cosLat: Double)?
    /// `YYYYMMDD`; `to` is the first day no longer held so (`Int32.max`: still held).
    let from: Int32
    let to: Int32

    init(_ entry: ControlEntry) {
      circle = entry.point.map { ($0.lat, $0.lon, $0.radiusKilometres, cos($0.lat * Double.pi / 180)) }
      from = Reach.day(Array(entry.from.utf8)) ?? Int32.max
      to = entry.to.flatMap { Reach.day(Array($0.utf8)) } ?? Int32.max
    }

    /// `YYYY-MM-DD…` as `YYYYMMDD`.
    static func day(_ bytes: some Collection<UInt8>) -> Int32? {
      var value: Int32 = 0
      for (offset, byte) in bytes.prefix(10).enumerated() where offset != 4 && offset != 7 {
        guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
        value = value * 10 + Int32(byte - UInt8(ascii: "0"))
      }
      return bytes.count >= 10 ? value : nil
    }

    func covers(_ day: Int32) -> Bool { from <= day && day < to }

    /// Whether the circle holds the point: the great-circle distance from its centre.
    func holds(lat: Double, lon: Double) -> Bool {
      guard let circle else { return false }
      let radians = Double.pi / 180
      let dLat = (lat - circle.lat) * radians
      // The distance along the meridian is never more than the great-circle distance:
      // most entries are ruled out here, without trigonometry.
      guard abs(dLat) * ControlEntry.earthRadiusKilometres <= circle.radiusKilometres else { return false }
      let dLon = (lon - circle.lon) * radians
      let a = sin(dLat / 2) * sin(dLat / 2) + circle.cosLat * cos(lat * radians) * sin(dLon / 2) * sin(dLon / 2)
      let kilometres = 2 * ControlEntry.earthRadiusKilometres * asin(min(1, a.squareRoot()))
      return kilometres <= circle.radiusKilometres
    }
  }

  /// The entries with a circle, by the cells of a grid (`cellDegrees` a side) that their
  /// circles reach, in load order: a point is tested against its cell's few entries, not
  /// against every entry of the map (that scan was about 1,800 instructions a report with
  /// the shipped map of 60 entries, bench/count-instructions).
  private let byCell: [Int: [Int]]
  /// The entries by the words of each of their names, in load order: a place text seen for
  /// the first time is looked up part by part, not compared with every name of every entry.
  private let byNameWords: [[String]: [Int]]
  /// Circles too wide for the grid (near a pole, across the antimeridian): tested always.
  private let wide: [Int]
  static let cellDegrees = 0.25

  init(entries: [ControlEntry]) {
    self.entries = entries
    reaches = entries.map(Reach.init)
    var byCell: [Int: [Int]] = [:]
    var wide: [Int] = []
    for (index, reach) in reaches.enumerated() {
      guard let cells = Self.cells(reachedBy: reach) else {
        if reach.circle != nil { wide.append(index) }
        continue
      }
      for cell in cells { byCell[cell, default: []].append(index) }
    }
    self.byCell = byCell
    wholeGovernorates = Dictionary(
      grouping: entries.indices.filter { entries[$0].coversWholeGovernorate }, by: { entries[$0].governorateKey ?? "" })
    self.wide = wide
    var byNameWords: [[String]: [Int]] = [:]
    for (index, entry) in entries.enumerated() {
      for alias in entry.aliases {
        let words = PlaceWords.words(of: alias.text)
        if byNameWords[words]?.last != index { byNameWords[words, default: []].append(index) }
      }
    }
    self.byNameWords = byNameWords
  }

  /// The grid cell of a point.
  static func cell(lat: Double, lon: Double) -> Int {
    cell(row: gridIndex(lat), column: gridIndex(lon))
  }

  /// A cell by its row (of latitude) and column (of longitude).
  private static func cell(row: Int, column: Int) -> Int { row * 10_000 + column }

  /// The row of a latitude, or the column of a longitude.
  private static func gridIndex(_ degrees: Double) -> Int { Int((degrees / cellDegrees).rounded(.down)) }

  /// The cells a circle's bounding box touches, with a margin; nil without a circle or when
  /// the box is too wide for the grid.
  private static func cells(reachedBy reach: Reach) -> [Int]? {
    guard let circle = reach.circle else { return nil }
    let kilometresPerDegree = ControlEntry.earthRadiusKilometres * Double.pi / 180
    let latReach = circle.radiusKilometres / kilometresPerDegree * 1.01 + 1e-9
    // The box is widest in longitude at its poleward edge.
    let poleward = min(abs(circle.lat) + latReach, 90)
    let cosine = cos(poleward * Double.pi / 180)
    guard cosine > 0.01 else { return nil }
    let lonReach = circle.radiusKilometres / (kilometresPerDegree * cosine) * 1.01 + 1e-9
    let (south, north) = (circle.lat - latReach, circle.lat + latReach)
    let (west, east) = (circle.lon - lonReach, circle.lon + lonReach)
    guard west >= -180, east <= 180, (north - south) / cellDegrees < 100, (east - west) / cellDegrees < 100
    else { return nil }
    var cells: [Int] = []
    for row in gridIndex(south)...gridIndex(north) {
      for column in gridIndex(west)...gridIndex(east) {
        cells.append(cell(row: row, column: column))
      }
    }
    return cells
  }

  /// The entries whose circle holds the point on the day, in load order.
  func covering(lat: Double, lon: Double, day: Int32) -> [Int] {
    guard abs(lat) <= 90, abs(lon) <= 180 else {
      return reaches.indices.filter { reaches[$0].covers(day) && reaches[$0].holds(lat: lat, lon: lon) }
    }
    var covering: [Int] = []
    if let near = byCell[Self.cell(lat: lat, lon: lon)] {
      for index in near where reaches[index].covers(day) && reaches[index].holds(lat: lat, lon: lon) {
        covering.append(index)
      }
    }
    guard !wide.isEmpty else { return covering }
    for index in wide where reaches[index].covers(day) && reaches[index].holds(lat: lat, lon: lon) {
      covering.append(index)
    }
    return covering.sorted()
  }

  /// The reading of one call: `control(location)` names the location object.
  func reader(for arguments: [ConditionFunction.Argument]) -> @Sendable (Report) -> ControlFinding? {
    guard case .field(let location) = arguments[0] else { return { _ in nil } }
    // The readers alone: a captured `ReportSchema.Field` was copied at each read.
    let part = { (name: String) in ReportSchema.field(location.path + "." + name)?.read }
    let place = part("place")
    let governorate = part("governorate")
    let latitude = part("lat")
    let longitude = part("lon")
    let occurredAt = ReportSchema.field("occurred_at")?.read
    return { report in
      // The date in Syria, whatever offset the report writes its time with.
      guard case .timestamp(let time)? = occurredAt?(report) else { return nil }
      let day = SyrianDay.of(seconds: time.seconds)
      // The most precise way first; a way that finds no entry for that day gives way to the next.
      if case .number(let lat)? = latitude?(report), case .number(let lon)? = longitude?(report) {
        let covering = covering(lat: lat, lon: lon, day: day)
        if !covering.isEmpty { return finding(covering) }
      }
      // The governorate the report names: its own field, else one of its place text's
      // later parts ("Ain Issa, Raqqa").
      var key: String?
      if case .text(let text)? = governorate?(report) {
        key = governorateOfText.value(for: text) { GovernorateAtlas.atlas.region(named: $0.string) }
      }
      if key == nil, case .text(let text)? = place?(report) {
        key = governorateOfPlace.value(for: text) { self.governorateNamed(besidePlaceIn: $0.string) }
      }
      // Else by the coordinates, which no entry's circle held: a point in Daraa tells a
      // Yarmouk of Daraa from the camp of Damascus too (audit 48).
      if key == nil, case .number(let lat)? = latitude?(report), case .number(let lon)? = longitude?(report) {
        key = GovernorateAtlas.atlas.region(containing: GeoPoint(lon: lon, lat: lat))
      }
      if case .text(let text)? = place?(report) {
        // A name in another governorate than the report's is another place: "Yarmouk,
        // Daraa" is not the Yarmouk camp of Damascus.
        let covering = byPlace.value(for: text) { text in self.entries(named: text.string) }.filter {
          reaches[$0].covers(day) && Self.mayBeIn(key, entry: entries[$0])
        }
        // One name for places in two governorates, and nothing to tell which: neither
        // place's holders are the report's (not "held together", audit 48).
        if !covering.isEmpty, key != nil || !Self.spansGovernorates(covering.map { entries[$0] }) {
          return finding(covering)
        }
      }
      if let key, let whole = wholeGovernorates[key] {
        let covering = whole.filter { reaches[$0].covers(day) }
        if !covering.isEmpty { return finding(covering) }
      }
      return nil
    }
  }

  /// Whether entries found by one name lie in more than one governorate (Damascus city and
  /// Rural Damascus counting as one).
  static func spansGovernorates(_ found: [ControlEntry]) -> Bool {
    let keys = found.compactMap(\.governorateKey)
    guard let first = keys.first else { return false }
    return keys.contains { !mayBeIn(first, placeOf: $0) }
  }

  /// Whether an entry found by name may be the place of a report in `governorate` (nil:
  /// the report names none). Damascus city and Rural Damascus, its suburbs, count as one:
  /// reports write "Damascus" for either ("Darayya, Damascus"), and a name is not taken
  /// for another place over that.
  static func mayBeIn(_ governorate: String?, entry: ControlEntry) -> Bool {
    mayBeIn(governorate, placeOf: entry.governorateKey)
  }

  /// Whether a place of governorate `own` (the atlas's key; nil: any) may be the place of
  /// a report in `governorate`, Damascus and Rural Damascus counting as one.
  static func mayBeIn(_ governorate: String?, placeOf own: String?) -> Bool {
    guard let governorate, let own, own != governorate else { return true }
    return damascusPair.contains(own) && damascusPair.contains(governorate)
  }

  /// `location.governorate` beside `location.place`; nil for a text with no such sibling.
  static func governorateField(besidePlace field: ReportSchema.Field) -> ReportSchema.Field? {
    guard field.path.hasSuffix(".place") else { return nil }
    return ReportSchema.field(String(field.path.dropLast("place".count)) + "governorate")
  }

  /// Damascus city and Rural Damascus, by their atlas keys.
  static let damascusPair: Set<String> = Set(
    ["Damascus", "Rural Damascus"].compactMap { GovernorateAtlas.atlas.region(named: $0) })

  /// The entries a place text names: those of its first part that names any ("Manbij,
  /// Aleppo" is Manbij — the parts run from the most precise to the widest — not
  /// Manbij and Aleppo city). A later part that is a governorate's name is the
  /// governorate, the widest part: "Ain Issa, Raqqa" is a village of Raqqa governorate,
  /// not Raqqa city, which a text names first ("Raqqa", "Raqqa city, Raqqa").
  ///
  /// A text may also run from the widest, as datasets write admin paths: "Aleppo - Manbij",
  /// "حلب - منبج", "Raqqa, Ain Issa". So a first part that is a governorate's name is its
  /// city only when nothing but governorates or a bracketed qualifier follows ("Raqqa",
  /// "Idlib, Idlib", "Homs (Old City)"); followed by a place (in brackets too when an entry
  /// names it: "Raqqa (Ain Issa)"), it is the governorate: the
  /// place decides, and when it names no entry the governorate does (step 3), not the
  /// governorate's city. Damascus, whose governorate is the city, stays the city's.
  private func entries(named text: String) -> [Int] {
    let parts = Self.placeParts(text)
    let governorates = parts.map { GovernorateAtlas.atlas.region(named: $0.text) }
    let named = { (part: PlacePart) -> [Int] in
      let named = part.variants.compactMap { self.byNameWords[$0] }
      return named.count <= 1 ? named.first ?? [] : Array(Set(named.joined())).sorted()
    }
    let widestFirst = Self.runsFromTheWidest(parts, governorates: governorates) { !named($0).isEmpty }
    // A part naming only places of another governorate than the text's is passed over: "حي
    // اليرموك في الرقة" is a quarter of Raqqa, not the camp of Damascus (review of audit 53).
    // (Looked up only for a part that names entries: most texts name none.)
    lazy var governorate = governorateNamed(besidePlaceIn: text)
    var cityAsWidest: [Int] = []
    for (index, part) in parts.enumerated() {
      if let governorate = governorates[index] {
        if index == 0, widestFirst {
          if Self.cityGovernorates.contains(governorate) { cityAsWidest = named(part) }
          continue
        }
        if index > 0, !Self.cityGovernorates.contains(governorate), !part.inTown { continue }
      }
      var entries = named(part)
      if !entries.isEmpty { entries = entries.filter { Self.mayBeIn(governorate, entry: self.entries[$0]) } }
      // "Raqqa (countryside)", "Manbij, outskirts": around the town, not in it (audit 48),
      // as "Manbij countryside" and "near Raqqa" are.
      if !entries.isEmpty { return parts[(index + 1)...].contains(where: Self.isSurroundings) ? [] : entries }
    }
    return parts.dropFirst().contains(where: Self.isSurroundings) ? [] : cityAsWidest
  }

  /// A governorate's name first, then a part that is not a governorate and not in
  /// brackets, or in brackets but the name of a listed place: "Aleppo (Manbij)" is Manbij,
  /// while "Idlib (Kafr Nabudah)", a village no entry names, qualifies the city.
  static func runsFromTheWidest(
    _ parts: [PlacePart], governorates: [String?], namesAnEntry: (PlacePart) -> Bool = { _ in false }
  ) -> Bool {
    guard governorates.first != nil else { return false }
    // A quarter that names no entry is one of the first part's town: "Raqqa - al-Rumaila
    // neighbourhood" is in Raqqa city (audit 53), as "al-Rumaila neighbourhood, Raqqa" is.
    return parts.indices.dropFirst().contains {
      governorates[$0] == nil && (!parts[$0].bracketed || namesAnEntry(parts[$0]))
        && (!isQuarter(parts[$0]) || namesAnEntry(parts[$0]))
    }
  }

  /// The governorates that are a city, and nothing else: "Jobar, Damascus" is in Damascus
  /// city (Rural Damascus is another governorate).
  static let cityGovernorates: Set<String> = Set([GovernorateAtlas.atlas.region(named: "Damascus")].compactMap { $0 })

  /// The governorate the last of a place text's later parts names, if one does; else the
  /// one its first part names ("Idlib - Kafr Nabudah"; "Idlib Governorate", "محافظة إدلب";
  /// "Raqqa" or "Raqqa - al-Rumaila neighbourhood", whose city is in it), or the one whose
  /// countryside it is ("ريف إدلب", "Idlib countryside"): an entry for the whole
  /// governorate covers such a text when no entry it names does (audit 53).
  func governorateNamed(besidePlaceIn text: String) -> String? {
    let parts = Self.placeParts(text)
    let governorates = parts.map { GovernorateAtlas.atlas.region(named: $0.text) }
    if let later = governorates.dropFirst().reversed().lazy.compactMap({ $0 }).first { return later }
    if let first = governorates.first ?? nil { return first }
    // (A countryside says so in a word: only then is the atlas asked again, a first reading
    // of every text cost some 70,000 instructions without this, bench/count-instructions.)
    guard let first = parts.first, first.variants.contains(where: { $0.contains(where: Self.countrysideMarks.contains) }),
      let countryside = Self.laterGovernorate(first.text)
    else { return nil }
    return GovernorateAtlas.atlas.region(named: countryside)
  }

  /// Words that only say what kind of place a name is: "Raqqa city" is Raqqa.
  static let qualifiers = Set(
    (["city", "town", "village", "centre", "center", "downtown", "central", "inside"] + ["مدينة", "بلدة", "قرية", "وسط", "داخل"])
      .flatMap(PlaceWords.words(of:)))

  /// The sites a place text may name in a town: a market, a hospital, a school. (Not "old":
  /// the Old City of Homs is a place of its own.) Read as the site of a town only where
  /// they mean that: first, without an article ("سوق الرقة", "مشفى الباب"), or last without
  /// one ("Raqqa market"); not "Bab al-Souq" or "باب السوق", a gate of the market, where the
  /// site word carries the article. A name made with one (Souq Wadi Barada) is still read
  /// whole first.
  static let siteWords = [
    "market", "marketplace", "souk", "souq", "hospital", "clinic", "school", "bakery", "mosque", "church",
    "سوق", "مشفى", "مستشفى", "مستوصف", "مدرسة", "فرن", "مخبز", "جامع", "مسجد", "كنيسة",
  ]

  /// Whether a word as written is a site word without an article ("souq", "سوق"; not
  /// "al-Souq", "السوق").
  static func isBareSite(_ token: Substring) -> Bool {
    let written = withoutOuterPunctuation(token)
    if written.hasPrefix("ال") || hasLatinArticle(written) { return false }
    return siteWordsAsWritten.contains(NameNormalizer.words(of: written))
  }

  /// `al-` or `el-` in any case.
  private static func hasLatinArticle(_ text: String) -> Bool {
    let start = Array(text.utf8.prefix(3))
    guard start.count == 3, start[1] | 0x20 == UInt8(ascii: "l"), start[2] == UInt8(ascii: "-") else { return false }
    return start[0] | 0x20 == UInt8(ascii: "a") || start[0] | 0x20 == UInt8(ascii: "e")
  }

  /// A token without the punctuation before and after it (Unicode's P categories, as
  /// Foundation's `punctuationCharacters`, whose set cost thousands of instructions a token).
  static func withoutOuterPunctuation(_ token: Substring) -> String {
    let scalars = token.unicodeScalars
    guard let first = scalars.firstIndex(where: { !isPunctuation($0) }) else { return "" }
    let last = scalars.lastIndex(where: { !isPunctuation($0) })!
    return String(scalars[first...last])
  }

  private static func isPunctuation(_ scalar: Unicode.Scalar) -> Bool {
    if scalar.isASCII {
      switch scalar.value {
      case 0x21...0x23, 0x25...0x2A, 0x2C...0x2F, 0x3A, 0x3B, 0x3F, 0x40, 0x5B...0x5D, 0x5F, 0x7B, 0x7D: return true
      default: return false
      }
    }
    switch scalar.properties.generalCategory {
    case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation, .initialPunctuation,
      .finalPunctuation, .otherPunctuation:
      return true
    default:
      return false
    }
  }

  /// A text's runs of characters between white space, as `split(whereSeparator:
  /// \.isWhitespace)` gives them; an ASCII text split by its bytes (the split by
  /// characters, each looked up in Unicode's tables, cost thousands of instructions for
  /// each place name first seen).
  static func whitespaceTokens(_ text: String) -> [Substring] {
    let utf8 = text.utf8
    guard utf8.allSatisfy({ $0 < 0x80 }) else { return text.split(whereSeparator: \.isWhitespace) }
    var tokens: [Substring] = []
    var start: String.Index?
    for index in utf8.indices {
      let byte = utf8[index]
      if byte == 0x20 || (0x09...0x0D).contains(byte) {
        if let first = start { tokens.append(text[first..<index]) }
        start = nil
      } else if start == nil {
        start = index
      }
    }
    if let first = start { tokens.append(text[first...]) }
    return tokens
  }

  /// The site words as words are read before place names are (not "Ein" as "in").
  static let siteWordsAsWritten = Set(siteWords.map { NameNormalizer.words(of: $0) })

  /// The words that may join a site to its town: "the market in Raqqa", "hospital of al-Bab".
  static let siteJoints: Set<[String]> = [["in"], ["of"], ["at"], ["في"]]

  /// What a part may start with to say which kind of place follows: "the city of Raqqa".
  static let kindOpenings: [[String]] = [
    "the city of", "city of", "the town of", "town of", "the village of", "village of",
    "the centre of", "centre of", "the center of", "center of", "the city centre of", "the city center of",
  ]
  .map { NameNormalizer.words(of: $0) }

  static let longestKindOpening = kindOpenings.map(\.count).max() ?? 0

  /// A part of a place text as written, without what says only that it is where something
  /// happened — a first word "in" or "في" ("in Raqqa city", "في مدينة الرقة"; "near" is not
  /// one: near a town is not in it) — and without the country after it when no separator
  /// came between ("Raqqa Syria"). Compared as written, before the words are read, since
  /// a place's reading of "Ein" (Ras al-Ein) is "in" too; and the governorate a part names
  /// is looked up on what is left ("in Aleppo - Manbij" runs from the widest).
  static func withoutLocatives(_ text: String) -> String {
    var tokens = whitespaceTokens(text).map(withoutPossessive)
    // Read as names are (`فى`, `فِي`, a direction mark before it), but not as place names
    // are, which take "Ein" for "in".
    if tokens.count > 1, [["in"], ["في"]].contains(NameNormalizer.words(of: tokens[0])) { tokens.removeFirst() }
    // "the market in Raqqa", "a market in Raqqa", "hospital of al-Bab": the site and its joint go (a site after
    // the name, "Raqqa market", is a qualifier of the name's).
    let leadingSite = tokens.first.map { [["the"], ["a"], ["an"]].contains(NameNormalizer.words(of: $0)) } == true ? 1 : 0
    if tokens.count > leadingSite + 2,
      siteWordsAsWritten.contains(NameNormalizer.words(of: tokens[leadingSite])),
      siteJoints.contains(NameNormalizer.words(of: tokens[leadingSite + 1]))
    {
      tokens.removeFirst(leadingSite + 2)
    }
    // Each token's words read once (a name's words are its tokens' words, one after another).
    let tokenWords = tokens.prefix(longestKindOpening).map { NameNormalizer.words(of: $0) }
    for opening in kindOpenings where tokens.count > opening.count {
      if Array(tokenWords.prefix(opening.count).joined()) == opening {
        tokens.removeFirst(opening.count)
        break
      }
    }
    // "Raqqa-Syria": the country after a hyphen, too.
    if let last = tokens.last, let hyphen = last.lastIndex(of: "-"), hyphen != last.startIndex,
      countryNames.contains(PlaceWords.words(of: String(last[last.index(after: hyphen)...])))
    {
      tokens[tokens.count - 1] = String(last[..<hyphen])
    } else {
      for length in (1...3).reversed() where tokens.count > length {
        if countryNames.contains(PlaceWords.words(of: tokens.suffix(length).joined(separator: " "))) {
          tokens.removeLast(length)
          // And the direction of the country before it, and what says it is where: "Raqqa
          // northern Syria", "Raqqa in north-east Syria", "الرقة في شمال سوريا".
          while let last = tokens.last,
            case let words = PlaceWords.words(of: last), !words.isEmpty, words.allSatisfy(directionWords.contains)
          {
            tokens.removeLast()
          }
          if tokens.count > 1, let last = tokens.last, [["in"], ["في"]].contains(NameNormalizer.words(of: last)) {
            tokens.removeLast()
          }
          break
        }
      }
    }
    return tokens.joined(separator: " ")
  }

  /// A token without an English possessive's `'s` (`’s`, `ʼs`) after a letter: "Manbij’s
  /// market" is Manbij's market (audit 50), as the designations plugin reads "ISIL's".
  static func withoutPossessive(_ token: Substring) -> String {
    guard let apostrophe = possessiveApostrophe(in: token) else { return String(token) }
    return String(String.UnicodeScalarView(token.unicodeScalars[..<apostrophe]))
  }

  /// Where the apostrophe of a token's possessive `'s` is, if it ends in one (no `String`
  /// made: asked of every token of every text first read).
  static func possessiveApostrophe(in token: Substring) -> Substring.UnicodeScalarView.Index? {
    // Most tokens end in no `s` after an apostrophe: told by their last bytes.
    guard let last = token.utf8.last, last | 0x20 == UInt8(ascii: "s") else { return nil }
    let scalars = token.unicodeScalars
    var index = scalars.index(before: scalars.endIndex)
    guard index > scalars.startIndex else { return nil }
    index = scalars.index(before: index)
    guard ["'", "\u{2019}", "\u{2BC}"].contains(scalars[index]), index > scalars.startIndex,
      scalars[scalars.index(before: index)].properties.isAlphabetic
    else { return nil }
    return index
  }

  /// The ways a place text names a place, part by part: each of its comma- or
  /// dash-separated parts ("Al-Sukkari, Aleppo": Al-Sukkari, then Aleppo), as words, as
  /// written and without the qualifier words. A part names an entry's place when it is
  /// one of its names entire: a name inside a longer one is another place (al-Bab is not
  /// Bab al-Hawa; Idlib countryside is not Idlib).
  ///
  /// A part that says nothing of where — only kind words ("Raqqa (city)"), or the country
  /// ("Raqqa, Syria") — is no part: it would be taken for the place, or make the text
  /// seem to run from the widest.
  static func placeParts(_ text: String) -> [PlacePart] {
    knownPlaceParts.value(for: ReportText(text)) { _ in readPlaceParts(text) }
  }

  /// The parts of the texts read so far: the control map and the places' functions each
  /// read a text first seen, several times over (some 7 readings a text, each ~25,000
  /// instructions, bench/count-instructions).
  private static let knownPlaceParts = TextCache<[PlacePart]>()

  private static func readPlaceParts(_ text: String) -> [PlacePart] {
    var parts: [PlacePart] = []
    let pieces = partPieces(text).flatMap { piece in
      atCountryside(piece.text).enumerated().flatMap { countryside in
        atTownOfSite(countryside.element).enumerated().map {
          (
            text: $0.element.text, bracketed: piece.bracketed && countryside.offset == 0 && $0.offset == 0,
            inTown: $0.element.inTown, countryside: countryside.offset > 0
          )
        }
      }
    }
    // A later part that is a governorate's countryside is the governorate: "Yarmouk, Daraa
    // countryside", "Yarmouk, rural Daraa" are a Yarmouk of Daraa, as "Yarmouk in rural
    // Daraa" is (audit 48). Not after a governorate's own name: "Idlib, Idlib countryside"
    // runs from the widest, the governorate.
    let firstIsGovernorate = pieces.first.map { GovernorateAtlas.atlas.region(named: withoutLocatives($0.text)) != nil } ?? false
    for (index, piece) in pieces.enumerated() {
      var written = withoutLocatives(piece.text)
      // (A countryside is no town's: "حي الرميلة بريف الرقة" is in Raqqa governorate; "eastern
      // Raqqa" after a quarter is the east of the city.)
      var countryside = piece.countryside
      if index > 0, !firstIsGovernorate, let governorate = laterGovernorate(written) {
        countryside = countryside || PlaceWords.words(of: written).contains(where: countrysideMarks.contains)
        written = governorate
      }
      let words = PlaceWords.words(of: written)
      guard !words.isEmpty, !isCountry(words) else { continue }
      var bare = words.filter { !qualifiers.contains($0) }
      // A part of kind words alone after the first says nothing of where: no part ("Raqqa
      // (city)"). One that names a site alone ("hospital, Raqqa"), or a first part of kind
      // words alone ("village, Raqqa", "قرية بريف الرقة": an unnamed village), is a part
      // that names no place, so that what follows it is read as after a place (Raqqa the
      // governorate, not its city: review of audit 50).
      if bare.isEmpty {
        guard parts.isEmpty else { continue }
        parts.append(PlacePart(text: written, variants: [], bracketed: piece.bracketed))
        continue
      }
      let tokens = whitespaceTokens(written)
      if tokens.count > 1, let first = tokens.first, isBareSite(first), bare.first == PlaceWords.words(of: String(first)).first {
        bare.removeFirst()
      }
      if tokens.count > 1, let last = tokens.last, isBareSite(last), bare.last == PlaceWords.words(of: String(last)).last,
        !bare.isEmpty
      {
        bare.removeLast()
      }
      var variants = bare.isEmpty || bare == words ? [words] : [words, bare]
      // A neighbourhood is named by its name: "Hajar al-Aswad neighbourhood", "حي جوبر" name
      // Hajar al-Aswad and Jobar (review of audit 53), where a street or a square is named
      // after a place it is not ("Tal Abyad street" is in Raqqa).
      if bare.contains(where: areaWords.contains), case let area = bare.filter({ !areaWords.contains($0) }), !area.isEmpty {
        variants.append(area)
      }
      var part = PlacePart(text: written, variants: variants, bracketed: piece.bracketed)
      // A quarter as the first part, then the governorate's name: its city (not after a
      // place: "Ain Issa, main square, Raqqa" is a square of Ain Issa).
      part.inTown = piece.inTown || (parts.count == 1 && isQuarter(parts[0]) && !countryside)
      parts.append(part)
    }
    return parts
  }

  /// A town's quarters, squares and streets: what is named with one of them is in a town,
  /// not in the countryside. (Not "district", which is also a governorate's district:
  /// Manbij District is wider than the town; nor the sites, a market or a hospital, which
  /// villages have too: "Ain Issa hospital in Raqqa" is in Raqqa governorate.)
  static let quarterWords = Set(
    ["neighbourhood", "neighborhood", "quarter", "square", "street", "roundabout", "حي", "ساحة", "شارع", "دوار"]
      .map { NameNormalizer.words(of: $0) })

  /// The words that say a countryside, as place names are read.
  static let countrysideMarks = Set(["countryside", "rural", "rif", "reef", "ريف"].flatMap(PlaceWords.words(of:)))

  /// The quarter words that name an area by its own name, as place names are read.
  static let areaWords = Set(["neighbourhood", "neighborhood", "quarter", "حي"].flatMap(PlaceWords.words(of:)))

  /// Whether a part names a quarter of a town ("Al-Rumaila neighbourhood"), so that a
  /// governorate's name right after it is the town ("…, Raqqa" is Raqqa city). (A site
  /// alone may be anywhere in the governorate: "hospital, Idlib" is Idlib governorate.)
  static func isQuarter(_ part: PlacePart) -> Bool {
    whitespaceTokens(part.text).contains { quarterWords.contains(NameNormalizer.words(of: withoutOuterPunctuation($0))) }
  }

  /// A piece naming a quarter of a town, then the town it is in, split there: "al-Naim
  /// square in Raqqa" is "al-Naim square", then Raqqa (the town, its part marked so);
  /// "حي الرميلة في الرقة" is حي الرميلة, then الرقة (audit 50). Only at the piece's first
  /// "in", "at", "of", "في" or بال ("in the", written together with the town): "a square in
  /// Ain Issa in Raqqa" is in Ain Issa, a village of Raqqa governorate. A quarter named
  /// before it is read first, as any first part is.
  ///
  /// And an unnamed village, then where it is ("قرية بالرقة", "a village in Raqqa"): the
  /// village, then the rest, read as after a place (Raqqa the governorate).
  static func atTownOfSite(_ text: String) -> [(text: String, inTown: Bool)] {
    let tokens = whitespaceTokens(text)
    guard tokens.count > 1 else { return [(text, false)] }
    let article = tokens.first.map { [["a"], ["the"]].contains(NameNormalizer.words(of: String($0))) } == true ? 1 : 0
    if tokens.count > article + 1, villageWords.contains(NameNormalizer.words(of: String(tokens[article]))) {
      let next = tokens[article + 1]
      if let town = townAfterIn(next) {
        let rest = [town] + tokens[(article + 2)...].map(String.init)
        return [(tokens[...article].joined(separator: " "), false), (rest.joined(separator: " "), false)]
      }
      if tokens.count > article + 2, [["in"], ["في"]].contains(NameNormalizer.words(of: String(next))) {
        return [(tokens[...article].joined(separator: " "), false), (tokens[(article + 2)...].joined(separator: " "), false)]
      }
    }
    // A town's possessive, then a quarter of it: "Raqqa's al-Rumaila neighbourhood", "Abu
    // Kamal's main square" are the quarter, then the town (audit 53), as "al-Rumaila
    // neighbourhood, Raqqa" is.
    // Not a quarter's own name, the quarter word alone after the possessive ("Martyr's
    // Square": review of audit 53), nor a text that says the town after "in" ("Martyr's
    // Square in Raqqa", read below).
    if let owner = tokens.firstIndex(where: { possessiveApostrophe(in: $0) != nil }),
      case let after = tokens[(owner + 1)...].map({ NameNormalizer.words(of: withoutOuterPunctuation($0)) }),
      after.count > 1, after.contains(where: quarterWords.contains), !after.contains(where: siteJoints.contains),
      !tokens.contains(where: { townAfterIn($0) != nil })
    {
      let town = tokens[..<owner].map(String.init) + [withoutPossessive(tokens[owner])]
      return [(tokens[(owner + 1)...].joined(separator: " "), false), (town.joined(separator: " "), true)]
    }
    guard tokens.count > 2 else { return [(text, false)] }
    var sawQuarter = false
    var sawName = false
    for (index, token) in tokens.enumerated() {
      let words = NameNormalizer.words(of: withoutOuterPunctuation(token))
      let together = townAfterIn(token)
      if index > 0, siteJoints.contains(words) || together != nil {
        guard sawQuarter, sawName, together != nil || index < tokens.count - 1 else { return [(text, false)] }
        let town = (together.map { [$0] } ?? []) + tokens[(index + 1)...].map(String.init)
        return [(tokens[..<index].joined(separator: " "), false), (town.joined(separator: " "), true)]
      }
      if quarterWords.contains(words) {
        sawQuarter = true
      } else if !words.isEmpty, ![["the"], ["a"], ["an"]].contains(words) {
        sawName = true
      }
    }
    return [(text, false)]
  }

  /// A token that is "in the" written together with a town, بالرقة: the town, الرقة; or
  /// "in the city of", "in the town of" written together, بمدينة, ببلدة: the kind word,
  /// before the town's name (audit 53: "حي الحزاونة بمدينة منبج"); nil for any other token.
  /// (Not ب before any name: بنش is Binnish, not نش.)
  static func townAfterIn(_ token: Substring) -> String? {
    if token == "بمدينة" || token == "ببلدة" { return String(token.dropFirst()) }
    return token.hasPrefix("بال") && token.unicodeScalars.count > 4 ? String(token.dropFirst()) : nil
  }

  /// The words for a village, which a text may name with no name of its own.
  static let villageWords: Set<[String]> = Set(["village", "قرية"].map { NameNormalizer.words(of: $0) })

  /// The governorate a later part of a place text names with its countryside words
  /// ("Daraa countryside", "rural Daraa", "ريف درعا الغربي"), as the atlas names it; nil
  /// when it names none so. (Not its city: "Al-Sukkari, Aleppo city" is in the city.)
  static func laterGovernorate(_ text: String) -> String? {
    let atlas = GovernorateAtlas.atlas
    guard atlas.region(named: text) == nil else { return nil }
    let countryside = countrysideGovernorate(text)
    return countryside != text && atlas.region(named: countryside) != nil ? countryside : nil
  }

  /// Words that say a part is around a town, not in it: "Raqqa (countryside)", "Manbij -
  /// outskirts", "منبج (الريف)", "Manbij, eastern countryside" (with words of a direction).
  static let surroundingsWords = Set(
    [
      "countryside", "outskirts", "outskirt", "suburbs", "suburb", "surroundings", "surrounding", "vicinity",
      "environs", "periphery", "near", "nearby", "around", "rural", "outside", "fringes", "edge", "edges",
      "ريف", "محيط", "أطراف", "ضواحي", "ضاحية", "قرب", "بالقرب", "حول", "خارج", "جوار",
    ].flatMap(PlaceWords.words(of:)))

  /// Whether a part says only that the place is around what came before it: surroundings
  /// words, with words of a direction and `the`, `of`, `من`.
  static func isSurroundings(_ part: PlacePart) -> Bool {
    guard let words = part.variants.first, words.contains(where: surroundingsWords.contains) else { return false }
    let joints = Set(["the", "of", "من"].flatMap(PlaceWords.words(of:)))
    return words.allSatisfy { surroundingsWords.contains($0) || directionWords.contains($0) || joints.contains($0) }
  }

  /// One part of a place text: as written, its ways of naming a place, and whether it was
  /// in brackets ("Homs (Old City)": a qualifier of what comes before it).
  struct PlacePart: Sendable {
    let text: String
    let variants: [[String]]
    let bracketed: Bool
    /// Whether the part is the town that a site or a quarter named before it lies in ("the
    /// National Hospital in Raqqa", "حي الرميلة في الرقة", "Al-Rumaila neighbourhood,
    /// Raqqa"): a governorate's name there is its city, not the governorate.
    var inTown = false
  }

  /// Syria, as place texts name it after a place.
  static let countryNames: Set<[String]> = Set(
    ["Syria", "Syrian Arab Republic", "سوريا", "سورية", "الجمهورية العربية السورية"].map(PlaceWords.words(of:)))

  /// Words of a direction or a region of the country: "northern Syria", "شمال سوريا",
  /// "north-east Syria", "شمال شرق سوريا" say no more of where than "Syria" does.
  static let directionWords = Set(
    [
      "north", "northern", "south", "southern", "east", "eastern", "west", "western", "central",
      "northeast", "northeastern", "northwest", "northwestern", "southeast", "southeastern", "southwest", "southwestern",
      "شمال", "شمالي", "جنوب", "جنوبي", "شرق", "شرقي", "غرب", "غربي", "وسط",
    ].flatMap(PlaceWords.words(of:)))

  /// Whether a part's words are the country, alone or after words of a direction (a
  /// direction alone, "Raqqa - north", is part of where: not the country).
  static func isCountry(_ words: [String]) -> Bool {
    countryNames.contains(Array(words.drop { directionWords.contains($0) }))
  }

  /// A piece of a place text split where its countryside begins, which reports write
  /// without a separator: "مدينة الباب بريف حلب الشرقي" (the town of al-Bab in the
  /// eastern Aleppo countryside) is al-Bab, then "ريف حلب الشرقي"; "Manbij in the Aleppo
  /// countryside" and "Manbij in rural Aleppo" are Manbij, then the countryside. So the
  /// town is read as a first part is ("Manbij, Aleppo countryside"), and a countryside
  /// that is a governorate ("دوما بريف دمشق": ريف دمشق, Rural Damascus) is read as one. A
  /// text that starts with the countryside ("ريف حلب", "rural Idlib") is not split: it
  /// names no town.
  static func atCountryside(_ text: String) -> [String] {
    let tokens = whitespaceTokens(text)
    guard tokens.count > 2 else { return [text] }
    let words = tokens.map { NameNormalizer.words(of: String($0)) }
    // The last such place: "a school in Kafr Batna in the Damascus countryside" is Kafr
    // Batna's school, in Rural Damascus.
    for index in stride(from: tokens.count - 2, through: 1, by: -1) {
      // ريف, بريف, وريف (the article-less countryside of the name after it).
      if words[index] == ["ريف"] {
        let before = tokens[..<index].dropLast(words[index - 1] == ["في"] ? 1 : 0)
        guard !before.isEmpty else { return [text] }
        return [before.joined(separator: " "), countrysideGovernorate("ريف " + tokens[(index + 1)...].joined(separator: " "))]
      }
      // "in the Aleppo countryside", "in the countryside of Aleppo", "in rural Aleppo".
      if words[index] == ["in"] {
        let rest = words[(index + 1)...].joined()
        let after = rest.first == "the" ? Array(rest.dropFirst()) : Array(rest)
        // ("the eastern Aleppo countryside", "rural Idlib", "Rif Dimashq", "eastern rural Homs")
        let countryside = after.contains("countryside") || after.prefix(2).contains { ["rural", "rif", "reef"].contains($0) }
        if countryside {
          return [tokens[..<index].joined(separator: " "), countrysideGovernorate(tokens[(index + 1)...].joined(separator: " "))]
        }
      }
    }
    return [text]
  }

  /// A governorate's countryside as the governorate's name, so that it is read as a later
  /// part naming the governorate is ("اليرموك بريف درعا" is a Yarmouk of Daraa, not the
  /// camp): the text itself when the atlas knows it ("ريف دمشق", "Damascus countryside":
  /// Rural Damascus), else without its countryside and direction words when what is left
  /// is a governorate ("ريف حلب الشرقي", "the eastern Aleppo countryside": Aleppo); else
  /// as written (a town's countryside, "ريف منبج", names no place).
  static func countrysideGovernorate(_ text: String) -> String {
    let countrysideWords: Set<String> = ["the", "countryside", "rural", "rif", "reef", "ريف", "of"]
    let words = NameNormalizer.words(of: text)
    let withoutDirections = words.filter { !directionWords.contains($0) && !directionWords.contains(TransliteratedWords.latinKey($0)) }
    let atlas = GovernorateAtlas.atlas
    if atlas.region(named: withoutDirections.filter { $0 != "the" }.joined(separator: " ")) != nil {
      return withoutDirections.filter { $0 != "the" }.joined(separator: " ")
    }
    let bare = withoutDirections.filter { !countrysideWords.contains($0) }.joined(separator: " ")
    // Damascus's countryside is Rural Damascus, another governorate ("the countryside of
    // Damascus" is not the city's: review of audit 53).
    if let key = atlas.region(named: bare), cityGovernorates.contains(key) { return "Rural Damascus" }
    return atlas.region(named: bare) != nil ? bare : text
  }

  /// The separators of a place text's parts, besides " - ": , ، ; ؛ / ( ) [ ] – —.
  static func isSeparator(_ scalar: Unicode.Scalar) -> Bool {
    switch scalar.value {
    case 0x2C, 0x060C, 0x3B, 0x061B, 0x2F, 0x28, 0x29, 0x5B, 0x5D, 0x2013, 0x2014: true
    default: false
    }
  }

  /// The text's parts: split at " - " (whole characters, as Foundation matches a string: a
  /// space that carries a combining mark is no separator), then at each separator scalar.
  /// Foundation's `components(separatedBy:)` with a `CharacterSet` built for each text cost
  /// some 40,000 instructions a place name (bench/count-instructions), for each one first seen.
  static func partTexts(_ text: String) -> [String] {
    partPieces(text).map(\.text)
  }

  /// The parts, each with whether an opening bracket came just before it.
  static func partPieces(_ text: String) -> [(text: String, bracketed: Bool)] {
    var pieces: [(text: String, bracketed: Bool)] = []
    // Most texts have no " - ": looked for by their bytes first, the character split costs
    // only those that do.
    let dashed = text.utf8.firstRange(of: " - ".utf8) != nil
    let dashSplit = dashed ? text.split(separator: " - ", omittingEmptySubsequences: false) : [Substring(text)]
    for piece in dashSplit {
      var part = String.UnicodeScalarView()
      var bracketed = false
      for scalar in piece.unicodeScalars {
        if isSeparator(scalar) {
          pieces.append((String(part), bracketed))
          part = String.UnicodeScalarView()
          bracketed = scalar == "(" || scalar == "["
        } else {
          part.append(scalar)
        }
      }
      pieces.append((String(part), bracketed))
    }
    return pieces
  }

  /// The verdict of the covering entries: who held the place, designated groups or others.
  private func finding(_ covering: [Int]) -> ControlFinding {
    var designated = false
    var others = false
    for index in covering {
      designated = designated || !entries[index].designated.isEmpty
      others = others || !entries[index].others.isEmpty
    }
    switch (designated, others) {
    case (true, false): return ControlFinding(verdict: .designated, covering: covering)
    case (true, true): return ControlFinding(verdict: .shared, covering: covering)
    default: return ControlFinding(verdict: .others, covering: covering)
    }
  }

  /// What `control_note` says of a finding: who held the place, and the entries that say so.
  func note(for finding: ControlFinding) -> String {
    var designated: [String] = []
    var others: [String] = []
    for entry in finding.covering.map({ entries[$0] }) {
      for holder in entry.designated where !designated.contains(holder) { designated.append(holder) }
      for holder in entry.others where !others.contains(holder) { others.append(holder) }
    }
    let place = entries[finding.covering[0]].label
    let cited = "control: " + finding.covering.map { entries[$0].key }.joined(separator: ", ")
    switch finding.verdict {
    case .designated: return "\(place) was held by \(Self.list(designated)) alone (\(cited))"
    case .shared: return "\(place) was held by \(Self.list(designated)) together with \(Self.list(others)) (\(cited))"
    case .others: return "\(place) was held by \(Self.list(others)) (\(cited))"
    }
  }

  static func list(_ names: [String]) -> String {
    names.count <= 2 ? names.joined(separator: " and ") : names.dropLast().joined(separator: ", ") + " and " + names.last!
  }
}
