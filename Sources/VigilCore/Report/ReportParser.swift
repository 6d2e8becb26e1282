/// A report that passed validation, with the warnings to send back (unknown fields).
public struct ParsedReport: Sendable, Equatable {
  public var report: Report
  public var warnings: [String]
}

/// Parses one line into a validated `Report` (docs/reports.md), or says precisely why not.
public enum ReportParser {
  public static let maxStringScalars = 4096
  public static let maxNarrativeScalars = 65_536
  public static let maxWeapons = 32
  public static let maxCount = 10_000_000

  public static func parse(_ line: UnsafeBufferPointer<UInt8>) -> Result<ParsedReport, ReportError> {
    let copy = ReportLine.copying(line)
    var fastPath = ReportFastPath(line: copy)
    if let report = fastPath.report() {
      return .success(ParsedReport(report: report, warnings: []))
    }
    return parseCompletely(copy)
  }

  /// The complete parser alone: every line, every warning and every error.
  package static func parseCompletely(_ line: ReportLine) -> Result<ParsedReport, ReportError> {
    let tape: JSONTape
    do {
      tape = try JSONScanner.scan(line.unsafeBytes)
    } catch {
      return .failure(.invalidJSON(error))
    }
    return decode(tape: tape, line: line, at: 0)
  }

  public static func parse(_ line: [UInt8]) -> Result<ParsedReport, ReportError> {
    line.withUnsafeBufferPointer { parse($0) }
  }

  public static func parse(_ line: String) -> Result<ParsedReport, ReportError> {
    line.withUTF8InPlace { parse($0) }
  }

  /// Validates the value at `index` of an already scanned line (a report inside a
  /// `submit` request, say).
  public static func decode(
    tape: JSONTape, line: UnsafeBufferPointer<UInt8>, at index: Int
  ) -> Result<ParsedReport, ReportError> {
    decode(tape: tape, line: ReportLine.copying(line), at: index)
  }

  static func decode(tape: JSONTape, line: ReportLine, at index: Int) -> Result<ParsedReport, ReportError> {
    guard tape[index].kind == .object else {
      return .failure(
        ReportError(code: .notAnObject, message: "a report must be a JSON object, got \(describe(tape[index].kind))"))
    }
    var decoder = ReportDecoder(tape: tape, line: line)
    do {
      let report = try decoder.report(at: index)
      return .success(ParsedReport(report: report, warnings: decoder.warnings))
    } catch {
      return .failure(error)
    }
  }

  static func describe(_ kind: JSONTape.Kind) -> String {
    switch kind {
    case .object: "an object"
    case .array: "an array"
    case .string: "a string"
    case .number: "a number"
    case .true, .false: "a boolean"
    case .null: "null"
    }
  }
}

/// Walks the tape of one report object, field by field in the order of the line, so the
/// first error it throws names the first offending field.
private struct ReportDecoder {
  /// The tape and the line are kept alive here, so the raw views of them below stay valid.
  let tape: JSONTape
  let nodes: UnsafePointer<JSONTape.Node>
  /// The report's own copy of the line, which its texts point into, and its bytes.
  let line: ReportLine
  let bytes: UnsafeBufferPointer<UInt8>
  var warnings: [String] = []

  init(tape: JSONTape, line: ReportLine) {
    self.tape = tape
    nodes = tape.unsafeNodes
    self.line = line
    bytes = line.unsafeBytes
  }

  // MARK: Objects

  mutating func report(at object: Int) throws(ReportError) -> Report {
    let box = Report.Box.empty()
    try decodeMembers(of: object, into: &box.fields)
    return Report(filled: box)
  }

  mutating func decodeMembers(of object: Int, into report: inout Report.Fields) throws(ReportError) {
    var id: String?
    var occurredAt: Timestamp?
    var type: IncidentType?
    var members = Members(nodes: nodes, object: object)
    while let (key, value) = members.next() {
      guard let field = lookUp(ReportField.names, key, value, parent: "") else { continue }
      if nodes[value].kind == .null { continue }
      let path = FieldPath("", field.rawValue)
      switch field {
      case .id: id = try identifier(value, path)
      case .occurredAt: occurredAt = try timestamp(value, path)
      case .reportedAt: report.reportedAt = try timestamp(value, path)
      case .type: type = try word(value, path)
      case .confidence: report.confidence = try word(value, path)
      case .lang: report.lang = try string(value, path)
      case .source: report.source = try source(value, path)
      case .location: report.location = try location(value, path)
      case .perpetrator: report.perpetrator = try actor(value, path)
      case .target: report.target = try target(value, path)
      case .weapons: report.weapons = try words(value, path, limit: ReportParser.maxWeapons)
      case .chemicalAgent: report.chemicalAgent = try string(value, path)
      case .casualties: report.casualties = try casualties(value, path)
      case .access: report.access = try access(value, path)
      case .detention: report.detention = try detention(value, path)
      case .trade: report.trade = try trade(value, path)
      case .displacement: report.displacement = try displacement(value, path)
      case .narrative:
        report.narrative = try string(value, path, limit: ReportParser.maxNarrativeScalars)
      case .extra:
        guard nodes[value].kind == .object else { throw mismatch(value, path, "an object") }
        report.extra = JSONObject(tape: tape, bytes: bytes, at: value)
      }
    }
    guard let id else { throw missing(FieldPath("", "id")) }
    guard let occurredAt else { throw missing(FieldPath("", "occurred_at")) }
    guard let type else { throw missing(FieldPath("", "type")) }
    report.id = id
    report.occurredAt = occurredAt
    report.type = type
  }

  mutating func source(_ object: Int, _ path: FieldPath) throws(ReportError) -> Report.Source {
    var source = Report.Source()
    var members = try self.members(object, path)
    let parent = path.text
    while let (key, value) = members.next() {
      guard let field = lookUp(SourceField.names, key, value, parent: parent) else { continue }
      if nodes[value].kind == .null { continue }
      let path = FieldPath(parent, field.rawValue)
      switch field {
      case .org: source.org = try string(value, path)
      case .kind: source.kind = try word(value, path)
      }
    }
    return source
  }

  mutating func location(_ object: Int, _ path: FieldPath) throws(ReportError) -> Report.Location {
    var location = Report.Location()
    var members = try self.members(object, path)
    let parent = path.text
    while let (key, value) = members.next() {
      guard let field = lookUp(LocationField.names, key, value, parent: parent) else { continue }
      if nodes[value].kind == .null { continue }
      let path = FieldPath(parent, field.rawValue)
      switch field {
      case .governorate: location.governorate = try string(value, path)
      case .district: location.district = try string(value, path)
      case .place: location.place = try string(value, path)
      case .pcode: location.pcode = try string(value, path)
      case .lat: location.lat = try number(value, path, in: -90...90, "a number in [-90, 90]")
      case .lon: location.lon = try number(value, path, in: -180...180, "a number in [-180, 180]")
      case .populated: location.populated = try bool(value, path)
      case .besieged: location.besieged = try bool(value, path)
      }
    }
    if location.lat != nil, location.lon == nil {
      throw ReportError.invalidReport(FieldPath(parent, "lon"), "missing: lat and lon must be given together")
    }
    if location.lon != nil, location.lat == nil {
      throw ReportError.invalidReport(FieldPath(parent, "lat"), "missing: lat and lon must be given together")
    }
    return location
  }

  mutating func actor(_ object: Int, _ path: FieldPath) throws(ReportError) -> Report.Actor {
    var actor = Report.Actor()
    var members = try self.members(object, path)
    let parent = path.text
    while let (key, value) = members.next() {
      guard let field = lookUp(ActorField.names, key, value, parent: parent) else { continue }
      if nodes[value].kind == .null { continue }
      let path = FieldPath(parent, field.rawValue)
      switch field {
      case .name: actor.name = try string(value, path)
      case .party: actor.party = try string(value, path)
      }
    }
    if actor.name == nil, actor.party == nil {
      throw ReportError.invalidReport(path, "expected an actor with a name, a party or both, got neither")
    }
    return actor
  }

  mutating func target(_ object: Int, _ path: FieldPath) throws(ReportError) -> Report.Target {
    var target = Report.Target()
    var members = try self.members(object, path)
    let parent = path.text
    while let (key, value) = members.next() {
      guard let field = lookUp(TargetField.names, key, value, parent: parent) else { continue }
      if nodes[value].kind == .null { continue }
      let path = FieldPath(parent, field.rawValue)
      switch field {
      case .type: target.type = try word(value, path)
      case .name: target.name = try string(value, path)
      case .party: target.party = try string(value, path)
      }
    }
    return target
  }

  mutating func casualties(_ object: Int, _ path: FieldPath) throws(ReportError) -> Report.Casualties {
    var casualties = Report.Casualties()
    var members = try self.members(object, path)
    let parent = path.text
    while let (key, value) = members.next() {
      guard let field = lookUp(CasualtiesField.names, key, value, parent: parent) else { continue }
      if nodes[value].kind == .null { continue }
      let count = try self.count(value, FieldPath(parent, field.rawValue))
      casualties.set(field, to: count)
    }
    return casualties
  }

  mutating func access(_ object: Int, _ path: FieldPath) throws(ReportError) -> Report.Access {
    var access = Report.Access()
    var members = try self.members(object, path)
    let parent = path.text
    while let (key, value) = members.next() {
      guard let field = lookUp(AccessField.names, key, value, parent: parent) else { continue }
      if nodes[value].kind == .null { continue }
      let path = FieldPath(parent, field.rawValue)
      switch field {
      case .requestID: access.requestID = try string(value, path)
      case .requestedBy: access.requestedBy = try string(value, path)
      case .modality: access.modality = try word(value, path)
      case .crossing: access.crossing = try string(value, path)
      case .destination: access.destination = try string(value, path)
      case .status: access.status = try word(value, path)
      case .submittedAt: access.submittedAt = try timestamp(value, path)
      case .decidedAt: access.decidedAt = try timestamp(value, path)
      case .itemsRemoved: access.itemsRemoved = try strings(value, path)
      }
    }
    return access
  }

  mutating func detention(_ object: Int, _ path: FieldPath) throws(ReportError) -> Report.Detention {
    var detention = Report.Detention()
    var members = try self.members(object, path)
    let parent = path.text
    while let (key, value) = members.next() {
      guard let field = lookUp(DetentionField.names, key, value, parent: parent) else { continue }
      if nodes[value].kind == .null { continue }
      let path = FieldPath(parent, field.rawValue)
      switch field {
      case .count: detention.count = try count(value, path)
      case .kind: detention.kind = try word(value, path)
      case .ransomDemanded: detention.ransomDemanded = try bool(value, path)
      case .victims: detention.victims = try words(value, path, limit: nil)
      }
    }
    return detention
  }

  mutating func trade(_ object: Int, _ path: FieldPath) throws(ReportError) -> Report.Trade {
    var trade = Report.Trade()
    var members = try self.members(object, path)
    let parent = path.text
    while let (key, value) = members.next() {
      guard let field = lookUp(TradeField.names, key, value, parent: parent) else { continue }
      if nodes[value].kind == .null { continue }
      let path = FieldPath(parent, field.rawValue)
      switch field {
      case .commodity: trade.commodity = try word(value, path)
      case .seller: trade.seller = try actor(value, path)
      case .buyer: trade.buyer = try actor(value, path)
      case .originCountry: trade.originCountry = try countryCode(value, path)
      case .removedAt: trade.removedAt = try timestamp(value, path)
      case .valueUSD:
        trade.valueUSD = try number(value, path, in: 0...Double.greatestFiniteMagnitude, "a number ≥ 0")
      }
    }
    return trade
  }

  mutating func displacement(_ object: Int, _ path: FieldPath) throws(ReportError) -> Report.Displacement {
    var displacement = Report.Displacement()
    var members = try self.members(object, path)
    let parent = path.text
    while let (key, value) = members.next() {
      guard let field = lookUp(DisplacementField.names, key, value, parent: parent) else { continue }
      if nodes[value].kind == .null { continue }
      let path = FieldPath(parent, field.rawValue)
      switch field {
      case .count: displacement.count = try count(value, path)
      case .direction: displacement.direction = try word(value, path)
      case .voluntary: displacement.voluntary = try bool(value, path)
      }
    }
    return displacement
  }

  // MARK: Members

  func members(_ object: Int, _ path: FieldPath) throws(ReportError) -> Members {
    guard nodes[object].kind == .object else { throw mismatch(object, path, "an object") }
    return Members(nodes: nodes, object: object)
  }

  /// The known field a key names; an unknown key becomes a warning (unless its value is
  /// null: a null member is no member, docs/reports.md) and yields nil.
  mutating func lookUp<Field>(_ names: NameTable<Field>, _ key: JSONTape.Node, _ value: Int, parent: String) -> Field? {
    let found: Field?
    if key.hasEscapes {
      found = JSONString.unescapedBytes(bytes, key).withUnsafeBufferPointer { names.value(for: $0) }
    } else {
      found = names.value(for: UnsafeBufferPointer(rebasing: bytes[key.startOffset..<key.endOffset]))
    }
    if found == nil, nodes[value].kind != .null {
      let name = JSONString.decode(bytes, key)
      let path = parent.isEmpty ? name : parent + "." + name
      warnings.append("unknown field \(JSONString.quoted(path, limit: 200))")
    }
    return found
  }

  // MARK: Values

  func string(_ index: Int, _ path: FieldPath, limit: Int = ReportParser.maxStringScalars) throws(ReportError)
    -> ReportText
  {
    let node = nodes[index]
    guard node.kind == .string else { throw mismatch(index, path, "a string") }
    let content = UnsafeBufferPointer(rebasing: bytes[node.startOffset..<node.endOffset])
    if !node.hasEscapes {
      // Scalars are counted only when the bytes could exceed the limit.
      if content.count > limit {
        var scalars = 0
        for byte in content where byte & 0xC0 != 0x80 { scalars += 1 }
        if scalars > limit {
          throw ReportError.invalidReport(path, "expected at most \(limit) characters, got \(scalars)")
        }
      }
      let text = ReportText(line: line, start: node.startOffset, count: content.count)
      if let first = content.first, first > 0x20, first < 0x7F {
        return text
      }
      _ = try nonBlank(text.string, path)
      return text
    }
    let text = JSONString.decode(bytes, node)
    let scalars = text.unicodeScalars.count
    if scalars > limit {
      throw ReportError.invalidReport(path, "expected at most \(limit) characters, got \(scalars)")
    }
    if text.unicodeScalars.contains("\u{0}") {
      throw ReportError.invalidReport(path, "must not contain the NUL character (\\u0000)")
    }
    return ReportText(try nonBlank(text, path))
  }

  func nonBlank(_ text: String, _ path: FieldPath) throws(ReportError) -> String {
    guard text.unicodeScalars.contains(where: { !$0.properties.isWhitespace }) else {
      throw ReportError.invalidReport(path, "expected a non-empty string, got \(JSONString.quoted(text, limit: 40))")
    }
    return text
  }

  func identifier(_ index: Int, _ path: FieldPath) throws(ReportError) -> String {
    let node = nodes[index]
    let expected = "1 to 128 characters of A-Z a-z 0-9 . _ : / -"
    guard node.kind == .string, !node.hasEscapes else {
      // An escape can only spell a character outside the charset or one that needs none.
      if node.kind == .string {
        let text = JSONString.decode(bytes, node)
        if text.utf8.allSatisfy(isIdentifierByte), (1...128).contains(text.utf8.count) { return text }
      }
      throw mismatch(index, path, expected)
    }
    let content = UnsafeBufferPointer(rebasing: bytes[node.startOffset..<node.endOffset])
    guard (1...128).contains(content.count), content.allSatisfy(isIdentifierByte) else {
      throw mismatch(index, path, expected)
    }
    return String(decoding: content, as: UTF8.self)
  }

  func countryCode(_ index: Int, _ path: FieldPath) throws(ReportError) -> ReportText {
    let expected = "two uppercase letters (ISO 3166-1 alpha-2, such as SY)"
    guard nodes[index].kind == .string else { throw mismatch(index, path, expected) }
    let text = JSONString.decode(bytes, nodes[index])
    guard text.utf8.count == 2, text.utf8.allSatisfy({ $0 &- UInt8(ascii: "A") < 26 }) else {
      throw mismatch(index, path, expected)
    }
    return ReportText(text)
  }

  func timestamp(_ index: Int, _ path: FieldPath) throws(ReportError) -> Timestamp {
    let node = nodes[index]
    let expected = "an RFC 3339 timestamp with an offset (2016-03-04T06:40:00+02:00) or a date (2016-03-04)"
    guard node.kind == .string else { throw mismatch(index, path, expected) }
    let instant: (seconds: Int64, nanoseconds: Int32)?
    if node.hasEscapes {
      instant = JSONString.unescapedBytes(bytes, node).withUnsafeBufferPointer { Timestamp.instant(of: $0) }
    } else {
      instant = Timestamp.instant(of: UnsafeBufferPointer(rebasing: bytes[node.startOffset..<node.endOffset]))
    }
    guard let instant else { throw mismatch(index, path, expected) }
    let text =
      node.hasEscapes
      ? ReportText(JSONString.decode(bytes, node))
      : ReportText(line: line, start: node.startOffset, count: node.endOffset - node.startOffset)
    return Timestamp(text: text, seconds: instant.seconds, nanoseconds: instant.nanoseconds)
  }

  func word<Word: ReportVocabulary>(_ index: Int, _ path: FieldPath) throws(ReportError) -> Word {
    let node = nodes[index]
    var found: Word?
    if node.kind == .string {
      if node.hasEscapes {
        found = JSONString.unescapedBytes(bytes, node).withUnsafeBufferPointer { Word.names.value(for: $0) }
      } else {
        found = Word.names.value(for: UnsafeBufferPointer(rebasing: bytes[node.startOffset..<node.endOffset]))
      }
    }
    guard let found else {
      let allowed = Word.allowedValues
      throw ReportError.invalidReport(
        path, "expected one of (\(allowed.joined(separator: ", "))), got \(shown(index))",
        allowedValues: allowed)
    }
    return found
  }

  func words<Word: ReportVocabulary>(_ index: Int, _ path: FieldPath, limit: Int?) throws(ReportError) -> [Word] {
    let node = nodes[index]
    guard node.kind == .array else {
      let allowed = Word.allowedValues
      throw ReportError.invalidReport(
        path, "expected an array of (\(allowed.joined(separator: ", "))), got \(shown(index))", allowedValues: allowed)
    }
    if let limit, node.memberCount > limit {
      throw ReportError.invalidReport(path, "expected at most \(limit) elements, got \(node.memberCount)")
    }
    var result: [Word] = []
    result.reserveCapacity(node.memberCount)
    var cursor = index + 1
    for position in 0..<node.memberCount {
      result.append(try word(cursor, path.element(position)))
      cursor = nodes[cursor].nextIndex
    }
    return result
  }

  func strings(_ index: Int, _ path: FieldPath) throws(ReportError) -> [ReportText] {
    let node = nodes[index]
    guard node.kind == .array else { throw mismatch(index, path, "an array of strings") }
    var result: [ReportText] = []
    result.reserveCapacity(node.memberCount)
    var cursor = index + 1
    for position in 0..<node.memberCount {
      result.append(try string(cursor, path.element(position)))
      cursor = nodes[cursor].nextIndex
    }
    return result
  }

  func count(_ index: Int, _ path: FieldPath) throws(ReportError) -> Int {
    let node = nodes[index]
    let expected = "a whole number from 0 to 10,000,000"
    guard node.kind == .number else { throw mismatch(index, path, expected) }
    let value = node.number
    // In range first, so the conversion to Int cannot trap.
    guard value >= 0, value <= Double(ReportParser.maxCount), Double(Int(value)) == value,
      // Whole as written, not only once rounded (`1e-400`, `10000000.0000000001`).
      JSONNumberText.isWhole(UnsafeBufferPointer(rebasing: bytes[node.startOffset..<node.endOffset]))
    else {
      throw mismatch(index, path, expected)
    }
    return Int(value)
  }

  func number(_ index: Int, _ path: FieldPath, in range: ClosedRange<Double>, _ expected: String) throws(ReportError)
    -> Double
  {
    let node = nodes[index]
    guard node.kind == .number,
      // In the range as written, not only once rounded (`90.0000000000000000001`, `-1e-400`).
      JSONNumberText.value(
        node.number, writtenAs: UnsafeBufferPointer(rebasing: bytes[node.startOffset..<node.endOffset]), liesIn: range)
    else { throw mismatch(index, path, expected) }
    return node.number
  }

  func bool(_ index: Int, _ path: FieldPath) throws(ReportError) -> Bool {
    switch nodes[index].kind {
    case .true: return true
    case .false: return false
    default: throw mismatch(index, path, "true or false")
    }
  }

  // MARK: Errors

  func missing(_ path: FieldPath) -> ReportError {
    ReportError.invalidReport(path, "missing required field")
  }

  func mismatch(_ index: Int, _ path: FieldPath, _ expected: String) -> ReportError {
    ReportError.invalidReport(path, "expected \(expected), got \(shown(index))")
  }

  /// The offending value as a message shows it: scalars as written (cut short), containers by kind.
  func shown(_ index: Int) -> String {
    let node = nodes[index]
    switch node.kind {
    case .object: return "an object"
    case .array: return "an array"
    case .string: return JSONString.quoted(JSONString.decode(bytes, node), limit: 40)
    case .number, .true, .false, .null:
      let text = String(
        decoding: UnsafeBufferPointer(rebasing: bytes[node.startOffset..<node.endOffset]), as: UTF8.self)
      return text.count > 40 ? String(text.prefix(40)) + "…" : text
    }
  }
}

func isIdentifierByte(_ byte: UInt8) -> Bool {
  switch byte {
  case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
    UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "_"),
    UInt8(ascii: ":"), UInt8(ascii: "/"), UInt8(ascii: "-"):
    true
  default: false
  }
}

/// The members of one object on the tape, as (key node, value index) in written order.
struct Members {
  let nodes: UnsafePointer<JSONTape.Node>
  var cursor: Int
  var remaining: Int

  init(nodes: UnsafePointer<JSONTape.Node>, object: Int) {
    self.nodes = nodes
    cursor = object + 1
    remaining = nodes[object].memberCount
  }

  mutating func next() -> (JSONTape.Node, Int)? {
    guard remaining > 0 else { return nil }
    remaining -= 1
    let key = nodes[cursor]
    let value = cursor + 1
    cursor = nodes[value].nextIndex
    return (key, value)
  }
}
