import Testing
import VigilCore
import VigilPlugins

private func load(_ text: String) -> Result<RuleSet, RuleSetErrors> {
  RuleSetLoader(plugins: [Designations(), Places()]).load([
    RuleSource(path: "Rules/x.yaml", name: "x.yaml", contents: Array(text.utf8))
  ])
}

private func report(_ members: String) throws -> Report {
  let line = #"{"id":"T-1","occurred_at":"2016-03-04T06:40:00+02:00","type":"attack",\#(members)}"#
  return try ReportParser.parse(line).get().report
}

@Suite("Plugins in rule files: designations and places")
struct PluginRuleTests {
  static let rules = """
    - designation: isil
      names: [Daesh, "Da'esh", ISIL, ISIS, Islamic State, داعش, الدولة الإسلامية, تنظيم الدولة]
    - designation: nusra
      names: [Jabhat al-Nusra, al-Nusra Front, Nusra, Nusrah, جبهة النصرة, النصرة, هيئة تحرير الشام, "Hay'at Tahrir al-Sham"]
    - opposing_words: english
      names: [anti, against, defeat, fighting, fleeing, victims of]
    - opposing_words: arabic
      names: [ضد, مكافحة, ضحايا]
    - place: bab_al_salam
      names: [Bab al-Salam, Bab al-Salameh, باب السلامة]
    - place: bab_al_hawa
      names: [Bab al-Hawa, باب الهوى]
    - rule: test.designated_perpetrator
      desc: A designated group acted.
      condition: designated(perpetrator)
      output: "%perpetrator.name"
      priority: info
      examples:
        match:
          - {type: attack, perpetrator: {name: عناصر من تنظيم داعش}}
          - {type: detention, perpetrator: {party: ISIL}}
          - {type: attack, perpetrator: {name: Hay'at Tahrir al-Sham fighters, party: opposition}}
        no_match:
          - {type: attack, perpetrator: {name: Nusrat Hospital guards}}
          - {type: attack, perpetrator: {party: government}}
          - {type: attack}
    - rule: test.not_against_designated
      desc: An attack whose target is not designated.
      condition: type = attack and not designated(target)
      output: "%target.type"
      priority: info
      examples:
        match: [{type: attack, target: {type: market}}, {type: attack, target: {type: armed_group, party: opposition}}]
        no_match: [{type: attack, target: {type: armed_group, name: مقاتلو جبهة النصرة}}]
    - rule: test.crossing
      desc: A 2165 crossing.
      condition: place(access.crossing) in (bab_al_salam, bab_al_hawa)
      output: "%access.crossing"
      priority: info
      examples:
        match: [{type: access, access: {crossing: معبر باب السلامة}}, {type: access, access: {crossing: Bab al-Hawa}}]
        no_match: [{type: access, access: {crossing: Nusaybin}}, {type: access}]
    """

  /// A designation holds in any spelling: each name's English possessive, transliteration
  /// with ʿayn, hamza and dots, invisible marks inside a word. Not plurals, nor other
  /// words: "it is militants" is no group.
  @Test(arguments: [
    ("Jabhat al-Nusra's fighters", true), ("ISIL’s Hisba police", true), ("Islamic State's", true),
    ("Daʿesh", true), ("Dāʿesh militants", true), ("Jabhat al-Nus\u{0323}ra", true), ("Da\u{0304}\u{02BF}esh", true), ("Jabhat al-Nuṣra", true), ("Hayʾat Tahrir al-Sham", true),
    ("دا\u{2060}عش", true), ("Da\u{00AD}esh", true), ("\u{2067}داعش\u{2069}", true),
    ("local sources say it is militants from Jaysh al-Islam", false), ("Nusrat family", false), ("Nusras", false),
    ("Gulf Islamic States' funds", false), ("ISIS's", true), ("ISIL\u{2018}s convoy", true), ("Hay’at Tahrir al-Sham’s fighters", true), ("Daesh`s convoy", true),
    // A name after opposing words is the group opposed, fled or suffered; any other
    // occurrence still designates.
    ("US-led anti-ISIS coalition", false), ("Global Coalition to Defeat ISIS", false), ("the coalition against the Islamic State", false),
    ("Syrian Democratic Forces fighting ISIL", false), ("families fleeing Daesh", false), ("victims of ISIS", false),
    ("التحالف الدولي ضد داعش", false), ("قوات مكافحة داعش", false),
    ("مشفى ضحايا داعش", false), ("Nusra fighters fighting ISIS", true), ("ISIS fighters against the FSA", true),
    ("anti-ISIS coalition and Nusra", true),
    // A shorter name inside the opposed one is excused with it, and fillers may stand between.
    ("the coalition against Jabhat al-Nusra", false), ("التحالف الدولي ضد تنظيم داعش", false),
    ("قوات مكافحة تنظيم الدولة الإسلامية", false), ("coalition fighting the so-called Islamic State", false),
    // Not opposing words: the press names JFS and HTS so.
    ("ex-Nusra fighters", true), ("fighters of the former Nusra Front", true), ("Former ISIS fighters now with the FSA", true),
    // A name joined to an opposed one by one "and", "or" or و is opposed with it; not one
    // after other words, nor one joined by two conjunctions.
    ("Russian forces fighting Daesh and the Nusra Front", false), ("التحالف الدولي ضد داعش والنصرة", false),
    ("coalition against ISIS, and Nusra", false), ("against ISIS or Nusra", false), ("ضد داعش و جبهة النصرة", false),
    ("anti-ISIS coalition and Nusra fighters", true), ("ISIS and Nusra against the FSA", true), ("against ISIS and and Nusra", true),
    // Side by side with nothing between is joined only in Arabic (an attached و).
    ("anti-ISIS Nusra fighters", true), ("counter-ISIS HTS units", true), ("Russian forces fighting ISIS; Nusra Front fighters", true),
    ("SDF (fighting ISIS), Nusra", true),
  ])
  func aDesignationHoldsInAnySpelling(name: String, designated: Bool) throws {
    let set = try load(Self.rules).get()
    let fired = set.evaluate(try report(#""perpetrator":{"name":"\#(name)"}"#)).map(\.rule.id)
    #expect(fired.contains("test.designated_perpetrator") == designated, "\(name): \(fired)")
  }

  @Test func theExamplesPass() throws {
    let set = try load(Self.rules).get()
    #expect(set.rules.map(\.exampleCount) == [6, 3, 4])
  }

  /// A place's `except`: texts that name one of its names but are another place.
  @Test func aPlacesExceptionsAreAnotherPlace() throws {
    let set = try load(
      """
      - place: nubl_zahra
        names: [Nubl and Zahra, Nubl, نبل]
        except: [Kafr Nubl, كفر نبل]
      - rule: test.nubl
        desc: Nubl.
        condition: place(location.place) = nubl_zahra
        output: "%location.place"
        priority: info
      """
    ).get()
    for (place, fires) in [
      ("Nubl", true), ("Nubl and Zahra, Aleppo", true), ("Kafr Nubl", false), ("KAFR-NUBL, Idlib", false), ("كفر نبل", false),
      ("Nubl, shelled from Kafr Nubl", true),
    ] {
      let fired = set.evaluate(try report(#""location":{"place":"\#(place)"}"#)).map(\.rule.id)
      #expect(fired == (fires ? ["test.nubl"] : []), "\(place)")
    }
    guard case .failure(let errors) = load("- designation: isil\n  names: [ISIL]\n  except: [ISIL fighters]\n") else {
      Issue.record("a designation took except")
      return
    }
    #expect(errors.errors.map(\.description) == ["Rules/x.yaml:3:3: unknown key 'except' in a designation (known: designation, names)"])
  }

  /// A place of one governorate is passed over where the report names another, by a later
  /// part of its text or by the location's own governorate; the two Damascus count as one.
  @Test func aPlaceOfOneGovernorateIsNotItsNamesakeElsewhere() throws {
    let set = try load(
      """
      - place: yarmouk
        names: [Yarmouk, اليرموك]
        governorate: Damascus
      - rule: test.yarmouk
        desc: Yarmouk.
        condition: place(location.place) = yarmouk
        output: "%place_or_text(location.place)"
        priority: info
      """
    ).get()
    for (location, group) in [
      (#""place":"Yarmouk""#, "yarmouk"), (#""place":"Yarmouk camp, Damascus""#, "yarmouk"),
      (#""place":"Yarmouk","governorate":"Rural Damascus""#, "yarmouk"), (#""place":"اليرموك، ريف دمشق""#, "yarmouk"),
      (#""place":"Yarmouk, Daraa""#, nil), (#""place":"اليرموك، درعا""#, nil),
      (#""place":"Yarmouk","governorate":"Daraa""#, nil), (#""place":"Yarmouk","governorate":"درعا""#, nil),
      // The governorate first, as an admin path; in its countryside.
      (#""place":"Daraa - Yarmouk""#, nil), (#""place":"درعا - اليرموك""#, nil), (#""place":"Damascus - Yarmouk""#, "yarmouk"),
      (#""place":"اليرموك بريف درعا""#, nil), (#""place":"Yarmouk in rural Daraa""#, nil),
    ] as [(String, String?)] {
      let fired = set.evaluate(try report(#""location":{\#(location)}"#)).map(\.message)
      #expect(fired == (group.map { [$0] } ?? []), "\(location)")
    }
    guard case .failure(let errors) = load("- place: yarmouk\n  names: [Yarmouk]\n  governorate: Yarmoukia\n") else {
      Issue.record("an unknown governorate loaded")
      return
    }
    #expect(errors.errors.map(\.description).first?.hasPrefix("Rules/x.yaml:3:16: a place's governorate 'Yarmoukia' is none of Syria's governorates") == true)
  }

  /// A function of closed answers is compared with one of them: a misspelling is an error
  /// at its place, not a condition never true; a governorate in any spelling the atlas
  /// knows stands for the one `governorate()` answers.
  @Test func aFunctionsClosedAnswersAreCheckedAtLoad() throws {
    func rule(_ condition: String) -> String {
      "- place: bab_al_hawa\n  names: [Bab al-Hawa]\n- list: crossings\n  items: [bab_al_hawa, bab_al_salem]\n"
        + "- rule: t.r\n  desc: d\n  condition: \(condition)\n  output: o\n  priority: low\n"
    }
    for (condition, column, message) in [
      ("control(location) = designatd", 34, "control(…) answers one of designated, shared, others; 'designatd' is none of them"),
      ("not control(location) in (designated, share)", 52, "control(…) answers one of designated, shared, others; 'share' is none of them"),
      ("place(access.crossing) = bab_al_hwa", 39, "place(…) answers one of bab_al_hawa; 'bab_al_hwa' is none of them"),
      ("place(access.crossing) in (crossings)", 41, "place(…) answers one of bab_al_hawa; 'bab_al_salem' (in list crossings) is none of them"),
      ("governorate(location) = Idlub", 38, "governorate(…) answers one of"),
      ("control(location) iin (DESIGNATD)", 37, "control(…) answers one of designated, shared, others; 'DESIGNATD' is none of them"),
    ] {
      guard case .failure(let errors) = load(rule(condition)) else {
        Issue.record("loaded: \(condition)")
        continue
      }
      #expect(errors.errors.first?.description.hasPrefix("Rules/x.yaml:7:\(column): rule t.r: \(message)") == true, "\(errors)")
    }
    // Every value that is none of the answers is said, in one load.
    guard case .failure(let two) = load(rule("control(location) in (designatd, shared, othrs)")) else {
      Issue.record("two misspelt answers loaded")
      return
    }
    #expect(
      two.errors.map(\.description).filter { $0.contains("is none of them") }.map { $0.prefix(24) }
        == ["Rules/x.yaml:7:36: rule ", "Rules/x.yaml:7:55: rule "], "\(two)")
    // With no place listed, place() answers no key: any key compared is an error too.
    let noPlaces = "- rule: t.r\n  desc: d\n  condition: place(access.crossing) in (bab_al_hwa)\n  output: o\n  priority: low\n"
    guard case .failure(let none) = load(noPlaces) else {
      Issue.record("a place key was taken with no place listed")
      return
    }
    #expect(
      none.errors.first?.description
        == "Rules/x.yaml:3:41: rule t.r: place(…) answers nothing the set defines (it lists none); 'bab_al_hwa' is none of them",
      "\(none)")
    // A bad place entry is its own error alone: the rules comparing place() with keys are
    // not also told their keys are none of no places.
    guard case .failure(let broken) = load("- place: bab_al_hawa\n  nams: [Bab al-Hawa]\n" + noPlaces) else {
      Issue.record("a bad place entry was taken")
      return
    }
    #expect(broken.errors.count == 1 && broken.errors.allSatisfy { !$0.message.contains("none of them") }, "\(broken)")
    let set = try load(
      "- rule: t.idlib\n  desc: d\n  condition: governorate(location) in (Idlib, \"محافظة حلب\") or governorate(location) iin (hama)\n  output: o\n  priority: low\n"
    ).get()
    for (governorate, fires) in [("Idlib", true), ("إدلب", true), ("Aleppo", true), ("Hama", true), ("Homs", false)] {
      let fired = set.evaluate(try report(#""location":{"governorate":"\#(governorate)"}"#)).map(\.rule.id)
      #expect(fired == (fires ? ["t.idlib"] : []), "\(governorate)")
    }
  }

  @Test func evaluation() throws {
    let set = try load(Self.rules).get()
    let fired = set.evaluate(try report(#""perpetrator":{"name":"والنصرة"},"target":{"type":"market"}"#))
    #expect(fired.map(\.rule.id) == ["test.designated_perpetrator", "test.not_against_designated"])
  }

  @Test func itemErrorsArePositioned() {
    let text = """
      - designation: isil
        names: Daesh
      - designation: nusra
        names: [Nusra]
      - designation: nusra
        names: [ANF]
      - place: bab al salam
        names: [Bab al-Salam, "--"]
        spelling: x
      """
    guard case .failure(let errors) = load(text) else {
      Issue.record("loaded")
      return
    }
    #expect(
      errors.errors.map(\.description) == [
        "Rules/x.yaml:2:10: designation names must be a list, got \"Daesh\"",
        "Rules/x.yaml:5:3: designation nusra is already defined at Rules/x.yaml:3:3",
        "Rules/x.yaml:7:10: a place key is a word of letters, digits and '_'",
        "Rules/x.yaml:8:25: the name '--' has no letters or digits to match",
        "Rules/x.yaml:9:3: unknown key 'spelling' in a place (known: place, names, except, governorate)",
      ])
  }

  /// A key given twice is said beside the other problems of the item that repeats it, for
  /// every kind of item the plugins read: not only once those are mended.
  @Test(arguments: [
    ("designation", "names: [ISIL]"), ("opposing_words", "names: [against]"), ("place", "names: [Darayya]"),
  ])
  func aKeyGivenTwiceIsSaidBesideTheItemsOtherProblems(kind: String, names: String) {
    let text = """
      - \(kind): one
        \(names)
      - \(kind): one
        \(names)
        bogus: 1
      """
    guard case .failure(let errors) = load(text) else {
      Issue.record("loaded")
      return
    }
    let messages = errors.errors.map(\.description)
    #expect(messages.contains("Rules/x.yaml:3:3: \(kind) one is already defined at Rules/x.yaml:1:3"), "\(messages)")
    #expect(messages.contains { $0.hasPrefix("Rules/x.yaml:5:3: unknown key 'bogus'") }, "\(messages)")
  }

  /// A plugin's item in error rejects the set for that error alone: its rules that call
  /// the plugin's functions are still checked, and not said to call a function that does
  /// not exist.
  @Test func anItemErrorIsTheOnlyErrorOfItsSet() {
    let text = """
      - designation: isil
        names: [Daesh]
      - designation: isil
        names: [ISIL]
      - rule: test.designated
        desc: A designated group acted.
        condition: designated(perpetrator) or designated(target)
        output: o
        priority: info
      - rule: test.wrong
        desc: d
        condition: designated(type)
        output: o
        priority: info
      """
    guard case .failure(let errors) = load(text) else {
      Issue.record("loaded")
      return
    }
    let messages = errors.errors.map(\.description)
    #expect(messages.first == "Rules/x.yaml:3:3: designation isil is already defined at Rules/x.yaml:1:3", "\(messages)")
    // The other rule's own error is still found: its conditions were checked.
    #expect(messages.count == 2 && messages.last?.contains("rule test.wrong") == true, "\(messages)")
    #expect(!messages.contains { $0.contains("no function named") }, "\(messages)")
  }

  @Test(arguments: ["perpetrator.name", "location"])
  func functionsCheckTheirArguments(argument: String) {
    let text = "- rule: a.b\n  desc: d\n  condition: designated(\(argument))\n  output: o\n  priority: low\n"
    guard case .failure(let errors) = load(text) else {
      Issue.record("loaded")
      return
    }
    #expect(
      errors.errors.map(\.description) == [
        "Rules/x.yaml:3:25: rule a.b: designated(…) expects an actor here (perpetrator, target, trade.seller, trade.buyer); "
          + "\(argument) is not one"
      ])
  }
}

/// `governorate(…)`, `control(…)` and `control_note(…)` read a location's members: given
/// another object (an actor), they would never hold, so the rule is refused at load.
@Suite("Plugin functions of a location take a location")
struct LocationFunctionArgumentTests {
  @Test(arguments: ["governorate(perpetrator) = Idlib", "control(perpetrator) = designated", "control_note(target) = x"])
  func anotherObjectIsRefused(condition: String) {
    let text = "- rule: a.b\n  desc: d\n  condition: \(condition)\n  output: o\n  priority: low\n"
    guard case .failure(let errors) = load(text) else {
      Issue.record("loaded")
      return
    }
    let function = String(condition.prefix { $0 != "(" })
    let argument = String(condition.drop { $0 != "(" }.dropFirst().prefix { $0 != ")" })
    #expect(
      errors.errors.map(\.description) == [
        "Rules/x.yaml:3:\(14 + function.count + 1): rule a.b: \(function)(…) expects an object with governorate, place, lat, "
          + "lon here (location); \(argument) is not one"
      ], "\(errors.errors.map(\.description))")
  }

  @Test func theLocationLoads() throws {
    let text = "- rule: a.b\n  desc: d\n  condition: governorate(location) = Idlib\n  output: o\n  priority: low\n"
    #expect((try? load(text).get()) != nil)
  }
}

/// A pattern grouped by `place_or_text(…)` counts spellings of one place together, and its message
/// names the group as the completing report wrote it, not by the place's key or the
/// normalised form it was grouped by; the record's `pattern.group` keeps those.
@Suite("Plugins in patterns: a group's message as the report wrote it")
struct PluginPatternGroupTests {
  static let rules = """
    - place: madaya
      names: [Madaya, مضايا]
    - place: old_city_homs
      names: [Homs Old City]
    - rule: t.denied
      desc: Access denied.
      condition: type = access and access.status = denied
      output: "denied"
      priority: high
    - pattern: t.repeated
      desc: Two denials to one place.
      rules: [t.denied]
      group_by: [place_or_text(access.destination)]
      count: 2
      window: 30d
      output: "%count denials to %group"
      priority: high
    """

  static func completions(_ destinations: [String]) throws -> [PatternWindows.Completion] {
    let set = try load(Self.rules).get()
    var windows = PatternWindows()
    var completions: [PatternWindows.Completion] = []
    for (index, destination) in destinations.enumerated() {
      let line = #"{"id":"P-\#(index)","occurred_at":"2016-07-0\#(index + 1)","type":"access","access":{"requested_by":"WFP","status":"denied","destination":"\#(destination)"}}"#
      let report = try ReportParser.parse(line).get().report
      let events = set.patternEvents(for: report, matches: set.evaluate(report))
      completions += windows.observe(events, report: report, receivedAt: nil, patterns: set.patterns) { _ in [] }.completions
      windows.settle()
    }
    return completions
  }

  @Test func aNamedPlaceIsShownAsWrittenAndGroupedByItsKey() throws {
    let completions = try Self.completions(["مضايا", "Madaya town"])
    #expect(completions.map(\.message) == ["2 denials to Madaya town"])
    #expect(completions.map(\.facts.group) == [["madaya"]])
  }

  /// The text's first part says the place, as for control, in any spelling; a governorate
  /// written before or after it is the same group.
  @Test func oneUnlistedPlaceWrittenWithWhereItIsIsOneGroup() throws {
    let completions = try Self.completions(["Kafr Batna, Rif Dimashq", "Rif Dimashq - KAFR-BATNA"])
    #expect(completions.map(\.facts.group) == [["kafr batna (Rural Damascus)"]])
    #expect(try Self.completions(["Ar-Raqqah city", "Raqqa"]).map(\.facts.group) == [["raqa"]])
    #expect(try Self.completions(["Kafr Batna", "Kafr Nubl"]).isEmpty)
    // A listed place in a later part is the place, as place() says; a governorate's name
    // before the place is not the group.
    #expect(try Self.completions(["Madaya", "Rif Dimashq - Madaya"]).map(\.facts.group) == [["madaya"]])
    #expect(try Self.completions(["Rif Dimashq - Kafr Batna", "Rif Dimashq - Madaya"]).isEmpty)
    // A listed place the whole text names, across its parts, as place() reads it.
    #expect(try Self.completions(["Homs (Old City)", "Homs Old City"]).map(\.facts.group) == [["old_city_homs"]])
  }

  /// One unlisted name in two governorates is two places: three denials to "Old City,
  /// Aleppo" and "Homs (Old City)" made one group, and a false pattern, once.
  @Test func oneUnlistedNameInTwoGovernoratesIsTwoGroups() throws {
    #expect(try Self.completions(["Old City, Aleppo", "Old City (Hama)"]).isEmpty)
    #expect(try Self.completions(["Eastern neighbourhoods, Aleppo", "Deir ez-Zor - Eastern neighbourhoods"]).isEmpty)
    // A kind word or the country in a part of its own is no part of the place.
    #expect(try Self.completions(["Raqqa (city)", "Raqqa city"]).map(\.facts.group) == [["raqa"]])
    #expect(try Self.completions(["Aleppo, Syria", "Syria - Aleppo"]).map(\.facts.group).count == 1)
    // Written without its governorate, a name is a group of its own.
    #expect(try Self.completions(["Kafr Batna", "Kafr Batna, Rif Dimashq"]).isEmpty)
    #expect(try Self.completions(["Kafr Batna", "kafr batna"]).map(\.facts.group) == [["kafr batna"]])
  }

  /// A site in a town in a governorate's countryside is the town, not the site's article:
  /// three such destinations in three governorates are three groups.
  @Test func aTownInACountrysideIsItsOwnGroup() throws {
    #expect(
      try Self.completions([
        "a school in Kafr Batna in the Damascus countryside", "a clinic in Jisreen in the Aleppo countryside",
      ]).isEmpty)
    #expect(
      try Self.completions(["a school in Kafr Batna in the Damascus countryside", "Kafr Batna, Rif Dimashq"]).map(\.facts.group)
        == [["kafr batna (Rural Damascus)"]])
  }

  /// A number is not a doubled letter: "Sector 11" is not "Sector 1".
  @Test func numberedPlacesAreTwoGroups() throws {
    #expect(try Self.completions(["Sector 1", "Sector 11"]).isEmpty)
    #expect(try Self.completions(["Camp 100", "Camp 10"]).isEmpty)
    #expect(try Self.completions(["Camp 11", "camp 11"]).map(\.facts.group) == [["camp 11"]])
  }

  @Test func anUnlistedArabicPlaceIsShownAsWritten() throws {
    let completions = try Self.completions(["الغوطة الغربية", "الغوطة الغربية"])
    #expect(completions.map(\.message) == ["2 denials to الغوطة الغربية"])
  }
}

/// A plugin whose function or item kind has the name of another's is refused, naming both:
/// the second was dropped without a word.
@Suite("Plugins' names do not collide")
struct PluginNameCollisionTests {
  struct Shadowing: RulePlugin {
    let name = "shadowing"
    let itemKinds: [String]
    let functionName: String
    func prepare(items: [RuleNode], settings: ConfigurationValue) -> Result<[ConditionFunction], RuleSetErrors> {
      .success([ConditionFunction(name: functionName, parameters: [.field(.text)], result: .bool) { _ in { _ in .bool(true) } }])
    }
  }

  static let rule = "- rule: a.b\n  desc: d\n  condition: type = attack\n  output: o\n  priority: low\n"

  static func errors(_ plugins: [any RulePlugin]) -> [String] {
    let result = RuleSetLoader(plugins: plugins).load([
      RuleSource(path: "Rules/x.yaml", name: "x.yaml", contents: Array(rule.utf8))
    ])
    guard case .failure(let errors) = result else { return [] }
    return errors.errors.map(\.description)
  }

  @Test func aFunctionNamedAsABuiltInOneIsRefused() {
    #expect(
      Self.errors([Shadowing(itemKinds: [], functionName: "mentions")]) == [
        "plugin shadowing gives a function mentions, the name of a built-in function: rename one"
      ])
  }

  @Test func aFunctionNamedAsAnotherPluginsIsRefused() {
    #expect(
      Self.errors([Places(), Shadowing(itemKinds: [], functionName: "governorate")]) == [
        "plugin shadowing gives a function governorate, the name of a function of plugin places: rename one"
      ])
  }

  @Test func anItemKindOfVigilsOrAnotherPluginsIsRefused() {
    #expect(
      Self.errors([Designations(), Shadowing(itemKinds: ["rule", "designation"], functionName: "shadowed")]) == [
        "plugin shadowing reads items of kind `rule`, which Vigil itself reads too: rename one",
        "plugin shadowing reads items of kind `designation`, which plugin designations reads too: rename one",
      ])
  }
}
