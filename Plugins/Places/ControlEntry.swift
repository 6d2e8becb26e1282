import Foundation
import VigilCore

/// One `control` item: a place (names, a governorate, a circle), who held it, from when to
/// when, and the source that says so.
struct ControlEntry: Sendable {
  let key: String
  let names: [String]
  let aliases: [Alias]
  let governorate: String?
  /// The governorate's key in the atlas (`SY07`): a report's governorate text, in any
  /// spelling the atlas knows, is compared by it ("Rural Damascus" is never Damascus).
  let governorateKey: String?
  let point: (lat: Double, lon: Double, radiusKilometres: Double)?
  let designated: [String]
  let others: [String]
  /// `YYYY-MM-DD`; `to` is the first day it no longer held so.
  let from: String
  let to: String?
  let source: String
  let position: SourcePosition

  /// How a message names the place.
  var label: String { names.first ?? governorate ?? key }

  /// An entry for a whole governorate: no names, no circle.
  var coversWholeGovernorate: Bool { names.isEmpty && point == nil && governorate != nil }

  static let knownKeys = ["control", "names", "governorate", "point", "designated", "others", "from", "to", "source", "disputed"]

  static let earthRadiusKilometres = 6371.0

  static func read(_ item: RuleNode) -> Result<ControlEntry, RuleSetErrors> {
    guard case .mapping(let members, let position) = item else {
      return .failure(RuleSetErrors(errors: [RuleError(item.position, "a control is a mapping with 'control', 'names', 'from', 'source', …")]))
    }
    var reader = Reader()
    var key: String?
    var names: [String] = []
    var governorate: String?
    var governorateKey: String?
    var point: (Double, Double, Double)?
    var placeGiven = false
    var designated: [String]?
    var others: [String]?
    var from: String?
    var to: String?
    var source: String?
    // The keys written, whatever their values: a bad value is its own error, not a key missing.
    let given = Set(members.map(\.key))
    for member in members {
      switch member.key {
      case "control": key = reader.key(member.value)
      case "names":
        names = reader.texts(member.value, "names") ?? []
        placeGiven = true
      case "governorate":
        governorate = reader.text(member.value, "governorate")
        if let governorate {
          governorateKey = GovernorateAtlas.atlas.region(named: governorate)
          if governorateKey == nil {
            let known = GovernorateAtlas.atlas.regions.map(\.name).joined(separator: ", ")
            reader.errors.append(
              RuleError(member.value.position, "a control's governorate '\(governorate)' is none of Syria's governorates (\(known), or another of their spellings)"))
          }
        }
        placeGiven = true
      case "point":
        point = reader.point(member.value)
        placeGiven = true
      case "designated": designated = reader.texts(member.value, "designated")
      case "others": others = reader.texts(member.value, "others")
      case "from": from = reader.date(member.value, "from")
      case "to": to = reader.date(member.value, "to")
      case "source": source = reader.text(member.value, "source")
      case "disputed": _ = reader.text(member.value, "disputed")
      default:
        reader.errors.append(
          RuleError(member.keyPosition, "unknown key '\(member.key)' in a control (known: \(knownKeys.joined(separator: ", ")))"))
      }
    }
    for name in ["control", "from", "source"] where !given.contains(name) {
      reader.errors.append(RuleError(position, "a control needs '\(name)'\(name == "source" ? ": every entry cites where the fact comes from" : "")"))
    }
    if !placeGiven || (reader.errors.isEmpty && names.isEmpty && point == nil && governorate == nil) {
      reader.errors.append(RuleError(position, "a control needs a place: 'names', 'point' or 'governorate'"))
    }
    if (designated ?? []).isEmpty, (others ?? []).isEmpty {
      reader.errors.append(RuleError(position, "a control needs who held the place: 'designated' and/or 'others'"))
    }
    if let from, let to, to <= from {
      reader.errors.append(RuleError(position, "a control's 'to' (\(to)) must come after its 'from' (\(from))"))
    }
    guard reader.errors.isEmpty, let key, let from, let source else {
      return .failure(RuleSetErrors(errors: reader.errors))
    }
    return .success(
      ControlEntry(
        key: key, names: names, aliases: names.map(Alias.init), governorate: governorate,
        governorateKey: governorateKey, point: point.map { ($0.0, $0.1, $0.2) },
        designated: designated ?? [], others: others ?? [], from: from, to: to, source: source, position: position))
  }

  /// Two entries for the same place (a name in common, or the same circle) whose
  /// periods overlap: one of them is wrong.
  static func overlaps(in entries: [ControlEntry]) -> [RuleError] {
    var errors: [RuleError] = []
    for (index, entry) in entries.enumerated() {
      // (A key given twice is said once, as defined twice, not again as an overlap.)
      for earlier in entries[..<index] where earlier.key != entry.key && earlier.samePlace(as: entry) {
        let apart = (earlier.to.map { $0 <= entry.from } ?? false) || (entry.to.map { $0 <= earlier.from } ?? false)
        if !apart {
          errors.append(
            RuleError(
              entry.position,
              "control \(entry.key) overlaps control \(earlier.key) (\(earlier.position)) for the same place; "
                + "end one period where the other begins"))
        }
      }
    }
    return errors
  }

  private func samePlace(as other: ControlEntry) -> Bool {
    // A name both list, in one governorate (or where either names none): a report giving
    // that name would get both entries, whichever spelling each lists first ("Manbij" in
    // one and "Menbij" in the other's names).
    // (As a report's name finds them: Damascus and Rural Damascus count as one.)
    // Each name as a report's text is read, with and without its kind words: "Manbij
    // city" in one entry's names is found by "Manbij" in the other's, and a report of
    // "Manbij city" gets both.
    if ControlMap.mayBeIn(governorateKey, entry: other), !names.isEmpty, !other.names.isEmpty {
      // (A name of several parts, "Sheikh Maqsoud, Aleppo", is found whole, never by a part.)
      let readings = { (name: String) in
        [PlaceWords.words(of: name)] + { $0.count == 1 ? $0[0].variants : [] }(ControlMap.placeParts(name))
      }
      let read = Set(names.flatMap(readings))
      if other.names.contains(where: { readings($0).contains(where: read.contains) }) { return true }
    }
    // The same point whatever the names: a report there is found by its coordinates first.
    if let point, let otherPoint = other.point, point.lat == otherPoint.lat && point.lon == otherPoint.lon { return true }
    // Two entries for a whole governorate (neither names nor a point).
    return names.isEmpty && other.names.isEmpty && point == nil && other.point == nil && governorateKey != nil
      && governorateKey == other.governorateKey
  }

  /// Reads members, collecting every problem at its place.
  private struct Reader {
    var errors: [RuleError] = []

    mutating func key(_ node: RuleNode) -> String? {
      guard case .scalar(let scalar) = node, !node.isNull,
        scalar.text.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" })
      else {
        errors.append(RuleError(node.position, "a control key is a word of letters, digits and '_'"))
        return nil
      }
      return scalar.text
    }

    mutating func text(_ node: RuleNode, _ name: String) -> String? {
      guard case .scalar(let scalar) = node, !node.isNull, !scalar.text.trimmingCharacters(in: .whitespaces).isEmpty
      else {
        errors.append(RuleError(node.position, "control \(name) must be text, got \(node.kindName)"))
        return nil
      }
      return scalar.text
    }

    mutating func texts(_ node: RuleNode, _ name: String) -> [String]? {
      guard case .sequence(let elements, _) = node else {
        errors.append(RuleError(node.position, "control \(name) must be a list, got \(node.kindName)"))
        return nil
      }
      var texts: [String] = []
      for element in elements {
        guard let text = text(element, name) else { continue }
        if name == "names", NameNormalizer.words(of: text).isEmpty {
          errors.append(RuleError(element.position, "the name '\(text)' has no letters or digits to match"))
        }
        texts.append(text)
      }
      return texts
    }

    mutating func date(_ node: RuleNode, _ name: String) -> String? {
      guard case .scalar(let scalar) = node, !node.isNull, Self.isDate(scalar.text) else {
        errors.append(RuleError(node.position, "control \(name) must be a date YYYY-MM-DD, got \(node.kindName)"))
        return nil
      }
      return scalar.text
    }

    static func isDate(_ text: String) -> Bool {
      let parts = text.split(separator: "-", omittingEmptySubsequences: false)
      guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
        let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2])
      else { return false }
      var components = DateComponents()
      (components.year, components.month, components.day) = (year, month, day)
      return (1...12).contains(month) && Calendar(identifier: .gregorian).date(from: components).map {
        Calendar(identifier: .gregorian).component(.day, from: $0) == day
      } == true
    }

    mutating func point(_ node: RuleNode) -> (Double, Double, Double)? {
      guard case .mapping(let members, _) = node else {
        errors.append(RuleError(node.position, "control point must be a mapping {lat, lon, radius_km}, got \(node.kindName)"))
        return nil
      }
      var values: [String: Double] = [:]
      for member in members {
        let ranges = ["lat": -90.0...90.0, "lon": -180.0...180.0, "radius_km": 0.0...100.0]
        guard let range = ranges[member.key] else {
          errors.append(RuleError(member.keyPosition, "unknown key '\(member.key)' in a control point (known: lat, lon, radius_km)"))
          continue
        }
        guard case .scalar(let scalar) = member.value, let number = Double(scalar.text), range.contains(number),
          member.key != "radius_km" || number > 0
        else {
          errors.append(RuleError(member.value.position, "control point \(member.key) must be a number in \(range.lowerBound)…\(range.upperBound)\(member.key == "radius_km" ? ", above 0" : "")"))
          continue
        }
        values[member.key] = number
      }
      guard let lat = values["lat"], let lon = values["lon"], let radius = values["radius_km"] else {
        if errors.isEmpty { errors.append(RuleError(node.position, "control point needs lat, lon and radius_km")) }
        return nil
      }
      return (lat, lon, radius)
    }
  }
}
