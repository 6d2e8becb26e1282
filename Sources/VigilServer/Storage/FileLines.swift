import Foundation

/// A file's lines, read a slice at a time: what the start-up readers (the duplicate index,
/// the patterns' windows, the console's index) walk, so that none holds a whole journal or
/// alert log in memory at once.
enum FileLines {
  /// Each complete line of `file` from byte `start` up to byte `end` (its end when nil),
  /// without its newline, and the offset it begins at; empty lines are passed over. A last
  /// line without a newline is one still being written (the daemon cuts a torn one at
  /// start), and is left out. The bytes are valid only during `body`.
  static func forEach(
    in file: UnsafeMutablePointer<FILE>, from start: Int64 = 0, to end: Int64? = nil,
    _ body: (UnsafeBufferPointer<UInt8>, Int64) -> Void
  ) {
    guard fseeko(file, off_t(start), SEEK_SET) == 0 else { return }
    var pending: [UInt8] = []
    var pendingStart: Int64 = 0
    var base = start
    let buffer = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: 1 << 20)
    defer { buffer.deallocate() }
    while true {
      let wanted = end.map { Int(max(0, min(Int64(buffer.count), $0 - base))) } ?? buffer.count
      let read = wanted == 0 ? 0 : fread(buffer.baseAddress, 1, wanted, file)
      guard read > 0 else { break }
      var lineStart = 0
      while lineStart < read,
        let found = memchr(buffer.baseAddress! + lineStart, 0x0A, read - lineStart)
      {
        let end = buffer.baseAddress!.distance(to: found.assumingMemoryBound(to: UInt8.self))
        if pending.isEmpty {
          if end > lineStart { body(UnsafeBufferPointer(rebasing: buffer[lineStart..<end]), base + Int64(lineStart)) }
        } else {
          pending += buffer[lineStart..<end]
          pending.withUnsafeBufferPointer { body($0, pendingStart) }
          pending.removeAll(keepingCapacity: true)
        }
        lineStart = end + 1
      }
      if lineStart < read {
        if pending.isEmpty { pendingStart = base + Int64(lineStart) }
        pending += buffer[lineStart..<read]
      }
      base += Int64(read)
    }
  }

  /// The same for a file named by its path; nothing when it cannot be opened.
  static func forEach(atPath path: String, _ body: (UnsafeBufferPointer<UInt8>, Int64) -> Void) {
    guard let file = fopen(path, "rb") else { return }
    defer { fclose(file) }
    forEach(in: file, body)
  }
}
