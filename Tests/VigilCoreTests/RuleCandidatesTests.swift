import Testing
import VigilTestSupport

@testable import VigilCore

@Suite("Rule candidates: the index by a pinned field finds exactly the rules a full scan finds")
struct RuleCandidatesTests {
  static let compiler = ConditionCompiler(
    lists: ["north": ["Aleppo", "Idlib"], "oil": ["crude_oil", "refined_oil"]],
    macros: ["in_aleppo": try! ConditionParser.parse("location.governorate = Aleppo")])

  @Test(arguments: [
    ("location.governorate = Aleppo", ["location.governorate": ["Aleppo"]]),
    ("type = trade and trade.commodity in (oil)", ["type": ["trade"], "trade.commodity": ["crude_oil", "refined_oil"]]),
    ("location.governorate in (north) and location.governorate = Idlib", ["location.governorate": ["Idlib"]]),
    ("location.governorate = Hama or location.governorate in (north)", ["location.governorate": ["Aleppo", "Hama", "Idlib"]]),
    ("location.governorate = Hama or casualties.killed > 3", [:]),
    ("in_aleppo and casualties.killed > 3", ["location.governorate": ["Aleppo"]]),
    ("not location.governorate = Aleppo", [:]),
    ("location.governorate != Aleppo", [:]),
    ("location.governorate iin (aleppo)", [:]),
    ("location.governorate intersects (north)", ["location.governorate": ["Aleppo", "Idlib"]]),
    ("location.governorate startswith Al", [:]),
    ("weapons = barrel_bomb", [:]),
    ("weapons in (mortar)", [:]),
  ] as [(String, [String: Set<String>])])
  func aConditionPinsTheSingleValuedFieldsItsConjunctsFix(condition: String, pinned: [String: Set<String>]) throws {
    #expect(try Self.compiler.compile(condition).pinnedValues == pinned.mapValues { Set($0.map(ValueKey.init)) })
  }

  /// Rules over four governorates written in every way the index reads, and some pinning
  /// nothing; disabled ones too.
  static let rules: String = {
    var text = "- list: north\n  items: [Aleppo, Idlib]\n"
    let pins = [
      "location.governorate = Aleppo", "location.governorate = Idlib", "location.governorate in (north)",
      "location.governorate = Hama or location.governorate = Homs", "location.governorate = \"حلب\"",
      "casualties.killed >= 1", "location.governorate != Hama", "location.governorate startswith Al",
    ]
    for index in 0..<40 {
      text += """
        - rule: indexed.rule_\(index)
          desc: Rule \(index).
          condition: type = attack and \(pins[index % pins.count]) and casualties.killed >= \(index % 5)
          output: "%location.governorate"
          priority: low
          enabled: \(index % 13 != 12)

        """
    }
    return text
  }()

  static let governorates = [
    #""location":{"governorate":"Aleppo"}"#, #""location":{"governorate":"Alep\u0070o"}"#,
    #""location":{"governorate":"Idlib"}"#, #""location":{"governorate":"Hama"}"#,
    #""location":{"governorate":"Homs"}"#, #""location":{"governorate":"حلب"}"#,
    #""location":{"governorate":"Aleppo "}"#, #""location":{"place":"nowhere"}"#, #""narrative":"no location""#,
  ]

  @Test func theIndexedSetMatchesWhatEveryRuleMatchesAndTestsFewerRules() throws {
    let set = try loadRules([("indexed.yaml", Self.rules)]).get()
    var matched = 0
    var tested = 0
    var reports = 0
    for (index, governorate) in Self.governorates.enumerated() {
      for killed in 0..<6 {
        let report = try parsed(reportLine(#"\#(governorate),"casualties":{"killed":\#(killed + index % 2)}"#)).report
        let everyRule = set.rules.filter { $0.enabled && $0.matches(report) }.map(\.id)
        #expect(set.evaluate(report).map(\.rule.id) == everyRule, "\(governorate), \(killed) killed")
        matched += everyRule.count
        tested += set.candidateRules(for: report).count
        reports += 1
      }
    }
    #expect(matched > 100)
    // 37 rules are enabled; those pinning another governorate are never tested.
    #expect(tested < reports * 30)
  }

  /// `=` compares bytes; two spellings of one letter (إ as one scalar, and as ا with a
  /// combining hamza) are two values, though Swift's `String` holds them equal.
  @Test func canonicallyEquivalentSpellingsAreDistinctValues() throws {
    let composed = "\u{0625}\u{062F}\u{0644}\u{0628}"
    let decomposed = "\u{0627}\u{0655}\u{062F}\u{0644}\u{0628}"
    #expect(composed == decomposed)
    var text = ""
    for (index, spelling) in [composed, "Aleppo", "Aleppo", "Aleppo", decomposed].enumerated() {
      text += """
        - rule: spelling.rule_\(index)
          desc: Rule \(index).
          condition: type = attack and location.governorate = "\(spelling)"
          output: "x"
          priority: low

        """
    }
    let set = try loadRules([("spelling.yaml", text)]).get()
    for (spelling, rule) in [(composed, "spelling.rule_0"), (decomposed, "spelling.rule_4")] {
      let escaped = spelling.unicodeScalars.map { "\\u" + String($0.value, radix: 16, uppercase: false).leftPadded() }
        .joined()
      let report = try parsed(reportLine(#""location":{"governorate":"\#(escaped)"}"#)).report
      #expect(set.evaluate(report).map(\.rule.id) == [rule])
    }
  }

  /// What remains of a condition once its index has picked it leaves out exactly the
  /// operands of a top-level `and` that pin the known fields to values including the known
  /// ones (nested `and`s and macros flattened), and nothing under `or` or `not`.
  @Test(arguments: [
    ("type = attack and location.governorate = Aleppo and casualties.killed >= 1", 1),
    ("type = attack and location.governorate in (north)", 0),
    ("(type = attack and in_aleppo) and (casualties.killed >= 1 and target.type = hospital)", 2),
    ("type = attack and location.governorate = Idlib", 1),
    ("type = attack and (location.governorate = Aleppo or casualties.killed > 3)", 1),
    ("type = attack and not location.governorate = Hama", 1),
    ("location.governorate = Aleppo", 0),
    ("casualties.killed >= 1", 1),
  ] as [(String, Int)])
  func theResidualLeavesOutWhatTheIndexDecided(condition: String, operandsLeft: Int) throws {
    let compiled = try Self.compiler.compile(condition)
    let known = ["type": ValueKey("attack"), "location.governorate": ValueKey("Aleppo")]
    let left = compiled.conjuncts.map { parts in
      parts.count { part in !(part.exactPin.map { known[$0.path].map($0.values.contains) ?? false } ?? false) }
    } ?? (compiled.exactPin.map { known[$0.path].map($0.values.contains) ?? false } ?? false ? 0 : 1)
    #expect(left == operandsLeft)
  }

  /// Random rule sets of random `and`/`or`/`not` conditions over type and governorate (the
  /// fields the index decides) and others, on reports of every combination: the set's
  /// verdict, through the residual tests, is every enabled rule's whole condition.
  @Test func randomRuleSetsGiveWhatTheirWholeConditionsGive() throws {
    let atoms = [
      "type = attack", "type in (attack, access)", "type = access", "type != access", "location.governorate = Aleppo",
      "location.governorate in (north)", "location.governorate = Idlib", "location.governorate != Hama",
      "location.governorate = Hama", "casualties.killed >= 1", "target.type = hospital", "in_aleppo",
      "location.governorate intersects (north)", "location.governorate iin (aleppo)",
    ]
    var generator = SystemRandomNumberGenerator()
    func condition(depth: Int) -> String {
      let count = Int.random(in: 1...4, using: &generator)
      let parts = (0..<count).map { _ -> String in
        switch Int.random(in: 0..<10, using: &generator) {
        case 0 where depth < 2: return "(" + condition(depth: depth + 1).replacingOccurrences(of: " and ", with: " or ") + ")"
        case 1 where depth < 2: return "(" + condition(depth: depth + 1) + ")"
        case 2: return "not " + atoms.randomElement(using: &generator)!
        default: return atoms.randomElement(using: &generator)!
        }
      }
      return parts.joined(separator: " and ")
    }
    var reports: [Report] = []
    for type in ["attack", "access"] {
      for governorate in ["Aleppo", "Idlib", "Hama", "Homs", nil] {
        for killed in 0..<2 {
          for target in ["hospital", "school"] {
            let location = governorate.map { #","location":{"governorate":"\#($0)"}"# } ?? ""
            let line =
              #"{"id":"R","occurred_at":"2016-03-04T06:40:00Z","type":"\#(type)"\#(location),"#
              + #""casualties":{"killed":\#(killed)},"target":{"type":"\#(target)"}}"#
            reports.append(try parsed(line).report)
          }
        }
      }
    }
    var matched = 0
    for round in 0..<40 {
      var text = "- list: north\n  items: [Aleppo, Idlib]\n- macro: in_aleppo\n  condition: location.governorate = Aleppo\n"
      for index in 0..<30 {
        text += """
          - rule: random.rule_\(index)
            desc: Rule \(index).
            condition: \(condition(depth: 0))
            output: "x"
            priority: low

          """
      }
      let set = try loadRules([("random\(round).yaml", text)]).get()
      for report in reports {
        let everyRule = set.rules.filter { $0.enabled && $0.matches(report) }.map(\.id)
        #expect(set.evaluate(report).map(\.rule.id) == everyRule)
        matched += everyRule.count
      }
    }
    #expect(matched > 1_000)
  }

  @Test func aReportOfAnotherTypeMeetsNoneOfTheseRules() throws {
    let set = try loadRules([("indexed.yaml", Self.rules)]).get()
    let access = try parsed(#"{"id":"A-1","occurred_at":"2016-03-04T06:40:00Z","type":"access","location":{"governorate":"Aleppo"}}"#).report
    #expect(set.evaluate(access).isEmpty)
    #expect(set.candidateRules(for: access).isEmpty)
  }

  @Test func aFieldFewRulesPinIsNotIndexed() throws {
    let few = """
      - rule: few.one
        desc: One.
        condition: type = attack and location.governorate = Aleppo
        output: "x"
        priority: low
      - rule: few.two
        desc: Two.
        condition: type = attack
        output: "x"
        priority: low
      """
    let set = try loadRules([("few.yaml", few)]).get()
    let hama = try parsed(reportLine(#""location":{"governorate":"Hama"}"#)).report
    #expect(set.candidateRules(for: hama).map(\.id) == ["few.one", "few.two"])
    #expect(set.evaluate(hama).map(\.rule.id) == ["few.two"])
  }
}

extension String {
  /// Four hex digits, as a JSON `\\u` escape wants.
  fileprivate func leftPadded() -> String { String(repeating: "0", count: max(0, 4 - count)) + self }
}
