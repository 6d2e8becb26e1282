import Foundation
import Testing
import VigilTestSupport

@testable import VigilCore

/// `ReportSchema` is the one description of the report schema; the other places that
/// spell it out — the parser's member tables, the parser itself, the hand-tuned fast path
/// and the table of docs/reports.md — must agree with it, field by field.
@Suite("One report schema: the parser, the fast path and the docs agree with ReportSchema")
struct ReportSchemaAgreementTests {
  /// The fields a report gives values of: not the objects that group them, but `extra`,
  /// an object whose content is the report's own.
  static let leaves = ReportSchema.paths.filter { ReportSchema.field($0)!.type != .object || $0 == "extra" }

  /// A valid JSON value for a field of `type`, and how an output shows it.
  static func sample(_ path: String, _ type: FieldType) -> (json: String, shown: String) {
    switch type {
    case .text: (#""SY""#, "SY")  // valid as an id, a country code and free text alike
    case .word(let allowed): ("\"\(allowed.last!)\"", allowed.last!)
    case .number: ("12", "12")
    case .bool: ("true", "true")
    case .timestamp: (#""2016-02-27T10:00:00+02:00""#, "2016-02-27T10:00:00+02:00")
    case .texts: (#"["SY","IQ"]"#, "SY, IQ")
    case .words(let allowed): ("[\"\(allowed.first!)\",\"\(allowed.last!)\"]", "\(allowed.first!), \(allowed.last!)")
    case .dynamic: (#"{"k":"v"}"#, "{k: v}")
    case .object: ("{}", "present")
    }
  }

  /// A minimal report with `value` at `path` (its objects made on the way).
  static func line(_ path: String, _ value: String) -> String {
    var members: [String: String] = [
      "id": #""SY-1""#, "occurred_at": #""2016-03-04T06:40:00+02:00""#, "type": #""attack""#,
    ]
    let keys = path.split(separator: ".").map(String.init)
    var nested = value
    for key in keys.dropFirst().reversed() { nested = "{\"\(key)\":\(nested)}" }
    members[keys[0]] = nested
    // Latitude and longitude come together.
    if path == "location.lat" { members["location"] = "{\"lat\":\(value),\"lon\":12}" }
    if path == "location.lon" { members["location"] = "{\"lat\":12,\"lon\":\(value)}" }
    return "{" + members.sorted { $0.key < $1.key }.map { "\"\($0.key)\":\($0.value)" }.joined(separator: ",") + "}"
  }

  @Test(arguments: leaves)
  func theParserReadsEveryFieldIntoTheReportAsTheSchemaSays(path: String) throws {
    let field = try #require(ReportSchema.field(path))
    // `extra` is an object, of the report's own members.
    let (json, shown) = Self.sample(path, path == "extra" ? .dynamic : field.type)
    let line = Self.line(path, json)
    let parsed = try parsed(line)
    #expect(parsed.warnings == [], "the parser does not know \(path)")
    let value = try #require(field.read(parsed.report), "\(path) reads as absent from \(line)")
    #expect(OutputTemplate.show(value) == shown)
    // The fast path, when it answers, gives the same report.
    var fastPath = ReportFastPath(line: line.utf8.withContiguousStorageIfAvailable { ReportLine.copying($0) }!)
    if let fast = fastPath.report() { #expect(fast == parsed.report, "\(path)") }
  }

  /// A report with every field at once (but `extra`, which the fast path leaves to the
  /// complete parser): the fast path must take it, and agree.
  @Test func theFastPathTakesAReportWithEveryFieldAndAgrees() throws {
    var report: [String: Any] = [:]
    func set(_ keys: ArraySlice<String>, _ value: Any, in object: inout [String: Any]) {
      guard keys.count > 1 else {
        object[keys.first!] = value
        return
      }
      var child = object[keys.first!] as? [String: Any] ?? [:]
      set(keys.dropFirst(), value, in: &child)
      object[keys.first!] = child
    }
    for path in Self.leaves where path != "extra" {
      let json = Self.sample(path, ReportSchema.field(path)!.type).json
      let value = try JSONSerialization.jsonObject(with: Data(json.utf8), options: .fragmentsAllowed)
      set(ArraySlice(path.split(separator: ".").map(String.init)), value, in: &report)
    }
    let line = String(decoding: try JSONSerialization.data(withJSONObject: report), as: UTF8.self)
    let complete = try parsed(line)
    #expect(complete.warnings == [])
    for path in Self.leaves where path != "extra" {
      #expect(ReportSchema.field(path)!.read(complete.report) != nil, "\(path)")
    }
    var fastPath = ReportFastPath(line: line.utf8.withContiguousStorageIfAvailable { ReportLine.copying($0) }!)
    let answer = fastPath.report()
    let fast = try #require(answer, "the fast path declined a report with every field")
    #expect(fast == complete.report)
  }

  @Test(arguments: leaves.filter { $0 != "extra" })
  func aValueOfTheWrongTypeIsRefusedAtItsPath(path: String) throws {
    let refusal = try #require(refusalOf(Self.line(path, #"{"zz":1}"#)))
    #expect(refusal.code == .invalidReport && refusal.field == path, "\(refusal)")
  }

  @Test(arguments: leaves)
  func enumsAcceptExactlyTheirWords(path: String) throws {
    let type = try #require(ReportSchema.field(path)).type
    let allowed: [String]
    switch type {
    case .word(let words): allowed = words
    case .words(let words): allowed = words
    default: return
    }
    for word in allowed {
      let value = type == .word(allowed: allowed) ? "\"\(word)\"" : "[\"\(word)\"]"
      #expect(refusalOf(Self.line(path, value)) == nil, "\(path): \(word)")
    }
    let wrong = type == .word(allowed: allowed) ? #""zz_none""# : #"["zz_none"]"#
    let refusal = try #require(refusalOf(Self.line(path, wrong)))
    #expect(refusal.allowedValues == allowed, "\(path)")
  }

  @Test func exactlyTheRequiredFieldsAreRequired() throws {
    for path in Self.leaves {
      let full = Self.line(path, Self.sample(path, ReportSchema.field(path)!.type).json)
      var object = try #require(try JSONSerialization.jsonObject(with: Data(full.utf8)) as? [String: Any])
      let top = String(path.split(separator: ".")[0])
      guard ReportSchema.requiredPaths.contains(path) else { continue }
      object.removeValue(forKey: top)
      let line = String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
      #expect(refusalOf(line)?.field == path, "\(path)")
    }
    // Every optional member may be left out: the minimal report is accepted.
    #expect(refusalOf(#"{"id":"SY-1","occurred_at":"2016-03-04","type":"attack"}"#) == nil)
  }

  /// The parser's tables of member names, object by object.
  @Test func theParsersMemberTablesNameTheSchemasFields() {
    func children(_ parent: String) -> Set<String> {
      let prefix = parent.isEmpty ? "" : parent + "."
      return Set(
        ReportSchema.paths.filter { $0.hasPrefix(prefix) }.map { $0.dropFirst(prefix.count) }
          .filter { !$0.contains(".") }.map(String.init))
    }
    func names<Field: RawRepresentable<String> & CaseIterable>(_: Field.Type) -> Set<String> {
      Set(Field.allCases.map(\.rawValue))
    }
    #expect(names(ReportField.self) == children(""))
    #expect(names(SourceField.self) == children("source"))
    #expect(names(LocationField.self) == children("location"))
    #expect(names(ActorField.self) == children("perpetrator"))
    #expect(names(ActorField.self) == children("trade.seller"))
    #expect(names(ActorField.self) == children("trade.buyer"))
    #expect(names(TargetField.self) == children("target"))
    #expect(names(CasualtiesField.self) == children("casualties"))
    #expect(names(AccessField.self) == children("access"))
    #expect(names(DetentionField.self) == children("detention"))
    #expect(names(TradeField.self) == children("trade"))
    #expect(names(DisplacementField.self) == children("displacement"))
  }

  /// One row of the docs' field table.
  struct DocumentedField: Equatable, CustomStringConvertible {
    let path: String
    let type: FieldType
    let required: Bool
    /// The type as the docs word it (`count`, `number`, `id`, `country code`…).
    var word = ""
    var description: String { "\(path): \(type)\(required ? ", required" : "")" }

    static func == (left: Self, right: Self) -> Bool {
      left.path == right.path && left.type == right.type && left.required == right.required
    }
  }

  static func documentedFields() throws -> [DocumentedField] {
    let docs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent().appendingPathComponent("docs/reports.md")
    let text = try String(contentsOf: docs, encoding: .utf8)
    let table = text.components(separatedBy: "| path | type | required | notes |")[1]
      .split(separator: "\n").dropFirst().prefix { $0.hasPrefix("|") }
    return try table.map { row in
      let cells = row.split(separator: "|", omittingEmptySubsequences: false).map {
        $0.trimmingCharacters(in: .whitespaces)
      }
      let path = cells[1].trimmingCharacters(in: CharacterSet(charactersIn: "`"))
      let typeText = cells[2]
      let words = typeText.components(separatedBy: "`").enumerated().filter { $0.offset % 2 == 1 }.map(\.element)
      let type: FieldType
      switch typeText {
      case _ where typeText.hasPrefix("array of enum"): type = .words(allowed: words)
      case _ where typeText.hasPrefix("enum"): type = .word(allowed: words)
      case "array of string": type = .texts
      case "string", "id", "language tag", "country code": type = .text
      case "count", "number": type = .number
      case "true / false": type = .bool
      case "timestamp": type = .timestamp
      case "object": type = .object
      default: throw CocoaError(.coderInvalidValue, userInfo: ["type": typeText])
      }
      return DocumentedField(path: path, type: type, required: cells[3] == "yes", word: typeText)
    }
  }

  /// What the docs' type words promise, held against the parser: a count is a whole number
  /// up to 10,000,000, a number may have a fraction, an id and a country code are narrower
  /// strings than free text.
  @Test func theDocsTypeWordsHold() throws {
    for field in try Self.documentedFields() {
      let accepts = { (json: String) in refusalOf(Self.line(field.path, json)) == nil }
      switch field.word {
      case "count":
        #expect(accepts("10000000") && accepts("10.0") && accepts("0"), "\(field.path)")
        #expect(!accepts("10000001") && !accepts("1.5") && !accepts("-1"), "\(field.path)")
      case "number":
        #expect(accepts("1.5"), "\(field.path)")
      case "id":
        #expect(accepts(#""SY-2016/03:04.a_b""#) && !accepts(#""SY 1""#), "\(field.path)")
      case "country code":
        #expect(accepts(#""IQ""#) && !accepts(#""Sy""#) && !accepts(#""SYR""#), "\(field.path)")
      case "string":
        #expect(accepts(#""SY 1, Sy""#) && !accepts(#""  ""#), "\(field.path)")
      default:
        break
      }
    }
  }

  @Test func theDocsTableDescribesTheSameFields() throws {
    let documented = try Self.documentedFields()
    let schema = Self.leaves.map { path in
      DocumentedField(
        path: path, type: ReportSchema.field(path)!.type, required: ReportSchema.requiredPaths.contains(path))
    }
    #expect(documented.map(\.path) == schema.map(\.path), "docs/reports.md lists other fields, or in another order")
    for field in schema {
      #expect(documented.first { $0.path == field.path } == field, "docs/reports.md disagrees on \(field.path)")
    }
  }
}
