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
    guard let entry = entries[ReportDigest.id(id)] else { return .new }
    return entry.content == content ? .duplicate(entry) : .conflict
  }

  public mutating func record(id: String, entry: Entry) {
    entries.set(ReportDigest.id(id), entry)
  }

  /// Rebuilds the index from the journal and the alert log files (oldest first), as the
  /// daemon does on start. Lines that cannot be read are skipped and counted.
  public static func rebuild(journal: String, alertLogs: [String]) -> (index: DuplicateIndex, unreadable: Int) {
    var alerts: [Digest128: (first: UInt64, count: UInt32)] = [:]
    var unreadable = 0
    for path in alertLogs {
      forEachLine(of: path) { line in
        guard case .object(let record)? = try? JSONValue.parse(line), case .number(let seq)? = record["seq"] else {
          unreadable += 1
          return
        }
        guard case .string(let reportID)? = record["report_id"] else { return }
        let key = ReportDigest.id(reportID)
        if let known = alerts[key] {
          alerts[key] = (known.first, known.count + 1)
        } else {
          alerts[key] = (UInt64(seq), 1)
        }
      }
    }
    var index = DuplicateIndex()
    forEachLine(of: journal) { line in
      guard case .object(let entry)? = try? JSONValue.parse(line), case .object(let report)? = entry["report"],
        case .string(let id)? = report["id"]
      else {
        unreadable += 1
        return
      }
      guard let content = try? ReportDigest.content(of: canonicalSource(report)) else { return }
      let placed = alerts[ReportDigest.id(id)]
      index.record(id: id, entry: Entry(content: content, firstSeq: placed?.first ?? 0, alertCount: placed?.count ?? 0))
    }
    return (index, unreadable)
  }

  /// A report object written back as JSON, for its digest (the digest does not depend on
  /// how it is written).
  private static func canonicalSource(_ object: JSONObject) -> [UInt8] {
    Array(JSONText.value(.object(object)).utf8)
  }

  private static func forEachLine(of path: String, _ body: ([UInt8]) -> Void) {
    guard let data = FileManager.default.contents(atPath: path) else { return }
    for line in data.split(separator: UInt8(ascii: "\n")) where !line.isEmpty {
      body([UInt8](line))
    }
  }
}
