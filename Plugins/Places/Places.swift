import VigilCore

/// Named places — the UNSCR 2165 crossings, the besieged areas of UNSCR 2139 OP5 — in
/// every spelling and script reports use. Rule files list them as items:
///
/// ```yaml
/// - place: bab_al_salam
///   names: [Bab al-Salam, Bab al-Salameh, Bab al-Salama, باب السلامة]
/// ```
///
/// and conditions ask `place(access.crossing) in (bab_al_salam, bab_al_hawa)`: `place`
/// gives the key of the first place (in load order) one of whose names occurs in the
/// text, matched as docs/rules.md's "Name matching" says, and nothing when none does.
/// Its second item kind, `control`, says who held a place when (TerritorialControl.swift).
/// As a region atlas it gives the console Syria's governorates (GovernorateAtlas.swift).
public struct Places: CrossCheckedRulePlugin, RegionAtlasPlugin {
  /// `governorate(location)`: the governorate's English name (OCHA's spelling: `Idleb`)
  /// from the location's governorate in any spelling or script, or else from its
  /// coordinates; nothing when neither names one. Patterns group reports by it.
  static let governorate = ConditionFunction(
    name: "governorate", parameters: [.object(having: ["governorate", "place", "lat", "lon"])], result: .text,
    // Compared with a governorate in any spelling the atlas knows: `= Idlib` is `= Idleb`.
    answers: .init(allowed: GovernorateAtlas.atlas.regions.map(\.name)) { text in
      GovernorateAtlas.atlas.region(named: text).flatMap { key in GovernorateAtlas.atlas.regions.first { $0.key == key }?.name }
    }
  ) { (arguments: [ConditionFunction.Argument]) -> ConditionFunction.Evaluation in
    guard case .field(let location) = arguments[0],
      let named = ReportSchema.field(location.path + ".governorate"),
      let lat = ReportSchema.field(location.path + ".lat"), let lon = ReportSchema.field(location.path + ".lon")
    else { return { _ in nil } }
    let atlas = GovernorateAtlas.atlas
    let names = Dictionary(uniqueKeysWithValues: atlas.regions.map { ($0.key, FieldValue.text(ReportText($0.name))) })
    // By the governorate's text as written: the same few come back report after report.
    let regionOfText = TextCache<String?>()
    return { report in
      if case .text(let text)? = named.read(report),
        let key = regionOfText.value(for: text, compute: { atlas.region(named: $0.string) })
      {
        return names[key]
      }
      if case .number(let latitude)? = lat.read(report), case .number(let longitude)? = lon.read(report),
        let key = atlas.region(containing: GeoPoint(lon: longitude, lat: latitude))
      {
        return names[key]
      }
      return nil
    }
  }

  public let name = "places"
  /// On unless a configuration names plugins without it.
  public var enabledByDefault: Bool { true }
  public let takesSettings = false
  public let itemKinds = ["place", TerritorialControl.itemKind]

  public init() {}

  /// Syria's governorates. The settings are ignored: the outlines and the names reports
  /// give them are built in, the same whatever the configuration says.
  public func atlas(settings: ConfigurationValue) -> RegionAtlas { GovernorateAtlas.atlas }

  public func prepare(items: [RuleNode], settings: ConfigurationValue) -> Result<[ConditionFunction], RuleSetErrors> {
    let isControl = { (item: RuleNode) -> Bool in
      guard case .mapping(let members, _) = item else { return false }
      return members.contains { $0.key == TerritorialControl.itemKind }
    }
    let control = TerritorialControl.functions(items: items.filter(isControl))
    var places: [(key: String, aliases: [Alias], except: [Alias], governorate: String?)] = []
    var errors: [RuleError] = []
    if case .failure(let problems) = control { errors += problems.errors }
    var keys = ItemKeys()
    for item in items where !isControl(item) {
      if let twice = keys.note(item, kind: "place") { errors.append(twice) }
      let (named, governorate) = Self.governorate(of: item, errors: &errors)
      switch NamedItem.read(named, kind: "place", takesExceptions: true, alsoKnown: ["governorate"]) {
      case .failure(let problems): errors += problems.errors
      case .success(let place):
        let alias = { (name: String) in Alias(name, words: PlaceWords.words(of: name)) }
        places.append((place.key, place.names.map(alias), place.except.map(alias), governorate))
      }
    }
    guard errors.isEmpty else { return .failure(RuleSetErrors(errors: errors)) }
    let known = places.map { (key: ReportText($0.key), aliases: $0.aliases, except: $0.except, governorate: $0.governorate) }
    let found = TextCache<ReportText?>()
    let foundIn = TextCache<ReportText?>()
    // The first place one of whose names the text names outside its exceptions' words:
    // "Kafr Nubl" is not Nubl, but "Nubl and Zahra, shelled from Kafr Nubl" is. A place
    // of one governorate is passed over where the report names another (`governorate`,
    // the atlas's key): "Yarmouk, Daraa" is not the Yarmouk camp of Damascus.
    let placeNamed = { @Sendable (text: ReportText, governorate: String?) -> ReportText? in
      let words = PlaceWords.words(of: text.string)
      return known.first { place in
        guard ControlMap.mayBeIn(governorate, placeOf: place.governorate) else { return false }
        let excepted = place.except.flatMap { $0.occurrences(in: words) }
        return place.aliases.contains { alias in
          alias.occurrences(in: words).contains { match in
            !excepted.contains { $0.lowerBound <= match.lowerBound && match.upperBound <= $0.upperBound }
          }
        }
      }?.key
    }
    // The governorate a report gives a place text: the location's own `governorate` beside
    // a `place` (`location.place`), else the last later part of the text that names one.
    let governorates = TextCache<String?>()
    let governorateOf = { @Sendable (beside: ReportSchema.Field?, report: Report, text: ReportText) -> String? in
      if let beside, case .text(let named)? = beside.read(report),
        let key = governorates.value(for: named, compute: { GovernorateAtlas.atlas.region(named: $0.string) })
      {
        return key
      }
      // The last later part that is a governorate's name, else a first part that is one
      // when a part that is none follows ("Daraa - Yarmouk", an admin path). (Control takes
      // a first part's governorate also alone, for entries of a whole governorate; here it
      // only passes over places of other governorates, and "Raqqa" alone is the city.)
      return governorates.value(for: text) { text in
        let parts = ControlMap.placeParts(text.string)
        let named = parts.map { GovernorateAtlas.atlas.region(named: $0.text) }
        if let later = named.dropFirst().reversed().lazy.compactMap({ $0 }).first { return later }
        return named.first.flatMap { $0 }.flatMap { first in named.dropFirst().contains(nil) ? first : nil }
      }
    }
    // Whether a governorate can change what a text names: only when it names, in a part or
    // whole, a place that gives its own (passing over places only ever takes those away).
    // Else the governorate is not looked up at all: most texts, every report.
    let withGovernorate = Set(places.filter { $0.governorate != nil }.map { ReportText($0.key) })
    let involvesGovernorate = TextCache<Bool>()
    let governorateMatters = { @Sendable (text: ReportText) -> Bool in
      !withGovernorate.isEmpty
        && involvesGovernorate.value(for: text) { text in
          let texts = [text] + ControlMap.placeParts(text.string).map { ReportText($0.text) }
          return texts.contains { placeNamed($0, nil).map(withGovernorate.contains) ?? false }
        }
    }
    let placeIn = { @Sendable (beside: ReportSchema.Field?, report: Report, text: ReportText) -> ReportText? in
      guard governorateMatters(text), let governorate = governorateOf(beside, report, text) else {
        return found.value(for: text) { placeNamed($0, nil) }
      }
      return foundIn.value(for: ReportText(governorate + "\u{0}" + text.string)) { _ in placeNamed(text, governorate) }
    }
    // Compared with place keys: a misspelt key is an error, not a comparison never true;
    // with no place listed, any key is.
    let placeKeys = places.map(\.key)
    let place = ConditionFunction(
      name: "place", parameters: [.field(.text)], result: .text, answers: .init(allowed: placeKeys)
    ) { (arguments: [ConditionFunction.Argument]) -> ConditionFunction.Evaluation in
      guard case .field(let field) = arguments[0] else { return { _ in nil } }
      let beside = ControlMap.governorateField(besidePlace: field)
      return { report in
        guard case .text(let text)? = field.read(report) else { return nil }
        return placeIn(beside, report, text).map(FieldValue.text)
      }
    }
    // `place_or_text(field)`: a group of reports about one place. The key of the listed
    // place its first part naming one names ("Rif Dimashq - Madaya" is Madaya), else the
    // one the whole text names, as `place()` reads it ("Homs (Old City)" is the Old City of
    // Homs); else the words of its first part that is not a governorate's name, as place
    // names are read, without the words that only say what kind of place it is ("Raqqa
    // city" is Raqqa), and with the governorate another part names: "Old City, Aleppo" and
    // "Homs (Old City)" are two places, not one called Old City.
    let groups = TextCache<ReportText?>()
    let groupsIn = TextCache<ReportText?>()
    let groupOf = { @Sendable (text: ReportText, governorate: String?) -> ReportText? in
      let parts = ControlMap.placeParts(text.string)
      if let key = parts.lazy.compactMap({ placeNamed(ReportText($0.text), governorate) }).first { return key }
      if parts.count > 1, let key = placeNamed(text, governorate) { return key }
      let atlas = GovernorateAtlas.atlas
      let governorates = parts.map { atlas.region(named: $0.text) }
      // (A first part of kind words alone, "village, Raqqa", names nothing to group by.)
      guard
        let index = parts.indices.first(where: { governorates[$0] == nil && !parts[$0].variants.isEmpty })
          ?? parts.indices.first(where: { !parts[$0].variants.isEmpty }),
        let words = parts[index].variants.last?.joined(separator: " ")
      else { return nil }
      // By its name as OCHA spells it, as governorate() gives it: "kafr batna (Rural Damascus)".
      // A listed place's name passed over for the report's governorate is said with it, so
      // as not to be its key: {"place": "Yarmouk", "governorate": "Daraa"} is "yarmouk (Daraa)".
      let passedOver = governorate != nil && placeNamed(text, nil) != nil
      let named = governorates.indices.lazy.filter { $0 != index }.compactMap { governorates[$0] }.first
        ?? (passedOver ? governorate : nil)
      let name = named.flatMap { key in atlas.regions.first { $0.key == key }?.name }
      return ReportText(name.map { "\(words) (\($0))" } ?? words)
    }
    let placeOrText = ConditionFunction(name: "place_or_text", parameters: [.field(.text)], result: .text) {
      (arguments: [ConditionFunction.Argument]) -> ConditionFunction.Evaluation in
      guard case .field(let field) = arguments[0] else { return { _ in nil } }
      let beside = ControlMap.governorateField(besidePlace: field)
      return { report in
        guard case .text(let text)? = field.read(report) else { return nil }
        guard governorateMatters(text), let governorate = governorateOf(beside, report, text) else {
          return groups.value(for: text) { groupOf($0, nil) }.map(FieldValue.text)
        }
        return groupsIn.value(for: ReportText(governorate + "\u{0}" + text.string)) { _ in groupOf(text, governorate) }
          .map(FieldValue.text)
      }
    }
    return .success([place, placeOrText, Self.governorate] + ((try? control.get()) ?? []))
  }

  /// Control entries' holders against the designations (ControlHolders).
  public func check(items: [RuleNode], against functions: [ConditionFunction], others: [String: [RuleNode]])
    -> [RuleError]
  {
    // A set that lists no designation (a fixture of control entries alone) designates no
    // one: its holders are not checked against nothing.
    guard !(others["designation"] ?? []).isEmpty else { return [] }
    return ControlHolders.problems(
      in: items.filter { item in
        guard case .mapping(let members, _) = item else { return false }
        return members.contains { $0.key == TerritorialControl.itemKind }
      }, against: functions)
  }

  /// A place item without its `governorate` member, and that governorate's key in the
  /// atlas (an unknown one is an error).
  static func governorate(of item: RuleNode, errors: inout [RuleError]) -> (RuleNode, String?) {
    guard case .mapping(let members, let position) = item,
      let member = members.first(where: { $0.key == "governorate" })
    else { return (item, nil) }
    let rest = RuleNode.mapping(members.filter { $0.key != "governorate" }, position)
    guard case .scalar(let scalar) = member.value, !member.value.isNull else {
      errors.append(RuleError(member.value.position, "a place's governorate must be a value, got \(member.value.kindName)"))
      return (rest, nil)
    }
    guard let key = GovernorateAtlas.atlas.region(named: scalar.text) else {
      let known = GovernorateAtlas.atlas.regions.map(\.name).joined(separator: ", ")
      errors.append(
        RuleError(scalar.position, "a place's governorate '\(scalar.text)' is none of Syria's governorates (\(known), or another of their spellings)"))
      return (rest, nil)
    }
    return (rest, key)
  }
}
