import Foundation
import VigilCore

/// What the daemon remembers of every accepted report, to answer a resubmission
/// (docs/protocol.md): its id's digest, where its line is in the journal, and where its
/// alerts are in the log — about 40 bytes a report, not the report. A resubmitted id is
/// compared with the journal's copy of the report (`ReportContent`).
public struct DuplicateIndex: Sendable {
  public struct Entry: Sendable, Equatable {
    /// Where the report's line is in the journal (`Journal.place(ofOffset:)`; for the file
    /// opened at start, its offset).
    public let journalPlace: Int64
    /// The `seq` of the report's first alert, and how many it fired; they are contiguous.
    /// (With no alerts, `firstSeq` means nothing.)
    public let firstSeq: UInt64
    public let alertCount: UInt32

    public init(journalPlace: Int64, firstSeq: UInt64, alertCount: UInt32) {
      self.journalPlace = journalPlace
      self.firstSeq = firstSeq
      self.alertCount = alertCount
    }

    /// The seqs of the alerts first recorded for the report.
    public var seqs: [UInt64] { (0..<UInt64(alertCount)).map { firstSeq + $0 } }
  }

  private var entries = CompactDigestTable()

  public init() {}

  public var count: Int { entries.count }

  /// The report recorded with this id, if any.
  public func entry(id: String) -> Entry? {
    entries[ReportDigest.id(id)]
  }

  /// The same, for an id whose digest (`ReportDigest.id`) is known.
  public func entry(key: Digest128) -> Entry? {
    entries[key]
  }

  public mutating func record(id: String, entry: Entry) {
    record(key: ReportDigest.id(id), entry: entry)
  }

  public mutating func record(key: Digest128, entry: Entry) {
    entries.set(key, entry)
  }

  /// The report recorded with this id's digest, or where a new one would go
  /// (`CompactDigestTable.Vacancy`).
  func lookup(key: Digest128) -> (entry: Entry?, vacancy: CompactDigestTable.Vacancy?) {
    entries.lookup(key)
  }

  /// Records a report whose id `lookup` did not find, at the place it found, and nothing
  /// recorded with that id since.
  mutating func recordNew(key: Digest128, entry: Entry, at vacancy: CompactDigestTable.Vacancy?) {
    guard let vacancy else { return record(key: key, entry: entry) }
    entries.insertNew(key, entry, at: vacancy)
  }

  /// Rebuilds the index from the journal and the alert log files (oldest first), as the
  /// daemon does on start. Lines that cannot be read are skipped and counted. The journal
  /// goes first, each report entered without alerts; the alert log's records then fill in
  /// their reports' entries where they stand, so nothing is held beside the index itself
  /// (a table of every report's alerts would cost as much again), and both files are read
  /// a slice at a time.
  public static func rebuild(journal: String, alertLogs: [String]) -> (index: DuplicateIndex, unreadable: Int) {
    rebuild(journals: [(journal, 0)], alertLogs: alertLogs)
  }

  /// The same from several journal files, oldest first, each with its file number in
  /// places (`Journal.place(file:offset:)`): those rotated before the start, then the one
  /// being written. A later copy of an id stands.
  public static func rebuild(journals: [(path: String, file: Int)], alertLogs: [String]) -> (
    index: DuplicateIndex, unreadable: Int
  ) {
    var index = DuplicateIndex()
    var unreadable = 0
    for (journal, file) in journals {
      FileLines.forEach(atPath: journal) { line, offset in
        guard case .object(let entry)? = try? JSONValue.parse(Array(line), envelope: JSONScanner.journalEnvelope),
          case .object(let report)? = entry["report"],
          case .string(let id)? = report["id"]
        else {
          unreadable += 1
          return
        }
        // Until its first record is found, `firstSeq` holds when the report was received.
        let received = entry["received_at"].flatMap { value -> Int64? in
          guard case .string(let text) = value else { return nil }
          return AlertIndex.milliseconds(text)
        }
        index.record(
          id: id,
          entry: Entry(
            journalPlace: Journal.place(file: file, offset: offset), firstSeq: UInt64(max(0, received ?? 0)), alertCount: 0))
      }
    }
    for path in alertLogs {
      FileLines.forEach(atPath: path) { line, _ in
        guard case .object(let record)? = try? JSONValue.parse(Array(line)), case .number(let seq)? = record["seq"]
        else {
          unreadable += 1
          return
        }
        guard case .string(let reportID)? = record["report_id"] else { return }
        let key = ReportDigest.id(reportID)
        guard let known = index.entries[key] else { return }
        // A report's records are consecutive, and stamped with the time its commit received
        // it (one clock reading per commit). The same id may have been recorded before, its
        // first copy in a journal since moved aside: that run, committed at another time,
        // is not the journalled report's.
        if known.alertCount > 0 {
          guard UInt64(seq) == known.firstSeq + UInt64(known.alertCount) else { return }
          index.entries.set(
            key, Entry(journalPlace: known.journalPlace, firstSeq: known.firstSeq, alertCount: known.alertCount + 1))
          return
        }
        // The run starts with a record stamped when the journalled report was received.
        guard case .string(let text)? = record["time"], let time = AlertIndex.milliseconds(text),
          UInt64(max(0, time)) == known.firstSeq
        else { return }
        index.entries.set(key, Entry(journalPlace: known.journalPlace, firstSeq: UInt64(seq), alertCount: 1))
      }
    }
    return (index, unreadable)
  }
}
