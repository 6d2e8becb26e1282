import Testing
import VigilTestSupport

@testable import VigilCore

@Suite("Built-in functions: among, days_between, days_between_or, mentions")
struct BuiltInFunctionsTests {
  static let compiler = ConditionCompiler(
    lists: [
      "un_agencies": ["UN", "United Nations", "الأمم المتحدة", "OCHA", "WFP"],
      "indiscriminate": ["barrel_bomb", "mortar", "shelling"],
    ], functions: BuiltInFunctions.all)

  static let cases: [(String, String, Bool)] = [
    // 30 days exactly is not more than 30; a second more is
    (
      #""access":{"submitted_at":"2016-01-01T00:00:00Z"},"reported_at":"2016-01-31T00:00:00Z""#,
      "days_between(access.submitted_at, reported_at) > 30", false
    ),
    (
      #""access":{"submitted_at":"2016-01-01T00:00:00Z"},"reported_at":"2016-01-31T00:00:01Z""#,
      "days_between(access.submitted_at, reported_at) > 30", true
    ),
    // across offsets: 02:00+02:00 is 00:00Z
    (
      #""access":{"submitted_at":"2016-01-01T02:00:00+02:00"},"reported_at":"2016-01-31T00:00:01Z""#,
      "days_between(access.submitted_at, reported_at) > 30", true
    ),
    // absent: the comparison is false
    (#""reported_at":"2016-01-31""#, "days_between(access.submitted_at, reported_at) > 30", false),
    (#""reported_at":"2016-01-31""#, "not days_between(access.submitted_at, reported_at) > 30", true),
    // the fallback: occurred_at (2016-03-04T04:40Z) when reported_at is absent
    (
      #""access":{"submitted_at":"2016-02-01T04:39:59Z"}"#,
      "days_between_or(access.submitted_at, reported_at, occurred_at) > 32", true
    ),
    (
      #""access":{"submitted_at":"2016-02-01T04:40:00Z"}"#,
      "days_between_or(access.submitted_at, reported_at, occurred_at) > 32", false
    ),
    (
      #""access":{"submitted_at":"2016-02-01T04:39:59Z"},"reported_at":"2016-02-02""#,
      "days_between_or(access.submitted_at, reported_at, occurred_at) > 32", false
    ),
    // names, whole words, lists or single values
    (#""access":{"requested_by":"UN OCHA"}"#, "mentions(access.requested_by, un_agencies)", true),
    (#""access":{"requested_by":"UNRWA"}"#, "mentions(access.requested_by, un_agencies)", false),
    (#""access":{"requested_by":"الأمم المتحدة والهلال الأحمر"}"#, "mentions(access.requested_by, un_agencies)", true),
    (#""access":{"requested_by":"World Food Programme (WFP)"}"#, "mentions(access.requested_by, 'WFP')", true),
    (#""access":{"requested_by":"SARC"}"#, "mentions(access.requested_by, un_agencies)", false),
    (#""narrative":"no requester""#, "mentions(access.requested_by, un_agencies)", false),
    // `extra` values read as the function's parameter says: a string as text or a time,
    // an array as its texts, a number's text as a number; another type is absent
    (#""extra":{"group":"Daesh fighters"}"#, "mentions(extra.group, Daesh)", true),
    (#""extra":{"group":"the Daesh"}"#, "mentions(extra.group, ISIL)", false),
    (#""extra":{"groups":["FSA","Jabhat al-Nusra"]}"#, "mentions(extra.groups, 'al-Nusra')", true),
    (#""extra":{"group":5}"#, "mentions(extra.group, '5')", false),
    (#""extra":{"items":["burns kits"]}"#, "mentions_part(extra.items, burn)", true),
    (#""extra":{"town":"MADAYA"}"#, "normalized(extra.town) = madaya", true),
    (#""extra":{"sent":"2016-01-01"}"#, "days_between(extra.sent, occurred_at) > 60", true),
    (#""extra":{"sent":"2016-03-01"}"#, "days_between(extra.sent, occurred_at) > 60", false),
    (#""extra":{"sent":"last week"}"#, "not days_between(extra.sent, occurred_at) > 0", true),
    (#""extra":{"sent":{"day":"2016-01-01"}}"#, "days_between(extra.sent.day, occurred_at) > 60", true),
    // among: the values of the list the field has, joined as an output shows them
    (#""weapons":["mortar","small_arms","barrel_bomb"]"#, "among(weapons, indiscriminate) = 'mortar, barrel_bomb'", true),
    (#""weapons":["small_arms"]"#, "among(weapons, indiscriminate) exists", false),
    (#""detention":{"victims":["woman","aid_worker"]}"#, "among(detention.victims, aid_worker) = aid_worker", true),
    (#""access":{"items_removed":["food","medical"]}"#, "among(access.items_removed, medical) = medical", true),
    (#""confidence":"probable""#, "among(confidence, indiscriminate) exists", false),
  ]

  /// A name that normalises to nothing could never be mentioned: a warning at its place,
  /// naming the list it came from (a shared list with one such item still loads).
  @Test func aNameWithNoWordLeftIsWarnedOf() throws {
    let compiler = ConditionCompiler(lists: ["odd": ["UN", "!!!"]], functions: BuiltInFunctions.all)
    for (condition, says) in [
      ("mentions(narrative, al)", "the name 'al' has no word left to match"),
      ("mentions(narrative, '!!!')", "the name '!!!' has no word left to match"),
      ("mentions_part(narrative, '-')", "the name '-' has no word left to match"),
      ("mentions(narrative, odd)", "the name '!!!' (from the list odd) has no word left to match"),
    ] {
      let warnings = try compiler.compile(condition).warnings
      #expect(warnings.count == 1 && warnings[0].message.hasPrefix(says), "\(condition): \(warnings)")
    }
    #expect(try compiler.compile("mentions(narrative, 'al-Nusra')").warnings.isEmpty)
  }

  @Test(arguments: cases)
  func evaluates(members: String, condition: String, expected: Bool) throws {
    let report = try parsed(reportLine(members)).report
    #expect(try Self.compiler.compile(condition).matches(report) == expected)
  }
}
