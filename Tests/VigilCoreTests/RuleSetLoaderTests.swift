import Testing
import VigilTestSupport

@testable import VigilCore

/// Loads rule files given as text.
func loadRules(_ files: [(String, String)], loader: RuleSetLoader = RuleSetLoader()) -> Result<RuleSet, RuleSetErrors> {
  loader.load(files.map { RuleSource(path: "Rules/" + $0.0, name: $0.0, contents: Array($0.1.utf8)) })
}

func ruleErrors(_ files: [(String, String)]) -> [String] {
  switch loadRules(files) {
  case .success: []
  case .failure(let errors): errors.errors.map(\.description)
  }
}

@Suite("Rule sets: loading, checking and evaluating (docs/rules.md)")
struct RuleSetLoaderTests {
  static let access = """
    - list: un_agencies                      # a named list of scalars
      items: [OCHA, WFP, UNICEF, WHO, UNHCR, UNRWA, UNFPA, UNDP, FAO]

    - macro: after_cessation_of_hostilities  # a named, reusable condition
      condition: occurred_at >= 2016-02-27T00:00:00+02:00

    - rule: access.un_request_denied
      desc: A UN agency's request to deliver aid was denied.
      condition: type = access and access.requested_by in (un_agencies) and access.status = denied
      output: "%access.requested_by request %access.request_id denied (%location.governorate)"
      priority: high
      basis: ["ISSG ¶6", "UNSCR 2165 OP6"]
      tags: [humanitarian_access]
      enabled: true
      examples:
        match:
          - {type: access, access: {requested_by: WFP, status: denied}}
        no_match:
          - {type: access, access: {requested_by: WFP, status: approved}}

    - rule: ceasefire.after
      desc: An attack after the cessation of hostilities.
      condition: type = attack and after_cessation_of_hostilities
      output: "%perpetrator.name attacked %target.type, %casualties.killed killed (%weapons)"
      priority: medium
      examples:
        match:
          - {type: attack, occurred_at: 2016-02-27T00:00:00+02:00}
          - {type: attack, occurred_at: "2016-02-26T22:00:00Z", weapons: [mortar, tank]}
        no_match:
          - {type: attack, occurred_at: 2016-02-26T23:59:59+02:00}
          - {type: access}
    """

  @Test func theSpecExampleLoadsAndEvaluates() throws {
    let set = try loadRules([("access.yaml", Self.access)]).get()
    #expect(set.rules.map(\.id) == ["access.un_request_denied", "ceasefire.after"])
    let denied = set.rules[0]
    #expect(denied.priority == .high)
    #expect(denied.basis == ["ISSG ¶6", "UNSCR 2165 OP6"])
    #expect(denied.tags == ["humanitarian_access"])
    #expect(denied.position == SourcePosition(file: "Rules/access.yaml", line: 7, column: 3))
    #expect(set.rules[1].tags == [] && set.rules[1].basis == [] && set.rules[1].enabled)
    let report = try parsed(
      reportLine(
        #""type":"access","location":{"governorate":"Aleppo"},"access":{"requested_by":"OCHA","status":"denied","request_id":"R-9"}"#
      )
      .replacingOccurrences(of: #""type":"attack","#, with: "")
    ).report
    let matches = set.evaluate(report)
    #expect(matches.map(\.rule.id) == ["access.un_request_denied"])
    #expect(matches.first?.message == "OCHA request R-9 denied (Aleppo)")
  }

  /// Every operand's problems of an `and` or an `or` come together, in a rule's condition
  /// and in a macro's, not one per round of editing.
  @Test func aConditionsProblemsComeTogether() {
    let rule = """
      - macro: twice
        condition: location.placee = a or casualties.killed > many
      - rule: m.two
        desc: d
        condition: location.palce = x and (location.governorat = y or weapons = barel_bomb) and not twice
        output: o
        priority: low
      """
    let errors = ruleErrors([("m.yaml", rule)])
    #expect(errors.count == 5, "\(errors)")
    #expect(errors.contains { $0.hasPrefix("Rules/m.yaml:2:14: macro twice: unknown field location.placee") }, "\(errors)")
    #expect(errors.contains { $0.hasPrefix("Rules/m.yaml:2:57: macro twice: 'many' is not a number") }, "\(errors)")
    #expect(errors.contains { $0.hasPrefix("Rules/m.yaml:5:14: rule m.two: unknown field location.palce") }, "\(errors)")
    #expect(errors.contains { $0.hasPrefix("Rules/m.yaml:5:38: rule m.two: unknown field location.governorat") }, "\(errors)")
    #expect(errors.contains { $0.hasPrefix("Rules/m.yaml:5:75: rule m.two: 'barel_bomb' is not a value of weapons") }, "\(errors)")
  }

  /// Two ids that differ only in case are one too many: tools and readers that ignore case
  /// would take their alerts for one rule's.
  @Test func idsThatDifferOnlyInCaseAreAnError() {
    let rule = { (id: String) in "- rule: \(id)\n  desc: d\n  condition: type = attack\n  output: o\n  priority: low\n" }
    #expect(
      ruleErrors([("a.yaml", rule("t.a")), ("b.yaml", rule("T.A"))]) == [
        "Rules/b.yaml:1:9: rule id T.A differs from t.a, defined at Rules/a.yaml:1:9, only in case"
      ])
    #expect(ruleErrors([("a.yaml", rule("t.a") + rule("t.b"))]).isEmpty)
  }

  /// A file with no byte but white space is what a save cut short leaves: refused, so its
  /// rules stay in force (audit 43). One meant to define nothing says so: `[]`, a comment,
  /// `~`.
  @Test(arguments: [
    ("", false), ("  \n\n\t\r\n", false), ("\u{FEFF}\n", false), ("[]\n", true), ("# site rules go here\n", true), ("~\n", true),
    ("\u{FEFF}[]\n", true),
  ])
  func anEmptyFileIsRefusedAndOneThatSaysItDefinesNothingIsNot(text: String, loads: Bool) {
    let keep = "- rule: k.one\n  desc: d\n  condition: type = attack\n  output: o\n  priority: low\n"
    let result = loadRules([("keep.yaml", keep), ("local.yaml", text)])
    if loads {
      #expect((try? result.get())?.rules.map(\.id) == ["k.one"], "\(result)")
    } else {
      #expect(
        ruleErrors([("keep.yaml", keep), ("local.yaml", text)]) == [
          "Rules/local.yaml:1:1: the file is empty (a save cut short?); a rule file is a YAML list of items: "
            + "for one that defines nothing, write [] or a comment"
        ])
    }
  }

  /// A key given twice is an error at its second place, and the file is read on: the
  /// file's other errors, and other files' errors against it, come in the same load.
  @Test func aKeyGivenTwiceIsOneErrorAmongTheOthers() {
    let first = """
      - rule: d.rep
        desc: d
        condition: type = attack
        condition: type = siege
        output: o
        priority: low
      - rule: w.types
        desc: d
        condition: weapons = barel_bomb
        output: o
        priority: lo
      - rule: d.dup
        desc: d
        condition: type = attack
        output: o
        priority: low
      """
    let second = "- rule: d.dup\n  desc: d\n  condition: type = attack\n  output: o\n  priority: low\n"
    let errors = ruleErrors([("a.yaml", first), ("b.yaml", second)])
    #expect(
      errors.map { String($0.prefix(40)) } == [
        "Rules/a.yaml:4:3: the key 'condition' ap",
        "Rules/a.yaml:9:24: rule w.types: 'barel_",
        "Rules/a.yaml:11:13: rule w.types: priori",
        "Rules/b.yaml:1:9: rule d.dup is already ",
      ], "\(errors)")
  }

  @Test func outputsShowAbsentFieldsAndJoinArrays() throws {
    let set = try loadRules([("access.yaml", Self.access)]).get()
    let report = try parsed(reportLine(#""weapons":["mortar","tank"],"casualties":{"killed":3}"#)).report
    #expect(set.evaluate(report).map(\.message) == ["<none> attacked <none>, 3 killed (mortar, tank)"])
  }

  /// A word with `_` given to mentions() that names no list is likelier a misspelt list
  /// name than a name to look for: warned about at its place, as inside `in ( … )`; a list's
  /// name, or a plain word, is not.
  @Test func mentionsOfAWordThatNamesNoListIsWarnedAbout() throws {
    let text = """
      - list: un_agencies
        items: [OCHA]
      - rule: t.r
        desc: d
        condition: mentions(narrative, un_agencise) or mentions(narrative, un_agencies) or mentions_part(narrative, OCHA)
        output: o
        priority: low
      """
    let set = try loadRules([("x.yaml", text)]).get()
    #expect(
      set.warnings.map(\.description) == [
        "Rules/x.yaml:5:34: rule t.r: 'un_agencise' names no list, so mentions(…) looks for it as one value; "
          + "is it a misspelt list name?"
      ])
  }

  /// `normalized(…)` compared with a value not written as name matching reads it can
  /// never hold: warned about at the value, with the form that can.
  @Test func aValueNormalizedCanNeverBeIsWarnedAbout() throws {
    let text = """
      - rule: t.r
        desc: d
        condition: normalized(access.destination) = الرقة or normalized(narrative) in (madaya, Madaya) or normalized(narrative) = "رقه" or normalized(narrative) iin (Madaya)
        output: o
        priority: low
      """
    let set = try loadRules([("x.yaml", text)]).get()
    #expect(
      set.warnings.map(\.description) == [
        "Rules/x.yaml:3:47: rule t.r: normalized(…) gives text as name matching reads it, so 'الرقة' can never be "
          + "its value; write 'رقه'",
        "Rules/x.yaml:3:90: rule t.r: normalized(…) gives text as name matching reads it, so 'Madaya' can never be "
          + "its value; write 'madaya'",
      ])
    // party(…) normalises as normalized(…) does.
    let party = """
      - rule: t.p
        desc: d
        condition: party(perpetrator) = Government or party(perpetrator) in (isil, "Free Syrian Army")
        output: o
        priority: low
      """
    #expect(
      try loadRules([("p.yaml", party)]).get().warnings.map(\.description) == [
        "Rules/p.yaml:3:35: rule t.p: party(…) gives text as name matching reads it, so 'Government' can never be "
          + "its value; write 'government'",
        "Rules/p.yaml:3:78: rule t.p: party(…) gives text as name matching reads it, so 'Free Syrian Army' can never be "
          + "its value; write 'free syrian army'",
      ])
  }

  /// Every field a matching example's message shows as `<none>` is named, in one warning.
  @Test func everyFieldShownAsNoneIsNamed() throws {
    let text = """
      - rule: t.r
        desc: d
        condition: type = attack
        output: "by %perpetrator.name at %{%location.place} with %weapons, again %perpetrator.name"
        priority: low
        examples:
          match: [{type: attack}]
      """
    let set = try loadRules([("x.yaml", text)]).get()
    #expect(
      set.warnings.map(\.message) == [
        "rule t.r: example match[0]: its message shows <none> for %perpetrator.name, %weapons; put each part in an "
          + "optional segment %{…} or give it a default with %{%perpetrator.name|…}"
      ])
  }

  @Test func aMatchingExampleWhoseMessageShowsNoneIsWarnedAbout() throws {
    let set = try loadRules([("access.yaml", Self.access)]).get()
    // The first example of each rule lacks fields its output shows bare.
    #expect(
      set.warnings.map(\.description) == [
        "Rules/access.yaml:17:9: rule access.un_request_denied: example match[0]: its message shows <none> for "
          + "%access.request_id, %location.governorate; put each part in an optional segment %{…} or give it a default with "
          + "%{%access.request_id|…}",
        "Rules/access.yaml:28:9: rule ceasefire.after: example match[0]: its message shows <none> for "
          + "%perpetrator.name, %target.type, %casualties.killed, %weapons; put each part in an optional segment %{…} "
          + "or give it a default with %{%perpetrator.name|…}",
        "Rules/access.yaml:29:9: rule ceasefire.after: example match[1]: its message shows <none> for "
          + "%perpetrator.name, %target.type, %casualties.killed; put each part in an optional segment %{…} or give it "
          + "a default with %{%perpetrator.name|…}",
      ])
    let segmented = Self.access.replacingOccurrences(
      of: "request %access.request_id denied (%location.governorate)",
      with: "request%{ %access.request_id} denied%{ (%location.governorate)}")
    #expect(try loadRules([("access.yaml", segmented)]).get().warnings.count == 2)
  }

  @Test func theRevisionCoversNamesAndContentsInOrder() throws {
    let one = RuleSetLoader.revision(of: [RuleSource(path: "Rules/a.yaml", name: "a.yaml", contents: Array("x".utf8))])
    #expect(one.hasPrefix("sha256:") && one.count == 7 + 64)
    // sha256 of "a.yaml", NUL, "x", NUL, as Python's hashlib computes it
    #expect(one == "sha256:74c324ed98c0800ede08e8a70c5f3ad5ca67a02121c7c43f8d1f471fd4c95286")
    let renamed = RuleSetLoader.revision(of: [
      RuleSource(path: "Rules/b.yaml", name: "b.yaml", contents: Array("x".utf8))
    ])
    let edited = RuleSetLoader.revision(of: [
      RuleSource(path: "Rules/a.yaml", name: "a.yaml", contents: Array("y".utf8))
    ])
    let elsewhere = RuleSetLoader.revision(of: [
      RuleSource(path: "/etc/a.yaml", name: "a.yaml", contents: Array("x".utf8))
    ])
    #expect(renamed != one && edited != one)
    #expect(elsewhere == one)
    let set = try loadRules([("access.yaml", Self.access)]).get()
    #expect(
      set.revision
        == RuleSetLoader.revision(of: [RuleSource(path: "x", name: "access.yaml", contents: Array(Self.access.utf8))]))
  }

  @Test func namesResolveAcrossFilesWhateverTheOrder() throws {
    let rules = """
      - rule: weapons.heavy
        desc: Heavy weapons.
        condition: weapons in (heavy_weapons) and is_attack
        output: "%weapons"
        priority: high
        examples:
          match: [{type: attack, weapons: [artillery]}]
      """
    let definitions =
      "- list: heavy_weapons\n  items: [artillery, barrel_bomb]\n- macro: is_attack\n  condition: type = attack\n"
    let set = try loadRules([("a.yaml", rules), ("b.yaml", definitions)]).get()
    #expect(set.enabledRuleCount == 1)
  }

  @Test func disabledRulesAreListedButNeverFire() throws {
    let text = """
      - rule: any.attack
        desc: Any attack.
        condition: type = attack
        output: attack
        priority: info
        enabled: false
      """
    let set = try loadRules([("a.yaml", text)]).get()
    #expect(set.rules.count == 1 && set.enabledRuleCount == 0)
    #expect(set.evaluate(try parsed(reportLine()).report).isEmpty)
  }

  @Test func typeIndexingSkipsRulesThatCannotMatch() throws {
    let text = """
      - rule: only.access
        desc: Access.
        condition: type = access
        output: access
        priority: low
      - rule: any.report
        desc: Anything.
        condition: id exists
        output: any
        priority: low
      """
    let set = try loadRules([("a.yaml", text)]).get()
    #expect(set.evaluate(try parsed(reportLine()).report).map(\.rule.id) == ["any.report"])
    let access = try parsed(#"{"id":"A","occurred_at":"2016-01-01","type":"access"}"#).report
    #expect(set.evaluate(access).map(\.rule.id) == ["only.access", "any.report"])
  }

  static func rule(_ condition: String) -> String {
    "- rule: r.one\n  desc: d\n  condition: \(condition)\n  output: o\n  priority: low\n"
  }

  static let refusals: [(String, [String])] = [
    (
      "- rule: [unclosed\n",
      ["Rules/x.yaml:2:1: invalid YAML: did not find expected ',' or ']' (while parsing a flow sequence that begins at 1:9)"]
    ),
    (
      // The problem's place is the end of the file; the quote that never closes is named too.
      "- rule: r.one\n  desc: d\n  output: \"unterminated\n  priority: low\n",
      [
        "Rules/x.yaml:5:1: invalid YAML: found unexpected end of stream (while scanning a quoted scalar that begins at 3:11)"
      ]
    ),
    (
      "rule: x\n",
      [#"Rules/x.yaml:1:1: a rule file is a list of items (`- rule: …`, `- list: …`, `- macro: …`), got a mapping"#]
    ),
    ("- just text\n", [#"Rules/x.yaml:1:3: an item is a mapping such as `- rule: …`, got "just text""#]),
    ("- name: x\n", ["Rules/x.yaml:1:3: an item needs exactly one of list, macro, rule, pattern; none is among its keys (name)"]),
    // A kind nearly written is named (audit 53: "found none" of an item with a key).
    (
      "- rules: t.x\n  desc: d\n",
      [
        "Rules/x.yaml:1:3: an item needs exactly one of list, macro, rule, pattern; none is among its keys (rules, desc): "
          + "did you mean `rule` for `rules`?"
      ]
    ),
    (
      "- list: x\n  macro: y\n",
      ["Rules/x.yaml:1:3: an item needs exactly one of list, macro, rule, pattern; found list and macro"]
    ),
    (
      rule("type = access and"),
      [
        "Rules/x.yaml:3:31: rule r.one: expected an operand after 'and' (a field, a macro, 'not' or '('), got the end of the condition"
      ]
    ),
    (
      rule("location.populated > 3"),
      ["Rules/x.yaml:3:35: rule r.one: '>' does not fit location.populated, a true/false field, which takes = and !="]
    ),
    (
      rule("occurred_at >= yesterday"),
      [
        "Rules/x.yaml:3:29: rule r.one: 'yesterday' is not a timestamp; write one like 2016-02-27T00:00:00+02:00 or a date like 2016-02-27"
      ]
    ),
    (
      rule("\"type = access and weapons = barel_bomb\""),
      [
        "Rules/x.yaml:3:43: rule r.one: 'barel_bomb' is not a value of weapons, which is one of: barrel_bomb, cluster_munition, unguided_rocket, mortar, artillery, unguided_air_bomb, guided_munition, incendiary, thermobaric, chemical, vbied, ied, suicide_attack, small_arms, tank, sniper, landmine, air_strike, shelling, other, unknown"
      ]
    ),
    (
      rule("|\n    type = access\n    and location.palce = x"),
      ["Rules/x.yaml:5:9: rule r.one: unknown field location.palce (did you mean location.place?)"]
    ),
    (
      rule("type = attack and no_such_macro"),
      ["Rules/x.yaml:3:32: rule r.one: no macro named no_such_macro, and it is not a field"]
    ),
    (
      "- macro: a\n  condition: b and type = attack\n- macro: b\n  condition: not a\n",
      [
        "Rules/x.yaml:2:14: macro a: macros refer to each other in a loop: b → a → b",
        "Rules/x.yaml:4:18: macro b: macros refer to each other in a loop: a → b → a",
      ]
    ),
    (
      "- macro: m\n  condition: type =\n" + rule("m"),
      ["Rules/x.yaml:2:20: macro m: expected a value after '=', got the end of the condition"]
    ),
    // A tag is one word; every wrong element is said.
    (
      "- rule: r.one\n  desc: d\n  condition: type = attack\n  output: o\n  priority: low\n  tags: [ok, \"a b\", \"\", [x]]\n",
      [
        "Rules/x.yaml:6:14: rule r.one: a tag is one word, without spaces, such as humanitarian_access; got 'a b'",
        "Rules/x.yaml:6:21: rule r.one: a tag is one word, without spaces, such as humanitarian_access; got ''",
        "Rules/x.yaml:6:25: rule r.one: each of tags must be a value, got a list",
      ]
    ),
    // A broken rule's examples are not run, but how they are written is still checked.
    (
      "- rule: r.one\n  desc: [a]\n  condition: type = attack\n  output: o\n  priority: low\n  examples: [{type: attack}]\n",
      [
        "Rules/x.yaml:2:9: rule r.one: desc must be a value, got a list",
        "Rules/x.yaml:6:13: rule r.one: examples must be a mapping with match and no_match lists",
      ]
    ),
    (
      "- rule: r.one\n  desc: d\n  condition: type = atack\n  output: o\n  priority: low\n"
        + "  examples:\n    match:\n      - {type: attack, wepons: [mortar]}\n",
      [
        "Rules/x.yaml:3:21: rule r.one: 'atack' is not a value of type, which is one of: attack, access, detention, "
          + "trade, displacement, siege",
        "Rules/x.yaml:8:9: rule r.one: example match[0]: unknown field \"wepons\"",
      ]
    ),
    // A macro whose item is broken is reported once, at the macro: its uses are not "no macro named".
    (
      "- macro: m\n  condition: [a]\n" + rule("m and type = attack"),
      ["Rules/x.yaml:2:14: macro m: condition must be a value, got a list"]
    ),
    (
      "- macro: m\n" + rule("m"),
      ["Rules/x.yaml:1:3: macro m needs 'condition'"]
    ),
    // Nor are the examples of a rule using it judged by its stand-in (through another macro too).
    (
      "- macro: m\n  condition: [a]\n- macro: n\n  condition: m and type = attack\n"
        + "- rule: r.one\n  desc: d\n  condition: n\n  output: o\n  priority: low\n"
        + "  examples:\n    match: [{type: attack}]\n    no_match: [{type: attack, narrative: x}]\n",
      ["Rules/x.yaml:2:14: macro m: condition must be a value, got a list"]
    ),
    (
      "- macro: m\n  condition: type =\n"
        + "- rule: r.one\n  desc: d\n  condition: m\n  output: o\n  priority: low\n"
        + "  examples:\n    no_match: [{type: access}, {type: attack, wepons: [x]}]\n",
      [
        "Rules/x.yaml:2:20: macro m: expected a value after '=', got the end of the condition",
        "Rules/x.yaml:9:32: rule r.one: example no_match[1]: unknown field \"wepons\"",
      ]
    ),
    (
      "- rule: r.one\n  desc: d\n  condition: type = attack\n  output: \"%location.palce at %%\"\n  priority: low\n",
      ["Rules/x.yaml:4:12: rule r.one: output: unknown field %location.palce (did you mean location.place?)"]
    ),
    (
      "- rule: r.one\n  desc: d\n  condition: type = attack\n  output: o\n  priority: urgent\n",
      ["Rules/x.yaml:5:13: rule r.one: priority must be one of critical, high, medium, low, info, got 'urgent'"]
    ),
    (
      "- rule: r.one\n  desc: d\n  condition: type = attack\n  priority: low\n  severity: 3\n",
      [
        "Rules/x.yaml:1:3: rule r.one needs 'output'",
        "Rules/x.yaml:5:3: unknown key 'severity' in a rule (known: rule, desc, condition, output, priority, basis, tags, enabled, examples)",
      ]
    ),
    (
      // A key missing does not hide the other keys' errors: all of them at once.
      "- rule: r.one\n  condition: type = atack\n  priority: urgent\n  severity: 3\n",
      [
        "Rules/x.yaml:1:3: rule r.one needs 'desc'",
        "Rules/x.yaml:1:3: rule r.one needs 'output'",
        "Rules/x.yaml:2:21: rule r.one: 'atack' is not a value of type, which is one of: attack, access, detention, "
          + "trade, displacement, siege",
        "Rules/x.yaml:3:13: rule r.one: priority must be one of critical, high, medium, low, info, got 'urgent'",
        "Rules/x.yaml:4:3: unknown key 'severity' in a rule (known: rule, desc, condition, output, priority, basis, tags, enabled, examples)",
      ]
    ),
    (
      rule("type = attack") + rule("type = access"),
      ["Rules/x.yaml:6:9: rule r.one is already defined at Rules/x.yaml:1:9"]
    ),
    (
      "- list: a\n  items: [x]\n- macro: a\n  condition: type = attack\n",
      ["Rules/x.yaml:3:10: a is already defined as a list at Rules/x.yaml:1:9"]
    ),
    (
      // A word of the condition language is no name: such a list or macro could not be used (audit 52).
      "- list: and\n  items: [x]\n- macro: Not\n  condition: type = attack\n- list: true\n  items: [y]\n",
      [
        "Rules/x.yaml:1:9: list name 'and' is a word of the condition language; name the list otherwise",
        "Rules/x.yaml:3:10: macro name 'Not' is a word of the condition language; name the macro otherwise",
        "Rules/x.yaml:5:9: list name 'true' is a word of the condition language; name the list otherwise",
      ]
    ),
    (
      // A name given twice is said beside the repeating item's other problems.
      "- list: a\n  items: [x]\n- list: a\n  items: x\n- macro: a\n  condition: type = attack\n  bogus: 1\n",
      [
        "Rules/x.yaml:3:9: a is already defined as a list at Rules/x.yaml:1:9",
        "Rules/x.yaml:4:10: list a: items must be a list of values",
        "Rules/x.yaml:5:10: a is already defined as a list at Rules/x.yaml:1:9",
        "Rules/x.yaml:7:3: unknown key 'bogus' in a macro (known: macro, condition)",
      ]
    ),
    (
      rule("type = attack").replacingOccurrences(of: "r.one", with: "vigil.mine"),
      ["Rules/x.yaml:1:9: rule ids starting with 'vigil.' are reserved for Vigil's own records"]
    ),
    (
      rule("type = attack").replacingOccurrences(of: "r.one", with: "bad id"),
      ["Rules/x.yaml:1:9: rule id 'bad id' must be dotted words of ASCII letters, digits, '_' and '-' (weapons.barrel_bomb)"]
    ),
    (
      // An alert with no message: refused, empty or blank.
      rule("type = attack").replacingOccurrences(of: "output: o", with: "output: \" \\t\""),
      ["Rules/x.yaml:4:11: rule r.one: output must say something: it is the alert's message"]
    ),
    (
      rule("type = attack") + "  basis: ISSG ¶7\n  enabled: yes\n",
      [
        #"Rules/x.yaml:6:10: rule r.one: basis must be a list, such as ["ISSG ¶7"]; got "ISSG ¶7""#,
        #"Rules/x.yaml:7:12: rule r.one: enabled must be true or false, got "yes""#,
      ]
    ),
    (
      rule("type = attack")
        + "  examples:\n    match:\n      - {type: access}\n    no_match:\n      - {type: attack}\n",
      [
        "Rules/x.yaml:8:9: rule r.one: example match[0] does not match",
        "Rules/x.yaml:10:9: rule r.one: example no_match[0] matches, but should not match",
      ]
    ),
    (
      rule("type = attack") + "  examples:\n    match:\n      - {type: attack, casualties: {killed: many}}\n",
      [
        #"Rules/x.yaml:8:9: rule r.one: example match[0] is not a valid report: casualties.killed: expected a whole number from 0 to 10,000,000, got "many""#
      ]
    ),
    (
      rule("type = attack") + "  examples:\n    matches: []\n",
      ["Rules/x.yaml:7:5: rule r.one: unknown key 'matches' in examples (known: match, no_match)"]
    ),
  ]

  @Test(arguments: refusals)
  func refusesWithPositions(text: String, expected: [String]) {
    #expect(ruleErrors([("x.yaml", text)]) == expected)
  }

  @Test func examplesReadScalarsAsTheSchemaTypesThem() throws {
    let text = """
      - rule: trade.norway
        desc: Goods from NO.
        condition: trade.origin_country = NO and trade.value_usd > 10 and location.populated = true
        output: "%trade.origin_country"
        priority: low
        examples:
          match:
            - {type: trade, trade: {origin_country: NO, value_usd: 11}, location: {populated: true}}
          no_match:
            - {type: trade, trade: {origin_country: NO, value_usd: 10}, location: {populated: true}}
      """
    let set = try loadRules([("x.yaml", text)]).get()
    #expect(set.rules.count == 1)
  }

  @Test func anchorsAndAliasesShareExamples() throws {
    let text = """
      - rule: r.one
        desc: d
        condition: type = attack
        output: o
        priority: low
        examples:
          match: &attacks [{type: attack}, {type: attack, weapons: [mortar]}]
      - rule: r.two
        desc: d
        condition: type = attack or type = siege
        output: o
        priority: low
        examples:
          match: *attacks
      """
    let set = try loadRules([("x.yaml", text)]).get()
    #expect(set.rules.map(\.exampleCount) == [2, 2])
  }

  /// Examples without an `id` get one each, counted through both lists in their order:
  /// the first of each list do not share one.
  @Test func examplesGetIDsOfTheirOwn() throws {
    let text = """
      - rule: e.two
        desc: d
        condition: id = "example:e.two:0" or id = "example:e.two:2"
        output: o
        priority: low
        examples:
          match: [{type: attack}]
          no_match: [{type: attack}]
      """
    let set = try loadRules([("x.yaml", text)]).get()
    #expect(set.rules.map(\.exampleCount) == [2])
  }

  /// YAML's merge key: a rule made from another's members, its own keys winning wherever
  /// they stand; a merge of what is not a mapping is one clear error.
  @Test func mergeKeysBuildOneRuleFromAnother() throws {
    let text = """
      - &base
        rule: r.one
        desc: d
        condition: type = attack
        output: o
        priority: low
      - priority: high
        <<: *base
        rule: r.two
      - <<: [{desc: first}, {desc: second, output: p}]
        rule: r.three
        condition: type = siege
        priority: info
      """
    let set = try loadRules([("x.yaml", text)]).get()
    #expect(set.rules.map(\.id) == ["r.one", "r.two", "r.three"])
    #expect(set.rules.map(\.priority) == [.low, .high, .info])
    let wrong = ruleErrors([("y.yaml", "- <<: plain\n  rule: r.x\n")])
    #expect(wrong.first == "Rules/y.yaml:1:3: a merge key (<<) takes a mapping or a list of mappings, such as <<: *base; got \"plain\"", "\(wrong)")
    #expect(wrong.count == 1, "\(wrong)")
  }

  /// Edits that crashed or held a reload for minutes are refused at their place: optional
  /// segments nested thousands deep, a chain of a thousand macros, aliases of aliases.
  @Test func deepOrExplodingRuleFilesAreRefusedNotFollowed() {
    let deep = String(repeating: "%{", count: 10_000) + "x" + String(repeating: "}", count: 10_000)
    let segments = ruleErrors([("x.yaml", "- rule: t.a\n  desc: d\n  condition: type = attack\n  output: \"\(deep)\"\n  priority: low\n")])
    #expect(segments == ["Rules/x.yaml:4:44: rule t.a: output: optional segments nest at most 16 deep"], "\(segments)")
    #expect(ruleErrors([("x.yaml", "- rule: t.a\n  desc: d\n  condition: type = attack\n  output: \"%{%{a}}\"\n  priority: low\n")]).isEmpty)

    var chain = "- macro: m0\n  condition: type = attack\n"
    for index in 1..<1000 { chain += "- macro: m\(index)\n  condition: m\(index - 1) and type = attack\n" }
    chain += "- rule: t.a\n  desc: d\n  condition: m999\n  output: o\n  priority: low\n"
    let macros = ruleErrors([("x.yaml", chain)])
    #expect(macros.contains { $0.contains("macros nest at most 16 deep: m999 → … → m983") }, "\(macros.prefix(2))")
    var shallow = "- macro: m0\n  condition: type = attack\n"
    for index in 1..<15 { shallow += "- macro: m\(index)\n  condition: m\(index - 1) and type = attack\n" }
    #expect(ruleErrors([("x.yaml", shallow + "- rule: t.a\n  desc: d\n  condition: m14\n  output: o\n  priority: low\n")]).isEmpty)

    // Seven levels of ten: ten million nodes from 600 bytes.
    var laughs = "- list: l\n  items: &a0 [x, x, x, x, x, x, x, x, x, x]\n- list: k\n  items:\n"
    for level in 1...7 {
      laughs += "    - &a\(level) [" + Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ", ") + "]\n"
    }
    let bomb = ruleErrors([("x.yaml", laughs)])
    #expect(bomb.count == 1 && bomb.first?.contains("more than 1000000 YAML nodes with its aliases expanded") == true, "\(bomb)")
    // As many nodes written out, no alias among them: aliases are not blamed.
    let huge = "- list: l\n  items: [" + Array(repeating: "x", count: 1_000_001).joined(separator: ",") + "]\n"
    let written = ruleErrors([("x.yaml", huge)])
    #expect(written == ["Rules/x.yaml:2:1999999: this file has more than 1000000 YAML nodes; split it into several rule files"], "\(written)")
  }

  /// A blank `desc` is reported with the rule's other errors, not after they are fixed.
  @Test func aBlankDescriptionComesWithTheOtherErrors() {
    let errors = ruleErrors([("x.yaml", "- rule: t.a\n  desc: \"   \"\n  condition: type = atack\n  output: o\n  priority: HIGH\n")])
    #expect(errors.count == 3, "\(errors)")
    #expect(errors.first == "Rules/x.yaml:2:9: rule t.a: desc must say what the rule detects", "\(errors)")
  }

  /// A UTF-8 byte order mark (Windows editors write one) is no part of the YAML.
  @Test func aByteOrderMarkIsNotYAML() throws {
    let set = try loadRules([("x.yaml", "\u{FEFF}- list: a\n  items: [x]\n" + Self.access)]).get()
    #expect(set.rules.map(\.id) == ["access.un_request_denied", "ceasefire.after"])
  }

  /// Bytes that are not UTF-8, or a control character YAML refuses, are placed where they
  /// are (libyaml's reader gives only an offset), not at 1:1.
  @Test func badBytesArePlacedWhereTheyAre() {
    let latin1 = RuleSource(
      path: "Rules/x.yaml", name: "x.yaml", contents: Array("- rule: z.x\n  desc: \"caf".utf8) + [0xE9] + Array("\"\n".utf8))
    guard case .failure(let notUTF8) = RuleSetLoader().load([latin1]) else {
      Issue.record("a file that is not UTF-8 loaded")
      return
    }
    #expect(notUTF8.errors.map(\.description) == ["Rules/x.yaml:2:13: the file is not UTF-8 text: the bytes here are not UTF-8"])
    let control = ruleErrors([("y.yaml", "- rule: z.x\n  desc: x\n# \u{01} ctrl\n")])
    #expect(control == ["Rules/y.yaml:3:3: invalid YAML: control characters are not allowed (U+0001)"], "\(control)")
    #expect(TextPlace.of(offset: 5, in: Array("ab\nçd".utf8)) == (2, 2), "columns count characters, not bytes")
  }

  @Test func everyErrorOfALoadIsReportedInFileOrder() {
    let first = Self.rule("type = access and")
    let second = Self.rule("nope = 1").replacingOccurrences(of: "r.one", with: "r.two")
    let found = ruleErrors([("a.yaml", first), ("b.yaml", second)])
    #expect(found.count == 2)
    #expect(found.first?.hasPrefix("Rules/a.yaml:3:") == true)
    #expect(found.last?.hasPrefix("Rules/b.yaml:3:") == true)
  }
}

@Suite("Rule sets: the index by incident type")
struct RuleSetIndexTests {
  @Test(arguments: IncidentType.allCases)
  func eachTypeReachesTheRulesThatPinIt(type: IncidentType) throws {
    let rules = IncidentType.allCases.map { pinned in
      "- rule: only.\(pinned.rawValue)\n  desc: d\n  condition: type = \(pinned.rawValue)\n  output: o\n  priority: low\n"
    }.joined()
    let set = try loadRules([("x.yaml", rules)]).get()
    let report = try parsed(#"{"id":"A","occurred_at":"2016-01-01","type":"\#(type.rawValue)"}"#).report
    #expect(set.evaluate(report).map(\.rule.id) == ["only.\(type.rawValue)"])
  }
}

/// Every field, call and placeholder an output gets wrong is said in one load, each at its
/// place; and a pattern's placeholder runs as a path does, so `%group_1` is a slip.
@Suite("Outputs: every error at once")
struct OutputErrorsTogetherTests {
  @Test func aRulesOutputSaysEveryWrongFieldAndCall() {
    let errors = ruleErrors([
      (
        "r.yaml",
        """
        - rule: t.out
          desc: Three slips in one output.
          condition: type = attack
          output: "%location.palce and %perpetrator.nme and %contrl(location) and %%"
          priority: high
        """
      )
    ])
    #expect(errors.count == 3, "\(errors)")
    #expect(errors.first?.hasPrefix("Rules/r.yaml:4:12: rule t.out: output: unknown field %location.palce") == true, "\(errors)")
    #expect(errors.dropFirst().first?.hasPrefix("Rules/r.yaml:4:32: rule t.out: output: unknown field %perpetrator.nme") == true, "\(errors)")
    #expect(errors.last?.hasPrefix("Rules/r.yaml:4:54: rule t.out: output: no function named contrl") == true, "\(errors)")
  }

  /// A wrong field inside a segment is said as itself, not as an empty segment; and the
  /// errors found before a segment never closed are said with it.
  @Test func anErrorInASegmentOrBeforeAnUnclosedOneIsSaid() {
    let errors = { (output: String) in
      ruleErrors([("r.yaml", "- rule: t.out\n  desc: d\n  condition: type = attack\n  output: \"\(output)\"\n  priority: high\n")])
    }
    let inSegment = errors("x %{%perpetrator.nme}")
    #expect(inSegment.count == 1 && inSegment[0].contains("unknown field %perpetrator.nme (did you mean perpetrator.name?)"), "\(inSegment)")
    let unclosed = errors("%location.palce %{unclosed")
    #expect(unclosed.count == 2, "\(unclosed)")
    #expect(unclosed.first?.contains("unknown field %location.palce") == true, "\(unclosed)")
    #expect(unclosed.last?.contains("this '%{' is never closed") == true, "\(unclosed)")
  }

  @Test func aPatternsOutputSaysEveryWrongPlaceholder() {
    let errors = ruleErrors([
      (
        "p.yaml",
        PatternWindowsTests.text(
          """
          - pattern: t.twice
            desc: Two attacks on hospitals.
            rules: [t.hospital]
            group_by: [location.place]
            count: 2
            window: 30d
            output: "%cout and %grup [%group_1] [%to.x] ends %to."
            priority: high
          """)
      )
    ])
    #expect(
      errors.map { $0.prefix { $0 != "(" } } == [
        "Rules/p.yaml:12:12: pattern t.twice: output: '%cout' is not a pattern's placeholder ",
        "Rules/p.yaml:12:22: pattern t.twice: output: '%grup' is not a pattern's placeholder ",
        "Rules/p.yaml:12:29: pattern t.twice: output: '%group_1' is not a pattern's placeholder ",
        "Rules/p.yaml:12:40: pattern t.twice: output: '%to.x' is not a pattern's placeholder ",
      ], "\(errors)")
  }
}

/// An output whose every word is in optional segments could make an alert with an empty
/// message: refused at load; a segment's last alternative of text, or text outside, says
/// something whatever the report leaves out.
@Suite("Outputs: a message that can say nothing")
struct OutputSaysNothingTests {
  static func errors(_ output: String) -> [String] {
    ruleErrors([
      (
        "r.yaml",
        """
        - rule: t.out
          desc: An output.
          condition: type = attack
          output: "\(output)"
          priority: high
        """
      )
    ])
  }

  @Test(arguments: [
    "%{%perpetrator.name}", " %{%perpetrator.name} %{by %perpetrator.party|%target.name} ", "%{%{%perpetrator.name}}",
  ])
  func refused(output: String) {
    let found = Self.errors(output)
    #expect(found.count == 1 && found[0].hasPrefix("Rules/r.yaml:4:11: rule t.out: output can say nothing:"), "\(found)")
  }

  @Test(arguments: ["%{%perpetrator.name|someone}", "attack%{ by %perpetrator.name}", "%perpetrator.name", "%{%{x}|y}", "%weapons dropped"])
  func accepted(output: String) {
    #expect(Self.errors(output).isEmpty, "\(output): \(Self.errors(output))")
  }

  /// A list or extra field alone may be empty in a report (`weapons: []`): a warning, since
  /// the condition may rule it out; and a message that renders blank is given `<none>`.
  @Test(arguments: ["%weapons", " %extra.arr "])
  func aFieldThatMayBeEmptyAloneIsWarnedOf(output: String) throws {
    let text = "- rule: t.out\n  desc: d\n  condition: type = attack\n  output: \"\(output)\"\n  priority: high\n"
    let set = try loadRules([("r.yaml", text)]).get()
    #expect(set.warnings.map(\.description).contains { $0.hasPrefix("Rules/r.yaml:4:11: rule t.out: output may say nothing") }, "\(set.warnings)")
    let report = try parsed(reportLine(#""weapons":[],"extra":{"arr":[null]}"#)).report
    #expect(set.evaluate(report).map(\.message) == ["<none>"])
  }
}

@Suite("Rule ids: length and the reserved prefix")
struct RuleIDLimitsTests {
  static func errors(_ id: String) -> [String] {
    ruleErrors([("r.yaml", "- rule: \(id)\n  desc: d\n  condition: type = attack\n  output: o\n  priority: low\n  examples: {match: [{type: attack}]}\n")])
  }

  /// An id past 100 characters is refused where it is written: its examples' own ids
  /// (`example:<id>:<n>`) would be past a report id's 128 and refused as invalid reports.
  @Test func aLongIDIsRefusedAndTheReservedPrefixInAnyCase() {
    #expect(Self.errors("a." + String(repeating: "b", count: 98)).isEmpty)
    let long = Self.errors("a." + String(repeating: "b", count: 99))
    #expect(long.count == 1 && long[0].hasPrefix("Rules/r.yaml:1:9: rule id 'a.bbb") && long[0].hasSuffix("is 101 characters; at most 100"), "\(long)")
    #expect(Self.errors("Vigil.x") == ["Rules/r.yaml:1:9: rule ids starting with 'vigil.' are reserved for Vigil's own records"])
  }
}
