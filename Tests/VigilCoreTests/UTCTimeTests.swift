import Testing
import VigilCore
import VigilTestSupport

@Suite("Times as the journal and the alert log write them")
struct UTCTimeTests {
  @Test(arguments: [
    (Int64(0), "1970-01-01T00:00:00.000Z"),
    (1_457_066_400_123, "2016-03-04T04:40:00.123Z"),
    (951_782_400_000, "2000-02-29T00:00:00.000Z"),
    (4_107_542_399_999, "2100-02-28T23:59:59.999Z"),
    (-1, "1969-12-31T23:59:59.999Z"),
  ])
  func formats(milliseconds: Int64, text: String) {
    #expect(UTCTime.format(millisecondsSinceEpoch: milliseconds) == text)
  }

  @Test func roundTripsThroughTheReportTimestampParser() throws {
    var generator = SplitMix64(seed: 5)
    for _ in 0..<2000 {
      let milliseconds = Int64(generator.next() % 8_000_000_000_000) - 1_000_000_000_000
      let text = UTCTime.format(millisecondsSinceEpoch: milliseconds)
      let parsed = try #require(Timestamp(text))
      #expect(parsed.seconds * 1000 + Int64(parsed.nanoseconds / 1_000_000) == milliseconds, "\(text)")
    }
  }
}
