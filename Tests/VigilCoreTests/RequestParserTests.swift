import Foundation
import Testing
import VigilTestSupport

@testable import VigilCore

@Suite("Socket protocol: requests and responses (docs/protocol.md)")
struct RequestParserTests {
  func request(_ line: String) -> Result<Request, RequestError> {
    RequestParser.parse(Array(line.utf8))
  }

  func failure(_ line: String) -> RequestError? {
    if case .failure(let error) = request(line) { return error }
    return nil
  }

  @Test func aBareReportIsASubmit() throws {
    let line = reportLine(#""weapons":["mortar"]"#)
    guard case .submit(let parsed, let json) = try request(line).get() else {
      Issue.record("not a submit")
      return
    }
    #expect(parsed.report.id == "SY-1")
    #expect(json.string == line)
  }

  @Test func aBareReportWithAnUnknownFieldStillGetsItsWarning() throws {
    guard case .submit(let parsed, _) = try request(reportLine(#""perpetrater":{"name":"x"}"#)).get() else {
      Issue.record("not a submit")
      return
    }
    #expect(parsed.warnings == [#"unknown field "perpetrater""#])
  }

  /// `"op":null` is no op (a null member is the member absent): the line is a report, and
  /// says nothing of the member.
  @Test func aNullOpIsAReport() throws {
    let line = #"{"op":null,"id":"OPN-1","occurred_at":"2016-03-04T06:40:00Z","type":"siege"}"#
    guard case .submit(let parsed, let json) = try request(line).get() else {
      Issue.record("not a submit")
      return
    }
    #expect(parsed.report.id == "OPN-1" && parsed.warnings.isEmpty && json.string == line)
  }

  @Test func submitAndCheckCarryTheirReport() throws {
    let report = reportLine()
    guard case .submit(let parsed, let json) = try request(#" {"report": \#(report) , "op":"submit"} "#).get() else {
      Issue.record("not a submit")
      return
    }
    #expect(parsed.report.id == "SY-1")
    #expect(json.string == report)
    guard case .check(let checked) = try request(#"{"op":"check","report":\#(report)}"#).get() else {
      Issue.record("not a check")
      return
    }
    #expect(checked.report.type == .attack)
  }

  /// A resubmitted report is compared with the journal's copy of the first (ReportContent):
  /// whichever parser took the line, and however the report is written (members' order,
  /// spacing, escapes, number spelling), it is the same report as the journalled line.
  @Test(arguments: [
    // The fast path: known fields, members in any order, nested objects out of order.
    #"{"id":"D-1","occurred_at":"2016-03-04T06:40:00+02:00","type":"attack","weapons":["barrel_bomb","mortar"],"location":{"place":"Darayya","lat":33.45,"lon":36.23,"governorate":"Rif Dimashq"}}"#,
    #"{ "type" : "attack" , "location" : { "lon" : 36.23 , "governorate" : "Rif Dimashq", "lat" : 33.450, "place" : "Darayya" }, "weapons" : [ "barrel_bomb" , "mortar" ] , "occurred_at":"2016-03-04T06:40:00+02:00", "id":"D-1"}"#,
    #"{"id":"D-2","occurred_at":"2016-03-04T06:40:00Z","type":"attack","casualties":{"killed":3,"injured":1.0e1},"target":{"type":"hospital","name":"M10"},"perpetrator":null,"narrative":"ضربة جوية"}"#,
    #"{"narrative":"\u0636\u0631\u0628\u0629 \u062c\u0648\u064a\u0629","target":{"name":"M10","type":"hospital"},"casualties":{"injured":10,"killed":3},"perpetrator":null,"type":"attack","occurred_at":"2016-03-04T06:40:00Z","id":"D-2"}"#,
    #"{"id":"D-3","occurred_at":"2016-03-04T06:40:00Z","type":"access","access":{"status":"denied","items_removed":[],"destination":"Madaya"},"location":{"besieged":true,"populated":false,"lat":-0.0,"lon":0}}"#,
    // The complete parser: `extra`, an unknown field, a submit with an op.
    #"{"id":"D-4","occurred_at":"2016-03-04T06:40:00Z","type":"attack","extra":{"z":[1,{"b":null,"a":true}],"a":"x"}}"#,
    #"{"extra":{"a":"x","z":[1.0,{"a":true,"b":null}]},"type":"attack","occurred_at":"2016-03-04T06:40:00Z","id":"D-4"}"#,
    #"{"id":"D-5","occurred_at":"2016-03-04T06:40:00Z","type":"attack","perpetrater":{"name":"x"}}"#,
  ])
  func theParsedReportIsTheSameAsItsJournalledCopy(line: String) throws {
    let journalLine = Array(#"{"received_at":"2016-03-04T06:41:00.000Z","report":\#(line)}"#.utf8)
    for wrapped in [line, #"{"op":"submit","report":\#(line)}"#] {
      guard case .submit(_, let json) = try request(wrapped).get() else {
        Issue.record("not a submit: \(wrapped)")
        continue
      }
      #expect(json.string == line, "\(wrapped)")
      #expect(journalLine.withUnsafeBufferPointer { ReportContent.same(json, asJournalLine: $0) } == true, "\(wrapped)")
    }
  }

  @Test func reportsThatDifferInOneValueAreNotTheSame() throws {
    func same(_ one: String, _ other: String) -> Bool {
      ReportContent.same(ReportText(one), ReportText(other))
    }
    let base = #"{"id":"D-1","occurred_at":"2016-03-04T06:40:00Z","type":"attack","location":{"place":"Darayya","lat":33.45,"lon":36.23}}"#
    let reordered = #"{"location":{"lon":36.23,"lat":33.45,"place":"Darayya"},"type":"attack","occurred_at":"2016-03-04T06:40:00Z","id":"D-1"}"#
    #expect(same(base, reordered))
    for other in [
      base.replacingOccurrences(of: "36.23", with: "36.24"), base.replacingOccurrences(of: "Darayya", with: "Daraya"),
      base.replacingOccurrences(of: #""place":"Darayya","#, with: ""),
      base.replacingOccurrences(of: #""place":"Darayya""#, with: #""place":"Darayya","populated":true"#),
    ] {
      #expect(!same(other, base), "\(other)")
      let journalLine = Array(#"{"received_at":"2016-03-04T06:41:00.000Z","report":\#(base)}"#.utf8)
      #expect(journalLine.withUnsafeBufferPointer { ReportContent.same(ReportText(other), asJournalLine: $0) } == false)
    }
  }

  /// Numbers compare by their exact value as written (PROTOCOL.md: "numbers compare by
  /// value"), not by the Double they round to: a 64-bit id kept in `extra` differs from its
  /// neighbour, and `1e-400` is not 0; every spelling of one value is that value.
  @Test func numbersCompareByTheirExactValue() {
    func same(_ one: String, _ other: String) -> Bool {
      let report = { (number: String) in
        ReportText(#"{"id":"N-1","occurred_at":"2016-03-04T06:40:00Z","type":"siege","extra":{"n":\#(number)}}"#)
      }
      return ReportContent.same(report(one), report(other))
    }
    for (one, other) in [
      ("9007199254740993", "9007199254740992"), ("0.1", "0.10000000000000000555"), ("0", "1e-400"),
      ("1", "1.0000000000000000000001"), ("-1", "1"), ("12e3", "12e4"), ("100", "1000"),
      // Exponents of any length, exactly (they were cut at a limit, and two became one).
      // (A positive one that long is past any Double, and refused.)
      ("1e-9223372036854775809", "1e-99999999999999999999999999"), ("1e-999999999999999999", "1e-999999999999999998"),
      ("1e-99999999999999999999", "2e-99999999999999999999"),
    ] {
      #expect(!same(one, other), "\(one) and \(other)")
    }
    for (one, other) in [
      ("10", "1e1"), ("10", "10.000"), ("10", "1.0E+1"), ("100e-2", "1"), ("0", "-0.0e7"), ("0.5", "5e-1"),
      ("-0.025", "-2.50E-2"), ("9007199254740993", "90071992547409930e-1"), ("0.001", "1e-3"),
      ("1e-99999999999999999999999", "10e-100000000000000000000000"), ("10e-1000000000000000001", "1e-1000000000000000000"),
      ("0.1e-999999999999999999", "1e-1000000000000000000"), ("1e+0000000000000000000000012", "1e12"),
      ("-5e-00000000000000000000", "-0.5e1"),
    ] {
      #expect(same(one, other), "\(one) and \(other)")
    }
  }

  @Test func aLineThatIsNotAJournalLineComparesAsNothing() {
    for line in [#"not json"#, #"{"received_at":"x"}"#, #"[1,2]"#] {
      let bytes = Array(line.utf8)
      #expect(bytes.withUnsafeBufferPointer { ReportContent.same(ReportText(#"{"id":"A"}"#), asJournalLine: $0) } == nil)
    }
  }

  @Test(arguments: ["ping", "status", "rules", "reload", "reopen"])
  func simpleOps(op: String) throws {
    let parsed = try request(#"{"op":"\#(op)"}"#).get()
    let name =
      switch parsed {
      case .ping: "ping"
      case .status: "status"
      case .rules: "rules"
      case .reload: "reload"
      case .reopen: "reopen"
      default: "other"
      }
    #expect(name == op)
  }

  @Test func subscribeFilters() throws {
    guard
      case .subscribe(let filter) = try request(
        #"{"op":"subscribe","min_priority":"high","rules":["weapons.*"],"tags":["ceasefire"]}"#
      ).get()
    else {
      Issue.record("not a subscribe")
      return
    }
    #expect(filter == SubscriptionFilter(minimumPriority: .high, rules: ["weapons.*"], tags: ["ceasefire"]))
    guard case .subscribe(let none) = try request(#"{"op":"subscribe"}"#).get() else {
      Issue.record("not a subscribe")
      return
    }
    #expect(none == SubscriptionFilter())
  }

  static let errors: [(String, RequestError.Code, String)] = [
    ("{\"id\":", .invalidJSON, "not valid JSON: unexpected end of the line at byte 6"),
    // Offsets count from the line as sent, white space before the value included.
    (" \t {\"id\":x}", .invalidJSON, "not valid JSON: unexpected 'x', expected a JSON value at byte 9"),
    ("[1]", .notAnObject, "a request must be a JSON object, got an array"),
    // What a word processor or a chat puts for a quote or a space is named, with what JSON wants.
    (
      "{\u{201C}op\u{201D}:1}", .invalidJSON,
      "not valid JSON: unexpected character '\u{201C}' (U+201C LEFT DOUBLE QUOTATION MARK), expected a key in double "
        + "quotes: JSON's quotes are the straight \" (0x22) at byte 1"
    ),
    (
      "{\"op\":\"ping\",\u{00A0}\"x\":1}", .invalidJSON,
      "not valid JSON: unexpected character U+00A0 NO-BREAK SPACE, expected a key in double quotes: JSON's white "
        + "space is space, tab, CR and LF only at byte 13"
    ),
    (#"{"op":3}"#, .invalidRequest, #"op must be a string, such as "submit""#),
    (#"{"op":"submit"}"#, .invalidRequest, #"submit needs a report: an object under "report""#),
    (#"{"op":"check","report":"x"}"#, .invalidRequest, #"check needs a report: an object under "report""#),
    (
      #"{"op":"frobnicate"}"#, .unknownOp,
      #"unknown op "frobnicate"; the ops are submit, check, ping, status, rules, reload, subscribe, reopen, parked, resend"#
    ),
    (
      #"{"op":"subscribe","min_priority":"urgent"}"#, .invalidRequest,
      "min_priority must be one of critical, high, medium, low, info"
    ),
    (#"{"op":"subscribe","rules":"weapons.*"}"#, .invalidRequest, "rules must be a list of strings"),
    (#"{"op":"subscribe","tags":[1]}"#, .invalidRequest, "tags must be a list of strings"),
    (
      #"{"op":"subscribe","rules":[]}"#, .invalidRequest,
      "rules is an empty list, which selects no record; leave it out to select every one"
    ),
    (
      #"{"op":"subscribe","rules":["weapons.*"],"tags":[]}"#, .invalidRequest,
      "tags is an empty list, which selects no record; leave it out to select every one"
    ),
    (#"{"op":"subscribe","rules":["[x"]}"#, .invalidRequest, "rules: invalid glob '[x': a '[' is never closed"),
    (#"{"op":"subscribe","rules":["weapons.*",""]}"#, .invalidRequest, #"rules: "" is no rule id or glob: it is empty or holds a space"#),
    (#"{"op":"subscribe","tags":["two words"]}"#, .invalidRequest, #"tags: "two words" is no tag: it is empty or holds a space"#),
    // A member another request uses is no filter of a subscribe's.
    (
      #"{"op":"subscribe","report":{}}"#, .invalidRequest,
      #"unknown subscribe filter "report"; the filters are min_priority, rules, tags"#
    ),
    (#"{"op":"subscribe","seqs":[1]}"#, .invalidRequest, #"unknown subscribe filter "seqs"; the filters are min_priority, rules, tags"#),
    (
      #"{"op":"submit","report":{"id":"A","occurred_at":"2016-01-01","type":"attak"}}"#, .invalidReport,
      "type: expected one of (attack, access, detention, trade, displacement, siege), got \"attak\""
    ),
    (
      #"{"id":"A b","occurred_at":"2016-01-01","type":"attack"}"#, .invalidReport,
      "id: expected 1 to 128 characters of A-Z a-z 0-9 . _ : / -, got \"A b\""
    ),
  ]

  /// `seqs` are whole numbers however written (numbers compare by value), a long one read
  /// from its digits; a null `sink` or `seqs` is the member left out.
  @Test func resendSeqsAreWholeNumbersHoweverWritten() throws {
    let line = #"{"op":"resend","sink":"webhook","seqs":[12, 12.0, 1.2e1, 18446744073709551615]}"#
    guard case .resend(let sink, let seqs) = try request(line).get() else {
      Issue.record("not a resend")
      return
    }
    #expect(sink == "webhook" && seqs == [12, 12, 12, 18_446_744_073_709_551_615])
    guard case .resend(_, nil) = try request(#"{"op":"resend","sink":"webhook","seqs":null}"#).get() else {
      Issue.record("a null seqs is not the member left out")
      return
    }
    guard case .parked(nil) = try request(#"{"op":"parked","sink":null}"#).get() else {
      Issue.record("a null sink is not the member left out")
      return
    }
    for wrong in ["1.5", "0", "-1", "\"3\"", "1e300"] {
      let error = try #require(failure(#"{"op":"resend","sink":"webhook","seqs":[\#(wrong)]}"#), "\(wrong)")
      #expect(error.code == .invalidRequest && error.message.hasPrefix("seqs must be"), "\(wrong): \(error.message)")
    }
    // An empty list asks for nothing, which `ok` would pass off as done.
    let empty = try #require(failure(#"{"op":"resend","sink":"webhook","seqs":[]}"#))
    #expect(empty.code == .invalidRequest && empty.message.hasPrefix("seqs is empty"), "\(empty.message)")
  }

  @Test(arguments: errors)
  func refusals(line: String, code: RequestError.Code, message: String) throws {
    let error = try #require(failure(line))
    #expect(error.code == code)
    #expect(error.message == message)
  }

  /// REPORTS.md bounds the line at 64 levels ("the line must be one valid JSON text …
  /// nesting deeper than 64 levels are invalid_json"): a report 64 deep is good bare, and
  /// one level less inside `submit` or `check`, whose object is the line's first level.
  @Test func aLineNestsAtMost64LevelsWhateverItCarries() throws {
    func report(depth: Int) -> String {
      // The report object is level 1, `extra` level 2, then arrays.
      #"{"id":"D","occurred_at":"2016-01-01","type":"attack","extra":{"a":"# + String(repeating: "[", count: depth - 2)
        + String(repeating: "]", count: depth - 2) + "}}"
    }
    for line in [report(depth: 64), #"{"op":"submit","report":\#(report(depth: 63))}"#] {
      guard case .success(.submit) = RequestParser.parse(Array(line.utf8)) else {
        Issue.record("a line 64 deep was refused: \(line.prefix(30))")
        continue
      }
    }
    guard case .success(.check) = RequestParser.parse(Array(#"{"op":"check","report":\#(report(depth: 63))}"#.utf8)) else {
      Issue.record("a check 64 deep was refused")
      return
    }
    for line in [
      report(depth: 65), #"{"op":"check","report":\#(report(depth: 64))}"#, #"{"op":"submit","report":\#(report(depth: 64))}"#,
      #"{"\u006fp":"check","report":\#(report(depth: 64))}"#,
      #"{"op":"ping","x":[\#(String(repeating: "[", count: 63))\#(String(repeating: "]", count: 63))]}"#,
    ] {
      guard case .failure(let error) = RequestParser.parse(Array(line.utf8)) else {
        Issue.record("a line 65 deep was accepted: \(line.prefix(30))")
        continue
      }
      #expect(error.code == .invalidJSON && error.message.contains("nesting deeper than 64 levels"), "\(error.message)")
      // At the line's 65th opening bracket, counted in the line as sent.
      var depth = 0
      var offset = -1
      for (index, byte) in line.utf8.enumerated() where byte == UInt8(ascii: "{") || byte == UInt8(ascii: "[") {
        depth += 1
        if depth == 65 {
          offset = index
          break
        }
      }
      #expect(error.message.hasSuffix("at byte \(offset)"), "\(line.prefix(30)): \(error.message)")
    }
  }

  @Test func responsesAreTheDocumentedShapes() throws {
    #expect(Response.pong == "{\"ok\":true,\"op\":\"pong\"}\n")
    let error = Response.error(try #require(failure(#"{"id":"A","occurred_at":"2016-01-01","type":"attak"}"#)))
    let object = try #require(JSONSerialization.jsonObject(with: Data(error.utf8)) as? [String: Any])
    #expect(object["ok"] as? Bool == false)
    let body = try #require(object["error"] as? [String: Any])
    #expect(body["code"] as? String == "invalid_report")
    #expect(body["field"] as? String == "type")
    #expect((body["allowed"] as? [String])?.first == "attack")
    let submitted = Response.verdict(
      reportID: "SY-1", duplicate: false, ruleset: "sha256:ab",
      alerts: [.init(seq: 1041, rule: "weapons.barrel_bomb", priority: .critical, message: "m \"q\"")], warnings: ["w"])
    #expect(
      submitted
        == #"{"ok":true,"report_id":"SY-1","duplicate":false,"ruleset":"sha256:ab","alerts":[{"seq":1041,"rule":"weapons.barrel_bomb","priority":"critical","message":"m \"q\""}],"warnings":["w"]}"#
        + "\n")
    let checked = Response.verdict(
      reportID: "SY-1", duplicate: nil, ruleset: "sha256:ab",
      alerts: [.init(seq: nil, rule: "r", priority: .low, message: "m")], warnings: [])
    #expect(
      checked
        == #"{"ok":true,"report_id":"SY-1","ruleset":"sha256:ab","alerts":[{"rule":"r","priority":"low","message":"m"}],"warnings":[]}"#
        + "\n")
  }

  @Test func theSameValueIsTheSameHoweverWritten() throws {
    func same(_ one: String, _ other: String) -> Bool {
      ReportContent.same(ReportText(one), ReportText(other))
    }
    let base = #"{"id":"A","n":1,"s":"é","a":[1,2]}"#
    #expect(same(#" { "a" : [ 1.0 , 2e0 ] , "s" : "\u00e9" , "n" : 1 , "id" : "A" } "#, base))
    #expect(!same(#"{"id":"A","n":2,"s":"é","a":[1,2]}"#, base))
    #expect(!same(#"{"id":"A","n":1,"s":"é","a":[2,1]}"#, base))
    // A null member is the member absent (REPORTS.md), at any depth; a null in an array
    // is a value, and an empty object is not nothing.
    #expect(same(#"{"id":"A","n":1,"s":"é","a":[1,2],"x":null}"#, base))
    #expect(same(#"{"id":"A","o":{"p":null,"q":1},"n":null}"#, #"{"o":{"q":1},"id":"A"}"#))
    #expect(!same(#"{"id":"A","a":[1,null]}"#, #"{"id":"A","a":[1]}"#))
    #expect(!same(#"{"id":"A","extra":{}}"#, #"{"id":"A"}"#))
    #expect(same(#"{"x":-0}"#, #"{"x":0}"#))
    #expect(!same("not json", "not json"))
    #expect(ReportDigest.id("A") == ReportDigest.id("A") && ReportDigest.id("A") != ReportDigest.id("B"))
  }
}
