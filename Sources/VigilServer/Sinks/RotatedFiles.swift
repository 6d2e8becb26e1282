import Foundation

/// A file appended to and rotated by renaming (`name.K` … `name.1`, then `name`), as the
/// alert log is by vigild and the journal may be by logrotate: the files kept, and their
/// complete lines.
enum RotatedFiles {
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

  /// The complete lines of `path` from `offset` to `end` (default: its size). A file
  /// shorter than `offset` was truncated in place: it is read again from its start. It
  /// reads 4 MB at a time, more when one line is longer.
  static func completeLines(of path: String, from offset: Int, to end: Int? = nil) throws(ReadFailure) -> Lines {
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
    var slice = 4 << 20
    while true {
      try? handle.seek(toOffset: UInt64(start))
      let data = (try? handle.read(upToCount: min(size - start, slice))) ?? Data()
      var lines: [(String, Int)] = []
      var lineStart = data.startIndex
      for index in data.indices where data[index] == UInt8(ascii: "\n") {
        lines.append((String(decoding: data[lineStart..<index], as: UTF8.self), start + (index - data.startIndex) + 1))
        lineStart = index + 1
      }
      let readToEnd = start + data.count >= size
      // A line longer than the slice: read again, twice as much.
      if lines.isEmpty && !readToEnd {
        slice *= 2
        continue
      }
      return Lines(lines: lines, consumed: start + (lineStart - data.startIndex), more: !readToEnd, start: start)
    }
  }
}
