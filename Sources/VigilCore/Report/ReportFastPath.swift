import CVigilBytes

/// The common report in one pass over its bytes, with no tape: known fields, unescaped
/// keys, nothing wrong. Anything else — an unknown field, `extra`, an escape, a value out
/// of place, anything invalid — makes it give up and leave the line to the complete parser
/// (`JSONScanner` and `ReportDecoder`), which also words every error. So it only ever
/// answers what the complete parser would; the fuzz test checks that on every line.
///
/// Measured on the generator's workload: the complete parser alone manages about 310,000
/// reports per second on one core here; with this path in front, see `bench/run-parse`.
package struct ReportFastPath {
  /// Why the fast path gave up; the line goes to the complete parser.
  struct GiveUp: Error {}

  private var cursor: JSONCursor
  private let line: ReportLine
  private let names = ReportNameTables.shared

  package init(line: ReportLine) {
    self.line = line
    cursor = JSONCursor(bytes: line.unsafeBytes)
  }

  /// The report, or nil when the complete parser must look at the line.
  package mutating func report() -> Report? {
    do {
      return try withExtendedLifetime(line) { () throws(GiveUp) in try parseReport() }
    } catch {
      return nil
    }
  }

  // MARK: Objects

  private mutating func parseReport() throws(GiveUp) -> Report {
    let box = Report.Box.empty()
    try parseMembers(into: &box.fields)
    return Report(filled: box)
  }

  // The objects of a report are filled in place and moved into the box's fields: returned
  // from a function, a location was copied twice on its way in (a retain and a release of
  // each of its texts, Callgrind).
  private mutating func parseMembers(into report: inout Report.Fields) throws(GiveUp) {
    var id: String?
    var occurredAt: Timestamp?
    var type: IncidentType?
    var object = try openObject()
    while let field = try nextField(names.pointee.report, &object) {
      switch field {
      case .id: id = try identifier()
      case .occurredAt: occurredAt = try timestamp()
      case .reportedAt: report.reportedAt = try timestamp()
      case .type: type = try word(names.pointee.incidentType)
      case .confidence: report.confidence = try word(names.pointee.confidence)
      case .lang: report.lang = try string()
      case .source:
        var source = Report.Source()
        try self.source(&source)
        report.source = consume source
      case .location:
        var location = Report.Location()
        try self.location(&location)
        report.location = consume location
      case .perpetrator:
        var actor = Report.Actor()
        try self.actor(&actor)
        report.perpetrator = consume actor
      case .target:
        var target = Report.Target()
        try self.target(&target)
        report.target = consume target
      case .weapons: report.weapons = try words(names.pointee.weapon, limit: ReportParser.maxWeapons)
      case .chemicalAgent: report.chemicalAgent = try string()
      case .casualties:
        var casualties = Report.Casualties()
        try self.casualties(&casualties)
        report.casualties = casualties
      case .access:
        var access = Report.Access()
        try self.access(&access)
        report.access = consume access
      case .detention:
        var detention = Report.Detention()
        try self.detention(&detention)
        report.detention = consume detention
      case .trade:
        var trade = Report.Trade()
        try self.trade(&trade)
        report.trade = consume trade
      case .displacement:
        var displacement = Report.Displacement()
        try self.displacement(&displacement)
        report.displacement = displacement
      case .narrative: report.narrative = try string(limit: ReportParser.maxNarrativeScalars)
      case .extra: throw GiveUp()
      }
    }
    cursor.skipWhitespace()
    guard cursor.index == cursor.bytes.count, let id, let occurredAt, let type else { throw GiveUp() }
    report.id = id
    report.occurredAt = occurredAt
    report.type = type
  }

  private mutating func source(_ source: inout Report.Source) throws(GiveUp) {
    var object = try openObject()
    while let field = try nextField(names.pointee.source, &object) {
      switch field {
      case .org: source.org = try string()
      case .kind: source.kind = try word(names.pointee.sourceKind)
      }
    }
  }

  private mutating func location(_ location: inout Report.Location) throws(GiveUp) {
    var object = try openObject()
    while let field = try nextField(names.pointee.location, &object) {
      switch field {
      case .governorate: location.governorate = try string()
      case .district: location.district = try string()
      case .place: location.place = try string()
      case .pcode: location.pcode = try string()
      case .lat: location.lat = try number(in: -90...90)
      case .lon: location.lon = try number(in: -180...180)
      case .populated: location.populated = try bool()
      case .besieged: location.besieged = try bool()
      }
    }
    guard (location.lat == nil) == (location.lon == nil) else { throw GiveUp() }
  }

  private mutating func actor(_ actor: inout Report.Actor) throws(GiveUp) {
    var object = try openObject()
    while let field = try nextField(names.pointee.actor, &object) {
      switch field {
      case .name: actor.name = try string()
      case .party: actor.party = try string()
      }
    }
    guard actor.name != nil || actor.party != nil else { throw GiveUp() }
  }

  private mutating func target(_ target: inout Report.Target) throws(GiveUp) {
    var object = try openObject()
    while let field = try nextField(names.pointee.target, &object) {
      switch field {
      case .type: target.type = try word(names.pointee.targetType)
      case .name: target.name = try string()
      case .party: target.party = try string()
      }
    }
  }

  private mutating func casualties(_ casualties: inout Report.Casualties) throws(GiveUp) {
    var object = try openObject()
    while let field = try nextField(names.pointee.casualties, &object) {
      let count = try self.count()
      casualties.set(field, to: count)
    }
  }

  private mutating func access(_ access: inout Report.Access) throws(GiveUp) {
    var object = try openObject()
    while let field = try nextField(names.pointee.access, &object) {
      switch field {
      case .requestID: access.requestID = try string()
      case .requestedBy: access.requestedBy = try string()
      case .modality: access.modality = try word(names.pointee.accessModality)
      case .crossing: access.crossing = try string()
      case .destination: access.destination = try string()
      case .status: access.status = try word(names.pointee.accessStatus)
      case .submittedAt: access.submittedAt = try timestamp()
      case .decidedAt: access.decidedAt = try timestamp()
      case .itemsRemoved: access.itemsRemoved = try strings()
      }
    }
  }

  private mutating func detention(_ detention: inout Report.Detention) throws(GiveUp) {
    var object = try openObject()
    while let field = try nextField(names.pointee.detention, &object) {
      switch field {
      case .count: detention.count = try count()
      case .kind: detention.kind = try word(names.pointee.detentionKind)
      case .ransomDemanded: detention.ransomDemanded = try bool()
      case .victims: detention.victims = try words(names.pointee.victim, limit: nil)
      }
    }
  }

  private mutating func trade(_ trade: inout Report.Trade) throws(GiveUp) {
    var object = try openObject()
    while let field = try nextField(names.pointee.trade, &object) {
      switch field {
      case .commodity: trade.commodity = try word(names.pointee.commodity)
      case .seller:
        var actor = Report.Actor()
        try self.actor(&actor)
        trade.seller = consume actor
      case .buyer:
        var actor = Report.Actor()
        try self.actor(&actor)
        trade.buyer = consume actor
      case .originCountry: trade.originCountry = try countryCode()
      case .removedAt: trade.removedAt = try timestamp()
      case .valueUSD: trade.valueUSD = try number(in: 0...Double.greatestFiniteMagnitude)
      }
    }
  }

  private mutating func displacement(_ displacement: inout Report.Displacement) throws(GiveUp) {
    var object = try openObject()
    while let field = try nextField(names.pointee.displacement, &object) {
      switch field {
      case .count: displacement.count = try count()
      case .direction: displacement.direction = try word(names.pointee.displacementDirection)
      case .voluntary: displacement.voluntary = try bool()
      }
    }
  }

  // MARK: Structure

  /// Where the walk through one object is: before its first member or after one, and
  /// which of its known fields it has seen (a repeated key is for the complete parser).
  private struct ObjectWalk {
    var started = false
    var seen: UInt64 = 0
  }

  private mutating func openObject() throws(GiveUp) -> ObjectWalk {
    guard cursor.index < cursor.bytes.count, cursor.bytes[cursor.index] == UInt8(ascii: "{") else {
      throw GiveUp()
    }
    cursor.index += 1
    return ObjectWalk()
  }

  /// The next member's field, with the cursor on its value; members whose value is null
  /// are skipped (null counts as absent). Nil at the end of the object.
  private mutating func nextField<Field>(_ names: NameTable<Field>, _ walk: inout ObjectWalk) throws(GiveUp) -> Field? {
    while true {
      cursor.skipWhitespace()
      guard cursor.index < cursor.bytes.count else { throw GiveUp() }
      let byte = cursor.bytes[cursor.index]
      if byte == UInt8(ascii: "}") {
        cursor.index += 1
        return nil
      }
      if walk.started {
        guard byte == UInt8(ascii: ",") else { throw GiveUp() }
        cursor.index += 1
        cursor.skipWhitespace()
      }
      walk.started = true
      let key = try plainString()
      guard let (field, position) = names.entry(for: key), walk.seen & (1 << position) == 0 else { throw GiveUp() }
      walk.seen |= 1 << position
      cursor.skipWhitespace()
      guard cursor.index < cursor.bytes.count, cursor.bytes[cursor.index] == UInt8(ascii: ":") else {
        throw GiveUp()
      }
      cursor.index += 1
      cursor.skipWhitespace()
      guard cursor.index < cursor.bytes.count else { throw GiveUp() }
      if cursor.bytes[cursor.index] == UInt8(ascii: "n") {
        do { try cursor.scanLiteral("null") } catch { throw GiveUp() }
        continue
      }
      return field
    }
  }

  /// `[` … `]` around `element`, which reads one element each time.
  private mutating func array<Element>(
    limit: Int?, _ element: (inout Self) throws(GiveUp) -> Element
  ) throws(GiveUp) -> [Element] {
    guard cursor.index < cursor.bytes.count, cursor.bytes[cursor.index] == UInt8(ascii: "[") else { throw GiveUp() }
    cursor.index += 1
    var elements: [Element] = []
    cursor.skipWhitespace()
    if cursor.index < cursor.bytes.count, cursor.bytes[cursor.index] == UInt8(ascii: "]") {
      cursor.index += 1
      return elements
    }
    while true {
      cursor.skipWhitespace()
      elements.append(try element(&self))
      if let limit, elements.count > limit { throw GiveUp() }
      cursor.skipWhitespace()
      guard cursor.index < cursor.bytes.count else { throw GiveUp() }
      let byte = cursor.bytes[cursor.index]
      cursor.index += 1
      if byte == UInt8(ascii: "]") {
        return elements
      }
      guard byte == UInt8(ascii: ",") else { throw GiveUp() }
    }
  }

  // MARK: Values

  /// A string's content as bytes of the line, and whether it has escapes.
  private mutating func anyString() throws(GiveUp) -> (content: UnsafeBufferPointer<UInt8>, hasEscapes: Bool) {
    guard cursor.index < cursor.bytes.count, cursor.bytes[cursor.index] == UInt8(ascii: "\"") else {
      throw GiveUp()
    }
    let string: (start: Int, end: Int, hasEscapes: Bool)
    do { string = try cursor.scanString() } catch { throw GiveUp() }
    return (UnsafeBufferPointer(rebasing: cursor.bytes[string.start..<string.end]), string.hasEscapes)
  }

  /// A string taken only when it is plain ASCII of a known shape — a member's name, an
  /// enum's word, an identifier, a timestamp, a country code — as bytes of the line, read
  /// only as far as the next quote. Its caller's check (a table lookup, a byte class, a
  /// strict reading) refuses anything else, an escape, a control character or UTF-8 valid
  /// or not, and the report goes to the full parser, which says what is wrong. (Scanned as
  /// any string, with its checks, a name cost ~80 instructions, some 2,000 a report.)
  private mutating func plainString() throws(GiveUp) -> UnsafeBufferPointer<UInt8> {
    let bytes = cursor.bytes
    guard cursor.index < bytes.count, let base = bytes.baseAddress, bytes[cursor.index] == UInt8(ascii: "\"")
    else { throw GiveUp() }
    let start = cursor.index + 1
    let end = vigil_find_quote(base, start, bytes.count)
    guard end < bytes.count else { throw GiveUp() }
    cursor.index = end + 1
    return UnsafeBufferPointer(start: base + start, count: end - start)
  }

  private mutating func string(limit: Int = ReportParser.maxStringScalars) throws(GiveUp) -> ReportText {
    let (content, hasEscapes) = try anyString()
    if hasEscapes {
      // Clients that escape every non-ASCII character (Python's json.dumps does by
      // default) send Arabic text this way.
      let text = String(decoding: JSONString.unescapedBytes(content), as: UTF8.self)
      guard text.unicodeScalars.count <= limit, !text.unicodeScalars.contains("\u{0}"),
        text.unicodeScalars.contains(where: { !$0.properties.isWhitespace })
      else { throw GiveUp() }
      return ReportText(text)
    }
    if content.count > limit {
      var scalars = 0
      for byte in content where byte & 0xC0 != 0x80 { scalars += 1 }
      guard scalars <= limit else { throw GiveUp() }
    }
    // Non-empty after trimming: settled here when the first character is plainly not
    // white space (printable ASCII, or a lead byte no space character starts with).
    guard let first = content.first else { throw GiveUp() }
    switch first {
    case 0x21...0x7E, 0xC3...0xE0, 0xE4...0xF4: break
    default: throw GiveUp()
    }
    let start = content.baseAddress! - cursor.bytes.baseAddress!
    return ReportText(line: line, start: start, count: content.count)
  }

  private mutating func strings() throws(GiveUp) -> [ReportText] {
    try array(limit: nil) { (parser: inout Self) throws(GiveUp) in try parser.string() }
  }

  private mutating func identifier() throws(GiveUp) -> String {
    let content = try plainString()
    guard (1...128).contains(content.count), content.allSatisfy(isIdentifierByte) else { throw GiveUp() }
    return String(decoding: content, as: UTF8.self)
  }

  private mutating func countryCode() throws(GiveUp) -> ReportText {
    let content = try plainString()
    guard content.count == 2, content.allSatisfy({ $0 &- UInt8(ascii: "A") < 26 }) else { throw GiveUp() }
    let start = content.baseAddress! - cursor.bytes.baseAddress!
    return ReportText(line: line, start: start, count: 2)
  }

  private mutating func timestamp() throws(GiveUp) -> Timestamp {
    let content = try plainString()
    guard let instant = Timestamp.instant(of: content) else { throw GiveUp() }
    let start = content.baseAddress! - cursor.bytes.baseAddress!
    return Timestamp(
      text: ReportText(line: line, start: start, count: content.count), seconds: instant.seconds,
      nanoseconds: instant.nanoseconds)
  }

  private mutating func word<Word>(_ words: NameTable<Word>) throws(GiveUp) -> Word {
    guard let word = words.value(for: try plainString()) else { throw GiveUp() }
    return word
  }

  private mutating func words<Word>(_ words: NameTable<Word>, limit: Int?) throws(GiveUp) -> [Word] {
    try array(limit: limit) { (parser: inout Self) throws(GiveUp) -> Word in try parser.word(words) }
  }

  private mutating func number(in range: ClosedRange<Double>) throws(GiveUp) -> Double {
    guard cursor.index < cursor.bytes.count else { throw GiveUp() }
    let byte = cursor.bytes[cursor.index]
    guard byte == UInt8(ascii: "-") || byte &- UInt8(ascii: "0") < 10 else { throw GiveUp() }
    let start = cursor.index
    let value: Double
    do { value = try cursor.scanNumber() } catch { throw GiveUp() }
    // In the range as written, not only once rounded (`90.0000000000000000001`, `-1e-400`).
    guard JSONNumberText.value(value, writtenAs: UnsafeBufferPointer(rebasing: cursor.bytes[start..<cursor.index]), liesIn: range)
    else { throw GiveUp() }
    return value
  }

  private mutating func count() throws(GiveUp) -> Int {
    let start = cursor.index
    let value = try number(in: 0...Double(ReportParser.maxCount))
    guard Double(Int(value)) == value else { throw GiveUp() }
    // Whole as written, not only once rounded (`1e-400`); the full parser says why not.
    guard JSONNumberText.isWhole(UnsafeBufferPointer(rebasing: cursor.bytes[start..<cursor.index])) else { throw GiveUp() }
    return Int(value)
  }

  private mutating func bool() throws(GiveUp) -> Bool {
    guard cursor.index < cursor.bytes.count else { throw GiveUp() }
    do {
      switch cursor.bytes[cursor.index] {
      case UInt8(ascii: "t"):
        try cursor.scanLiteral("true")
        return true
      case UInt8(ascii: "f"):
        try cursor.scanLiteral("false")
        return false
      default: throw GiveUp()
      }
    } catch {
      throw GiveUp()
    }
  }
}
