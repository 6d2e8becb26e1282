import Foundation
import VigilCore

/// The report journal (docs/alerts.md): every accepted report, one line each,
/// `{"received_at":"<RFC 3339 UTC, ms>","report":{…}}`, written before its alerts in the
/// same group commit and never rotated by the daemon.
public final class Journal {
  public typealias Failure = AppendOnlyFileFailure

  public let path: String
  private let file: AppendOnlyFile
  /// The files this journal was moved aside from (and reopened, by `SIGUSR1` or `reopen`),
  /// oldest first, kept open for reading until the daemon stops: the duplicate index still
  /// points into them.
  private var movedAside: [Int32] = []
  /// Where this daemon's writes end: the file is shorter only if it was cut behind its back.
  private var end: Int64
  /// Bytes of a torn last line cut when the journal was opened (0 when none).
  public var cutBytes: Int { file.cutBytes }

  public init(path: String) throws(Failure) {
    self.path = path
    file = try AppendOnlyFile(path: path)
    end = file.size
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
    end = start + Int64(bytes.count)
    return offsets
  }

  deinit {
    for descriptor in movedAside { close(descriptor) }
  }

  /// Where a line is, as the duplicate index keeps it: the file (0 for the one opened at
  /// start, one more for each file moved aside since) in the top 16 bits, the offset in
  /// it in the other 48.
  public func place(ofOffset offset: Int64) -> Int64 {
    Int64(movedAside.count) << Self.offsetBits | offset
  }

  private static let offsetBits: Int64 = 48

  /// The line at a place (`place(ofOffset:)`), without its newline: from the file being
  /// written, or from one moved aside.
  public func line(atPlace place: Int64) throws(Failure) -> [UInt8] {
    let file = Int(place >> Self.offsetBits)
    let offset = place & ((1 << Self.offsetBits) - 1)
    if file == movedAside.count { return try self.file.line(at: offset) }
    guard file < movedAside.count else {
      throw Failure(description: "no journal file \(file) (only \(movedAside.count) moved aside)")
    }
    return try AppendOnlyFile.line(in: movedAside[file], named: "\(path) (moved aside)", at: offset)
  }

  /// Opens the path again (after it was moved away). The file it was moved from stays
  /// open for reading, also when the new one then fails to open properly.
  public func reopen() throws(Failure) {
    let before = file.inode
    let reader = file.readingDescriptor()
    defer {
      if reader >= 0, file.inode != before { movedAside.append(reader) } else if reader >= 0 { close(reader) }
      end = file.size
    }
    try file.reopen()
  }

  /// Whether the file is shorter than this daemon wrote it: cut in place behind its back
  /// (logrotate's `copytruncate`), so the lines it wrote before are gone.
  public var isCutInPlace: Bool { file.size < end }

  /// The file being written and how far: what sinks taking reports may read up to.
  public var mark: JournalMark { JournalMark(inode: file.inode, size: file.size) }

  /// The file's size, to cut back to if a commit fails.
  public var size: Int64 { file.size }

  /// Undoes the appends after `size` (a commit that failed part-way acknowledges nothing).
  public func cutBack(to size: Int64) {
    file.cutBack(to: size)
    end = min(end, size)
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
