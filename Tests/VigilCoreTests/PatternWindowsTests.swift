import Foundation
import Testing

@testable import VigilCore

/// The counting of patterns (docs/patterns.md, "How patterns are counted"), on the engine
/// alone: reports fed in the order they arrive, each with its incident time.
@Suite("Patterns: windows of incident time, groups, re-arming, lateness")
struct PatternWindowsTests {
  /// A rule set with one rule (attacks on hospitals) and the pattern given.
  static func set(_ pattern: String) throws -> RuleSet {
    try loadRules([("t.yaml", text(pattern))]).get()
  }

  /// The rule set's text: the hospital rule (five lines), then `patterns`.
  static func text(_ patterns: String) -> String {
    """
      - rule: t.hospital
        desc: A hospital was attacked.
        condition: type = attack and target.type = hospital
        output: "hospital"
        priority: high
      \(patterns)
      """
  }

  static let threeInThirtyDays = """
    - pattern: t.repeated
      desc: Three attacks on hospitals in one governorate within 30 days.
      rules: [t.hospital]
      group_by: [location.governorate]
      count: 3
      window: 30d
      output: "%count in %group from %from to %to"
      priority: critical
    """

  /// Feeds reports, in order; gives the completions of each.
  struct Feeder {
    let set: RuleSet
    var windows: PatternWindows
    var received: Int64? = nil

    init(_ set: RuleSet, horizon: Int64 = PatternWindows.defaultHorizon) {
      self.set = set
      windows = PatternWindows(horizon: horizon)
    }

    mutating func feed(_ json: String) throws -> PatternWindows.Observation {
      let report = try ReportParser.parse(json).get().report
      let events = set.patternEvents(for: report, matches: set.evaluate(report))
      let observation = windows.observe(events, report: report, receivedAt: received, patterns: set.patterns) { _ in [7] }
      windows.settle()
      return observation
    }

    /// A hospital attack on `day` (of April 2016, or a full timestamp) in `governorate`.
    mutating func attack(_ id: String, _ when: String, _ governorate: String = "Idlib") throws -> [String] {
      let time = when.count <= 2 ? "2016-04-\(when.count == 1 ? "0" + when : when)T12:00:00Z" : when
      let report = """
        {"id":"\(id)","type":"attack","occurred_at":"\(time)","target":{"type":"hospital"},"location":{"governorate":"\(governorate)"}}
        """
      return try feed(report).completions.map { $0.contributors.map(\.reportID).joined(separator: ",") }
    }
  }

  /// A list or an object under `extra` is not one value: a report whose key holds one is in
  /// no group, not in the group of the text it would be shown as (`[3,4]` and "3, 4").
  @Test func aListOrAnObjectUnderExtraIsNoGroup() throws {
    let pattern = """
      - pattern: t.extra
        desc: Two attacks on hospitals with one extra.g.
        rules: [t.hospital]
        group_by: [extra.g]
        count: 2
        window: 10d
        output: "%group"
        priority: low
      """
    var feeder = Feeder(try Self.set(pattern))
    func attack(_ id: String, _ g: String) throws -> [String] {
      try feeder.feed(
        #"{"id":"\#(id)","type":"attack","occurred_at":"2016-04-02T12:00:00Z","target":{"type":"hospital"},"extra":{"g":\#(g)}}"#
      ).completions.map(\.message)
    }
    #expect(try attack("a1", "[3,4]") == [])
    #expect(try attack("a2", #""3, 4""#) == [])
    #expect(try attack("a3", #"{"a":1}"#) == [])
    #expect(try attack("a4", #""{a: 1}""#) == [])
    #expect(try attack("a5", "[3,4]") == [])
    #expect(try attack("a6", #""3, 4""#) == ["3, 4"])
  }

  @Test func outOfOrderArrivalCountsByIncidentTime() throws {
    var feeder = Feeder(try Self.set(Self.threeInThirtyDays))
    #expect(try feeder.attack("a", "20") == [])
    #expect(try feeder.attack("b", "25") == [])
    // The first incident arrives last, weeks late: it completes the pattern in the past.
    let report = """
      {"id":"c","type":"attack","occurred_at":"2016-04-02T12:00:00Z","target":{"type":"hospital"},"location":{"governorate":"Idlib"}}
      """
    let completion = try #require(try feeder.feed(report).completions.first)
    #expect(completion.contributors.map(\.reportID) == ["c", "a", "b"])
    #expect(completion.facts.from == "2016-04-02T12:00:00Z" && completion.facts.to == "2016-04-25T12:00:00Z")
    #expect(completion.facts.reports == ["c", "a", "b"] && completion.facts.count == 3)
    #expect(completion.message == "3 in Idlib from 2016-04-02T12:00:00Z to 2016-04-25T12:00:00Z")
  }

  @Test func aWindowEndsJustBeforeItsLengthAfterItsStart() throws {
    var atTheEdge = Feeder(try Self.set(Self.threeInThirtyDays))
    #expect(try atTheEdge.attack("a", "2016-04-01T00:00:00Z") == [])
    #expect(try atTheEdge.attack("b", "2016-04-10T00:00:00Z") == [])
    // 30 days after the first: outside its window.
    #expect(try atTheEdge.attack("c", "2016-05-01T00:00:00Z") == [])
    var inside = Feeder(try Self.set(Self.threeInThirtyDays))
    #expect(try inside.attack("a", "2016-04-01T00:00:00Z") == [])
    #expect(try inside.attack("b", "2016-04-10T00:00:00Z") == [])
    // One millisecond less, and across an offset: inside.
    #expect(try inside.attack("c", "2016-05-01T01:59:59.999+02:00") == ["a,b,c"])
  }

  @Test func manyGroupsAreCountedApart() throws {
    var feeder = Feeder(try Self.set(Self.threeInThirtyDays))
    var fired: [String] = []
    for round in 1...3 {
      for group in 0..<500 {
        fired += try feeder.attack("g\(group)-\(round)", String(round), "G\(group)")
      }
    }
    #expect(fired.count == 500)
    #expect(Set(fired) == Set((0..<500).map { "g\($0)-1,g\($0)-2,g\($0)-3" }))
    #expect(feeder.windows.groupCount == 500)
  }

  @Test func aGroupFiresOnceAndReArmsAWindowAfterItsLastReport() throws {
    var feeder = Feeder(try Self.set(Self.threeInThirtyDays))
    var firedOn: [Int] = []
    // An attack every day of incident time for 100 days.
    for day in 0..<100 {
      let time = UTCTime.format(millisecondsSinceEpoch: 1_459_512_000_000 + Int64(day) * 86_400_000)
      if try !feeder.attack("d\(day)", time).isEmpty { firedOn.append(day) }
    }
    // Days 0–2 fire; it is quiet until day 2 + 30; days 32–34 fire again; and so on.
    #expect(firedOn == [2, 34, 66, 98])
    // A late report in a span that fired already fires nothing.
    #expect(try feeder.attack("late", UTCTime.format(millisecondsSinceEpoch: 1_459_512_000_000 + 40 * 86_400_000)) == [])
  }

  @Test func aReportLaterThanTheHorizonIsCountedAsLateAndNothingElse() throws {
    var feeder = Feeder(try Self.set(Self.threeInThirtyDays), horizon: 10 * 86_400_000)
    #expect(try feeder.attack("a", "28") == [])
    #expect(try feeder.attack("b", "29") == [])
    // 2016-04-18 is more than 10 days before the newest (04-29).
    let late = try feeder.feed(
      #"{"id":"c","type":"attack","occurred_at":"2016-04-18T11:59:59Z","target":{"type":"hospital"},"location":{"governorate":"Idlib"}}"#)
    #expect(late.late && late.completions.isEmpty)
    #expect(feeder.windows.lateReports == 1)
    // Exactly at the horizon: it counts, and completes the pattern.
    #expect(try feeder.attack("d", "2016-04-19T12:00:00Z") == ["d,a,b"])
  }

  @Test func aReportDatedInTheFutureDoesNotMakeTheOthersLate() throws {
    var feeder = Feeder(try Self.set(Self.threeInThirtyDays), horizon: 10 * 86_400_000)
    feeder.received = 1_461_931_200_000  // 2016-04-29T12:00:00Z
    #expect(try feeder.attack("typo", "2026-04-29T12:00:00Z") == [])
    #expect(try feeder.attack("a", "27") == [])
    #expect(feeder.windows.lateReports == 0)
    // Reports of 2016 sent in 2026, one of them dated 2030: the others still count.
    var later = Feeder(try Self.set(Self.threeInThirtyDays))
    later.received = 1_796_386_800_000  // 2026-12-04
    #expect(try later.attack("x1", "2016-08-01T12:00:00Z", "Aleppo") == [])
    #expect(try later.attack("x2", "2030-08-02T12:00:00Z", "Aleppo") == [])
    #expect(try later.attack("x3", "2016-08-03T12:00:00Z", "Aleppo") == [])
    #expect(try later.attack("x4", "2016-08-04T12:00:00Z", "Aleppo") == ["x1,x3,x4"])
    #expect(later.windows.lateReports == 0)
  }

  @Test func whatIsRolledBackWasNeverCounted() throws {
    var feeder = Feeder(try Self.set(Self.threeInThirtyDays))
    #expect(try feeder.attack("a", "1") == [])
    #expect(try feeder.attack("b", "2") == [])
    let report = try ReportParser.parse(
      #"{"id":"c","type":"attack","occurred_at":"2016-04-03","target":{"type":"hospital"},"location":{"governorate":"Idlib"}}"#
    ).get().report
    let set = feeder.set
    let events = set.patternEvents(for: report, matches: set.evaluate(report))
    #expect(feeder.windows.observe(events, report: report, receivedAt: nil, patterns: set.patterns) { _ in [] }.completions.count == 1)
    feeder.windows.rollBack()
    // The same report again fires again: neither it nor its firing stayed.
    #expect(feeder.windows.observe(events, report: report, receivedAt: nil, patterns: set.patterns) { _ in [] }.completions.count == 1)
    feeder.windows.settle()
    #expect(feeder.windows.contributorCount == 3)
  }

  @Test func aFiringInTheAlertLogHoldsItsGroupBack() throws {
    var feeder = Feeder(try Self.set(Self.threeInThirtyDays))
    let pattern = feeder.set.patterns[0]
    feeder.windows.noteFiring(
      pattern: pattern, group: ["Idlib"], from: Timestamp("2016-04-01")!, to: Timestamp("2016-04-03")!)
    #expect(try feeder.attack("a", "10") == [])
    #expect(try feeder.attack("b", "11") == [])
    #expect(try feeder.attack("c", "12") == [])
    #expect(try feeder.attack("x", "10", "Aleppo") == [])
  }

  @Test func stateOlderThanWindowAndHorizonIsDropped() throws {
    var feeder = Feeder(try Self.set(Self.threeInThirtyDays), horizon: 10 * 86_400_000)
    for group in 0..<50 { _ = try feeder.attack("g\(group)", "1", "G\(group)") }
    #expect(feeder.windows.groupCount == 50)
    // 41 days later (window 30 + horizon 10 + a day), one report elsewhere.
    _ = try feeder.attack("later", "2016-05-12T12:00:00Z", "Elsewhere")
    #expect(feeder.windows.groupCount == 1 && feeder.windows.contributorCount == 1)
  }

  @Test func distinctValuesAreCountedOncePerNameInAnySpelling() throws {
    let set = try Self.set(
      """
      - pattern: t.hospitals
        desc: Three different hospitals attacked in one governorate within 30 days.
        rules: [t.hospital]
        group_by: [location.governorate]
        distinct: target.name
        count: 3
        window: 30d
        output: "%count hospitals in %group"
        priority: critical
      """)
    var feeder = Feeder(set)
    func hospital(_ id: String, _ name: String) throws -> Int {
      try feeder.feed(
        #"{"id":"\#(id)","type":"attack","occurred_at":"2016-04-0\#(id.last!)","target":{"type":"hospital","name":"\#(name)"},"location":{"governorate":"Idlib"}}"#
      ).completions.count
    }
    #expect(try hospital("a1", "Al-Quds Hospital") == 0)
    #expect(try hospital("a2", "al quds hospital") == 0)
    #expect(try hospital("a3", "AL-QUDS HOSPITAL") == 0)
    #expect(try hospital("a4", "Kafr Nabl Hospital") == 0)
    #expect(try hospital("a5", "Maarat al-Numan Hospital") == 1)
  }

  static let denialThenAttack = """
    - pattern: t.sequence
      desc: A denial followed by an attack on the same place.
      sequence:
        - condition: type = access and access.status = denied
        - rules: [t.hospital]
      group_by: [location.place]
      window: 14d
      output: "%group"
      priority: critical
    """

  @Test func aSequenceFollowsIncidentTimeNotArrival() throws {
    var feeder = Feeder(try Self.set(Self.denialThenAttack))
    func report(_ id: String, _ type: String, _ day: String, _ place: String = "Madaya") throws -> Int {
      let rest = type == "access" ? #""access":{"status":"denied"}"# : #""target":{"type":"hospital"}"#
      return try feeder.feed(
        #"{"id":"\#(id)","type":"\#(type)","occurred_at":"2016-04-\#(day)","location":{"place":"\#(place)"},\#(rest)}"#
      ).completions.count
    }
    // The attack (04-10) arrives first; the denial before it (04-05) completes the sequence.
    #expect(try report("a", "attack", "10") == 0)
    #expect(try report("d", "access", "05") == 1)
    // An attack before a denial is no sequence; the same day either way is.
    #expect(try report("a2", "attack", "10", "Zabadani") == 0)
    #expect(try report("d2", "access", "11", "Zabadani") == 0)
    #expect(try report("d3", "access", "12", "Foah") == 0)
    #expect(try report("a3", "attack", "12", "Foah") == 1)
    // The same day with the attack arriving first: still the sequence, its reports listed
    // in the order of its steps, the denial first.
    #expect(try report("a4", "attack", "12", "Yarmouk") == 0)
    let last = try feeder.feed(
      #"{"id":"d4","type":"access","occurred_at":"2016-04-12","location":{"place":"Yarmouk"},"access":{"status":"denied"}}"#)
    #expect(last.completions.map(\.facts.reports) == [["d4", "a4"]])
  }

  /// Three steps of one incident time, arriving last step first: each step is taken by a
  /// report of its kind whatever order they came in.
  @Test func stepsOfOneTimeCompleteInAnyOrderOfArrival() throws {
    let threeSteps = """
      - pattern: t.three
        desc: A denial, a detention, then an attack on the same place.
        sequence:
          - condition: type = access and access.status = denied
          - condition: type = detention
          - condition: type = attack
        group_by: [location.place]
        window: 14d
        output: "%group"
        priority: critical
      """
    for order in [["attack", "access", "detention"], ["detention", "attack", "access"], ["attack", "detention", "access"]] {
      var feeder = Feeder(try Self.set(threeSteps))
      var completions: [Int] = []
      for (number, type) in order.enumerated() {
        let rest = type == "access" ? #","access":{"status":"denied"}"# : ""
        completions.append(
          try feeder.feed(
            #"{"id":"r\#(number)","type":"\#(type)","occurred_at":"2016-04-12","location":{"place":"Darayya"}\#(rest)}"#
          ).completions.count)
      }
      #expect(completions == [0, 0, 1], "\(order)")
    }
  }

  /// Steps a report may take more than one of, with two reports of one time: the steps are
  /// matched among them, not given to the first to arrive. Before, a market then a school
  /// on the 12th, after a school on the 3rd, completed nothing (the market took step 2),
  /// while the same reports in the other order fired.
  @Test func reportsOfOneTimeAreMatchedToTheStepsTheyCanTake() throws {
    let overlapping = """
      - pattern: t.overlap
        desc: Overlapping steps.
        sequence:
          - condition: target.type in (hospital, school)
          - condition: target.type in (school, market)
          - condition: target.type in (market, hospital)
        group_by: [location.district]
        window: 10d
        output: "%group"
        priority: high
      """
    for order in [["market@12", "school@12", "school@03"], ["school@12", "market@12", "school@03"],
                  ["school@03", "market@12", "school@12"], ["school@03", "school@12", "market@12"]] {
      var feeder = Feeder(try Self.set(overlapping))
      var fired: [[String]] = []
      for (number, step) in order.enumerated() {
        let parts = step.split(separator: "@")
        let report = #"{"id":"\#(parts[0])\#(parts[1])-\#(number)","type":"attack","occurred_at":"2016-05-\#(parts[1])","target":{"type":"\#(parts[0])"},"location":{"district":"x"}}"#
        fired += try feeder.feed(report).completions.map { $0.facts.reports.map { String($0.prefix { $0 != "-" }) } }
      }
      #expect(fired == [["school03", "school12", "market12"]], "\(order)")
    }
  }

  /// `party(actor)` groups by the party normalised, and a message shows it as the
  /// completing report wrote it (else the actor's name): not `حكومه`.
  @Test func aPartyGroupIsShownAsWritten() throws {
    let byParty = """
      - pattern: t.party
        desc: Two attacks by one party.
        condition: type = attack
        group_by: [party(perpetrator)]
        count: 2
        window: 10d
        output: "%count by %group"
        priority: high
      """
    var feeder = Feeder(try Self.set(byParty))
    _ = try feeder.feed(#"{"id":"p1","type":"attack","occurred_at":"2016-05-01","perpetrator":{"party":"الحكومة"}}"#)
    let completed = try feeder.feed(#"{"id":"p2","type":"attack","occurred_at":"2016-05-02","perpetrator":{"party":"الحُكومة"}}"#)
    #expect(completed.completions.map(\.message) == ["2 by الحُكومة"])
    _ = try feeder.feed(#"{"id":"n1","type":"attack","occurred_at":"2016-05-01","perpetrator":{"name":"Jaish al-Islam"}}"#)
    let named = try feeder.feed(#"{"id":"n2","type":"attack","occurred_at":"2016-05-02","perpetrator":{"name":"JAISH AL-ISLAM"}}"#)
    #expect(named.completions.map(\.message) == ["2 by JAISH AL-ISLAM"])
    // A party with no words to group by gives way to the name, as party() does.
    _ = try feeder.feed(#"{"id":"q1","type":"attack","occurred_at":"2016-05-01","perpetrator":{"party":"?","name":"Syrian Arab Army"}}"#)
    let unknown = try feeder.feed(#"{"id":"q2","type":"attack","occurred_at":"2016-05-02","perpetrator":{"party":"?","name":"Syrian Arab Army"}}"#)
    #expect(unknown.completions.map(\.message) == ["2 by Syrian Arab Army"])
  }

  /// Thousands of reports of one group with two values among them complete nothing, and a
  /// third value then does: the sliding count of values (which passes over the starts whose
  /// window holds too few) finds what scanning every window found. Its cost is not asserted
  /// (shared machines): this test's 3,000 reports took 2.5 s in a debug build, where 4,000
  /// such reports had taken 44 s to rebuild.
  @Test func aDistinctGroupCompletesOnlyWithItsThirdValue() throws {
    let threeHospitals = """
      - pattern: t.distinct
        desc: Three different hospitals.
        rules: [t.hospital]
        distinct: target.name
        count: 3
        group_by: [location.governorate]
        window: 400d
        output: "%group"
        priority: high
      """
    var feeder = Feeder(try Self.set(threeHospitals))
    func pad(_ number: Int) -> String { number < 10 ? "0\(number)" : "\(number)" }
    var fired = 0
    for number in 0..<3000 {
      let minutes = number * 20
      let day = minutes / 1440
      let date = day < 31 ? "2016-01-\(pad(day + 1))" : "2016-02-\(pad(day - 30))"
      let time = "\(date)T\(pad(minutes % 1440 / 60)):\(pad(minutes % 60)):00Z"
      let name = number % 2 == 0 ? "A" : "B"
      let report = #"{"id":"h\#(number)","type":"attack","occurred_at":"\#(time)","target":{"type":"hospital","name":"\#(name)"},"location":{"governorate":"Idlib"}}"#
      fired += try feeder.feed(report).completions.count
    }
    #expect(fired == 0)
    #expect(try feeder.feed(#"{"id":"hC","type":"attack","occurred_at":"2016-01-05T00:00:00Z","target":{"type":"hospital","name":"C"},"location":{"governorate":"Idlib"}}"#).completions.count == 1)
  }

  /// A step that names rules counts a report that fired one of them, and only such a
  /// report: whichever else it fired, and whether the rule is named alone or with others.
  @Test func aStepCountsTheReportsThatFiredTheRulesItNames() throws {
    let set = try loadRules([
      (
        "t.yaml",
        """
        - rule: t.hospital
          desc: A hospital was attacked.
          condition: type = attack and target.type = hospital
          output: "hospital"
          priority: high
        - rule: t.school
          desc: A school was attacked.
          condition: type = attack and target.type = school
          output: "school"
          priority: high
        - rule: t.idlib
          desc: An attack in Idlib.
          condition: type = attack and location.governorate = Idlib
          output: "idlib"
          priority: low
        - pattern: t.steps
          desc: A school, then a hospital or Idlib.
          sequence:
            - rules: [t.school]
            - rules: [t.hospital, t.idlib]
          group_by: [location.place]
          window: 14d
          output: "%group"
          priority: critical
        """
      )
    ]).get()
    func steps(_ target: String, _ governorate: String) throws -> UInt32? {
      let report = try ReportParser.parse(
        #"{"id":"r","type":"attack","occurred_at":"2016-04-01T00:00:00Z","target":{"type":"\#(target)"},"location":{"place":"Madaya","governorate":"\#(governorate)"}}"#
      ).get().report
      let events = set.patternEvents(for: report, matches: set.evaluate(report))
      #expect(events.count <= 1)
      return events.first?.steps
    }
    #expect(try steps("school", "Homs") == 0b01)
    #expect(try steps("hospital", "Homs") == 0b10)
    #expect(try steps("market", "Idlib") == 0b10)
    #expect(try steps("school", "Idlib") == 0b11)
    #expect(try steps("market", "Homs") == nil, "no rule it names fired")
  }

  @Test func patternErrorsAreAtTheirPlace() throws {
    let broken = """
      - rule: t.hospital
        desc: A hospital was attacked.
        condition: type = attack and target.type = hospital
        output: "hospital"
        priority: high
      - pattern: t.broken
        desc: Broken.
        rules: [t.hospitl]
        group_by: [location.governorat, nosuch(location)]
        count: 1
        window: 30 days
        output: "%count %nothing"
        priority: high
      - pattern: t.steps
        desc: Broken steps.
        sequence:
          - rules: [t.hospital]
        count: 3
        window: 2d
        output: x
        priority: high
      - pattern: t.hospital
        desc: A pattern named like a rule.
        rules: [t.hospital]
        count: 2
        window: 1d
        output: x
        priority: high
      - rule: trade.oil
        desc: Not of the family t, though it starts with a t.
        condition: type = attack
        output: "oil"
        priority: high
      - pattern: t.twice
        desc: One key twice.
        rules: [t.hospital]
        group_by: [location.place, location.place]
        count: 2
        window: 1d
        output: x
        priority: high
      - pattern: t.list
        desc: A list as a key.
        rules: [t.hospital]
        group_by: [weapons]
        distinct: casualties.killed
        count: 2
        window: 1d
        output: x
        priority: high
      - pattern: t.said
        desc: Nothing said, a rule twice, a group shown that there is not.
        rules: t.hospital
        count: 2
        window: 1d
        output: "  "
        priority: high
      - pattern: t.said2
        desc: A rule twice, a group shown that there is not.
        rules: [t.hospital, t.hospital]
        count: 2
        window: 1d
        output: "%count in %group"
        priority: high
      - pattern: t.within
        desc: Distinct values of a key of the group, of which a group has one.
        rules: [t.hospital]
        group_by: [location.governorate]
        distinct: location.governorate
        count: 2
        window: 1d
        output: x
        priority: high
      """
    let errors = ruleErrors([("p.yaml", broken)])
    #expect(errors.contains(#"Rules/p.yaml:53:10: pattern t.said: rules must be a list, such as [access.denied, access.obstructed]; got "t.hospital""#), "\(errors)")
    #expect(errors.contains("Rules/p.yaml:56:11: pattern t.said: output must say something: it is the alert's message"), "\(errors)")
    #expect(errors.contains("Rules/p.yaml:60:23: pattern t.said2: rules names 't.hospital' twice"), "\(errors)")
    #expect(errors.contains { $0.hasPrefix("Rules/p.yaml:63:22: pattern t.said2: output: %group: the pattern has no group_by") }, "\(errors)")
    #expect(errors.contains("Rules/p.yaml:8:11: pattern t.broken: no rule is named 't.hospitl' (rules of that family: t.hospital)"))
    #expect(errors.contains("Rules/p.yaml:9:14: pattern t.broken: group_by: unknown field location.governorat (did you mean location.governorate?)"))
    #expect(errors.contains { $0.hasPrefix("Rules/p.yaml:9:35: pattern t.broken: group_by: ") && $0.contains("nosuch") })
    #expect(errors.contains("Rules/p.yaml:10:10: pattern t.broken: count must be a whole number from 2 to 1000, got \"1\""))
    #expect(errors.contains { $0.hasPrefix("Rules/p.yaml:11:11: pattern t.broken: window must be a number of days or hours") })
    // Both of t.steps's problems, in one load: one step, and a count beside the sequence.
    #expect(errors.contains("Rules/p.yaml:17:5: pattern t.steps: sequence must be a list of two or more steps, each with rules or a condition"))
    #expect(errors.contains("Rules/p.yaml:18:3: pattern t.steps: 'count' does not go with 'sequence'; each step says what it counts, and every step must be met"))
    #expect(errors.contains("Rules/p.yaml:22:12: pattern t.hospital is already defined at Rules/p.yaml:1:9"))
    #expect(errors.contains { $0.hasPrefix("Rules/p.yaml:12:19: pattern t.broken: output: '%nothing' is not a pattern's placeholder") })
    #expect(errors.contains("Rules/p.yaml:37:30: pattern t.twice: group_by names location.place twice"))
    #expect(errors.contains("Rules/p.yaml:45:14: pattern t.list: group_by: weapons holds a list; a key is one value: a field of one value, or a call"))
    #expect(
      errors.contains(
        "Rules/p.yaml:69:13: pattern t.within: distinct counts location.governorate, which group_by also names: it has one "
          + "value in a group, so the count could never be reached; count another field, or leave it out of group_by"),
      "\(errors)")
    #expect(errors.count == 16, "\(errors)")
  }

  /// `Rules/p.yaml`: t.hospital and a pattern of two of its firings within `window`, with
  /// one example case (`key` fires or quiet) of `reports` (its line is 15).
  static func twice(window: String, _ key: String, _ reports: String) -> [RuleSource] {
    let text = Self.text(
      """
      - pattern: t.twice
        desc: Two attacks on hospitals.
        rules: [t.hospital]
        count: 2
        window: \(window)
        output: "%count"
        priority: high
        examples:
          \(key):
            - \(reports)
      """)
    return [RuleSource(path: "Rules/p.yaml", name: "p.yaml", contents: Array(text.utf8))]
  }

  /// Examples are judged with the default horizon, the same for every configuration; where
  /// the configured one would count an example otherwise, a warning says so (the set loads).
  @Test func anExampleTheConfiguredHorizonWouldNotBearOutIsAWarning() throws {
    let source = Self.twice(window: "60d", "fires", "[{type: attack, occurred_at: 2016-05-20, target: {type: hospital}}, {type: attack, occurred_at: 2016-05-01, target: {type: hospital}}]")
    let plain = try RuleSetLoader().load(source).get()
    #expect(plain.warnings.isEmpty)
    let tenDays = try RuleSetLoader(latenessHorizon: 10 * 86_400_000).load(source).get()
    #expect(
      tenDays.warnings.map(\.description) == [
        "Rules/p.yaml:15:9: pattern t.twice: example fires[0] does not fire with rules.lateness_horizon_days: 10 "
          + "(examples are judged with the default, 90): a report in it comes too late for this configuration"
      ], "\(tenDays.warnings)")
    #expect(try RuleSetLoader(latenessHorizon: 30 * 86_400_000).load(source).get().warnings.isEmpty)
    // A longer horizon than the default counts what the default leaves late: said so.
    let year = try RuleSetLoader(latenessHorizon: 365 * 86_400_000)
      .load(Self.twice(window: "60d", "quiet", "[{type: attack, occurred_at: 2016-04-01, target: {type: hospital}}, {type: attack, occurred_at: 2016-07-10, target: {type: hospital}}, {type: attack, occurred_at: 2016-04-02, target: {type: hospital}}]")).get()
    #expect(
      year.warnings.map(\.description) == [
        "Rules/p.yaml:15:9: pattern t.twice: example quiet[0] fires on report 3 with rules.lateness_horizon_days: 365 "
          + "(examples are judged with the default, 90): a report in it that comes too late by the default counts in this configuration"
      ], "\(year.warnings)")
  }

  /// An example's reports arrive when the set is loaded, as the daemon's would: one dated
  /// after that (2061 typed for 2016) counts in its own windows but does not make the
  /// others late, as in the daemon. Judged as if every report were on time, the case did
  /// not fire where vigild fires.
  @Test func anExampleDatedInTheFutureDoesNotMakeTheOthersLate() throws {
    let source = Self.twice(window: "3d", "fires", "[{type: attack, occurred_at: 2016-04-01, target: {type: hospital}}, {type: attack, occurred_at: 2061-04-01, target: {type: hospital}}, {type: attack, occurred_at: 2016-04-02, target: {type: hospital}}]")
    let now = Int64(Date(timeIntervalSince1970: 1_796_000_000).timeIntervalSince1970 * 1000)  // 2026
    #expect(try RuleSetLoader(examplesReceivedAt: now).load(source).get().warnings.isEmpty)
    // Received in 2062, the 2061 report is on time, and the third is late: the case fails.
    let later = Int64(Date(timeIntervalSince1970: 2_910_000_000).timeIntervalSince1970 * 1000)
    guard case .failure(let errors) = RuleSetLoader(examplesReceivedAt: later).load(source) else {
      Issue.record("received in 2062, the example should not fire")
      return
    }
    #expect(errors.errors.map(\.description) == ["Rules/p.yaml:15:9: pattern t.twice: example fires[0] does not fire"])
  }

  /// An example's report with an id seen before in its case is not counted, as vigild
  /// would not record it: a case that fires only by counting it again does not fire.
  @Test func anExampleDoesNotCountARepeatedID() {
    let pattern = { (reports: String) in
      """
      - rule: t.hospital
        desc: A hospital was attacked.
        condition: type = attack and target.type = hospital
        output: "hospital"
        priority: high
      - pattern: t.twice
        desc: Two attacks on hospitals.
        rules: [t.hospital]
        count: 2
        window: 30d
        output: "%count"
        priority: high
        examples:
          fires:
            - \(reports)
      """
    }
    let report = { (id: String) in "{id: \(id), type: attack, occurred_at: 2016-04-01, target: {type: hospital}}" }
    #expect(ruleErrors([("p.yaml", pattern("[\(report("a")), \(report("b"))]"))]).isEmpty)
    #expect(ruleErrors([("p.yaml", pattern("[\(report("a")), \(report("a"))]"))]) == [
      "Rules/p.yaml:15:9: pattern t.twice: example fires[0] does not fire"
    ])
  }

  /// A window is digits and a unit (`+30d` is not one), and a pattern named among a
  /// pattern's rules is said to be one.
  @Test func aSignedWindowAndAPatternAmongTheRulesAreRefusedClearly() {
    let text = Self.text(
      """
      - pattern: t.first
        desc: Two.
        rules: [t.hospital]
        count: 2
        window: +30d
        output: x
        priority: high
      - pattern: t.second
        desc: Of the first.
        rules: [t.first]
        count: 2
        window: 30d
        output: x
        priority: high
      """)
    let errors = ruleErrors([("p.yaml", text)])
    #expect(errors.contains { $0.hasPrefix("Rules/p.yaml:10:11: pattern t.first: window must be a number of days or hours") }, "\(errors)")
    #expect(
      errors.contains("Rules/p.yaml:15:11: pattern t.second: 't.first' is a pattern, not a rule: a pattern counts the alerts of rules, not another pattern's"),
      "\(errors)")
  }

  /// A broken pattern's examples are not run, but how they are written is checked.
  @Test func aBrokenPatternsExamplesAreCheckedForForm() {
    let text = Self.text(
      """
      - pattern: t.broken
        desc: Two.
        rules: [t.hospital]
        count: 2
        window: 30 days
        output: x
        priority: high
        examples:
          fires:
            - [{type: attack, wepons: [x]}]
            - {type: attack}
      """)
    let errors = ruleErrors([("p.yaml", text)])
    #expect(errors.contains { $0.hasPrefix("Rules/p.yaml:10:11: pattern t.broken: window must be") }, "\(errors)")
    #expect(errors.contains { $0.contains("pattern t.broken: example fires[0]: report 1: unknown field \"wepons\"") }, "\(errors)")
    #expect(errors.contains { $0.contains("pattern t.broken: example fires[1] must be a list of reports") }, "\(errors)")
  }

  /// Every step of a sequence is checked: an error in one does not hide a later one's.
  @Test func everyStepsErrorsComeInOneLoad() {
    let text = """
      - pattern: t.steps
        desc: Two steps, both wrong.
        sequence:
          - condition: type = atack
          - condition: location.besieged = maybe
        window: 30d
        output: x
        priority: high
      """
    let errors = ruleErrors([("p.yaml", text)])
    #expect(errors.contains { $0.hasPrefix("Rules/p.yaml:4:25: pattern t.steps: step 1: 'atack' is not a value of type") }, "\(errors)")
    #expect(errors.contains { $0.hasPrefix("Rules/p.yaml:5:38: pattern t.steps: step 2: location.besieged is true or false") }, "\(errors)")
  }

  /// A pattern lacking a key is still checked whole: every error of it comes in one load.
  @Test func aPatternLackingAKeyHasItsOtherErrorsToo() {
    let lacking = """
      - pattern: t.lacking
        rules: [t.nothere]
        count: 1
        window: 30 days
      """
    #expect(
      ruleErrors([("p.yaml", lacking)]) == [
        "Rules/p.yaml:1:3: pattern t.lacking needs 'desc'",
        "Rules/p.yaml:1:3: pattern t.lacking needs 'priority'",
        "Rules/p.yaml:1:3: pattern t.lacking needs 'output'",
        "Rules/p.yaml:2:11: pattern t.lacking: no rule is named 't.nothere'",
        "Rules/p.yaml:3:10: pattern t.lacking: count must be a whole number from 2 to 1000, got \"1\"",
        "Rules/p.yaml:4:11: pattern t.lacking: window must be a number of days or hours, such as 30d or 12h, "
          + "at most 400 days; got '30 days'",
      ])
  }

  /// A window too long to hold in milliseconds is refused like any over 400 days, not a
  /// crash (the multiplication overflowed, and a reload took the daemon down).
  @Test(arguments: ["401d", "9601h", "106751991168d", "200000000000d", "3000000000000h", "9223372036854775807d"])
  func aWindowPast400DaysIsRefusedHoweverLong(_ window: String) {
    let text = """
      - pattern: t.long
        desc: d
        rules: [t.nothere]
        count: 2
        window: \(window)
        output: x
        priority: low
      """
    #expect(
      ruleErrors([("p.yaml", text)]).contains(
        "Rules/p.yaml:5:11: pattern t.long: window must be a number of days or hours, such as 30d or 12h, "
          + "at most 400 days; got '\(window)'"))
  }

  /// A rule with an error of its own is not loaded: a pattern naming it says so, not that
  /// no rule has that name.
  @Test func aPatternNamingARuleWithErrorsSaysSo() throws {
    let text = """
      - rule: t.hospital
        desc: A hospital was attacked.
        condition: type = attack and target.typo = hospital
        output: "hospital"
        priority: high
      - pattern: t.hospitals
        desc: Hospitals attacked again and again.
        rules: [t.hospital]
        count: 2
        window: 30d
        output: "%count"
        priority: high
      """
    let errors = ruleErrors([("a.yaml", text)])
    #expect(errors.count == 2, "\(errors)")
    #expect(errors.contains { $0.hasPrefix("Rules/a.yaml:3:") && $0.contains("target.typo") }, "\(errors)")
    #expect(
      errors.contains("Rules/a.yaml:8:11: pattern t.hospitals: rule 't.hospital' (Rules/a.yaml:1:9) did not load: see its own errors"),
      "\(errors)")
  }

  /// A rule file that does not parse loses its rules: a pattern in another file that names
  /// one is told where it may be, not that it does not exist.
  @Test func aPatternNamingARuleOfAnUnreadFileSaysSo() throws {
    let rules = """
      - rule: t.hospital
        desc: A hospital was attacked.
        condition: [type = attack
      """
    let patterns = """
      - pattern: t.hospitals
        desc: Hospitals attacked again and again.
        rules: [t.hospital]
        count: 2
        window: 30d
        output: "%count"
        priority: high
      """
    let errors = ruleErrors([("a.yaml", rules), ("b.yaml", patterns)])
    #expect(errors.count == 2, "\(errors)")
    #expect(errors.contains { $0.hasPrefix("Rules/a.yaml:") })
    #expect(
      errors.contains(
        "Rules/b.yaml:3:11: pattern t.hospitals: no rule is named 't.hospital' among the rules loaded; it may be in Rules/a.yaml, which could not be read (see its error)"
      ), "\(errors)")
  }
}

/// `RuleSet.patternBasis`: what a reload compares to keep the windows.
@Suite("Patterns: what their windows depend on")
struct PatternBasisTests {
  static let base = """
    - list: heavy
      items: [barrel_bomb, artillery]
    - macro: heavy_attack
      condition: type = attack and weapons in (heavy)
    - macro: unrelated_macro
      condition: type = detention
    - list: unrelated_list
      items: [oil]
    - rule: t.heavy
      desc: Heavy weapons.
      condition: heavy_attack
      output: "heavy weapons"
      priority: high
    - rule: t.other
      desc: Another rule.
      condition: type = detention and unrelated_macro
      output: "detention"
      priority: low
    - pattern: t.repeated
      desc: Three heavy attacks in a governorate.
      rules: [t.heavy]
      group_by: [location.governorate]
      count: 3
      window: 30d
      output: "%count heavy attacks in %group"
      priority: critical
    """

  static func basis(_ text: String, more: [(String, String)] = []) throws -> String {
    try loadRules([("a.yaml", text)] + more).get().patternBasis
  }

  @Test func rulesListsAndMacrosNoPatternUsesLeaveItAsItIs() throws {
    let basis = try Self.basis(Self.base)
    #expect(!basis.isEmpty)
    let unrelated = """
      - list: more
        items: [tank]
      - macro: after_cessation
        condition: occurred_at >= 2016-02-27T00:00:00+02:00
      - rule: t.added
        desc: Added.
        condition: type = attack and after_cessation and weapons in (more)
        output: "added"
        priority: low
      """
    #expect(try Self.basis(Self.base, more: [("b.yaml", unrelated)]) == basis)
    #expect(try Self.basis(Self.base.replacingOccurrences(of: "items: [oil]", with: "items: [oil, gas]")) == basis)
    #expect(try Self.basis(Self.base.replacingOccurrences(of: "type = detention and", with: "type = trade and")) == basis)
  }

  /// A macro reached through another macro, its keys written in either order.
  @Test func aMacroNamedByAnotherMacroCountsWhateverTheKeysOrder() throws {
    let text = """
      - macro: north
        condition: location.governorate in (Idlib, Aleppo)
      - condition: type = attack and north
        macro: northern_attack
      - rule: t.north
        desc: Attacks in the north.
        condition: northern_attack
        output: "an attack up there"
        priority: high
      - pattern: t.repeated_north
        desc: Three attacks in the north.
        rules: [t.north]
        group_by: [location.governorate]
        count: 3
        window: 30d
        output: "%count attacks in %group"
        priority: critical
      """
    let basis = try Self.basis(text)
    #expect(try Self.basis(text.replacingOccurrences(of: "(Idlib, Aleppo)", with: "(Idlib, Aleppo, Hama)")) != basis)
  }

  @Test func whatThePatternCountsByChangesIt() throws {
    let basis = try Self.basis(Self.base)
    for (old, new) in [
      ("items: [barrel_bomb, artillery]", "items: [barrel_bomb]"),  // a list a counted rule's macro names
      ("condition: type = attack and weapons in (heavy)", "condition: type = attack"),  // that macro
      ("condition: heavy_attack", "condition: heavy_attack and casualties.killed > 0"),  // the counted rule
      ("output: \"heavy weapons\"", "output: \"heavy weapons used\""),  // its output (to be safe)
      ("count: 3", "count: 4"),  // the pattern
    ] {
      #expect(try Self.basis(Self.base.replacingOccurrences(of: old, with: new)) != basis, "\(new)")
    }
  }
}
