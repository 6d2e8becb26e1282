import Foundation
import NIOConcurrencyHelpers
import VigilCore

/// The console's index of alert records (docs/console.md, "The index"): the newest
/// `http.index_limit` records with what filtering and joining need — time, incident time,
/// priority, rule, region, coordinates, where the report is in the journal — and each
/// record's exact line; and counts over every record since the start of the log.
///
/// The writer adds each committed batch (one lock, appends only); the console's readers
/// take a snapshot under the same lock — the list of chunks and how far each is filled — and
/// scan it without the lock, so a query never holds the writer up. Entries and lines are
/// written once into fixed-size chunks and never moved (AlertIndexChunk), which is what
/// makes reading them without the lock sound.
public final class AlertIndex: Sendable {
  /// One indexed record.
  public struct Entry: Sendable {
    public let seq: UInt64
    /// The record's `time` and its incident time (`occurred_at`, else `time`), in ms.
    public let timeMs: Int64
    public let incidentMs: Int64
    public let priority: Priority
    /// Indexes into the names table: the rule; the region (0: none).
    let rule: UInt32
    let place: UInt32
    /// The report's coordinates (NaN: none).
    public let lat: Float
    public let lon: Float
    public let report: JournalPosition?
    /// Where the record's line is in the alert log (file inode, offset), when known.
    public let logged: JournalPosition?
    /// Where the line is in its chunk, and its `message` value within the line.
    let lineStart: Int
    let lineLength: UInt32
    let messageStart: UInt32
    let messageLength: UInt32
  }

  /// Counts over every record added (the overview), whatever the index still holds.
  public struct Counts: Sendable {
    /// Alerts of incident rules (not `vigil.*` records) by priority.
    public var byPriority: [Priority: Int] = [:]
    public var byRule: [String: Int] = [:]
    /// By region key (or the report's own text when no atlas names it).
    public var byPlace: [String: Int] = [:]
    /// By day of incident time (days since 1970-01-01), then priority.
    public var byDay: [Int: [Priority: Int]] = [:]
    public var total = 0
    public var newestIncidentMs: Int64?
  }

  struct State {
    var chunks: [AlertIndexChunk] = []
    var held = 0
    var names = NameTable()
    /// `names`' number for each rule number (RuleNumbers) met so far; 0 where none yet.
    var nameOfRuleNumber: [UInt32] = []
    var tally = AlertTally()
    /// The highest seq added.
    var lastSeq: UInt64 = 0
    /// Records the start-up build has read, and whether it is done.
    var building = true
    /// The last record time parsed, and its value.
    var lastTime: (String, Int64)?

    /// `names`' number for the record's rule: by the rule's number when it has one (no
    /// hashing of the id), else by its id.
    mutating func ruleName(of record: AlertRecord) -> UInt32 {
      let number = Int(record.ruleNumber)
      if number > 0, number < nameOfRuleNumber.count, nameOfRuleNumber[number] != 0 { return nameOfRuleNumber[number] }
      let name = names.index(of: record.rule)
      if number > 0 { nameOfRuleNumber.store(name, at: number, padding: 0) }
      return name
    }

    /// Stores a line in the newest chunk (a new one when it does not fit there) and the
    /// entry made for it once where it starts in that chunk is known.
    mutating func append(line: UnsafeBufferPointer<UInt8>, entry: (_ lineStart: Int) -> Entry) {
      if chunks.last.map({ !$0.fits(lineBytes: line.count) }) ?? true {
        chunks.append(AlertIndexChunk(lineBytes: line.count))
      }
      let chunk = chunks[chunks.count - 1]
      chunk.append(entry(chunk.store(line)))
      held += 1
    }
  }

  public let limit: Int
  public let atlas: RegionAtlas?
  private let state = NIOLockedValueBox(State())
  /// The region key of each governorate text met (nil: none by that text), by the text's
  /// bytes: found on the connections' threads for every report with alerts, where a
  /// `String` of the text and a dictionary's SipHash of it cost ~700 instructions
  /// (bench/count-instructions). Texts longer than `longestRemembered` bytes are no
  /// governorate's name and are not kept: the cache holds at most 2^15 texts of that size.
  private let regionOfText = TextCache<TextRegion>(limit: 10_000)
  static let longestRemembered = 256
  /// A governorate text the atlas does not name, by its case-folded form: the spelling it
  /// was first counted under. The filter finds such a text in any case (`eastern ghouta`
  /// finds `Eastern Ghouta`), so the overview counts its spellings as one row; a region's
  /// key written in another case (`sy07`) is that region.
  private let spellingOfFolded = NIOLockedValueBox([String: String]())
  private let keyOfFolded: [String: String]

  public init(limit: Int, atlas: RegionAtlas?) {
    self.limit = limit
    self.atlas = atlas
    keyOfFolded = Dictionary(
      (atlas?.regions ?? []).map { ($0.key.lowercased(), $0.key) }, uniquingKeysWith: { first, _ in first })
  }

  // MARK: Adding

  /// One committed record: its seq, record and line; its report's facts when it has one.
  public struct Committed {
    public let seq: UInt64
    public let record: AlertRecord
    /// Its line, UTF-8, as the log holds it.
    public let lineBytes: ArraySlice<UInt8>
    public let report: ReportFacts?
    /// Where its line is in the alert log.
    public let logged: JournalPosition?
    /// Where the `message` value is in the line, when the writer knows it (else it is found).
    public let message: Range<Int>?

    public init(
      seq: UInt64, record: AlertRecord, lineBytes: ArraySlice<UInt8>, report: ReportFacts?,
      logged: JournalPosition? = nil, message: Range<Int>? = nil
    ) {
      self.seq = seq
      self.record = record
      self.lineBytes = lineBytes
      self.report = report
      self.logged = logged
      self.message = message
    }

    public init(seq: UInt64, record: AlertRecord, line: String, report: ReportFacts?, logged: JournalPosition? = nil) {
      self.init(seq: seq, record: record, lineBytes: Array(line.utf8)[...], report: report, logged: logged)
    }

    /// Its line as text.
    public var line: String { String(decoding: lineBytes, as: UTF8.self) }
  }

  /// Adds records in `seq` order, newer than every one held (the writer's, or the start-up
  /// build's before the writer's first).
  public func add(_ committed: [Committed]) {
    guard !committed.isEmpty else { return }
    let places = committed.map { $0.report.flatMap { $0.regionFound ? $0.region : region(of: $0) } }
    state.withLockedValue { state in
      // Through a buffer pointer: iterating the array copied each item, every reference in it retained.
      committed.withUnsafeBufferPointer { committed in
        for index in committed.indices where committed[index].seq > state.lastSeq {
          append(committed[index], place: places[index], to: &state)
        }
      }
      evict(&state)
    }
  }

  /// Marks the index complete with nothing from before (files that held no records).
  public func completeEmpty() { addBuilt(State()) }

  /// Takes what the start-up build made of the files (AlertIndexLoader: records older than
  /// any the writer added, and the counts over all of them), and marks the index complete.
  func addBuilt(_ built: State) {
    var built = built
    state.withLockedValue { state in
      // The writer's records, added meanwhile, go after the built ones.
      for chunk in state.chunks {
        for index in 0..<chunk.count { Self.copy(chunk.entry(index), from: chunk, names: state.names, into: &built) }
      }
      built.tally.add(state.tally, numberedBy: state.names, into: &built.names)
      built.lastSeq = max(built.lastSeq, state.lastSeq)
      built.lastTime = state.lastTime
      built.building = false
      state = built
      evict(&state)
    }
  }

  private func append(_ item: borrowing Committed, place: String?, to state: inout State) {
    // The records of a batch share their time: parsed once.
    let timeMs: Int64
    if let (text, ms) = state.lastTime, text == item.record.time {
      timeMs = ms
    } else {
      timeMs = Self.milliseconds(item.record.time) ?? 0
      state.lastTime = (item.record.time, timeMs)
    }
    let incidentMs = item.record.occurredAtText.flatMap(Self.milliseconds) ?? timeMs
    let rule = state.ruleName(of: item.record)
    let placeIndex = place.map { state.names.index(of: $0) } ?? 0
    // The entry's members read here, so that the closure below captures plain values (it
    // captured `item`, copying the whole record, its line and its report's facts).
    let (seq, priority, logged) = (item.seq, item.record.priority, item.logged)
    let lat = item.report?.lat.map(Float.init) ?? .nan
    let lon = item.report?.lon.map(Float.init) ?? .nan
    let reportPosition = item.report?.journal
    item.lineBytes.withUnsafeBufferPointer { bytes in
      let text = UnsafeBufferPointer(rebasing: bytes[..<(bytes.last == 0x0A ? bytes.count - 1 : bytes.count)])
      let message = item.message.flatMap { $0.upperBound <= text.count ? $0 : nil } ?? Self.messageRange(in: text)
      state.append(line: text) { start in
        Entry(
          seq: seq, timeMs: timeMs, incidentMs: incidentMs, priority: priority, rule: rule, place: placeIndex,
          lat: lat, lon: lon, report: reportPosition, logged: logged, lineStart: start,
          lineLength: UInt32(text.count), messageStart: UInt32(message.lowerBound),
          messageLength: UInt32(message.count))
      }
    }
    state.lastSeq = item.seq
    guard !item.record.rule.hasPrefix("vigil.") else { return }
    state.tally.count(priority: item.record.priority, rule: rule, incidentMs: incidentMs)
    if place != nil { state.tally.count(place: placeIndex) }
  }

  /// Copies an entry into another state, its names numbered as that state numbers them.
  private static func copy(_ entry: Entry, from chunk: AlertIndexChunk, names: NameTable, into state: inout State) {
    let rule = state.names.index(of: names.name(entry.rule))
    let place = entry.place == 0 ? 0 : state.names.index(of: names.name(entry.place))
    state.append(line: chunk.line(of: entry)) { start in
      Entry(
        seq: entry.seq, timeMs: entry.timeMs, incidentMs: entry.incidentMs, priority: entry.priority, rule: rule,
        place: place, lat: entry.lat, lon: entry.lon, report: entry.report, logged: entry.logged, lineStart: start,
        lineLength: entry.lineLength, messageStart: entry.messageStart, messageLength: entry.messageLength)
    }
  }

  /// Whole chunks of the oldest records go once the newest `limit` are held without them.
  private func evict(_ state: inout State) {
    while let oldest = state.chunks.first, state.held - oldest.count >= limit, state.chunks.count > 1 {
      state.chunks.removeFirst()
      state.held -= oldest.count
    }
  }

  /// The region a report is counted under: the atlas's key for its governorate text, else
  /// for its coordinates, else its governorate text as written (also without an atlas).
  public func region(of facts: ReportFacts) -> String? {
    region(governorate: facts.governorate.map { ReportText($0) }, lat: facts.lat, lon: facts.lon)
  }

  /// The same, from the report's own text (no `String` made of it when it was met before).
  public func region(governorate: ReportText?, lat: Double?, lon: Double?) -> String? {
    var unknown: String?
    if let governorate, governorate.utf8Count > 0 {
      let found =
        governorate.utf8Count <= Self.longestRemembered
        ? regionOfText.value(for: governorate, compute: { regionOfText(written: $0.string) })
        : regionOfText(written: governorate.string)
      switch found {
      case .region(let key): return key
      case .unknown(let spelling): unknown = spelling
      case .blank: break
      }
    }
    if let atlas, let lat, let lon, let region = atlas.region(containing: GeoPoint(lon: lon, lat: lat)) {
      return region
    }
    // A governorate the atlas does not name (`Northern countryside`), at no point it
    // places: its text as written, so the alert is still counted and found by it.
    return unknown
  }

  /// What a governorate text says of the region.
  enum TextRegion: Sendable {
    /// The atlas's region of that name (or, without an atlas, the text itself).
    case region(String)
    /// A name the atlas does not know: the spelling its case-folded form was first met in.
    case unknown(String)
    /// Only spaces.
    case blank
  }

  private func regionOfText(written: String) -> TextRegion {
    let text = written.trimmingSpaces
    guard !text.isEmpty else { return .blank }
    guard let atlas else { return .region(text) }
    if let key = atlas.region(named: text) { return .region(key) }
    let folded = text.lowercased()
    // A region's key in another case (`sy07`) is that region, after the coordinates too:
    // as written, it names no region the atlas reads.
    if let key = keyOfFolded[folded] { return .unknown(key) }
    return .unknown(
      spellingOfFolded.withLockedValue { spellings in
        if let first = spellings[folded] { return first }
        spellings[folded] = text
        return text
      })
  }

  // MARK: Reading

  /// What a reader scans: the chunks and how many entries of each were written when it was
  /// taken, the names as they were.
  public struct Snapshot: Sendable {
    let chunks: [(chunk: AlertIndexChunk, count: Int)]
    let names: NameTable
    let tally: AlertTally
    /// The overview's counts, made when asked.
    public var counts: Counts { tally.counts(names: names) }
    public var newestIncidentMs: Int64? { tally.newestIncidentMs }
    /// The newest day of incident time (days since 1970) on or before `day`.
    public func newestIncidentDay(notAfter day: Int) -> Int? { tally.newestIncidentDay(notAfter: day) }
    public let held: Int
    public let building: Bool
    public let atlas: RegionAtlas?

    /// Entries newest first, with their chunk (for the line).
    func newestFirst(_ body: (Entry, AlertIndexChunk) -> Bool) {
      for (chunk, count) in chunks.reversed() {
        var index = count - 1
        while index >= 0 {
          if !body(chunk.entry(index), chunk) { return }
          index -= 1
        }
      }
    }

    /// Entries newest first, until `body` says stop.
    public func newestEntries(_ body: (Entry) -> Bool) {
      newestFirst { entry, _ in body(entry) }
    }

    public func rule(of entry: Entry) -> String { names.name(entry.rule) }
    public func place(of entry: Entry) -> String? { entry.place == 0 ? nil : names.name(entry.place) }

    /// The entry with this seq, and its line.
    public func alert(seq: UInt64) -> IndexedAlert? {
      for (chunk, count) in chunks.reversed() where count > 0 {
        guard chunk.entry(0).seq <= seq else { continue }
        // Seqs rise within a chunk: a binary search.
        var low = 0
        var high = count - 1
        while low <= high {
          let middle = (low + high) / 2
          let entry = chunk.entry(middle)
          if entry.seq == seq { return IndexedAlert(entry: entry, line: chunk.lineText(of: entry), snapshot: self) }
          if entry.seq < seq { low = middle + 1 } else { high = middle - 1 }
        }
        return nil
      }
      return nil
    }

    /// The oldest seq held.
    public var oldestSeq: UInt64? { chunks.first { $0.count > 0 }.map { $0.chunk.entry(0).seq } }

    /// The newest seq held.
    public var newestSeq: UInt64? { chunks.last { $0.count > 0 }.map { $0.chunk.entry($0.count - 1).seq } }
  }

  public func snapshot() -> Snapshot {
    state.withLockedValue { state in
      Snapshot(
        chunks: state.chunks.map { ($0, $0.count) }, names: state.names, tally: state.tally, held: state.held,
        building: state.building, atlas: atlas)
    }
  }

  // MARK: Parsing what a line holds

  public static func milliseconds(_ text: String) -> Int64? {
    // Read in place: a `Timestamp` would copy the text into storage of its own.
    text.withUTF8InPlace(milliseconds(utf8:))
  }

  public static func milliseconds(_ text: ReportText) -> Int64? {
    text.withUTF8(milliseconds(utf8:))
  }

  private static func milliseconds(utf8 bytes: UnsafeBufferPointer<UInt8>) -> Int64? {
    Timestamp.instant(of: bytes).map { $0.seconds * 1000 + Int64($0.nanoseconds / 1_000_000) }
  }

  public static func day(ofMilliseconds ms: Int64) -> Int {
    Int((ms >= 0 ? ms : ms - 86_399_999) / 86_400_000)
  }

  /// The bytes of the `message` member's value (escaped as in the line, quotes excluded).
  /// The line is a record as AlertRecord writes it: the first `,"message":"` outside a
  /// string is the member, since a string holds its quotes escaped.
  static func messageRange(in line: [UInt8]) -> Range<Int> {
    line.withUnsafeBufferPointer { messageRange(in: $0) }
  }

  static func messageRange(in line: UnsafeBufferPointer<UInt8>) -> Range<Int> {
    let key: StaticString = ",\"message\":\""
    let keyLength = key.utf8CodeUnitCount
    let keyBytes = UnsafeBufferPointer(start: key.utf8Start, count: keyLength)
    guard line.count > keyLength else { return 0..<0 }
    var index = 0
    while index + keyLength <= line.count {
      if line[index] == 0x2C, UnsafeBufferPointer(rebasing: line[index..<index + keyLength]).elementsEqual(keyBytes) {
        let start = index + keyLength
        var end = start
        while end < line.count, line[end] != UInt8(ascii: "\"") {
          end += line[end] == UInt8(ascii: "\\") ? 2 : 1
        }
        return start..<min(end, line.count)
      }
      index += 1
    }
    return 0..<0
  }
}

/// Strings the index refers to by number: rule ids and region keys.
struct NameTable: Sendable {
  private var names: [String] = [""]
  private var numbers: [String: UInt32] = [:]

  mutating func index(of name: String) -> UInt32 {
    if let number = numbers[name] { return number }
    let number = UInt32(names.count)
    names.append(name)
    numbers[name] = number
    return number
  }

  func name(_ number: UInt32) -> String { Int(number) < names.count ? names[Int(number)] : "" }

  var all: [String] { Array(names.dropFirst()) }
}

/// Where a report's line is in the journal: the file (by inode, which a rename keeps) and
/// the offset of the line in it.
public struct JournalPosition: Sendable, Equatable {
  public let inode: UInt64
  public let offset: Int64

  public init(inode: UInt64, offset: Int64) {
    self.inode = inode
    self.offset = offset
  }
}

/// What the console needs of the report behind an alert.
public struct ReportFacts: Sendable, Equatable {
  public var governorate: String?
  public var lat: Double?
  public var lon: Double?
  public var journal: JournalPosition?
  /// The region, when it was found already (on a connection's thread, not the writer's).
  public var region: String?
  public var regionFound = false

  public init(governorate: String?, lat: Double?, lon: Double?, journal: JournalPosition?) {
    self.governorate = governorate
    self.lat = lat
    self.lon = lon
    self.journal = journal
  }
}

/// An entry and its line, as a reader gets it.
public struct IndexedAlert: Sendable {
  public let entry: AlertIndex.Entry
  public let line: String
  public let rule: String
  /// The region's key (or a report's own text), and the name to show for it.
  public let place: String?
  public let placeName: String?

  init(entry: AlertIndex.Entry, line: String, snapshot: AlertIndex.Snapshot) {
    self.entry = entry
    self.line = line
    rule = snapshot.rule(of: entry)
    let place = snapshot.place(of: entry)
    self.place = place
    placeName = place.map { key in snapshot.atlas?.regions.first { $0.key == key }?.name ?? key }
  }

  /// The record's members, read from its line (the loader's reading of a line).
  public var record: AlertRecord {
    AlertIndexLoader.parseRecord(Array(line.utf8))?.1
      ?? AlertRecord(
        time: "", rule: rule, priority: entry.priority, reportID: nil, occurredAt: nil, message: "", basis: [],
        tags: [], ruleset: "")
  }

  /// The line without its newline.
  public var bareLine: Substring { line.hasSuffix("\n") ? line.dropLast() : Substring(line) }
}
