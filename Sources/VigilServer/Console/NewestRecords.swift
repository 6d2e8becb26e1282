/// The `limit` records of highest `seq` among those the console's start-up build reads
/// (AlertIndexLoader), without holding the others. While the files' records come in
/// rising `seq` order, as the writer leaves them, the newest are the last `limit` read: a
/// ring. A `seq` lower than one before it (a log whose `seq` started again, files
/// out of order) turns the ring, which at that moment holds the highest seqs seen, into a
/// min-heap by `seq` that keeps the highest from then on.
struct NewestRecords {
  typealias Record = AlertIndexLoader.Kept

  let limit: Int
  private var records: [Record] = []
  /// Ring mode: where the oldest record is once the ring is full.
  private var oldest = 0
  private var highestSeq: UInt64 = 0
  private(set) var isHeap = false

  init(limit: Int) {
    self.limit = max(0, limit)
  }

  mutating func add(_ record: Record) {
    guard limit > 0 else { return }
    if !isHeap, !records.isEmpty, record.seq <= highestSeq { becomeHeap() }
    highestSeq = max(highestSeq, record.seq)
    if isHeap {
      if records.count < limit {
        records.append(record)
        siftUp(records.count - 1)
      } else if Self.isBelow(records[0], record) {
        records[0] = record
        siftDown(0)
      }
    } else if records.count < limit {
      records.append(record)
    } else {
      records[oldest] = record
      oldest = (oldest + 1) % limit
    }
  }

  /// The records kept, by `seq` (then file and offset, for equal ones).
  func inSeqOrder() -> [Record] {
    guard isHeap else { return Array(records[oldest...] + records[..<oldest]) }
    return records.sorted(by: Self.isBelow)
  }

  /// The order records are kept by: `seq`, then where they are.
  private static func isBelow(_ a: Record, _ b: Record) -> Bool {
    (a.seq, a.file, a.offset) < (b.seq, b.file, b.offset)
  }

  private mutating func becomeHeap() {
    records = Array(records[oldest...] + records[..<oldest])
    oldest = 0
    isHeap = true
    // Already a min-heap: the ring held them in rising order.
  }

  private mutating func siftUp(_ start: Int) {
    var child = start
    while child > 0 {
      let parent = (child - 1) / 2
      guard Self.isBelow(records[child], records[parent]) else { return }
      records.swapAt(child, parent)
      child = parent
    }
  }

  private mutating func siftDown(_ start: Int) {
    var parent = start
    while true {
      let left = 2 * parent + 1
      guard left < records.count else { return }
      var smallest = left
      if left + 1 < records.count, Self.isBelow(records[left + 1], records[left]) { smallest = left + 1 }
      guard Self.isBelow(records[smallest], records[parent]) else { return }
      records.swapAt(smallest, parent)
      parent = smallest
    }
  }
}
