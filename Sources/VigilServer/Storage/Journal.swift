import VigilCore

/// The report journal (docs/alerts.md): every accepted report, one line each,
/// `{"received_at":"<RFC 3339 UTC, ms>","report":{…}}`, written before its alerts in the
/// same group commit and never rotated by the daemon.
public final class Journal {
  public typealias Failure = AppendOnlyFileFailure

  public let path: String
  private let file: AppendOnlyFile
  /// Bytes of a torn last line cut when the journal was opened (0 when none).
  public var cutBytes: Int { file.cutBytes }

  public init(path: String) throws(Failure) {
    self.path = path
    file = try AppendOnlyFile(path: path)
  }

  /// Appends one line per report, as one write; nothing is synced. Gives the offset each
  /// line starts at in the file.
  @discardableResult
  public func append(_ entries: [(receivedAt: String, report: ReportText)]) throws(Failure) -> [Int64] {
    var bytes: [UInt8] = []
    bytes.reserveCapacity(entries.reduce(0) { $0 + $1.report.utf8Count + 64 })
    var offsets: [Int64] = []
    offsets.reserveCapacity(entries.count)
    let start = file.size
    for entry in entries {
      offsets.append(start + Int64(bytes.count))
      bytes.append(contentsOf: #"{"received_at":""#.utf8)
      bytes.append(contentsOf: entry.receivedAt.utf8)
      bytes.append(contentsOf: #"","report":"#.utf8)
      entry.report.withUTF8 { bytes.append(contentsOf: $0) }
      bytes.append(contentsOf: "}\n".utf8)
    }
    try file.append(bytes)
    return offsets
  }

  /// The line at `offset` of the file being written (a report's, where `append` said).
  public func line(at offset: Int64) throws(Failure) -> [UInt8] {
    try file.line(at: offset)
  }

  /// Opens the path again (after it was moved away).
  public func reopen() throws(Failure) {
    try file.reopen()
  }

  /// The file being written and how far: what sinks taking reports may read up to.
  public var mark: JournalMark { JournalMark(inode: file.inode, size: file.size) }

  /// The file's size, to cut back to if a commit fails.
  public var size: Int64 { file.size }

  /// Undoes the appends after `size` (a commit that failed part-way acknowledges nothing).
  public func cutBack(to size: Int64) {
    file.cutBack(to: size)
  }

  public func sync() throws(Failure) {
    try file.sync()
  }
}

/// A place in the journal: the file being written (by its inode) and its size.
public struct JournalMark: Equatable, Sendable {
  public let inode: UInt64
  public let size: Int64
}
