import Testing
import VigilCore
import VigilTestSupport

@Suite("Output templates: fields, optional segments and defaults")
struct OutputTemplateTests {
  static let perpetrator = "%{by %perpetrator.name%{ (%perpetrator.party)}|by %perpetrator.party|by an unidentified party}"

  /// (template, report members, message)
  static let renderings: [(String, String, String)] = [
    ("%perpetrator.name attacked", "", "<none> attacked"),
    ("%perpetrator.name attacked", #""perpetrator":{"name":"ISIL"}"#, "ISIL attacked"),
    ("Attack%{ by %perpetrator.name}.", "", "Attack."),
    ("Attack%{ by %perpetrator.name}.", #""perpetrator":{"name":"X"}"#, "Attack by X."),
    (perpetrator, "", "by an unidentified party"),
    (perpetrator, #""perpetrator":{"party":"isil"}"#, "by isil"),
    (perpetrator, #""perpetrator":{"name":"Jund","party":"isil"}"#, "by Jund (isil)"),
    (perpetrator, #""perpetrator":{"name":"Jund"}"#, "by Jund"),
    // Every field of an alternative must be there, or the next one is tried.
    ("%{%location.place, %location.governorate|%location.governorate}", #""location":{"place":"Darayya"}"#, ""),
    (
      "%{%location.place, %location.governorate|%location.governorate}",
      #""location":{"place":"Darayya","governorate":"Rif Dimashq"}"#, "Darayya, Rif Dimashq"
    ),
    ("%{%location.place, %location.governorate|%location.governorate}", #""location":{"governorate":"Idlib"}"#, "Idlib"),
    // An empty array shows nothing, so it counts as absent.
    ("%{(%weapons)|(no weapon named)}", #""weapons":[]"#, "(no weapon named)"),
    ("%{(%weapons)|(no weapon named)}", #""weapons":["mortar","tank"]"#, "(mortar, tank)"),
    // Literal characters.
    ("100%% {sure} | %{a%|b%}c %casualties.killed}", #""casualties":{"killed":2}"#, "100% {sure} | a|b}c 2"),
    ("%{%extra.unit|no unit}", #""extra":{"unit":"3rd"}"#, "3rd"),
    ("%{%extra.unit|no unit}", "", "no unit"),
    // An array of nulls shows nothing, as an empty one; nulls in an array are left out.
    ("%{ arr:%extra.arr}", #""extra":{"arr":[null]}"#, ""),
    ("%{ arr:%extra.arr}", #""extra":{"arr":[null,1,null,"b"]}"#, " arr:1, b"),
    // `extra` whole: the report's own members (an object that is no other object's field).
    ("extra: %extra", #""extra":{"unit":"3rd"}"#, "extra: {unit: 3rd}"),
    // `%(path)`: an `extra` key as a condition writes it, `-` and all; and a field's end
    // marked before letters. `%path` ends at the `-`.
    ("convoy %(extra.convoy-id)", #""extra":{"convoy-id":"C-7","convoy":"x"}"#, "convoy C-7"),
    ("convoy %extra.convoy-id", #""extra":{"convoy-id":"C-7","convoy":"x"}"#, "convoy x-id"),
    ("%{at %(extra.sent:utc)|unsent}", #""extra":{"sent:utc":"09:00"}"#, "at 09:00"),
    ("%{at %(extra.sent:utc)|unsent}", "", "unsent"),
    ("the %(casualties.killed)th", #""casualties":{"killed":5}"#, "the 5th"),
    // Numbers, lists and flags, written straight from the value.
    ("%location.lat %location.lon", #""location":{"lat":36.25,"lon":-37}"#, "36.25 -37"),
    ("%location.lat,%location.lon", #""location":{"lat":-0.0,"lon":0}"#, "0,0"),
    // Written out in full, as a reader expects an amount: no exponent, no ".0".
    ("$%trade.value_usd", #""trade":{"value_usd":1e20}"#, "$100000000000000000000"),
    ("$%trade.value_usd", #""trade":{"value_usd":2.5e-7}"#, "$0.00000025"),
    ("$%trade.value_usd", #""trade":{"value_usd":1.25e16}"#, "$12500000000000000"),
    ("%location.lat", #""location":{"lat":-1e-5,"lon":0}"#, "-0.00001"),
    ("$%trade.value_usd", #""trade":{"value_usd":123456789012345}"#, "$123456789012345"),
    ("%casualties.killed dead", #""casualties":{"killed":0}"#, "0 dead"),
    ("%weapons", #""weapons":["barrel_bomb"]"#, "barrel_bomb"),
    ("%detention.victims", #""detention":{"victims":["journalist","aid_worker"]}"#, "journalist, aid_worker"),
    ("[%access.items_removed]", #""access":{"items_removed":["insulin","قطن"]}"#, "[insulin, قطن]"),
    ("%location.populated", #""location":{"populated":true}"#, "true"),
    ("$%trade.value_usd", #""trade":{"value_usd":1e15}"#, "$1000000000000000"),
    // An alternative cut back after a number and a list were written into it.
    ("%{%casualties.killed %weapons %trade.commodity|none}", #""casualties":{"killed":3},"weapons":["tank"]"#, "none"),
    ("%{%casualties.killed %weapons|none}", #""casualties":{"killed":3},"weapons":["tank","mortar"]"#, "3 tank, mortar"),
  ]

  @Test("A message as bytes (what alerts hold) is the rendered text's UTF-8, and writes the same line")
  func messageBytesAreTheRenderedText() throws {
    let members = #""perpetrator":{"name":"جبهة \"النصرة\"\n\u0645"},"location":{"governorate":"حلب"}"#
    let report = try parsed(reportLine(members)).report
    let template = try OutputTemplate("%{by %perpetrator.name }in %location.governorate: 100%% «%type»")
    let text = template.renderText(report)
    let rendered = template.render(report)
    #expect(text.withUTF8 { Array($0) } == Array(rendered.utf8))
    #expect(rendered == "by جبهة \"النصرة\"\nم in حلب: 100% «attack»")
    let asText = AlertRecord(
      time: "2016-03-04T06:40:00.000Z", rule: "r", priority: .high, reportID: "R1",
      occurredAtText: report.occurredAt.text, messageText: text, basis: [], tags: [], ruleset: "sha256:00")
    let asString = AlertRecord(
      time: "2016-03-04T06:40:00.000Z", rule: "r", priority: .high, reportID: "R1",
      occurredAt: report.occurredAt.text.string, message: rendered, basis: [], tags: [], ruleset: "sha256:00")
    #expect(asText == asString)
    #expect(asText.message == rendered)
    #expect(asText.written(seq: 1, prev: AlertChain.genesis).line == asString.written(seq: 1, prev: AlertChain.genesis).line)
  }

  @Test(arguments: renderings)
  func renders(_ template: String, _ members: String, _ expected: String) throws {
    let report = try parsed(reportLine(members)).report
    #expect(try OutputTemplate(template).render(report) == expected)
  }

  @Test func absentFieldsAreOnlyThoseOutsideSegments() throws {
    let report = try parsed(reportLine(#""location":{"place":"Darayya"}"#)).report
    let template = try OutputTemplate("%perpetrator.name in %location.place%{ (%location.governorate)} on %target.name")
    #expect(template.absentFields(in: report) == ["perpetrator.name", "target.name"])
  }

  /// (template, error offset, start of the message)
  static let mistakes: [(String, Int, String)] = [
    ("Attack%{ by %perpetrator.name", 6, "this '%{' is never closed"),
    ("a %{b %{c} d", 2, "this '%{' is never closed"),
    ("x %{}", 2, "an empty '%{}' segment"),
    ("%{%perpetrator.nmae|x}", 2, "unknown field %perpetrator.nmae"),
    ("%{x|%location}", 4, "%location is an object"),
    ("50 % off", 3, "a '%' must be followed by a field path or '{'"),
    ("id %(extra.convoy-id", 3, "this '%(' is never closed"),
    ("id %(extra.a b)", 3, "'%(extra.a b)' must hold one field path"),
    ("id %()", 3, "'%()' must hold one field path"),
    ("%{x|%(location.palce)}", 4, "unknown field %location.palce"),
  ]

  @Test(arguments: mistakes)
  func refuses(_ template: String, _ offset: Int, _ message: String) {
    #expect {
      _ = try OutputTemplate(template)
    } throws: { error in
      guard let error = error as? ConditionError else { return false }
      return error.start == offset && error.message.hasPrefix(message)
    }
  }

  /// An empty segment is said with the template's other mistakes, in one load, as a
  /// misspelt field is: the author fixes them all at once.
  @Test func anEmptySegmentIsSaidWithTheMistakesAfterIt() {
    #expect {
      _ = try OutputTemplate("x %{} by %perpetrator.nmae")
    } throws: { error in
      guard let error = error as? ConditionError else { return false }
      let all = error.all
      return all.map(\.start) == [2, 9] && all[0].message.hasPrefix("an empty '%{}' segment")
        && all[1].message.hasPrefix("unknown field %perpetrator.nmae")
    }
  }

  /// Functions of the rule set in a template: their answer shown, absent when they answer
  /// nothing (so a segment around one is left out), checked as in a condition.
  static let withCalls: [(String, String, String)] = [
    ("%days_between(occurred_at, reported_at) days late", #""reported_at":"2016-03-14T06:40:00+02:00""#, "10 days late"),
    ("late%{ by %days_between(occurred_at, reported_at) days}.", "", "late."),
    ("%{%mentions(narrative, barrel) |}barrel", #""narrative":"a barrel bomb""#, "true barrel"),
    // Only the values of the list, in the report's order; none, and the segment goes.
    ("(%among(weapons, 'mortar'))", #""weapons":["small_arms","mortar","tank"]"#, "(mortar)"),
    ("x%{ (%among(weapons, 'mortar'))}", #""weapons":["small_arms"]"#, "x"),
  ]

  @Test(arguments: withCalls)
  func rendersCalls(_ template: String, _ members: String, _ expected: String) throws {
    let report = try parsed(reportLine(members)).report
    let compiler = ConditionCompiler(functions: BuiltInFunctions.all)
    #expect(try OutputTemplate(template, compiler: compiler).render(report) == expected)
  }

  static let callMistakes: [(String, Int, String)] = [
    ("x %nowhere(location) y", 3, "no function named nowhere"),
    ("x %days_between(occurred_at) y", 3, "days_between(…) takes 2 arguments, got 1"),
    ("x %days_between(occured_at, reported_at)", 16, "unknown field occured_at"),
    ("x %days_between(occurred_at, reported_at", 2, "this call's '(' is never closed"),
  ]

  @Test(arguments: callMistakes)
  func refusesBadCalls(_ template: String, _ offset: Int, _ message: String) {
    #expect {
      _ = try OutputTemplate(template, compiler: ConditionCompiler(functions: BuiltInFunctions.all))
    } throws: { error in
      guard let error = error as? ConditionError else { return false }
      return error.start == offset && error.message.hasPrefix(message)
    }
  }
}
