import Foundation

/// The bytes of a file (read with `read(2)`) or of an array, a chunk at a time, for the
/// streaming readers (CSV, JSON). The file is closed when the last reader sharing it goes.
final class ChunkSource {
  private let descriptor: Int32?
  private let path: String
  private let bytes: [UInt8]
  private var offset = 0
  private let chunkSize: Int
  /// Set when reading failed; `nextChunk()` then returns no more bytes.
  private(set) var error: TableError?

  init(path: String, chunkSize: Int) throws(TableError) {
    let descriptor = open(path, O_RDONLY | O_CLOEXEC)
    guard descriptor >= 0 else {
      throw TableError(row: nil, "cannot read \(path): \(String(cString: strerror(errno)))")
    }
    self.descriptor = descriptor
    self.path = path
    self.bytes = []
    self.chunkSize = max(1, chunkSize)
  }

  init(bytes: [UInt8], chunkSize: Int) {
    descriptor = nil
    path = "<bytes>"
    self.bytes = bytes
    self.chunkSize = max(1, chunkSize)
  }

  deinit {
    if let descriptor { close(descriptor) }
  }

  /// Back to the first byte, for a second reading; false when the file cannot be read
  /// again (a pipe), and nothing was moved.
  func rewind() -> Bool {
    guard let descriptor else {
      offset = 0
      return true
    }
    guard lseek(descriptor, 0, SEEK_SET) == 0 else { return false }
    error = nil
    return true
  }

  /// Whether `rewind` can work: the file is seekable (not a pipe).
  var canRewind: Bool {
    guard let descriptor else { return true }
    return lseek(descriptor, 0, SEEK_CUR) >= 0
  }

  /// The next chunk; empty at the end of the file or after an error.
  func nextChunk() -> [UInt8] {
    guard error == nil else { return [] }
    guard let descriptor else {
      let end = min(offset + chunkSize, bytes.count)
      defer { offset = end }
      return Array(bytes[offset..<end])
    }
    var failed: Int32 = 0
    let chunk = [UInt8](unsafeUninitializedCapacity: chunkSize) { chunk, count in
      while true {
        let result = read(descriptor, chunk.baseAddress, chunkSize)
        if result < 0 && errno == EINTR { continue }
        if result < 0 { failed = errno }
        count = max(0, result)
        return
      }
    }
    if failed != 0 {
      error = TableError(row: nil, "cannot read \(path): \(String(cString: strerror(failed)))")
    }
    return chunk
  }

  /// The first chunk, at least three bytes of it when the file has them (a mark may
  /// straddle chunks), and where its text starts: after EF BB BF, the UTF-8 byte order
  /// mark Excel writes ("CSV UTF-8").
  /// Text that is not UTF-8 by its first bytes is refused whole, saying what it is: a
  /// UTF-16 file (as Excel's "Unicode text" saves) or a zip (a workbook named as text)
  /// would otherwise be refused row by row as "not UTF-8".
  func firstChunkPastByteOrderMark() throws(TableError) -> (chunk: [UInt8], start: Int) {
    var chunk: [UInt8] = []
    while chunk.count < 4 {
      let more = nextChunk()
      if more.isEmpty { break }
      chunk += more
    }
    if let error { throw error }
    if chunk.starts(with: [0xFF, 0xFE]) || chunk.starts(with: [0xFE, 0xFF]) {
      throw TableError(
        row: nil, "the file is UTF-16 (its first bytes say so), not UTF-8: save it as UTF-8 (Excel: \"CSV UTF-8\"), "
          + "or convert it with iconv -f utf-16 -t utf-8")
    }
    if chunk.starts(with: [0x50, 0x4B, 0x03, 0x04]) {
      throw TableError(
        row: nil, "the file is a zip archive (an XLSX workbook?), not text")
    }
    // Without its byte order mark: NULs among the first bytes, all on one side of each
    // pair, as UTF-16 has wherever a character is ASCII — a comma, a line's end, even in a
    // sheet whose header starts in Arabic (UTF-8 text holds no NUL).
    let head = chunk.prefix(512)
    let evenNULs = stride(from: 0, to: head.count, by: 2).filter { head[$0] == 0 }.count
    let oddNULs = stride(from: 1, to: head.count, by: 2).filter { head[$0] == 0 }.count
    if head.count >= 4, (evenNULs == 0) != (oddNULs == 0), max(evenNULs, oddNULs) >= 2 {
      let order = oddNULs > 0 ? "utf-16le" : "utf-16be"
      throw TableError(
        row: nil, "the file is UTF-16 without a byte order mark (a NUL in every other byte), not UTF-8: save it as "
          + "UTF-8 (Excel: \"CSV UTF-8\"), or convert it with iconv -f \(order) -t utf-8")
    }
    return (chunk, chunk.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0)
  }
}
