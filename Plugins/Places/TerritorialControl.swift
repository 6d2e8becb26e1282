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
    var keys: [String: SourcePosition] = [:]
    for item in items {
      switch ControlEntry.read(item) {
      case .failure(let problems): errors += problems.errors
      case .success(let entry):
        if let earlier = keys[entry.key] {
          errors.append(RuleError(entry.position, "control \(entry.key) is already defined at \(earlier)"))
        }
        keys[entry.key] = entry.position
        entries.append(entry)
      }
    }
    errors += ControlEntry.overlaps(in: entries)
    guard errors.isEmpty else { return .failure(RuleSetErrors(errors: errors)) }
    let map = ControlMap(entries: entries)
    let control = ConditionFunction(name: "control", parameters: [.field(.object)], result: .text) { arguments in
      let read = map.reader(for: arguments)
      return { report in read(report).map { .text(ReportText($0.verdict.rawValue)) } }
    }
    let note = ConditionFunction(name: "control_note", parameters: [.field(.object)], result: .text) { arguments in
      let read = map.reader(for: arguments)
      // Only where designated groups held the place: control by others is the common case,
      // and no message needs to say it.
      return { report in read(report).flatMap { $0.verdict == .others ? nil : .text(ReportText($0.note)) } }
    }
    return .success([control, note])
  }
}

/// What the entries that cover a place on a date say together.
struct ControlFinding {
  enum Verdict: String {
    case designated, shared, others
  }

  let verdict: Verdict
  let note: String
}

/// The entries, and how a report's location finds them.
struct ControlMap: Sendable {
  let entries: [ControlEntry]
  /// By place text: the entries whose names occur in it.
  private let byPlace = TextCache<[Int]>()
  private let byGovernorate = TextCache<[Int]>()

  init(entries: [ControlEntry]) {
    self.entries = entries
  }

  /// The reading of one call: `control(location)` names the location object.
  func reader(for arguments: [ConditionFunction.Argument]) -> @Sendable (Report) -> ControlFinding? {
    guard case .field(let location) = arguments[0] else { return { _ in nil } }
    let part = { (name: String) in ReportSchema.field(location.path + "." + name) }
    let place = part("place")
    let governorate = part("governorate")
    let latitude = part("lat")
    let longitude = part("lon")
    let occurredAt = ReportSchema.field("occurred_at")
    return { report in
      guard case .timestamp(let time)? = occurredAt?.read(report) else { return nil }
      // The date as the report writes it: its own local date.
      let day = String(time.text.string.prefix(10))
      let onThatDay = { (indices: [Int]) in
        indices.map { entries[$0] }.filter { $0.from <= day && day < ($0.to ?? "9999") }
      }
      // The most precise way first; a way that finds no entry for that day gives way to the next.
      if case .number(let lat)? = latitude?.read(report), case .number(let lon)? = longitude?.read(report) {
        let covering = onThatDay(entries.indices.filter { entries[$0].holds(lat: lat, lon: lon) })
        if !covering.isEmpty { return finding(covering) }
      }
      if case .text(let text)? = place?.read(report) {
        let covering = onThatDay(byPlace.value(for: text) { text in self.entries(named: text.string) })
        if !covering.isEmpty { return finding(covering) }
      }
      if case .text(let text)? = governorate?.read(report) {
        let covering = onThatDay(
          byGovernorate.value(for: text) { text in
            let words = NameNormalizer.words(of: text.string)
            return entries.indices.filter {
              entries[$0].coversWholeGovernorate && entries[$0].governorateAlias?.occurs(in: words) == true
            }
          })
        if !covering.isEmpty { return finding(covering) }
      }
      return nil
    }
  }

  /// The entries a place text names: those of its first part that names any ("Manbij,
  /// Aleppo" is Manbij — the parts run from the most precise to the widest — not
  /// Manbij and Aleppo city).
  private func entries(named text: String) -> [Int] {
    for variants in Self.placeParts(text) {
      let named = entries.indices.filter { index in
        entries[index].aliases.contains { alias in variants.contains { $0 == alias.words } }
      }
      if !named.isEmpty { return named }
    }
    return []
  }

  /// Words that only say what kind of place a name is: "Raqqa city" is Raqqa.
  static let qualifiers = Set(["city", "town", "centre", "center", "downtown"] + ["مدينة", "بلدة"].flatMap(NameNormalizer.words(of:)))

  /// The ways a place text names a place, part by part: each of its comma- or
  /// dash-separated parts ("Al-Sukkari, Aleppo": Al-Sukkari, then Aleppo), as words, as
  /// written and without the qualifier words. A part names an entry's place when it is
  /// one of its names entire: a name inside a longer one is another place (al-Bab is not
  /// Bab al-Hawa; Idlib countryside is not Idlib).
  static func placeParts(_ text: String) -> [[[String]]] {
    let separators = CharacterSet(charactersIn: ",،;/()").union(CharacterSet(charactersIn: "–—"))
    var parts: [[[String]]] = []
    for part in text.components(separatedBy: " - ").flatMap({ $0.components(separatedBy: separators) }) {
      let words = NameNormalizer.words(of: part)
      guard !words.isEmpty else { continue }
      let bare = words.filter { !qualifiers.contains($0) }
      parts.append(!bare.isEmpty && bare != words ? [words, bare] : [words])
    }
    return parts
  }

  private func finding(_ covering: [ControlEntry]) -> ControlFinding? {
    guard let first = covering.first else { return nil }
    var designated: [String] = []
    var others: [String] = []
    for entry in covering {
      for holder in entry.designated where !designated.contains(holder) { designated.append(holder) }
      for holder in entry.others where !others.contains(holder) { others.append(holder) }
    }
    let place = first.label
    let cited = "control: " + covering.map(\.key).joined(separator: ", ")
    switch (designated.isEmpty, others.isEmpty) {
    case (false, true):
      return ControlFinding(
        verdict: .designated, note: "\(place) was held by \(Self.list(designated)) alone (\(cited))")
    case (false, false):
      return ControlFinding(
        verdict: .shared,
        note: "\(place) was held by \(Self.list(designated)) together with \(Self.list(others)) (\(cited))")
    default:
      return ControlFinding(verdict: .others, note: "\(place) was held by \(Self.list(others)) (\(cited))")
    }
  }

  static func list(_ names: [String]) -> String {
    names.count <= 2 ? names.joined(separator: " and ") : names.dropLast().joined(separator: ", ") + " and " + names.last!
  }
}
