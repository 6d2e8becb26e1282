import Testing
import VigilCore
import VigilTestSupport

/// One refused line: the error's code, the field it names, and its exact message.
struct Refusal: CustomTestStringConvertible, Sendable {
  let line: String
  let code: ReportError.Code
  let field: String?
  let message: String

  init(_ line: String, _ code: ReportError.Code = .invalidReport, field: String? = nil, _ message: String) {
    self.line = line
    self.code = code
    self.field = field
    self.message = message
  }

  var testDescription: String { "\(field ?? code.rawValue): \(line.prefix(80))" }
}

private let typeWords = "attack, access, detention, trade, displacement, siege"
private let timestampExpectation =
  "an RFC 3339 timestamp with an offset (2016-03-04T06:40:00+02:00) or a date (2016-03-04)"

@Suite("Reports: every refusal names its field and says what was expected")
struct ReportRefusalTests {
  static let refusals: [Refusal] = [
    // Shape
    Refusal(#"[1,2]"#, .notAnObject, "a report must be a JSON object, got an array"),
    Refusal(#""report""#, .notAnObject, "a report must be a JSON object, got a string"),
    Refusal(#"42"#, .notAnObject, "a report must be a JSON object, got a number"),
    // Required fields, reported after every present field has been checked
    Refusal(#"{"occurred_at":"2016-01-01","type":"attack"}"#, field: "id", "id: missing required field"),
    Refusal(#"{"id":"A","type":"attack"}"#, field: "occurred_at", "occurred_at: missing required field"),
    Refusal(#"{"id":"A","occurred_at":"2016-01-01"}"#, field: "type", "type: missing required field"),
    Refusal(#"{"id":null,"occurred_at":"2016-01-01","type":"attack"}"#, field: "id", "id: missing required field"),
    Refusal(
      #"{"occurred_at":"yesterday","type":"attack"}"#, field: "occurred_at",
      "occurred_at: expected \(timestampExpectation), got \"yesterday\""),
    // The first offending field in line order
    Refusal(
      #"{"type":"attak","id":"a b","occurred_at":"2016-01-01"}"#, field: "type",
      "type: expected one of (\(typeWords)), got \"attak\""),
    Refusal(
      #"{"id":"a b","type":"attak","occurred_at":"2016-01-01"}"#, field: "id",
      "id: expected 1 to 128 characters of A-Z a-z 0-9 . _ : / -, got \"a b\""),
    // id
    Refusal(
      #"{"id":"","occurred_at":"2016-01-01","type":"attack"}"#, field: "id",
      "id: expected 1 to 128 characters of A-Z a-z 0-9 . _ : / -, got \"\""),
    Refusal(
      #"{"id":"\#(String(repeating: "a", count: 129))","occurred_at":"2016-01-01","type":"attack"}"#,
      field: "id",
      "id: expected 1 to 128 characters of A-Z a-z 0-9 . _ : / -, got \"\(String(repeating: "a", count: 40))…\""),
    Refusal(
      #"{"id":"rapport-é","occurred_at":"2016-01-01","type":"attack"}"#, field: "id",
      "id: expected 1 to 128 characters of A-Z a-z 0-9 . _ : / -, got \"rapport-é\""),
    Refusal(
      #"{"id":17,"occurred_at":"2016-01-01","type":"attack"}"#, field: "id",
      "id: expected 1 to 128 characters of A-Z a-z 0-9 . _ : / -, got 17"),
    // Enums
    Refusal(
      reportLine(#""confidence":"Confirmed""#), field: "confidence",
      "confidence: expected one of (confirmed, probable, unverified), got \"Confirmed\""),
    Refusal(
      reportLine(#""source":{"kind":"government"}"#), field: "source.kind",
      "source.kind: expected one of (un, ngo, media, local, party, other), got \"government\""),
    Refusal(
      reportLine(#""access":{"status":"refused"}"#), field: "access.status",
      "access.status: expected one of (approved, conditional, pending, no_response, denied, obstructed, delayed), got \"refused\""
    ),
    Refusal(
      reportLine(#""access":{"modality":1}"#), field: "access.modality",
      "access.modality: expected one of (cross_border, cross_line, regular), got 1"),
    Refusal(
      reportLine(#""detention":{"kind":"arrest"}"#), field: "detention.kind",
      "detention.kind: expected one of (arbitrary, kidnapping, enforced_disappearance, hostage), got \"arrest\""),
    Refusal(
      reportLine(#""trade":{"commodity":"gas"}"#), field: "trade.commodity",
      "trade.commodity: expected one of (oil, crude_oil, refined_oil, modular_refinery, antiquities, ransom, arms, other), got \"gas\""
    ),
    Refusal(
      reportLine(#""displacement":{"direction":"out"}"#), field: "displacement.direction",
      "displacement.direction: expected one of (internal, return, cross_border), got \"out\""),
    Refusal(
      reportLine(#""target":{"type":"hospitals"}"#), field: "target.type",
      "target.type: expected one of (civilians, residential, market, hospital, medical_personnel, ambulance, school, place_of_worship, bakery, water_facility, idp_camp, aid_convoy, aid_worker, aid_warehouse, ceasefire_monitor, cultural_heritage, infrastructure, military_position, armed_group, checkpoint, other), got \"hospitals\""
    ),
    // Arrays of enums
    Refusal(
      reportLine(#""weapons":["mortar","barel_bomb"]"#), field: "weapons[1]",
      "weapons[1]: expected one of (barrel_bomb, cluster_munition, unguided_rocket, mortar, artillery, unguided_air_bomb, guided_munition, incendiary, thermobaric, chemical, vbied, ied, suicide_attack, small_arms, tank, sniper, landmine, air_strike, shelling, other, unknown), got \"barel_bomb\""
    ),
    Refusal(
      reportLine(#""weapons":[null]"#), field: "weapons[0]",
      "weapons[0]: expected one of (barrel_bomb, cluster_munition, unguided_rocket, mortar, artillery, unguided_air_bomb, guided_munition, incendiary, thermobaric, chemical, vbied, ied, suicide_attack, small_arms, tank, sniper, landmine, air_strike, shelling, other, unknown), got null"
    ),
    Refusal(
      reportLine(#""weapons":"mortar""#), field: "weapons",
      "weapons: expected an array of (barrel_bomb, cluster_munition, unguided_rocket, mortar, artillery, unguided_air_bomb, guided_munition, incendiary, thermobaric, chemical, vbied, ied, suicide_attack, small_arms, tank, sniper, landmine, air_strike, shelling, other, unknown), got \"mortar\""
    ),
    Refusal(
      reportLine(#""weapons":[\#(Array(repeating: "\"mortar\"", count: 33).joined(separator: ","))]"#),
      field: "weapons", "weapons: expected at most 32 elements, got 33"),
    Refusal(
      reportLine(#""detention":{"victims":["child","baby"]}"#), field: "detention.victims[1]",
      "detention.victims[1]: expected one of (woman, child, elderly, sick_wounded, un_staff, aid_worker, journalist), got \"baby\""
    ),
    Refusal(
      reportLine(#""access":{"items_removed":["medical",3]}"#), field: "access.items_removed[1]",
      "access.items_removed[1]: expected a string, got 3"),
    // Numbers and ranges
    Refusal(
      reportLine(#""location":{"lat":"north","lon":36}"#), field: "location.lat",
      #"location.lat: expected a number in [-90, 90], got "north""#),
    Refusal(
      reportLine(#""location":{"lat":90.5,"lon":36}"#), field: "location.lat",
      "location.lat: expected a number in [-90, 90], got 90.5"),
    Refusal(
      reportLine(#""location":{"lat":35,"lon":-180.01}"#), field: "location.lon",
      "location.lon: expected a number in [-180, 180], got -180.01"),
    Refusal(
      reportLine(#""location":{"lat":35}"#), field: "location.lon",
      "location.lon: missing: lat and lon must be given together"),
    Refusal(
      reportLine(#""location":{"lon":35}"#), field: "location.lat",
      "location.lat: missing: lat and lon must be given together"),
    Refusal(
      reportLine(#""casualties":{"killed":-1}"#), field: "casualties.killed",
      "casualties.killed: expected a whole number from 0 to 10,000,000, got -1"),
    Refusal(
      reportLine(#""casualties":{"injured":2.5}"#), field: "casualties.injured",
      "casualties.injured: expected a whole number from 0 to 10,000,000, got 2.5"),
    Refusal(
      reportLine(#""casualties":{"children_killed":10000001}"#), field: "casualties.children_killed",
      "casualties.children_killed: expected a whole number from 0 to 10,000,000, got 10000001"),
    Refusal(
      reportLine(#""casualties":{"civilians_killed":"3"}"#), field: "casualties.civilians_killed",
      #"casualties.civilians_killed: expected a whole number from 0 to 10,000,000, got "3""#),
    Refusal(
      reportLine(#""detention":{"count":true}"#), field: "detention.count",
      "detention.count: expected a whole number from 0 to 10,000,000, got true"),
    // Whole once rounded to a Double, not as written.
    Refusal(
      reportLine(#""casualties":{"killed":1e-400}"#), field: "casualties.killed",
      "casualties.killed: expected a whole number from 0 to 10,000,000, got 1e-400"),
    Refusal(
      reportLine(#""casualties":{"killed":10000000.0000000001}"#), field: "casualties.killed",
      "casualties.killed: expected a whole number from 0 to 10,000,000, got 10000000.0000000001"),
    Refusal(
      reportLine(#""detention":{"count":3.00000000000000001}"#), field: "detention.count",
      "detention.count: expected a whole number from 0 to 10,000,000, got 3.00000000000000001"),
    Refusal(
      reportLine(#""displacement":{"count":1e300}"#), field: "displacement.count",
      "displacement.count: expected a whole number from 0 to 10,000,000, got 1e300"),
    Refusal(
      reportLine(#""trade":{"value_usd":-0.01}"#), field: "trade.value_usd",
      "trade.value_usd: expected a number ≥ 0, got -0.01"),
    // In range once rounded to a Double, not as written.
    Refusal(
      reportLine(#""location":{"lat":90.0000000000000000001,"lon":0}"#), field: "location.lat",
      "location.lat: expected a number in [-90, 90], got 90.0000000000000000001"),
    Refusal(
      reportLine(#""location":{"lat":0,"lon":-18000000000000000000001e-20}"#), field: "location.lon",
      "location.lon: expected a number in [-180, 180], got -18000000000000000000001e-20"),
    Refusal(
      reportLine(#""trade":{"value_usd":-1e-400}"#), field: "trade.value_usd",
      "trade.value_usd: expected a number ≥ 0, got -1e-400"),
    // Booleans
    Refusal(
      reportLine(#""location":{"populated":"yes"}"#), field: "location.populated",
      #"location.populated: expected true or false, got "yes""#),
    Refusal(
      reportLine(#""displacement":{"voluntary":1}"#), field: "displacement.voluntary",
      "displacement.voluntary: expected true or false, got 1"),
    // Strings
    Refusal(reportLine(#""lang":"""#), field: "lang", #"lang: expected a non-empty string, got """#),
    Refusal(
      reportLine(#""source":{"org":" \t "}"#), field: "source.org",
      #"source.org: expected a non-empty string, got " \t ""#),
    Refusal(
      reportLine(#""location":{"place":"\u00a0\u3000"}"#), field: "location.place",
      #"location.place: expected a non-empty string, got "\u00a0\u3000""#),
    // What cannot be seen is shown escaped: raw, it read as `got ""`.
    Refusal(reportLine(#""lang":"\u0085""#), field: "lang", #"lang: expected a non-empty string, got "\u0085""#),
    Refusal(
      reportLine(#""narrative":"a\u0000b""#), field: "narrative",
      #"narrative: must not contain the NUL character (\u0000)"#),
    Refusal(
      reportLine(#""chemical_agent":["chlorine"]"#), field: "chemical_agent",
      "chemical_agent: expected a string, got an array"),
    Refusal(
      reportLine(#""chemical_agent":"\#(String(repeating: "ب", count: 4097))""#), field: "chemical_agent",
      "chemical_agent: expected at most 4096 characters, got 4097"),
    Refusal(
      reportLine(#""narrative":"\#(String(repeating: "x", count: 65_537))""#), field: "narrative",
      "narrative: expected at most 65536 characters, got 65537"),
    Refusal(
      reportLine(#""perpetrator":{"name":"\#(String(repeating: "\\u0645", count: 4097))"}"#),
      field: "perpetrator.name", "perpetrator.name: expected at most 4096 characters, got 4097"),
    Refusal(
      reportLine(#""trade":{"origin_country":"sy"}"#), field: "trade.origin_country",
      #"trade.origin_country: expected two uppercase letters (ISO 3166-1 alpha-2, such as SY), got "sy""#),
    Refusal(
      reportLine(#""trade":{"origin_country":"SYR"}"#), field: "trade.origin_country",
      #"trade.origin_country: expected two uppercase letters (ISO 3166-1 alpha-2, such as SY), got "SYR""#),
    // Objects and actors
    Refusal(reportLine(#""location":"Idlib""#), field: "location", #"location: expected an object, got "Idlib""#),
    Refusal(reportLine(#""casualties":[1]"#), field: "casualties", "casualties: expected an object, got an array"),
    Refusal(reportLine(#""extra":3"#), field: "extra", "extra: expected an object, got 3"),
    Refusal(
      reportLine(#""perpetrator":{}"#), field: "perpetrator",
      "perpetrator: expected an actor with a name, a party or both, got neither"),
    Refusal(
      reportLine(#""trade":{"buyer":{"name":null,"party":null}}"#), field: "trade.buyer",
      "trade.buyer: expected an actor with a name, a party or both, got neither"),
    Refusal(
      reportLine(#""trade":{"seller":"ISIL"}"#), field: "trade.seller",
      #"trade.seller: expected an object, got "ISIL""#),
    Refusal(
      reportLine(#""perpetrator":{"name":42}"#), field: "perpetrator.name",
      "perpetrator.name: expected a string, got 42"),
  ]

  @Test(arguments: refusals)
  func refusal(_ case: Refusal) throws {
    let error = try #require(refusalOf(`case`.line))
    #expect(error.code == `case`.code)
    #expect(error.field == `case`.field)
    #expect(error.message == `case`.message)
  }

  @Test func enumErrorsListTheAllowedValues() throws {
    let error = try #require(refusalOf(reportLine(#""confidence":"sure""#)))
    #expect(error.allowedValues == ["confirmed", "probable", "unverified"])
    // An array of an enum given as something else carries them too.
    let notAnArray = try #require(refusalOf(reportLine(#""detention":{"victims":"child"}"#)))
    #expect(notAnArray.allowedValues == ["woman", "child", "elderly", "sick_wounded", "un_staff", "aid_worker", "journalist"])
  }

  /// Every spelling of a bound, or of a number rounding to it from inside, is in range.
  @Test(arguments: [
    #""location":{"lat":90,"lon":-180}"#, #""location":{"lat":-90.000,"lon":1.8e2}"#,
    #""location":{"lat":900e-1,"lon":-0.18E3}"#, #""location":{"lat":89.99999999999999999999,"lon":179.999999999999999999}"#,
    #""location":{"lat":-0,"lon":0.0}"#, #""trade":{"value_usd":0}"#, #""trade":{"value_usd":-0.0e5}"#,
    #""trade":{"value_usd":1e-400}"#,
  ])
  func numbersOnTheirBoundsAreInRange(fields: String) {
    #expect(refusalOf(reportLine(fields)) == nil, "\(fields): \(refusalOf(reportLine(fields))?.message ?? "")")
  }

  static let timestamps: [(String, Bool)] = [
    ("2016-03-04", true), ("2016-03-04T06:40:00Z", true), ("2016-03-04t06:40:00z", true),
    ("2016-03-04T06:40:00+02:00", true), ("2016-03-04T06:40:00-00:00", true),
    ("2016-03-04T06:40:00.5Z", true), ("2016-03-04T06:40:00.123456789+03:30", true),
    ("2016-02-29", true), ("2000-02-29T00:00:00Z", true), ("2016-12-31T23:59:59-23:59", true),
    ("2016-03-04T06:40:00.1234567890Z", false), ("2016-03-04 06:40:00Z", false),
    ("2016-03-04T06:40:00", false), ("2016-03-04T06:40Z", false), ("2016-02-30", false),
    ("2015-02-29", false), ("1900-02-29", false), ("2016-03-04T23:59:60Z", false),
    ("2016-03-04T24:00:00Z", false), ("2016-03-04T06:40:00+24:00", false),
    ("2016-03-04T06:40:00+02:60", false), ("2016-03-04T06:40:00+0200", false), ("2016-3-4", false),
    ("2016-13-01", false), ("2016-00-10", false), ("2016-01-00", false), ("16-03-04", false),
    ("2016-03-04T06:40:00.Z", false), ("2016-03-04Z", false), (" 2016-03-04", false),
    ("2016-03-04T06:40:00Z ", false), ("2016-03-04T06:40:00UTC", false), ("١٠١٦-03-04", false),
  ]

  @Test(arguments: timestamps)
  func timestampSyntax(text: String, valid: Bool) {
    let error = refusalOf(reportLine(#""reported_at":"\#(text)""#))
    if valid {
      #expect(error == nil)
    } else {
      #expect(error?.field == "reported_at")
      #expect(error?.message.hasPrefix("reported_at: expected \(timestampExpectation), got") == true)
    }
  }
}
