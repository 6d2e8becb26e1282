import Foundation
import VigilCore

/// A file appended to and rotated by renaming (`name.K` … `name.1`, then `name`), as the
/// alert log is by vigild and the journal may be by logrotate: the files kept, and their
/// complete lines.
public enum RotatedFiles {
  /// The numbers of every rotated file beside `path` (`path.1`, `path.2`, …; a name like
  /// `path.01` or `path.1.gz` is none of them), in no particular order: vigild's rotation
  /// removes those from `keep` up, and `vigil verify` walks them all.
  public static func numbers(beside path: String) -> [Int] {
    let folder = FolderPath.of(path)
    let base = (path as NSString).lastPathComponent + "."
    let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.isEmpty ? "." : folder)) ?? []
    return names.compactMap { name in
      guard name.hasPrefix(base) else { return nil }
      let suffix = name.dropFirst(base.count)
      guard let number = Int(suffix), number >= 1, String(number) == suffix else { return nil }
      return number
    }
  }

  /// The rotated files beside `path` (`path.1`, `path.2`, …), newest (`.1`) first.
  public static func numberedNewestFirst(beside path: String) -> [String] {
    numbers(beside: path).sorted().map { "\(path).\($0)" }
  }

  /// Whether any file beside `path` is named as one rotated from it: `path.N`, compressed
  /// (`path.N.gz`, `.xz`, `.bz2`, `.zst`) or not, or logrotate's `dateext` (`path-20261205`,
  /// compressed or not) — not `path.bak` or `path.tmp`. Without one, a log that holds no
  /// record (or starts past seq 1) lost its records some other way, or was rotated into
  /// another folder.
  public static func anyRotated(beside path: String) -> Bool {
    !rotatedNames(beside: path).isEmpty
  }

  /// The files rotated from `path` there are beside it (named as `anyRotated` says), as
  /// paths, oldest first (by modification time), those compressed apart.
  public static func rotated(beside path: String) -> (plain: [String], compressed: [String]) {
    let folder = FolderPath.of(path)
    let prefix = folder.isEmpty ? "" : folder + "/"
    var plain: [(path: String, modified: timespec)] = []
    var compressed: [String] = []
    for (name, isCompressed) in rotatedNames(beside: path) {
      if isCompressed {
        compressed.append(prefix + name)
        continue
      }
      var status = stat()
      guard stat(prefix + name, &status) == 0, status.st_mode & S_IFMT == S_IFREG else { continue }
      plain.append((prefix + name, status.st_mtim))
    }
    // Equal times (a restore, `touch`): by name, as logrotate names them — `.2` is older
    // than `.1`, `-20261201` than `-20261202`.
    func older(_ one: String, _ other: String) -> Bool {
      let numbers = (Int(one.split(separator: ".").last ?? ""), Int(other.split(separator: ".").last ?? ""))
      if let a = numbers.0, let b = numbers.1, one.hasSuffix(".\(a)"), other.hasSuffix(".\(b)") { return a > b }
      return one < other
    }
    plain.sort { a, b in
      (a.modified.tv_sec, a.modified.tv_nsec) != (b.modified.tv_sec, b.modified.tv_nsec)
        ? (a.modified.tv_sec, a.modified.tv_nsec) < (b.modified.tv_sec, b.modified.tv_nsec) : older(a.path, b.path)
    }
    return (plain.map(\.path), compressed.sorted())
  }

  /// The names rotated from `path` beside it, each with whether it is compressed.
  private static func rotatedNames(beside path: String) -> [(name: String, compressed: Bool)] {
    let folder = FolderPath.of(path)
    let name = (path as NSString).lastPathComponent
    let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.isEmpty ? "." : folder)) ?? []
    let compressions = ["", ".gz", ".xz", ".bz2", ".zst"]
    return names.compactMap { candidate in
      guard candidate.hasPrefix(name), candidate.count > name.count + 1 else { return nil }
      var rest = Substring(candidate.dropFirst(name.count))
      guard let separator = rest.first, separator == "." || separator == "-" else { return nil }
      rest = rest.dropFirst()
      guard let suffix = compressions.reversed().first(where: { rest.hasSuffix($0) }) else { return nil }
      let stamp = rest.dropLast(suffix.count)
      let named =
        !stamp.isEmpty && stamp.allSatisfy { $0.isASCII && ($0.isNumber || (separator == "-" && ($0 == "-" || $0 == "_"))) }
      return named ? (candidate, !suffix.isEmpty) : nil
    }
  }

  /// The inode of the file at `path`; nil when there is none.
  public static func inode(of path: String) -> UInt64? {
    var status = stat()
    return stat(path, &status) == 0 ? UInt64(status.st_ino) : nil
  }

  /// The files there are, oldest first, with their inodes.
  static func kept(_ path: String, keep: Int) -> [(path: String, inode: UInt64)] {
    let paths = stride(from: keep, through: 1, by: -1).map { "\(path).\($0)" } + [path]
    return paths.compactMap { path in
      var status = stat()
      guard stat(path, &status) == 0 else { return nil }
      return (path, UInt64(status.st_ino))
    }
  }

  /// The complete lines of one read.
  struct Lines {
    /// Each line without its newline, with the offset just past it.
    var lines: [(text: String, end: Int)]
    /// The offset past the last complete line.
    var consumed: Int
    /// Whether more of the file (up to `end`) is left to read.
    var more: Bool
    /// Where reading started: 0 when the file was shorter than the offset asked
    /// (truncated in place), else that offset.
    var start: Int
  }

  /// A kept file that could not be opened (permissions, too many open files): the read
  /// is retried later, never taken for an empty file.
  struct ReadFailure: Error, CustomStringConvertible {
    let description: String
  }

  /// The complete lines of `path` from `offset` to `end` (default: its size), at most
  /// `maxLines` of them. A file shorter than `offset` was truncated in place: it is read
  /// again from its start. It reads 1 MB at a time, more when one line is longer, and
  /// makes a string of a line only when it is one of the lines asked for (a sink's batch
  /// of 500 out of a journal of thousands: bench/run-postgres-writes found most of the
  /// sink's time spent making strings of lines it then dropped).
  static func completeLines(
    of path: String, from offset: Int, to end: Int? = nil, maxLines: Int = .max
  ) throws(ReadFailure) -> Lines {
    guard let handle = FileHandle(forReadingAtPath: path) else {
      let reason = String(cString: strerror(errno))
      // Gone between listing and opening (a rotation): nothing to read in it.
      if access(path, F_OK) != 0 { return Lines(lines: [], consumed: offset, more: false, start: offset) }
      throw ReadFailure(description: "cannot open \(path): \(reason)")
    }
    defer { try? handle.close() }
    let fileSize = Int((try? handle.seekToEnd()) ?? 0)
    let size = min(fileSize, end ?? fileSize)
    let start = fileSize < offset ? 0 : min(offset, size)
    var slice = 1 << 20
    while true {
      try? handle.seek(toOffset: UInt64(start))
      let data = (try? handle.read(upToCount: min(size - start, slice))) ?? Data()
      var lines: [(String, Int)] = []
      let consumed = data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) -> Int in
        guard let base = bytes.baseAddress else { return 0 }
        var lineStart = 0
        while lines.count < maxLines, lineStart < bytes.count,
          let newline = memchr(base + lineStart, Int32(UInt8(ascii: "\n")), bytes.count - lineStart)
        {
          let index = base.distance(to: UnsafeRawPointer(newline))
          let text = UnsafeRawBufferPointer(rebasing: bytes[lineStart..<index])
          lines.append((String(decoding: text, as: UTF8.self), start + index + 1))
          lineStart = index + 1
        }
        return lineStart
      }
      let readToEnd = start + consumed >= size
      // A line longer than the slice: read again, twice as much.
      if lines.isEmpty && start + data.count < size {
        slice *= 2
        continue
      }
      return Lines(lines: lines, consumed: start + consumed, more: !readToEnd && !lines.isEmpty, start: start)
    }
  }
}
