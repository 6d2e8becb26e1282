import Testing
import VigilCore
import VigilTestSupport

@Suite("Reports: fields and values (docs/reports.md)")
struct ReportParserTests {
  @Test func theSpecExampleParsesWithEveryValue() throws {
    let line = #"""
      {"id":"SY-2016-03-0412","occurred_at":"2016-03-04T06:40:00+02:00","type":"attack",
       "confidence":"probable","lang":"ar",
       "location":{"governorate":"Idlib","place":"Maarat al-Numan market","lat":35.643,"lon":36.674,"populated":true},
       "perpetrator":{"name":"القوات الجوية","party":"government"},
       "target":{"type":"market"},"weapons":["barrel_bomb"],
       "casualties":{"killed":9,"injured":21,"civilians_killed":9,"children_killed":2},
       "narrative":"سقوط برميلين متفجرين على السوق"}
      """#
    let result = try parsed(line)
    let report = result.report
    #expect(result.warnings.isEmpty)
    #expect(report.id == "SY-2016-03-0412")
    #expect(report.occurredAt.text == "2016-03-04T06:40:00+02:00")
    #expect(report.occurredAt == Timestamp("2016-03-04T04:40:00Z"))
    #expect(report.type == .attack)
    #expect(report.confidence == .probable)
    #expect(report.lang == "ar")
    #expect(report.location?.governorate == "Idlib")
    #expect(report.location?.place == "Maarat al-Numan market")
    #expect(report.location?.lat == 35.643)
    #expect(report.location?.lon == 36.674)
    #expect(report.location?.populated == true)
    #expect(report.location?.besieged == nil)
    #expect(report.perpetrator == Report.Actor(name: "القوات الجوية", party: "government"))
    #expect(report.target?.type == .market)
    #expect(report.weapons == [.barrelBomb])
    #expect(report.casualties?.killed == 9)
    #expect(report.casualties?.injured == 21)
    #expect(report.casualties?.civiliansKilled == 9)
    #expect(report.casualties?.childrenKilled == 2)
    #expect(report.casualties?.aidWorkersKilled == nil)
    #expect(report.narrative?.string == "سقوط برميلين متفجرين على السوق")
  }

  @Test func everyOptionalFieldIsRead() throws {
    let line = reportLine(
      #"""
      "reported_at":"2016-03-05","source":{"org":"SNHR","kind":"ngo"},
      "location":{"district":"Jisr al-Shughur","pcode":"SY0703","besieged":false},
      "target":{"type":"armed_group","name":"Jabhat al-Nusra","party":"nusra"},
      "chemical_agent":"chlorine",
      "casualties":{"civilians_injured":4,"aid_workers_killed":1},
      "access":{"request_id":"REQ-1","requested_by":"WFP","modality":"cross_border","crossing":"Bab al-Salam",
        "destination":"Azaz","status":"denied","submitted_at":"2016-03-01T08:00:00Z","decided_at":"2016-03-03T08:00:00Z",
        "items_removed":["medical","surgical"]},
      "detention":{"count":3,"kind":"hostage","ransom_demanded":true,"victims":["aid_worker","journalist"]},
      "trade":{"commodity":"antiquities","seller":{"party":"isil"},"buyer":{"name":"broker"},"origin_country":"SY",
        "removed_at":"2014-06-01","value_usd":25000.5},
      "displacement":{"count":500,"direction":"cross_border","voluntary":false},
      "extra":{"casualty_list":[{"name":"x"}],"n":1,"ok":null}
      """#)
    let report = try parsed(line).report
    #expect(report.reportedAt?.text == "2016-03-05")
    #expect(report.source?.org == "SNHR")
    #expect(report.source?.kind == .ngo)
    #expect(report.location?.district == "Jisr al-Shughur")
    #expect(report.location?.pcode == "SY0703")
    #expect(report.location?.besieged == false)
    #expect(report.target?.type == .armedGroup)
    #expect(report.target?.name == "Jabhat al-Nusra")
    #expect(report.target?.party == "nusra")
    #expect(report.chemicalAgent == "chlorine")
    #expect(report.casualties?.civiliansInjured == 4)
    #expect(report.casualties?.aidWorkersKilled == 1)
    let access = try #require(report.access)
    #expect(access.requestID == "REQ-1")
    #expect(access.requestedBy == "WFP")
    #expect(access.modality == .crossBorder)
    #expect(access.crossing == "Bab al-Salam")
    #expect(access.destination == "Azaz")
    #expect(access.status == .denied)
    #expect(access.submittedAt == Timestamp("2016-03-01T08:00:00Z"))
    #expect(access.decidedAt == Timestamp("2016-03-03T10:00:00+02:00"))
    #expect(access.itemsRemoved == ["medical", "surgical"])
    #expect(report.detention?.count == 3)
    #expect(report.detention?.kind == .hostage)
    #expect(report.detention?.ransomDemanded == true)
    #expect(report.detention?.victims == [.aidWorker, .journalist])
    let trade = try #require(report.trade)
    #expect(trade.commodity == .antiquities)
    #expect(trade.seller == Report.Actor(name: nil, party: "isil"))
    #expect(trade.buyer == Report.Actor(name: "broker", party: nil))
    #expect(trade.originCountry == "SY")
    #expect(trade.removedAt?.text == "2014-06-01")
    #expect(trade.valueUSD == 25000.5)
    #expect(report.displacement?.count == 500)
    #expect(report.displacement?.direction == .crossBorder)
    #expect(report.displacement?.voluntary == false)
    #expect(report.extra?["n"] == .number(1))
    #expect(report.extra?["ok"] == .null)
    #expect(
      report.extra?["casualty_list"]
        == .array([.object(JSONObject(members: [.init(key: "name", value: .string("x"))]))]))
  }

  @Test func nullCountsAsAbsent() throws {
    let report = try parsed(
      reportLine(#""reported_at":null,"location":null,"weapons":null,"perpetrator":{"name":"SAA","party":null}"#)
    ).report
    #expect(report.reportedAt == nil)
    #expect(report.location == nil)
    #expect(report.weapons == nil)
    #expect(report.perpetrator == Report.Actor(name: "SAA", party: nil))
  }

  @Test func emptyObjectsAndArraysArePresent() throws {
    let report = try parsed(reportLine(#""location":{},"weapons":[],"access":{"items_removed":[]}"#)).report
    #expect(report.location == Report.Location())
    #expect(report.weapons == [])
    #expect(report.access?.itemsRemoved == [])
  }

  @Test func unknownFieldsAreAcceptedWithAWarningNamingThem() throws {
    let result = try parsed(
      reportLine(
        #""perpetrater":{"name":"x"},"location":{"gov":"Idlib","lat":1,"lon":2},"trade":{"seller":{"name":"a","alias":"b"}}"#
      ))
    #expect(
      result.warnings == [
        #"unknown field "perpetrater""#, #"unknown field "location.gov""#,
        #"unknown field "trade.seller.alias""#,
      ])
    #expect(result.report.perpetrator == nil)
  }

  /// A null member is no member (docs/reports.md), so an unknown one set to null has
  /// nothing to warn about; an unknown one with a value still warns.
  @Test func anUnknownFieldSetToNullIsNoField() throws {
    let result = try parsed(reportLine(#""zz":null,"location":{"gov":null,"gov2":"x"}"#))
    #expect(result.warnings == [#"unknown field "location.gov2""#])
  }

  @Test func keysWithEscapesAreTheSameKeys() throws {
    let report = try parsed(#"{"\u0069d":"A","occurred_at":"2016-01-01","typ\u0065":"siege"}"#).report
    #expect(report.id == "A")
    #expect(report.type == .siege)
  }

  @Test func escapedTextIsDecoded() throws {
    let report = try parsed(reportLine(#""narrative":"line\none \"q\" \u0645\ud83d\ude00 \/""#)).report
    #expect(report.narrative?.string == "line\none \"q\" م😀 /")
  }

  @Test(arguments: [
    ("10", 10), ("10.0", 10), ("0", 0), ("1e3", 1000), ("10000000", 10_000_000), ("-0", 0),
    ("100e-2", 1), ("1.50e1", 15), ("120.0e-1", 12), ("0.0e-400", 0), ("1E+2", 100), ("-0.0", 0),
  ])
  func countsAcceptIntegerValuedNumbers(text: String, value: Int) throws {
    let report = try parsed(reportLine(#""casualties":{"killed":\#(text)}"#)).report
    #expect(report.casualties?.killed == value)
  }

  @Test func stringLimitsCountUnicodeScalarsNotBytes() throws {
    let arabic4096 = String(repeating: "ب", count: 4096)
    #expect(try parsed(reportLine(#""chemical_agent":"\#(arabic4096)""#)).report.chemicalAgent?.utf8Count == 8192)
    let narrative = String(repeating: "x", count: 65_536)
    #expect(try parsed(reportLine(#""narrative":"\#(narrative)""#)).report.narrative?.utf8Count == 65_536)
    let id128 = String(repeating: "a", count: 128)
    #expect(try parsed(#"{"id":"\#(id128)","occurred_at":"2016-01-01","type":"trade"}"#).report.id == id128)
  }

  @Test func coordinatesAtTheirBoundsAreAccepted() throws {
    let report = try parsed(reportLine(#""location":{"lat":-90,"lon":180}"#)).report
    #expect(report.location?.lat == -90)
    #expect(report.location?.lon == 180)
  }
}

@Suite("Reports: the same report however it is written")
struct ReportSpellingTests {
  static let plain = #"""
    {"id":"SY-7","occurred_at":"2016-03-04","type":"access","lang":"ar","location":{"place":"باب السلامة","lat":36.6,"lon":37.1},"access":{"requested_by":"WFP","crossing":"معبر باب السلامة","status":"denied","items_removed":["أدوية"]},"narrative":"رفض الطلب"}
    """#

  /// As Python's json.dumps writes it by default: every non-ASCII character escaped.
  static let escaped = #"""
    {"id":"SY-7","occurred_at":"2016-03-04","type":"access","lang":"ar","location":{"place":"\u0628\u0627\u0628 \u0627\u0644\u0633\u0644\u0627\u0645\u0629","lat":36.6,"lon":37.1},"access":{"requested_by":"WFP","crossing":"\u0645\u0639\u0628\u0631 \u0628\u0627\u0628 \u0627\u0644\u0633\u0644\u0627\u0645\u0629","status":"denied","items_removed":["\u0623\u062f\u0648\u064a\u0629"]},"narrative":"\u0631\u0641\u0636 \u0627\u0644\u0637\u0644\u0628"}
    """#

  /// Pretty-printed over one line, with other key order and white space everywhere JSON allows it.
  static let spaced = #"""
     { "type" : "access" , "occurred_at" : "2016-03-04" , "id" : "SY-7" , "narrative" : "رفض الطلب" , "access" : { "items_removed" : [ "أدوية" ] , "status" : "denied" , "crossing" : "معبر باب السلامة" , "requested_by" : "WFP" } , "location" : { "lon" : 37.1 , "lat" : 36.6 , "place" : "باب السلامة" } , "lang" : "ar" } 
    """#

  @Test(arguments: [escaped, spaced])
  func parsesToTheSameReport(line: String) throws {
    let expected = try parsed(Self.plain).report
    let report = try parsed(line).report
    #expect(report == expected)
    #expect(report.access?.crossing?.string == "معبر باب السلامة")
    #expect(report.access?.itemsRemoved == ["أدوية"])
  }
}
