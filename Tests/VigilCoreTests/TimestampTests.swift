import Testing
import VigilCore
import VigilTestSupport

/// `YYYY-MM-DDTHH:MM:SSZ` is read at fixed places; every other form by the general
/// reading. Both must name the same instants and refuse the same texts.
@Suite("Timestamps: the common UTC form read at fixed places agrees with the general reading")
struct TimestampTests {
  static func pad(_ value: Int, _ width: Int) -> String {
    let digits = String(value)
    return String(repeating: "0", count: max(0, width - digits.count)) + digits
  }

  @Test("random instants, written with Z, +00:00, a lowercase z and a zero fraction")
  func sameInstants() throws {
    var generator = SplitMix64(seed: 19)
    for _ in 0..<3000 {
      let seconds = Int64(generator.next() % 8_000_000_000) - 1_000_000_000
      let text = UTCTime.format(millisecondsSinceEpoch: seconds * 1000)  // …SS.000Z
      let bare = String(text.dropLast(5))  // YYYY-MM-DDTHH:MM:SS
      let fixed = try #require(Timestamp(bare + "Z"), "\(bare)Z")
      #expect(fixed.seconds == seconds && fixed.nanoseconds == 0, "\(bare)Z")
      for other in [bare + "+00:00", bare + "z", bare + ".0Z", bare.lowercased() + "Z"] {
        #expect(Timestamp(other) == fixed, "\(other)")
      }
    }
  }

  @Test("texts of the common form's length that are no timestamp are refused")
  func refusals() {
    let refused = [
      "2016-13-01T00:00:00Z", "2016-00-01T00:00:00Z", "2016-04-31T00:00:00Z", "2015-02-29T00:00:00Z",
      "2016-01-01T24:00:00Z", "2016-01-01T00:60:00Z", "2016-01-01T00:00:60Z", "2016-01-01 00:00:00Z",
      "2016/01/01T00:00:00Z", "2016-01-01T00-00:00Z", "2016-01-01T00:00-00Z", "2O16-01-01T00:00:00Z",
      "2016-01-0aT00:00:00Z", "2016-01-01T00:00:0:Z", "20160-1-01T00:00:00Z", "2016-01-01T00:00:00Y",
    ]
    for text in refused { #expect(Timestamp(text) == nil, "\(text)") }
    #expect(Timestamp("2016-02-29T23:59:59Z") != nil)
    #expect(Timestamp("2000-02-29T00:00:00Z") != nil)
    #expect(Timestamp("1900-02-29T00:00:00Z") == nil)
  }
}
