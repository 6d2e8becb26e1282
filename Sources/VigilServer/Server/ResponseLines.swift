import VigilCore

/// The response lines of one hand-over to the writer (a connection's burst), in request
/// order, one after another in one buffer: the writer writes them there as bytes, and the
/// connection copies each into its outgoing buffer when its turn comes. (A `String` per
/// response cost an allocation, and a check of its UTF-8, for every report.)
struct ResponseLines: Sendable {
  private(set) var bytes: [UInt8] = []
  /// Where each line ends in `bytes`.
  private var ends: [Int] = []

  init(capacity: Int) {
    bytes.reserveCapacity(capacity * 200)
    ends.reserveCapacity(capacity)
  }

  var count: Int { ends.count }

  /// Line `index`, its newline included.
  func range(_ index: Int) -> Range<Int> {
    (index == 0 ? 0 : ends[index - 1])..<ends[index]
  }

  func string(_ index: Int) -> String {
    String(decoding: bytes[range(index)], as: UTF8.self)
  }

  /// Appends a line written already.
  mutating func append(_ line: String) {
    bytes.append(contentsOf: line.utf8)
    ends.append(bytes.count)
  }

  /// Appends a line written by `write`, which must end it with a newline, into `scratch`
  /// (emptied first: one buffer serves a whole batch, not an allocation a line).
  mutating func append(using scratch: inout JSONBytes, writing write: (inout JSONBytes) -> Void) {
    scratch.truncate(to: 0)
    write(&scratch)
    scratch.withWritten { bytes.append(contentsOf: $0) }
    ends.append(bytes.count)
  }
}
