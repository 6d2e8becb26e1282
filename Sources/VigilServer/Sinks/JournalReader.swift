import Foundation
import VigilCore

/// Reads the report journal forward, for sinks that take reports: the journal and the
/// files an external rotation renamed it to (`reports.jsonl.K` … `.1`), oldest first,
/// following a file by its inode. Only what the writer has made durable is read: in the
/// file it writes, up to the size it last said; a file it no longer writes, to its end.
/// So the window between logrotate's rename and vigild's reopen loses nothing: the
/// renamed file is the one the writer still writes, and it is read until the writer moves.
final class JournalReader {
  /// Where the next read starts: a file by its inode, how far into it, and the file's
  /// first bytes — an inode is reused once its file is deleted, so the file found under
  /// it is checked to be the one the position was in.
  struct Position: Equatable {
    var inode: UInt64?
    var offset = 0
    /// Up to the first 64 bytes of the file, hex-encoded; empty when not known.
    var head = ""

    /// As kept in a cursor file: `inode offset head`.
    var text: String { "\(inode ?? 0) \(offset)" + (head.isEmpty ? "" : " \(head)") }

    init(inode: UInt64?, offset: Int, head: String = "") {
      self.inode = inode
      self.offset = offset
      self.head = head
    }

    init?(text: String) {
      let words = text.split(separator: " ")
      guard words.count == 2 || words.count == 3, let inode = UInt64(words[0]), let offset = Int(words[1]), offset >= 0
      else { return nil }
      self.inode = inode == 0 ? nil : inode
      self.offset = offset
      head = words.count == 3 ? String(words[2]) : ""
    }
  }

  static let headBytes = 64

  private let path: String
  private let keep: Int
  var position: Position

  init(path: String, keep: Int, position: Position) {
    self.path = path
    self.keep = keep
    self.position = position
  }

  /// Up to `limit` journal lines from the position, up to `durable` (the writer's file
  /// and its size). `lost` is the inode of a file the position was in and no kept file
  /// is any more: what it held past the position could not be read (reading goes on from
  /// the oldest kept file, so some lines may come again).
  func read(upTo durable: JournalMark, limit: Int) throws(RotatedFiles.ReadFailure) -> (lines: [String], lost: UInt64?) {
    let files = RotatedFiles.kept(path, keep: keep)
    var lost: UInt64?
    var index: Int
    if let found = files.firstIndex(where: { $0.inode == position.inode }),
      position.head.isEmpty || Self.head(of: files[found].path, length: position.head.count / 2) == position.head
    {
      index = found
    } else {
      lost = position.inode
      index = 0
      position = Position(inode: nil, offset: 0)
    }
    var lines: [String] = []
    while index < files.count, lines.count < limit {
      let file = files[index]
      if position.inode != file.inode { position = Position(inode: file.inode, offset: 0) }
      let writing = file.inode == durable.inode
      // A newer file than the writer's (logrotate created it, vigild has not reopened
      // yet): nothing in it is the writer's.
      if index > 0, files[index - 1].inode == durable.inode { break }
      let chunk = try RotatedFiles.completeLines(
        of: file.path, from: position.offset, to: writing ? Int(durable.size) : nil, maxLines: limit - lines.count)
      // The file's first bytes, once it has them, identify it from now on.
      if position.head.count < Self.headBytes * 2 { position.head = Self.head(of: file.path, length: Self.headBytes) }
      position.offset = chunk.start
      for (line, end) in chunk.lines.prefix(limit - lines.count) {
        lines.append(line)
        position.offset = end
      }
      guard lines.count < limit else { break }
      position.offset = chunk.consumed
      if chunk.more { continue }
      // The writer's file, read as far as it has gone; or the newest there is.
      guard !writing, index + 1 < files.count else { break }
      index += 1
      position.offset = 0
    }
    return (lines, lost)
  }

  /// Bytes of the journal up to `durable` that a reader at `position` has still to read,
  /// across the kept files: the rest of its file and every later one up to the writer's.
  /// Nil when its file or the writer's is not among them.
  static func lagBytes(path: String, keep: Int, from position: Position, upTo durable: JournalMark) -> Int? {
    let files = RotatedFiles.kept(path, keep: keep)
    // A new reader (no file yet) starts at the oldest kept file.
    guard let first = position.inode == nil ? files.indices.first : files.firstIndex(where: { $0.inode == position.inode })
    else { return nil }
    var lag = 0
    for index in first..<files.count {
      let start = index == first ? position.offset : 0
      if files[index].inode == durable.inode { return lag + max(0, Int(durable.size) - start) }
      var status = stat()
      guard stat(files[index].path, &status) == 0 else { return nil }
      lag += max(0, Int(status.st_size) - start)
    }
    return nil
  }

  /// The first `length` bytes of a file (fewer if it is shorter), hex-encoded.
  static func head(of path: String, length: Int) -> String {
    guard let handle = FileHandle(forReadingAtPath: path) else { return "" }
    defer { try? handle.close() }
    let bytes = (try? handle.read(upToCount: length)) ?? Data()
    return bytes.map { String(format: "%02x", $0) }.joined()
  }
}
