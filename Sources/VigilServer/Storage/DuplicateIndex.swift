import Foundation
import VigilCore

/// What the daemon remembers of every accepted report, to answer a resubmission
/// (docs/protocol.md): digests of its id and content, and where its alerts are in the log —
/// about 48 bytes a report, not the report.
public struct DuplicateIndex: Sendable {
  public struct Entry: Sendable, Equatable {
    public let content: Digest128
    /// The `seq` of the report's first alert, and how many it fired; they are contiguous.
    public let firstSeq: UInt64
    public let alertCount: UInt32

    public init(content: Digest128, firstSeq: UInt64, alertCount: UInt32) {
      self.content = content
      self.firstSeq = firstSeq
      self.alertCount = alertCount
    }

    /// The seqs of the alerts first recorded for the report.
    public var seqs: [UInt64] { (0..<UInt64(alertCount)).map { firstSeq + $0 } }
  }

  /// What a new report is, against those already accepted.
  public enum Verdict: Equatable, Sendable {
    case new
    case duplicate(Entry)
    case conflict
  }

  private var entries = CompactDigestTable()

  public init() {}

  public var count: Int { entries.count }

  public func verdict(id: String, content: Digest128) -> Verdict {
    verdict(key: ReportDigest.id(id), content: content)
  }

  /// The same, for an id whose digest (`ReportDigest.id`) is known.
  public func verdict(key: Digest128, content: Digest128) -> Verdict {
    guard let entry = entries[key] else { return .new }
    return entry.content == content ? .duplicate(entry) : .conflict
  }

  public mutating func record(id: String, entry: Entry) {
    record(key: ReportDigest.id(id), entry: entry)
  }

  public mutating func record(key: Digest128, entry: Entry) {
    entries.set(key, entry)
  }

  /// Rebuilds the index from the journal and the alert log files (oldest first), as the
  /// daemon does on start. Lines that cannot be read are skipped and counted. The journal
  /// goes first, each report entered without alerts; the alert log's records then fill in
  /// their reports' entries where they stand, so nothing is held beside the index itself
  /// (a table of every report's alerts would cost as much again), and both files are read
  /// a slice at a time.
  public static func rebuild(journal: String, alertLogs: [String]) -> (index: DuplicateIndex, unreadable: Int) {
    var index = DuplicateIndex()
    var unreadable = 0
    FileLines.forEach(atPath: journal) { line, _ in
      guard case .object(let entry)? = try? JSONValue.parse(Array(line)), case .object(let report)? = entry["report"],
        case .string(let id)? = report["id"]
      else {
        unreadable += 1
        return
      }
      guard let content = try? ReportDigest.content(of: canonicalSource(report)) else { return }
      index.record(id: id, entry: Entry(content: content, firstSeq: 0, alertCount: 0))
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
        index.entries.set(
          key,
          known.alertCount == 0
            ? Entry(content: known.content, firstSeq: UInt64(seq), alertCount: 1)
            : Entry(content: known.content, firstSeq: known.firstSeq, alertCount: known.alertCount + 1))
      }
    }
    return (index, unreadable)
  }

  /// A report object written back as JSON, for its digest (the digest does not depend on
  /// how it is written).
  private static func canonicalSource(_ object: JSONObject) -> [UInt8] {
    Array(JSONText.value(.object(object)).utf8)
  }
}
