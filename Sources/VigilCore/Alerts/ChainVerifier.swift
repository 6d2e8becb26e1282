/// Walks the alert log's hash chain (docs/alerts.md, "The hash chain") line by line, across
/// rotated files given oldest first, and says what is wrong with the first line that
/// breaks it: altered (its hash does not match its bytes), deleted (records missing
/// before it), inserted or reordered (it does not follow the record before it).
public struct ChainVerifier: Sendable {
  /// The `seq` of the first record seen; not 1 when older files were rotated away.
  public private(set) var firstSeq: UInt64?
  public private(set) var lastSeq: UInt64 = 0
  public private(set) var records = 0
  private var lastHash: String?
  /// The seqs a gap verdict found missing before the line it was given; nil after any
  /// other verdict. Whether one of them comes later tells deleted from reordered
  /// (`reordered(laterSeq:)`).
  public private(set) var missing: ClosedRange<UInt64>?
  /// The `prev` the last record named.
  private var lastPrev: String?
  /// The last break that may be the record before's doing (an "inserted or replaced" or
  /// "out of order" verdict): the line's prev, hash and seq, and the record before it, with
  /// the prev that record named.
  private var lastBreak: (prev: String, hash: String, seq: UInt64, previousSeq: UInt64, previousPrev: String?)?

  /// A record the chain is known to hold (`alerts.head`'s `seq` and `hash`): a line with
  /// its `seq` and another hash, however sound its own, is a rewritten record.
  public var known: (seq: UInt64, hash: String)?

  public init() {}

  /// When the chain ended before the known record: how many records are missing from its end.
  public var missingAtEnd: UInt64? {
    guard let known, records > 0, lastSeq < known.seq else { return nil }
    return known.seq - lastSeq
  }

  /// Checks the next line (without its newline); nil when it continues the chain, else
  /// what is wrong with it.
  public mutating func take(_ line: [UInt8]) -> String? {
    missing = nil
    lastBreak = nil
    guard case .object(let record)? = try? JSONValue.parse(line) else {
      return "altered: not a JSON record"
    }
    guard case .number(let number)? = record["seq"], number >= 1, number == number.rounded(),
      case .string(let prev)? = record["prev"], let (cut, hash) = AlertChain.seal(of: line),
      case .string(hash)? = record["hash"]
    else {
      return "altered: not an alert record (seq, prev and hash, hash last)"
    }
    let seq = UInt64(number)
    guard AlertChain.hash(prev: prev, prefix: Array(line[..<cut])) == hash else {
      return "seq \(seq): altered: its hash does not match its content"
    }
    // A sound hash over a line that is no alert record: written by something else, its
    // hashes recomputed (audit 41: "chain intact" for a stub of seq, prev and hash).
    if let problem = AlertRecordShape.problem(of: record, line: line) {
      return "seq \(seq): altered: not an alert record: \(problem)"
    }
    if let known, known.seq == seq, known.hash != hash {
      return "seq \(seq): altered: alerts.head keeps another hash for it (this record or one before it was rewritten, "
        + "and the hashes after recomputed — or alerts.head itself was altered)"
    }
    defer {
      lastPrev = prev
      lastHash = hash
      lastSeq = seq
      records += 1
    }
    guard let lastHash else {
      firstSeq = seq
      if seq == 1, prev != AlertChain.genesis { return "seq 1: altered: the first record must have prev 000…0" }
      return nil
    }
    if prev == lastHash {
      return seq == lastSeq + 1 ? nil : "seq \(seq): altered: seq \(lastSeq + 1) was expected here"
    }
    if seq > lastSeq + 1 {
      missing = (lastSeq + 1)...(seq - 1)
      let count = seq - lastSeq - 1
      return "seq \(seq): \(count) record\(count == 1 ? "" : "s") deleted before it (after seq \(lastSeq))"
    }
    lastBreak = (prev, hash, seq, lastSeq, lastPrev)
    if seq <= lastSeq {
      return "seq \(seq): out of order after seq \(lastSeq) (reordered or inserted)"
    }
    return "seq \(seq): inserted or replaced: it does not follow the record before it"
  }

  /// After a break that may be the record before's doing, the line after the one that
  /// broke: when it names that line's hash (the line is in its place), the record before it
  /// is suspect — inserted, if the line names the record before that (they link without
  /// it); else, if the seqs run on, replaced with its hash recomputed, or the line given
  /// another `prev` (both are said: the chain cannot tell which). The verdict for the
  /// record before; nil when the line after says nothing of it.
  public func blame(next line: [UInt8]) -> String? {
    guard let lastBreak, case .object(let record)? = try? JSONValue.parse(line), case .string(let prev)? = record["prev"],
      prev == lastBreak.hash
    else { return nil }
    return blameRecordBefore()
  }

  /// The same, when the line that broke is the one `alerts.head` keeps (its seq and hash):
  /// it is in its place however few lines follow it (the last record, rewritten with its
  /// hash recomputed, and a daemon started since chained the next to the head).
  public func blameByHead() -> String? {
    guard let lastBreak, let known, known.seq == lastBreak.seq, known.hash == lastBreak.hash else { return nil }
    return blameRecordBefore()
  }

  /// The verdict for the record before a line known to be in its place.
  private func blameRecordBefore() -> String? {
    guard let lastBreak else { return nil }
    // The record before names the same prev as the line: it was put in before it, a
    // forgery for its place (the first record's too, both naming 000…0).
    if let before = lastBreak.previousPrev, lastBreak.prev == before {
      return "seq \(lastBreak.previousSeq): inserted: the records before and after it name each other"
    }
    // Either this record was rewritten and its hash recomputed, or the one after it was
    // given another `prev`: the chain cannot tell which. The first that may be altered is
    // named, and both are said.
    if lastBreak.seq == lastBreak.previousSeq + 1 {
      return "seq \(lastBreak.previousSeq): replaced (its hash recomputed), or seq \(lastBreak.seq) given another prev: "
        + "seq \(lastBreak.seq) does not name this record's hash, and the records after it follow it"
    }
    return nil
  }

  /// The verdict for the line a gap verdict was given, when the record expected there
  /// (`laterSeq`, the first missing) comes later in the log, at `place`: it was moved, not
  /// deleted. (Another missing one found later says nothing of the first: it may be gone.)
  public func reordered(laterSeq: UInt64, at place: String) -> String? {
    guard let missing, missing.lowerBound == laterSeq else { return nil }
    let expected = missing.lowerBound
    return "seq \(missing.upperBound + 1): reordered: seq \(expected) was expected here and comes later (\(place))"
  }

  /// The `seq` member of an alert record's line, whatever else is wrong with it.
  public static func seq(of line: some Collection<UInt8>) -> UInt64? {
    guard case .object(let record)? = try? JSONValue.parse(Array(line)),
      case .number(let number)? = record["seq"], number >= 1, number == number.rounded(), number < 1e18
    else { return nil }
    return UInt64(number)
  }
}
