import CVigilBytes
import Crypto

/// One line of the alert log (docs/alerts.md), without its place in the chain: the log gives
/// it a `seq`, the previous record's hash and its own.
public struct AlertRecord: Sendable, Equatable {
  // The members live in one shared object, copied only when a copy is changed: a record
  // goes from its report's check to the writer, the log, the counters, the console's index
  // and the subscribers, and each copy of ten members retained and released them all
  // (about five copies an alert, some 1,800 instructions a report, Callgrind).
  // `time` is kept beside them: the writer stamps every alert with its commit's clock, and
  // setting it inside the object copied the object, every member retained on the writer's
  // core from memory the connection's core had made (perf, eight connections: a fifth of
  // the writer's reference counting). The members are lent (`_read`), not retained.
  private final class Storage: @unchecked Sendable {
    // Written only while uniquely referenced (`unique()`), so unchecked.
    @exclusivity(unchecked) var rule: String
    @exclusivity(unchecked) var ruleNumber: UInt32
    @exclusivity(unchecked) var priority: Priority
    @exclusivity(unchecked) var reportID: String?
    // Bytes, not `String`s: a message is rendered as UTF-8 and an incident time is a slice
    // of its report, and making a `String` of each checked it byte by byte, ~740
    // instructions an alert (bench/count-instructions). `String`s are made when asked for.
    @exclusivity(unchecked) var occurredAt: ReportText?
    @exclusivity(unchecked) var message: ReportText
    @exclusivity(unchecked) var basis: [String]
    @exclusivity(unchecked) var tags: [String]
    @exclusivity(unchecked) var ruleset: String
    @exclusivity(unchecked) var pattern: PatternFacts?

    init(
      rule: String, ruleNumber: UInt32, priority: Priority, reportID: String?, occurredAt: ReportText?,
      message: ReportText, basis: [String], tags: [String], ruleset: String, pattern: PatternFacts?
    ) {
      self.rule = rule
      self.ruleNumber = ruleNumber
      self.priority = priority
      self.reportID = reportID
      self.occurredAt = occurredAt
      self.message = message
      self.basis = basis
      self.tags = tags
      self.ruleset = ruleset
      self.pattern = pattern
    }

    func copy() -> Storage {
      Storage(
        rule: rule, ruleNumber: ruleNumber, priority: priority, reportID: reportID, occurredAt: occurredAt,
        message: message, basis: basis, tags: tags, ruleset: ruleset, pattern: pattern)
    }
  }

  private var storage: Storage
  /// When the record was committed (docs/alerts.md, `time`).
  public var time: String

  private mutating func unique() -> Storage {
    if !isKnownUniquelyReferenced(&storage) { storage = storage.copy() }
    return storage
  }

  public var rule: String {
    _read { yield storage.rule }
    set {
      let storage = unique()
      storage.rule = newValue
      storage.ruleNumber = 0
    }
  }
  /// The rule's number (`Rule.number`) when the record was made from a compiled rule, else
  /// 0: what the writer's counters and the console's index find the rule's place by.
  public var ruleNumber: UInt32 { storage.ruleNumber }
  public var priority: Priority {
    _read { yield storage.priority }
    set { unique().priority = newValue }
  }
  /// The report that fired it; nil for rule-set records.
  public var reportID: String? {
    _read { yield storage.reportID }
    set { unique().reportID = newValue }
  }
  /// The report's `occurred_at` as given; nil for rule-set records.
  public var occurredAt: String? {
    get { storage.occurredAt?.string }
    set { unique().occurredAt = newValue.map { ReportText($0) } }
  }
  /// The same as its UTF-8 bytes, as the record holds it.
  public var occurredAtText: ReportText? { storage.occurredAt }
  public var message: String {
    get { storage.message.string }
    set { unique().message = ReportText(newValue) }
  }
  /// The same as its UTF-8 bytes, as the record holds it.
  public var messageText: ReportText { storage.message }
  public var basis: [String] {
    _read { yield storage.basis }
    set { unique().basis = newValue }
  }
  public var tags: [String] {
    _read { yield storage.tags }
    set { unique().tags = newValue }
  }
  public var ruleset: String {
    _read { yield storage.ruleset }
    set { unique().ruleset = newValue }
  }
  /// For a pattern's record: its group, its span and what makes it (docs/patterns.md).
  public var pattern: PatternFacts? {
    _read { yield storage.pattern }
    set { unique().pattern = newValue }
  }

  public init(
    time: String, rule: String, priority: Priority, reportID: String?, occurredAt: String?, message: String,
    basis: [String], tags: [String], ruleset: String, pattern: PatternFacts? = nil, ruleNumber: UInt32 = 0
  ) {
    self.init(
      time: time, rule: rule, priority: priority, reportID: reportID, occurredAtText: occurredAt.map { ReportText($0) },
      messageText: ReportText(message), basis: basis, tags: tags, ruleset: ruleset, pattern: pattern,
      ruleNumber: ruleNumber)
  }

  /// The same with the incident time and the message as UTF-8 bytes (a report's check
  /// makes them so).
  public init(
    time: String, rule: String, priority: Priority, reportID: String?, occurredAtText: ReportText?,
    messageText: ReportText, basis: [String], tags: [String], ruleset: String, pattern: PatternFacts? = nil,
    ruleNumber: UInt32 = 0
  ) {
    self.time = time
    storage = Storage(
      rule: rule, ruleNumber: ruleNumber, priority: priority, reportID: reportID, occurredAt: occurredAtText,
      message: messageText, basis: basis, tags: tags, ruleset: ruleset, pattern: pattern)
  }

  /// The message and the incident time compare byte for byte (they are held as bytes); the
  /// other texts as `String`s, canonical equivalents equal.
  public static func == (lhs: AlertRecord, rhs: AlertRecord) -> Bool {
    let (a, b) = (lhs.storage, rhs.storage)
    return lhs.time == rhs.time
      && (a === b
        || (a.rule == b.rule && a.priority == b.priority && a.reportID == b.reportID
        && a.occurredAt == b.occurredAt && a.message == b.message && a.basis == b.basis && a.tags == b.tags
        && a.ruleset == b.ruleset && a.pattern == b.pattern))
  }

  /// The record's line, `hash` last, ending with a newline. Written as bytes, not by
  /// joining strings: it is on every report's path.
  public func line(seq: UInt64, prev: String) -> (line: String, hash: String) {
    let written = written(seq: seq, prev: prev)
    return (String(decoding: written.line, as: UTF8.self), written.hash)
  }

  /// The same as UTF-8 bytes (what the log writes: a `String` of them would be checked
  /// byte by byte, 2.4% of the instructions a report), and where the `message` value's
  /// bytes are in the line (escaped as there, quotes excluded), which the console's index
  /// keeps.
  public func written(seq: UInt64, prev: String) -> (line: [UInt8], hash: String, message: Range<Int>) {
    var out = JSONBytes(capacity: bytesToWrite)
    let (hash, message) = write(seq: seq, prev: prev, to: &out)
    return (out.finished(), hash.text, message)
  }

  /// Room for a typical line (its members but the message take ~500 bytes), so that the
  /// bytes it is written to are not grown halfway: a second allocation and copy.
  public var bytesToWrite: Int { 576 + storage.message.utf8Count }

  /// Appends the record's line (as `written`) to `out`, after what it holds already (the
  /// writer puts a commit's lines in one buffer, for one write); gives its hash and where
  /// its `message` value is, counted from the line's first byte.
  public func write(seq: UInt64, prev: String, to out: inout JSONBytes) -> (hash: ChainHash, message: Range<Int>) {
    prev.withUTF8InPlace { write(seq: seq, prev: $0, to: &out) }
  }

  /// The same with the previous record's hash as bytes (`ChainHash.withText`): the writer
  /// chains a commit's records so, making no string of each hash.
  public func write(seq: UInt64, prev: UnsafeBufferPointer<UInt8>, to out: inout JSONBytes) -> (
    hash: ChainHash, message: Range<Int>
  ) {
    let lineStart = out.count
    out.raw("{\"seq\":")
    out.decimal(seq)
    out.raw(",\"time\":")
    out.string(time)
    out.raw(",\"rule\":")
    out.string(rule)
    out.raw(",\"priority\":\"")
    out.verbatim(priority.rawValue)
    out.raw("\",\"report_id\":")
    if let reportID { out.string(reportID) } else { out.raw("null") }
    out.raw(",\"occurred_at\":")
    if let occurredAt = storage.occurredAt { occurredAt.withUTF8 { out.string(utf8: $0) } } else { out.raw("null") }
    out.raw(",\"message\":")
    let messageStart = out.count + 1 - lineStart
    storage.message.withUTF8 { out.string(utf8: $0) }
    let messageRange = messageStart..<(out.count - 1 - lineStart)
    out.raw(",\"basis\":")
    out.strings(basis)
    out.raw(",\"tags\":")
    out.strings(tags)
    out.raw(",\"ruleset\":")
    out.string(ruleset)
    if let pattern {
      out.raw(",\"pattern\":")
      pattern.append(to: &out)
    }
    out.raw(",\"prev\":\"")
    out.append(prev)
    out.raw("\"")
    let hash = out.withWritten {
      AlertChain.chainHash(prev: prev, prefix: UnsafeBufferPointer(rebasing: $0[lineStart...]))
    }
    out.raw(",\"hash\":\"")
    hash.withText { out.append($0) }
    out.raw("\"}\n")
    return (hash, messageRange)
  }
}

/// The tamper-evident chain of the alert log: each record's `hash` is the SHA-256 of the
/// previous record's hash (as hex text) followed by the record's line up to, not
/// including, `,"hash":`.
public enum AlertChain {
  /// The `prev` of the very first record.
  public static let genesis = String(repeating: "0", count: 64)

  /// Where the bytes a record's hash covers end, and the hash, when the line ends as every
  /// record's does: `,"hash":"<64 lowercase hex digits>"}` with nothing after it (no
  /// member, space or carriage return: such bytes would be outside what the hash covers).
  /// Nil for any other line.
  public static func seal(of line: [UInt8]) -> (end: Int, hash: String)? {
    let opening = Array(#","hash":""#.utf8)
    let length = opening.count + 64 + 2
    guard line.count >= length else { return nil }
    let end = line.count - length
    let digits = line[(end + opening.count)..<(line.count - 2)]
    guard line[end..<(end + opening.count)].elementsEqual(opening), line.suffix(2).elementsEqual(#""}"#.utf8),
      digits.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) })
    else { return nil }
    return (end, String(decoding: digits, as: UTF8.self))
  }

  public static func hash(prev: String, prefix: [UInt8]) -> String {
    prefix.withUnsafeBufferPointer { hash(prev: prev, prefix: $0) }
  }

  public static func hash(prev: String, prefix: UnsafeBufferPointer<UInt8>) -> String {
    prev.withUTF8InPlace { chainHash(prev: $0, prefix: prefix) }.text
  }

  /// The hash of a record whose previous record's hash is `prev` (its hex text's bytes) and
  /// whose line up to `,"hash":` is `prefix`.
  public static func chainHash(prev: UnsafeBufferPointer<UInt8>, prefix: UnsafeBufferPointer<UInt8>) -> ChainHash {
    var hasher = SHA256()
    hasher.update(bufferPointer: UnsafeRawBufferPointer(prev))
    hasher.update(bufferPointer: UnsafeRawBufferPointer(prefix))
    return ChainHash(hasher.finalize())
  }
}

/// A record's `hash` as the log holds it, 64 lowercase hex digits, kept as a value: the
/// writer chains a commit's records through these and makes a string of the last one only
/// (a string made of each, and the digest read through its generic `withUnsafeBytes`,
/// cost ~2,000 instructions a record, bench/count-instructions).
public struct ChainHash: Sendable, Equatable {
  private var digits: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0, 0)

  init(_ digest: SHA256Digest) {
    // A digest's value is its 32 bytes (swift-crypto's SHA256Digest holds them as four
    // words), read here in place; ChainHashTests checks the hex against its public bytes.
    precondition(MemoryLayout<SHA256Digest>.size == SHA256Digest.byteCount)
    // In debug builds (the tests), also that those bytes are the digest's public ones, in order.
    assert(withUnsafeBytes(of: digest) { Array($0) } == digest.withUnsafeBytes { Array($0) })
    withUnsafeBytes(of: digest) { bytes in
      withUnsafeMutableBytes(of: &digits) { text in
        vigil_hex_lower(
          bytes.baseAddress!.assumingMemoryBound(to: UInt8.self), SHA256Digest.byteCount,
          text.baseAddress!.assumingMemoryBound(to: UInt8.self))
      }
    }
  }

  /// The 64 hex digits, as bytes.
  public func withText<Result>(_ body: (UnsafeBufferPointer<UInt8>) throws -> Result) rethrows -> Result {
    try withUnsafeBytes(of: digits) { raw in try raw.withMemoryRebound(to: UInt8.self) { try body($0) } }
  }

  /// The 64 hex digits.
  public var text: String {
    withText { String(decoding: $0, as: UTF8.self) }
  }

  public static func == (lhs: ChainHash, rhs: ChainHash) -> Bool {
    lhs.withText { left in rhs.withText { right in left.elementsEqual(right) } }
  }
}
