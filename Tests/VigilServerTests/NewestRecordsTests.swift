import Testing

@testable import VigilServer

/// The console build's choice of the records it keeps (NewestRecords): the highest seqs,
/// whatever order the files give them in.
@Suite("The newest records of the console's start-up build")
struct NewestRecordsTests {
  static func record(_ seq: UInt64, file: UInt16 = 0, offset: Int64) -> AlertIndexLoader.Kept {
    AlertIndexLoader.Kept(
      seq: seq, timeMs: 0, incidentMs: 0, offset: offset, rule: 0, report: -1, length: 1, file: file, priority: .high)
  }

  /// What a sort of every record would keep.
  static func expected(_ records: [AlertIndexLoader.Kept], limit: Int) -> [UInt64] {
    Array(records.sorted { ($0.seq, $0.file, $0.offset) < ($1.seq, $1.file, $1.offset) }.suffix(limit).map(\.seq))
  }

  @Test func inTheFilesOrderTheLastAreKept() {
    var newest = NewestRecords(limit: 3)
    for seq in 1...10 { newest.add(Self.record(UInt64(seq), offset: Int64(seq) * 10)) }
    #expect(!newest.isHeap)
    #expect(newest.inSeqOrder().map(\.seq) == [8, 9, 10])
  }

  @Test(arguments: [1, 2, 7, 50, 200])
  func inAnyOrderTheHighestSeqsAreKept(limit: Int) {
    var generator = SystemRandomNumberGenerator()
    for round in 0..<20 {
      // Rising runs, then a seq that starts again, shuffled stretches, repeated seqs.
      var records: [AlertIndexLoader.Kept] = []
      let runs = round % 4 + 1
      for run in 0..<runs {
        let start = UInt64.random(in: 1...50, using: &generator)
        var seqs = Array(start..<(start + UInt64.random(in: 0...80, using: &generator)))
        if run % 2 == 1 { seqs.shuffle(using: &generator) }
        records += seqs.enumerated().map { Self.record($0.element, file: UInt16(run), offset: Int64($0.offset) * 100) }
      }
      var newest = NewestRecords(limit: limit)
      for record in records { newest.add(record) }
      #expect(newest.inSeqOrder().map(\.seq) == Self.expected(records, limit: limit), "round \(round)")
    }
  }

  @Test func aLimitOfNoneKeepsNone() {
    var newest = NewestRecords(limit: 0)
    newest.add(Self.record(1, offset: 0))
    #expect(newest.inSeqOrder().isEmpty)
  }
}
