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
  /// oldest first, kept open for reading until the daemon stops or more than
  /// `mostMovedAside` pile up: the duplicate index still points into them.
  private var movedAside: [Int32] = []
  static let mostMovedAside = 64
  /// Where this daemon's writes end: the file is shorter only if it was cut behind its back.
  private var end: Int64
  /// Whether lines the duplicate index may point to are gone since it last asked
  /// (`takeLinesGone`): the file was cut in place, or the files moved aside were let go.
  private var linesGone = false
  /// Bytes of a torn last line cut when the journal was opened (0 when none), kept in
  /// `tornPath`.
  public var cutBytes: Int { file.cutBytes }
  public var tornPath: String { file.tornPath }

  public init(path: String) throws(Failure) {
    self.path = path
    file = try AppendOnlyFile(path: path)
    end = file.size
  }

  /// Appends one line per report, as one write; nothing is synced. Gives the offset each
  /// line starts at in the file.
  @discardableResult
  public func append(_ entries: [(receivedAt: String, report: ReportText)]) throws(Failure) -> [Int64] {
    var out = JSONBytes(capacity: entries.reduce(0) { $0 + $1.report.utf8Count + 64 })
    var offsets: [Int64] = []
    offsets.reserveCapacity(entries.count)
    let start = file.size
    // Shorter than written: cut in place behind the daemon's back (logrotate's copytruncate).
    if start < end { linesGone = true }
    for entry in entries {
      offsets.append(start + Int64(out.count))
      out.raw(#"{"received_at":""#)
      out.verbatim(entry.receivedAt)
      out.raw(#"","report":"#)
      entry.report.withUTF8 { out.append($0) }
      out.raw("}\n")
    }
    try file.append(out)
    end = start + Int64(out.count)
    return offsets
  }

  deinit {
    for descriptor in movedAside { close(descriptor) }
  }

  /// Journals rotated before this start (by logrotate, or by hand, beside the journal),
  /// oldest first: kept open for reading as files moved aside while running are, so the
  /// duplicate index rebuilt at start points into them too. At most `mostRotatedAtStart`,
  /// the newest, leaving room for moves while running. Gives each one kept with its file
  /// number (`place(file:offset:)`); call before the first append.
  public func keepRotated(_ paths: [String]) -> [(path: String, file: Int)] {
    var kept: [(path: String, file: Int)] = []
    for path in paths.suffix(Self.mostRotatedAtStart) {
      let descriptor = open(path, O_RDONLY | O_CLOEXEC)
      guard descriptor >= 0 else { continue }
      // Read through the descriptor kept (`/proc/self/fd/N` opens that very file), so a
      // rotation renaming the files meanwhile cannot make the places point elsewhere.
      kept.append(("/proc/self/fd/\(descriptor)", movedAside.count))
      movedAside.append(descriptor)
    }
    rotatedAtStart = movedAside.count
    return kept
  }

  /// How many of `movedAside` were rotated before this start: those moved aside while
  /// running are counted apart, up to `mostMovedAside`.
  private var rotatedAtStart = 0

  static let mostRotatedAtStart = 48

  /// The files moved aside that are kept open, oldest first, as descriptors of their own
  /// (duplicated: the journal may close its own meanwhile, and the number be reused) for a
  /// rebuild of the patterns' windows on another thread, which reads them before the file
  /// being written and then closes them.
  public func duplicatedMovedAside() -> [Int32] {
    movedAside.compactMap { descriptor in
      let copy = fcntl(descriptor, F_DUPFD_CLOEXEC, 0)
      return copy >= 0 ? copy : nil
    }
  }

  /// The file being written, as a descriptor of its own for a rebuild on another thread
  /// (which closes it): a reopen meanwhile cannot make it read another file. -1 if none.
  public func duplicatedCurrent() -> Int32 {
    file.readingDescriptor()
  }

  /// The inode of the file being written.
  public var inode: UInt64 { file.inode }

  /// The files moved aside from file number `first` on (`currentFile` when it was marked),
  /// as descriptors of their own: those a reopen put aside after it, oldest first. None
  /// when the files moved aside were let go since.
  public func duplicatedMovedAside(from first: Int) -> [Int32] {
    guard first >= 0, first < movedAside.count else { return [] }
    return movedAside[first...].compactMap { descriptor in
      let copy = fcntl(descriptor, F_DUPFD_CLOEXEC, 0)
      return copy >= 0 ? copy : nil
    }
  }

  /// The number of the file being written, as places give it.
  public var currentFile: Int { movedAside.count }

  /// A place from a file's number and an offset in it (`place(ofOffset:)` for the file
  /// being written).
  public static func place(file: Int, offset: Int64) -> Int64 {
    Int64(file) << offsetBits | (offset & offsetMask)
  }

  /// Where a line is, as the duplicate index keeps it: the file (0 for the one opened at
  /// start or after `takeLinesGone` said yes, one more for each file moved aside since) in
  /// the top 16 bits, the offset in it in the other 48.
  public func place(ofOffset offset: Int64) -> Int64 {
    Self.place(file: movedAside.count, offset: offset)
  }

  private static let offsetMask: Int64 = (1 << 48) - 1

  private static let offsetBits: Int64 = 48

  /// The line at a place (`place(ofOffset:)`), without its newline: from the file being
  /// written, or from one moved aside.
  public func line(atPlace place: Int64) throws(Failure) -> [UInt8] {
    let file = Int(place >> Self.offsetBits)
    let offset = place & Self.offsetMask
    if file == movedAside.count { return try self.file.line(at: offset) }
    guard file >= 0, file < movedAside.count else {
      throw Failure(description: "no journal file \(file) (only \(movedAside.count) moved aside)")
    }
    return try AppendOnlyFile.line(in: movedAside[file], named: "\(path) (moved aside)", at: offset)
  }

  /// Opens the path again (after it was moved away). The file it was moved from stays
  /// open for reading, also when the new one then fails to open properly.
  public func reopen() throws(Failure) {
    if file.size < end { linesGone = true }
    let before = file.inode
    let reader = file.readingDescriptor()
    guard reader >= 0 else {
      throw Failure(description: "cannot keep \(path) open for reading: \(String(cString: strerror(errno)))")
    }
    defer {
      if file.inode != before {
        movedAside.append(reader)
        if movedAside.count - rotatedAtStart > Self.mostMovedAside {
          // As at a restart: the index starts again with the file being written.
          for descriptor in movedAside { close(descriptor) }
          movedAside = []
          rotatedAtStart = 0
          linesGone = true
        }
      } else {
        close(reader)
      }
      end = file.size
    }
    try file.reopen()
  }

  /// Whether lines the duplicate index may point to are gone since it last asked: the file
  /// was cut in place behind the daemon's back (logrotate's `copytruncate`), or the files
  /// moved aside were let go. Asking clears it; the index then starts again.
  public func takeLinesGone() -> Bool {
    if file.size < end { linesGone = true }
    end = file.size
    defer { linesGone = false }
    return linesGone
  }

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

  public init(inode: UInt64, size: Int64) {
    self.inode = inode
    self.size = size
  }
}
