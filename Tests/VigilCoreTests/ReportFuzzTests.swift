import Foundation
import Testing
import VigilTestSupport

@testable import VigilCore

/// Thousands of random mutations of valid reports: the parser must never crash, must
/// always answer with a report or a precise error, must agree with Foundation's parser
/// about what is JSON at all, and its one-pass fast path must never answer differently
/// from the complete parser.
@Suite("Reports: fuzzing the parser and validator")
struct ReportFuzzTests {
  static let seeds: [String] = [
    reportLine(
      #""reported_at":"2016-03-05T10:00:00.25-00:00","confidence":"confirmed","lang":"ar","source":{"org":"SNHR","kind":"ngo"},"location":{"governorate":"Idlib","place":"معرة النعمان","lat":35.643,"lon":36.674,"populated":true,"besieged":false},"perpetrator":{"name":"القوات الجوية","party":"government"},"target":{"type":"market"},"weapons":["barrel_bomb","shelling"],"casualties":{"killed":9,"injured":21,"civilians_killed":9,"children_killed":2},"narrative":"سقوط برميلين متفجرين على السوق \u0645\ud83d\ude00""#
    ),
    reportLine(
      #""access":{"request_id":"REQ-00042","requested_by":"WFP","modality":"cross_border","crossing":"باب السلامة","status":"denied","submitted_at":"2016-03-01","items_removed":["medical","surgical"]},"extra":{"a":[1,{"b":null}],"c":"d"}"#
    ),
    reportLine(
      #""trade":{"commodity":"antiquities","seller":{"name":"داعش","party":"isil"},"buyer":{"name":"broker"},"origin_country":"SY","removed_at":"2014-06-01","value_usd":25000.5},"detention":{"count":3,"kind":"hostage","ransom_demanded":true,"victims":["child"]},"displacement":{"count":1e3,"direction":"return","voluntary":true}"#
    ),
  ]

  @Test(arguments: [1, 2, 3, 4])
  func mutatedReportsNeverCrashAndAlwaysExplainThemselves(seed: UInt64) throws {
    var random = SplitMix64(seed: seed)
    var outcomes: [ReportError.Code?: Int] = [:]
    var fastPathAnswers = 0
    for _ in 0..<5000 {
      var line = Array(Self.seeds[Int(random.next() % UInt64(Self.seeds.count))].utf8)
      for _ in 0..<(1 + random.next() % 3) {
        mutate(&line, &random)
      }
      let result = ReportParser.parse(line)
      try check(result, line: line)
      if try fastPathAgrees(line) { fastPathAnswers += 1 }
      switch result {
      case .success: outcomes[nil, default: 0] += 1
      case .failure(let error): outcomes[error.code, default: 0] += 1
      }
    }
    // The mutations must exercise all three outcomes, or this test proves little.
    #expect(outcomes[nil, default: 0] > 100)
    #expect(outcomes[.invalidJSON, default: 0] > 100)
    #expect(outcomes[.invalidReport, default: 0] > 100)
    #expect(fastPathAnswers > 50)
  }

  @Test(arguments: seeds)
  func theFastPathTakesOrdinaryReports(line: String) throws {
    let bytes = Array(line.utf8)
    let answered = try fastPathAgrees(bytes)
    // Only a report with `extra` is left to the complete parser.
    #expect(answered == !line.contains(#""extra""#))
  }

  /// Whether the fast path answered the line; when it did, the complete parser must give
  /// the same report and no warning.
  private func fastPathAgrees(_ line: [UInt8]) throws -> Bool {
    let copy = line.withUnsafeBufferPointer { ReportLine.copying($0) }
    var fastPath = ReportFastPath(line: copy)
    guard let report = fastPath.report() else { return false }
    let complete = ReportParser.parseCompletely(copy)
    #expect(complete == .success(ParsedReport(report: report, warnings: [])), "\(show(line))")
    return true
  }

  private func check(_ result: Result<ParsedReport, ReportError>, line: [UInt8]) throws {
    let foundation = try? JSONSerialization.jsonObject(with: Data(line), options: [.fragmentsAllowed])
    switch result {
    case .success(let parsed):
      let object = try #require(foundation as? [String: Any], "accepted a line Foundation cannot parse: \(show(line))")
      #expect(object["id"] as? String == parsed.report.id)
      #expect(parsed.report.id.utf8.count <= 128)
    case .failure(let error):
      #expect(!error.message.isEmpty)
      switch error.code {
      case .invalidJSON:
        #expect(error.message.hasPrefix("not valid JSON: "))
        #expect(error.field == nil)
      case .notAnObject:
        #expect(foundation != nil && !(foundation is [String: Any]), "\(show(line))")
      case .invalidReport:
        let field = try #require(error.field, "no field in \(error)")
        #expect(error.message.hasPrefix(field + ": "))
        #expect(foundation is [String: Any], "a schema error for a line Foundation cannot parse: \(show(line))")
      }
      if foundation == nil {
        #expect(error.code == .invalidJSON, "Foundation refuses it, we said \(error): \(show(line))")
      }
    }
  }

  private func mutate(_ line: inout [UInt8], _ random: inout SplitMix64) {
    guard !line.isEmpty else { return }
    let position = Int(random.next() % UInt64(line.count))
    switch random.next() % 10 {
    case 0:  // flip a byte
      line[position] = UInt8(truncatingIfNeeded: random.next())
    case 1:  // insert a byte
      line.insert(UInt8(truncatingIfNeeded: random.next()), at: position)
    case 2:  // delete a range
      line.removeSubrange(position..<min(line.count, position + 1 + Int(random.next() % 8)))
    case 3:  // truncate
      line.removeSubrange(position...)
    case 4:  // duplicate a slice
      let end = min(line.count, position + 1 + Int(random.next() % 24))
      line.insert(contentsOf: line[position..<end], at: Int(random.next() % UInt64(line.count)))
    case 5:  // deep nesting in extra
      let depth = 58 + Int(random.next() % 12)
      let nest = String(repeating: "[", count: depth) + "0" + String(repeating: "]", count: depth)
      line.insert(contentsOf: Array(#""extra":{"n":\#(nest)},"#.utf8), at: 1)
    case 6:  // a number that is huge, tiny, negative or fractional
      let numbers = ["1e999", "-1e999", "1e-999", "123456789012345678901234567890", "-0", "2.5", "-7", "1E2", "0.1e-1"]
      replaceValue(in: &line, at: position, with: numbers[Int(random.next() % UInt64(numbers.count))])
    case 7:  // invalid or unusual UTF-8
      let sequences: [[UInt8]] = [
        [0xC0, 0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xFF], [0x80], [0xE2, 0x82], [0xD9, 0x80],
        [0xEF, 0xBB, 0xBF],
      ]
      line.insert(contentsOf: sequences[Int(random.next() % UInt64(sequences.count))], at: position)
    case 8:  // a value of another type
      let values = ["123", "true", "null", "{}", "[]", #""""#, #""  ""#, #"["x"]"#, #"{"name":1}"#, #""\u0000""#]
      replaceValue(in: &line, at: position, with: values[Int(random.next() % UInt64(values.count))])
    default:  // an escape sequence, well-formed or not
      let escapes = [#"\n"#, #"\u0041"#, #"\ud800"#, #"\udc00"#, #"\ud83d\ude00"#, #"\x"#, #"\"#, #"\u00"#]
      line.insert(contentsOf: Array(escapes[Int(random.next() % UInt64(escapes.count))].utf8), at: position)
    }
  }

  /// Replaces the value that follows the first ':' at or after `position`.
  private func replaceValue(in line: inout [UInt8], at position: Int, with value: String) {
    guard let colon = line[position...].firstIndex(of: UInt8(ascii: ":")) else { return }
    let start = colon + 1
    var end = start
    var inString = false
    while end < line.count {
      let byte = line[end]
      if inString {
        if byte == UInt8(ascii: "\\") { end += 1 } else if byte == UInt8(ascii: "\"") { inString = false }
      } else if byte == UInt8(ascii: "\"") {
        inString = true
      } else if byte == UInt8(ascii: ",") || byte == UInt8(ascii: "}") || byte == UInt8(ascii: "]") {
        break
      }
      end += 1
    }
    line.replaceSubrange(start..<min(end, line.count), with: Array(value.utf8))
  }

  private func show(_ line: [UInt8]) -> String {
    String(decoding: line.prefix(300), as: UTF8.self)
  }
}
