/// A run of the index's entries and their lines, in memory allocated once and never moved:
/// an entry or a line, once written, stays where it is and is never written again, so a
/// reader that took `count` under the index's lock may read the first `count` entries
/// without it while the writer appends more. (A Swift array would move its elements as it
/// grows, under the reader's feet.) Appending happens only under the index's lock.
final class AlertIndexChunk: @unchecked Sendable {
  static let entriesPerChunk = 4096
  /// Lines take ~400–600 bytes; a chunk's line space fits its entries at that size, and
  /// a longer line gets a chunk of its own size.
  static let lineBytesPerChunk = 4096 * 512

  private let entries: UnsafeMutableBufferPointer<AlertIndex.Entry>
  private let lines: UnsafeMutableBufferPointer<UInt8>
  private(set) var count = 0
  private var lineBytes = 0

  init(lineBytes needed: Int) {
    entries = MappedMemory.allocate(AlertIndex.Entry.self, capacity: Self.entriesPerChunk)
    lines = MappedMemory.allocate(UInt8.self, capacity: max(Self.lineBytesPerChunk, needed))
  }

  deinit {
    entries.baseAddress!.deinitialize(count: count)
    MappedMemory.deallocate(entries)
    MappedMemory.deallocate(lines)
  }

  func fits(lineBytes needed: Int) -> Bool {
    count < entries.count && lineBytes + needed <= lines.count
  }

  /// Copies a line in; gives where it starts.
  func store(_ line: UnsafeBufferPointer<UInt8>) -> Int {
    let start = lineBytes
    if let base = line.baseAddress, !line.isEmpty {
      (lines.baseAddress! + start).initialize(from: base, count: line.count)
    }
    lineBytes += line.count
    return start
  }

  func append(_ entry: AlertIndex.Entry) {
    (entries.baseAddress! + count).initialize(to: entry)
    count += 1
  }

  func entry(_ index: Int) -> AlertIndex.Entry { entries[index] }

  func line(of entry: AlertIndex.Entry) -> UnsafeBufferPointer<UInt8> {
    UnsafeBufferPointer(rebasing: lines[entry.lineStart..<entry.lineStart + Int(entry.lineLength)])
  }

  func lineText(of entry: AlertIndex.Entry) -> String {
    String(decoding: line(of: entry), as: UTF8.self)
  }

  /// The `message` value's bytes, escaped as in the line.
  func message(of entry: AlertIndex.Entry) -> UnsafeBufferPointer<UInt8> {
    let start = entry.lineStart + Int(entry.messageStart)
    return UnsafeBufferPointer(rebasing: lines[start..<start + Int(entry.messageLength)])
  }

  /// Bytes this chunk holds (for the memory figure in status).
  var allocatedBytes: Int { entries.count * MemoryLayout<AlertIndex.Entry>.stride + lines.count }
}
