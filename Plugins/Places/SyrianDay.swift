import VigilCore

/// The calendar day in Syria of an instant, as territorial control's entries count days:
/// who held a place on a date is a date where the place is, whatever offset a report
/// writes its time with (`2016-08-11T22:30:00Z` is 01:30 on 12 August in Damascus).
///
/// Syria's clocks, as the tz database records them for Asia/Damascus: UTC+2, and +3 from
/// a Friday at 00:00 in spring (the last of March; the first of April in 2008, 2010 and
/// 2011) to the last Friday of October at 00:00 (1 November in 2008); +3 all year since
/// March 2022. Written out rather than read from the system's zone files, which a minimal
/// host may lack, so that a verdict never depends on the machine. Years before 2008
/// follow the later rule: their dates move by an hour at most around a change.
enum SyrianDay {
  /// `YYYYMMDD` of the day in Syria at `seconds` since 1970-01-01T00:00:00Z.
  static func of(seconds: Int64) -> Int32 {
    let local = seconds + (isSummerTime(seconds) ? 3 : 2) * 3_600
    let (year, month, day) = UTCTime.civil(daysSinceEpoch: UTCTime.floorDivide(local, 86_400))
    return Int32(truncatingIfNeeded: year * 10_000 + month * 100 + day)
  }

  /// Whether Syria's clocks were at UTC+3 at `seconds`.
  static func isSummerTime(_ seconds: Int64) -> Bool {
    // 2022-03-25T00:00+02:00: the last change, after which the clocks stayed at +3.
    if seconds >= 1_648_159_200 { return true }
    let year = UTCTime.civil(daysSinceEpoch: UTCTime.floorDivide(seconds + 2 * 3_600, 86_400)).year
    let startDay =
      [2008, 2010, 2011].contains(year)
      ? firstFriday(onOrAfter: Timestamp.daysSinceEpoch(year: year, month: 4, day: 1))
      : lastFriday(onOrBefore: Timestamp.daysSinceEpoch(year: year, month: 3, day: 31))
    let endDay =
      year == 2008
      ? Timestamp.daysSinceEpoch(year: 2008, month: 11, day: 1)
      : lastFriday(onOrBefore: Timestamp.daysSinceEpoch(year: year, month: 10, day: 31))
    // Each change at 00:00 local time: +2 before the spring one, +3 before the autumn one.
    return startDay * 86_400 - 2 * 3_600 <= seconds && seconds < endDay * 86_400 - 3 * 3_600
  }

  /// 1970-01-01 was a Thursday, so day 1 was a Friday.
  private static func daysPastFriday(_ days: Int64) -> Int64 { ((days - 1) % 7 + 7) % 7 }

  private static func lastFriday(onOrBefore days: Int64) -> Int64 { days - daysPastFriday(days) }

  private static func firstFriday(onOrAfter days: Int64) -> Int64 { days + (7 - daysPastFriday(days)) % 7 }
}
