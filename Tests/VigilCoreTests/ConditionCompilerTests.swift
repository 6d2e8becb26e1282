import Testing
import VigilTestSupport

@testable import VigilCore

@Suite("Conditions: types checked at load, semantics at evaluation")
struct ConditionCompilerTests {
  static let functions = [
    ConditionFunction(name: "is_government", parameters: [.field(nil)], result: .bool) { report, arguments in
      guard case .field(let actor) = arguments[0], let party = ReportSchema.field(actor.path + ".party")?.read(report)
      else { return .bool(false) }
      return .bool(party == .text("government"))
    },
    ConditionFunction(name: "hours_between", parameters: [.field(.timestamp), .field(.timestamp)], result: .number) {
      report, arguments in
      guard case .field(let from) = arguments[0], case .field(let to) = arguments[1],
        case .timestamp(let start)? = from.read(report), case .timestamp(let end)? = to.read(report)
      else { return nil }
      return .number(Double(end.seconds - start.seconds) / 3600)
    },
  ]

  static let compiler = ConditionCompiler(
    lists: [
      "un_agencies": ["OCHA", "WFP", "UNICEF"], "heavy": ["barrel_bomb", "artillery"], "bad_words": ["barel_bomb"],
    ],
    macros: [
      "after_cessation": try! ConditionParser.parse("occurred_at >= 2016-02-27T00:00:00+02:00"),
      "is_access": try! ConditionParser.parse("type = access"),
      "loop_a": try! ConditionParser.parse("loop_b and type = attack"),
      "loop_b": try! ConditionParser.parse("not loop_a"),
      "broken": try! ConditionParser.parse("location.populated > 3"),
    ],
    functions: functions)

  static let report = reportLine(
    #"""
    "reported_at":"2016-03-05T06:40:00+02:00","lang":"ar","confidence":"probable",
    "location":{"governorate":"Idlib","place":"Maarat al-Numan market","lat":35.6,"lon":36.6,"populated":true},
    "perpetrator":{"name":"ΑΘΗΝΑ Air Force","party":"government"},"target":{"type":"market"},
    "weapons":["mortar","tank"],"casualties":{"killed":9,"civilians_killed":0},
    "narrative":"Shelling reported near the market.",
    "extra":{"n":5,"tags":["a","b"],"label":"Night raid","flag":true,"digits":"5","word":"true"}
    """#)

  static let verdicts: [(String, Bool)] = [
    ("type = attack", true), ("type != attack", false), ("type = access", false),
    ("type in (access, attack)", true), ("type intersects (trade)", false),
    // absent fields: every predicate is false, `not` of one is true
    ("casualties.injured = 3", false), ("casualties.injured != 3", false), ("not casualties.injured = 3", true),
    ("trade.commodity in (oil)", false), ("access exists", false), ("not access exists", true),
    ("location exists", true), ("location.lat exists", true), ("casualties.aid_workers_killed exists", false),
    // arrays: ANY element
    ("weapons = mortar", true), ("weapons != mortar", true), ("not weapons = mortar", false),
    ("weapons = barrel_bomb", false), ("weapons in (heavy)", false), ("weapons intersects (heavy, tank)", true),
    ("weapons startswith mor", true), ("weapons glob 't*k'", true),
    // numbers
    ("casualties.killed >= 9", true), ("casualties.killed > 9", false), ("casualties.killed < 10.5", true),
    ("casualties.killed <= 8", false), ("casualties.killed = 9", true), ("casualties.killed in (1, 9)", true),
    ("casualties.civilians_killed = 0", true), ("location.lat > -90", true),
    // booleans
    ("location.populated = true", true), ("location.populated != true", false), ("location.besieged = false", false),
    // timestamps compare as instants across offsets
    ("occurred_at = 2016-03-04T04:40:00Z", true), ("occurred_at < 2016-03-04T04:40:01z", true),
    ("occurred_at >= 2016-03-04", true), ("occurred_at < 2016-03-04T06:40:00+01:59", true),
    ("occurred_at > 2016-03-04T06:40:00+02:01", true),
    ("occurred_at >= 2016-02-27T00:00:00+02:00", true), ("reported_at <= 2016-03-05", false),
    // text
    ("location.governorate = Idlib", true), ("location.governorate = idlib", false),
    ("location.governorate iin (IDLIB, Hama)", true), ("location.governorate in (IDLIB)", false),
    ("location.place contains market", true), ("location.place contains Market", false),
    ("location.place icontains 'NUMAN MARKET'", true), ("perpetrator.name icontains 'αθηνα'", true),
    ("location.place startswith Maarat", true), ("location.place endswith market", true),
    ("location.place endswith Maarat", false), ("location.place glob 'Maarat*'", true),
    ("location.place glob 'Maarat'", false), ("location.place glob '[A-Z]aarat al-Numan ?arket'", true),
    ("location.place glob '[!M]*'", false), ("narrative matches '^Shelling'", true),
    ("narrative matches 'market\\.$'", true), ("narrative matches '^market'", false),
    ("id = SY-1", true), ("id startswith SY", true), ("lang in (ar, en)", true),
    ("type contains tac", true), ("confidence glob 'prob*'", true),
    // lists, macros, functions
    ("access.requested_by in (un_agencies)", false), ("after_cessation", true), ("not after_cessation", false),
    ("after_cessation and is_access", false), ("after_cessation or is_access", true),
    ("is_government(perpetrator)", true), ("is_government(target)", false), ("not is_government(trade.seller)", true),
    ("hours_between(occurred_at, reported_at) = 24", true),
    ("hours_between(occurred_at, access.decided_at) >= 0", false),
    // extra: typed when evaluated
    ("extra.n > 3", true), ("extra.n = 5", true), ("extra.n = '5'", true), ("extra.n contains 5", false),
    ("extra.label icontains 'night'", true), ("extra.tags = b", true), ("extra.tags in (c, a)", true),
    ("extra.flag = true", true), ("extra.missing exists", false), ("extra.n exists", true), ("extra exists", true),
    ("extra.label > 3", false), ("extra.flag = 'true'", true), ("extra.flag != false", true),
    ("extra.flag = yes", false),
    // a string meets the value as the rule writes it, but is never ordered
    ("extra.digits = 5", true), ("extra.digits = '5'", true), ("extra.digits > 4", false),
    ("extra.word = true", true), ("extra.word = 'true'", true), ("extra.word != true", false),
  ]

  @Test(arguments: verdicts)
  func evaluates(condition: String, expected: Bool) throws {
    let report = try parsed(Self.report).report
    let compiled = try Self.compiler.compile(condition)
    #expect(compiled.matches(report) == expected)
  }

  /// `icontains` and `iin` set case aside in every script, and hold a letter whatever
  /// marks follow it, as `contains` does (it compares bytes).
  @Test(arguments: [
    ("سقوط برميلَين متفجرين على السوق", "narrative icontains 'برميل'", true),
    ("سقوط برميلَين متفجرين على السوق", "narrative contains 'برميل'", true),
    ("CAFE\u{301} bombed", "narrative icontains 'cafe'", true),
    ("Straße closed", "narrative icontains 'STRASSE'", true),
    ("ΣΊΣΥΦΟΣ", "narrative icontains 'σίσυφος'", true),
    ("ΣΊΣΥΦΟΣ", "narrative iin (σίσυφος)", true),
    ("Idlib", "narrative iin (IDLIB, Hama)", true),
    ("Idlib", "narrative icontains 'hama'", false),
    ("Straße", "narrative iin (strasse)", true),
    // `iin` is `in` with case set aside, and nothing else: bytes, as `in` and `=` compare
    // (a decomposed é is not the composed one, audit 28).
    ("Cafe\u{301}", "narrative iin ('Caf\u{E9}')", false), ("CAF\u{C9}", "narrative iin ('caf\u{E9}')", true),
    ("Cafe\u{301}", "narrative in ('Caf\u{E9}')", false),
  ])
  func caseIsSetAsideInEveryScript(narrative: String, condition: String, expected: Bool) throws {
    let report = try parsed(
      #"{"id":"F","occurred_at":"2016-03-01","type":"attack","narrative":\#(JSONText.string(narrative))}"#
    ).report
    #expect(try Self.compiler.compile(condition).matches(report) == expected)
  }

  @Test func aLaterClockInAnEarlierZoneIsAnEarlierInstant() throws {
    let report = try parsed(#"{"id":"T","occurred_at":"2015-06-01T01:30:00+03:00","type":"attack"}"#).report
    #expect(try Self.compiler.compile("occurred_at < 2015-06-01T00:00:00Z").matches(report))
    #expect(try !Self.compiler.compile("occurred_at >= 2015-06-01").matches(report))
  }

  @Test func listsWorkOnTextFields() throws {
    let report = try parsed(reportLine(#""access":{"requested_by":"WFP","status":"denied"}"#)).report
    #expect(try Self.compiler.compile("access.requested_by in (un_agencies)").matches(report))
    #expect(try Self.compiler.compile("access.requested_by iin (un_agencies, 'the UN')").matches(report))
    #expect(try !Self.compiler.compile("access.requested_by in (un_agencies_typo)").matches(report))
  }

  static let loadErrors: [(String, Int, String)] = [
    ("location.populated > 3", 21, "'>' does not fit location.populated, a true/false field, which takes = and !="),
    (
      "occurred_at >= yesterday", 15,
      "'yesterday' is not a timestamp; write one like 2016-02-27T00:00:00+02:00 or a date like 2016-02-27"
    ),
    (
      "occurred_at contains 2016", 21,
      "'contains' does not fit occurred_at, a timestamp field, which takes =, !=, <, <=, > and >="
    ),
    (
      "weapons = barel_bomb", 10,
      "'barel_bomb' is not a value of weapons, which is one of: barrel_bomb, cluster_munition, unguided_rocket, mortar, artillery, unguided_air_bomb, guided_munition, incendiary, thermobaric, chemical, vbied, ied, suicide_attack, small_arms, tank, sniper, landmine, air_strike, shelling, other, unknown"
    ),
    (
      "type in (attack, attak)", 17,
      "'attak' is not a value of type, which is one of: attack, access, detention, trade, displacement, siege"
    ),
    (
      "weapons in (bad_words)", 12,
      "'barel_bomb' (from the list bad_words) is not a value of weapons, which is one of: barrel_bomb, cluster_munition, unguided_rocket, mortar, artillery, unguided_air_bomb, guided_munition, incendiary, thermobaric, chemical, vbied, ied, suicide_attack, small_arms, tank, sniper, landmine, air_strike, shelling, other, unknown"
    ),
    ("casualties.killed > many", 20, "'many' is not a number (written -?digits[.digits]), and casualties.killed is a number field"),
    // The grammar's numbers only: what Double would also read is a word here.
    ("casualties.killed > 1e3", 20, "'1e3' is not a number (written -?digits[.digits]), and casualties.killed is a number field"),
    ("casualties.killed = 0x10", 20, "'0x10' is not a number (written -?digits[.digits]), and casualties.killed is a number field"),
    ("casualties.killed >= 5.", 21, "'5.' is not a number (written -?digits[.digits]), and casualties.killed is a number field"),
    ("casualties.killed in (1, 1e3)", 25, "'1e3' is not a number (written -?digits[.digits]), and casualties.killed is a number field"),
    (
      "casualties.killed contains 3", 27,
      "'contains' does not fit casualties.killed, a number field, which takes =, !=, <, <=, > and >="
    ),
    ("location.populated = yes", 21, "location.populated is true or false; 'yes' is neither"),
    ("location = Idlib", 11, "'=' does not fit location, an object, which takes only 'exists'"),
    ("narrative > a", 12, "'>' compares numbers and timestamps, not text"),
    ("narrative matches '(unclosed'", 18, "invalid regular expression '(unclosed': expected ')'"),
    ("narrative matches '[a-z'", 18, "invalid regular expression '[a-z': expected ']'"),
    // A letter ICU has no escape for would be matched as the letter itself (audit 52).
    (
      #"narrative matches 'a\\Kb'"#, 18,
      #"invalid regular expression 'a\Kb': \K is no escape of ICU's regular expressions, which would read it as the letter K"#
        + " (write K alone, or the escape ICU has for what you meant)"
    ),
    (
      #"narrative matches '(a)\\g{1}'"#, 18,
      #"invalid regular expression '(a)\g{1}': \g is no escape of ICU's regular expressions, which would read it as the letter g"#
        + " (write g alone, or the escape ICU has for what you meant)"
    ),
    (
      "casualties.killed > 1\(String(repeating: "0", count: 400))", 20,
      "'1000000000000000000000000000000000000000…' (401 characters) is too large a number: a number field holds at most about 1.8e308"
    ),
    ("narrative glob '[abc'", 15, "invalid glob pattern '[abc': a '[' is never closed"),
    ("location.palce = x", 0, "unknown field location.palce (did you mean location.place?)"),
    ("perpetrater.name exists", 0, "unknown field perpetrater.name (did you mean perpetrator.name?)"),
    ("extra. = 1", 0, "unknown field extra. (did you mean extra?)"),
    ("displacement.total >= 1", 0, "unknown field displacement.total (displacement has: count, direction, voluntary)"),
    (
      "occurred_at in (2016-01-01)", 16,
      "'in' does not fit occurred_at, a timestamp field; it takes text, enum words and numbers"
    ),
    ("undefined_macro", 0, "no macro named undefined_macro, and it is not a field"),
    ("location.place and x", 0, "expected an operator after the field location.place (such as '=', 'in' or 'exists')"),
    ("nope(x)", 0, "no function named nope (known: hours_between, is_government)"),
    ("is_government(perpetrator, target)", 0, "is_government(…) takes 1 argument, got 2"),
    (
      "hours_between(occurred_at, narrative) > 1", 27,
      "hours_between(…) expects a timestamp field here; narrative is a text field"
    ),
    ("hours_between(occurred_at, 'x') > 1", 27, "hours_between(…) expects a field here, got a value"),
    (
      "hours_between(2016-02-27T00:00:00+02:00, occurred_at) > 1", 14,
      "hours_between(…) expects a field here, got a value (2016-02-27T00:00:00+02:00)"
    ),
    (
      "hours_between(occurred_at, reported_at)", 0,
      "hours_between(…) gives a number field, not true or false: compare it with a value"
    ),
  ]

  @Test(arguments: loadErrors)
  func refusesAtLoad(condition: String, offset: Int, message: String) {
    do {
      _ = try Self.compiler.compile(condition)
      Issue.record("compiled: \(condition)")
    } catch {
      #expect(error.message == message)
      #expect(error.start == offset)
      #expect(error.macro == nil)
    }
  }

  /// Every word of an `in (…)` outside the enum is said, each at its place: an author
  /// fixes them in one go, not one per load.
  @Test func everyUnknownEnumWordOfAListIsSaid() {
    do {
      _ = try Self.compiler.compile("type in (attak, access, detension)")
      Issue.record("compiled")
    } catch {
      #expect(error.all.map(\.start) == [9, 24])
      #expect(error.all.map { String($0.message.prefix(12)) } == ["'attak' is n", "'detension' "])
    }
  }

  /// A number is `-?digits[.digits]` (docs/rules.md); what else `Double` reads is a word.
  @Test func numbersAreWrittenAsTheGrammarSays() {
    for (text, value) in [("10", 10.0), ("-3", -3), ("0.5", 0.5), ("007", 7), ("-0.25", -0.25)] {
      #expect(ValueTest.numberLiteral(text) == value, "\(text)")
    }
    for text in ["1e3", "0x10", "0x1p3", "+5", ".5", "5.", "-", "", "inf", "nan", "1_000", "1.2.3", "١٢", " 5"] {
      #expect(ValueTest.numberLiteral(text) == nil, "\(text)")
    }
  }

  @Test func macroCyclesAreNamed() {
    do {
      _ = try Self.compiler.compile("loop_a")
      Issue.record("a cycle compiled")
    } catch {
      #expect(error.message == "macros refer to each other in a loop: loop_a → loop_b → loop_a")
      #expect(error.macro == "loop_b")
    }
  }

  @Test func errorsInsideAMacroNameTheMacro() {
    do {
      _ = try Self.compiler.compile("type = attack and broken")
      Issue.record("a broken macro compiled")
    } catch {
      #expect(error.macro == "broken")
      #expect(error.start == 21)
    }
  }

  static let pins: [(String, Set<IncidentType>)] = [
    ("type = access", [.access]),
    ("type = access and access.status = denied", [.access]),
    ("type in (attack, siege) and location.besieged = true", [.attack, .siege]),
    ("type = access or type = siege", [.access, .siege]),
    ("is_access and after_cessation", [.access]),
    ("type in (attack, access) and type = access", [.access]),
    ("type intersects (trade, siege)", [.trade, .siege]),
  ]

  @Test(arguments: pins)
  func typePinningNarrowsTheRulesToTry(condition: String, types: Set<IncidentType>) throws {
    #expect(try Self.compiler.compile(condition).types == types)
  }

  @Test(arguments: [
    "type != access", "not type = access", "type = access or weapons = mortar", "weapons = mortar", "type iin (ACCESS)",
  ])
  func conditionsThatDoNotPinATypeApplyToAll(condition: String) throws {
    #expect(try Self.compiler.compile(condition).types == nil)
  }
}
