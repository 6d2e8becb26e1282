import Foundation
import Testing

@testable import VigilPlugins

/// Territorial control counts days in Syria: `SyrianDay` writes out Asia/Damascus's clock
/// changes, and is checked here against the tz database this host has.
@Suite("Territorial control: the day in Syria")
struct SyrianDayTests {
  @Test func agreesWithTheTzDatabaseEveryHalfHourFrom2008To2026() throws {
    let zone = try #require(TimeZone(identifier: "Asia/Damascus"), "this host has no tz data for Asia/Damascus")
    var calendar = Calendar(identifier: .gregorian)
    calendar.timeZone = zone
    var mismatches: [String] = []
    // 2008-01-01T00:00Z to 2027-01-01T00:00Z, every 30 minutes (every change falls on the hour).
    var seconds: Int64 = 1_199_145_600
    while seconds < 1_798_761_600 {
      let parts = calendar.dateComponents([.year, .month, .day], from: Date(timeIntervalSince1970: TimeInterval(seconds)))
      let expected = Int32(parts.year! * 10_000 + parts.month! * 100 + parts.day!)
      let found = SyrianDay.of(seconds: seconds)
      if found != expected, mismatches.count < 5 { mismatches.append("\(seconds): \(found), tz says \(expected)") }
      seconds += 1_800
    }
    #expect(mismatches.isEmpty, "\(mismatches)")
  }

  @Test func theDaysAroundAChangeOfClocks() {
    // 2016-03-25, a Friday: the clocks went from +2 to +3 at 00:00 (22:00 UTC the day before).
    #expect(SyrianDay.of(seconds: 1_458_856_799) == 20_160_324)  // 2016-03-24T21:59:59Z, 23:59:59 at +2
    #expect(SyrianDay.of(seconds: 1_458_856_800) == 20_160_325)  // 22:00:00Z, 01:00 at +3
    // 2016-10-28, a Friday: back to +2 at 00:00 (21:00 UTC the day before).
    #expect(SyrianDay.of(seconds: 1_477_601_999) == 20_161_027)  // 2016-10-27T20:59:59Z, 23:59:59 at +3
    #expect(SyrianDay.of(seconds: 1_477_602_000) == 20_161_027)  // 21:00:00Z, 23:00 again, at +2
    #expect(SyrianDay.of(seconds: 1_477_605_600) == 20_161_028)  // 22:00:00Z, 00:00 at +2
    // Before 1970 and far ahead, the calendar still holds.
    #expect(SyrianDay.of(seconds: -86_400) == 19_691_231)
    #expect(SyrianDay.of(seconds: 4_102_444_800) == 21_000_101)  // 2100-01-01T00:00Z, +3
  }
}
