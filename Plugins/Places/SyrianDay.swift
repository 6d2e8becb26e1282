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
    let (year, month, day) = civil(days: floorDivide(local, 86_400))
    return Int32(truncatingIfNeeded: year * 10_000 + month * 100 + day)
  }

  /// Whether Syria's clocks were at UTC+3 at `seconds`.
  static func isSummerTime(_ seconds: Int64) -> Bool {
    // 2022-03-25T00:00+02:00: the last change, after which the clocks stayed at +3.
    if seconds >= 1_648_159_200 { return true }
    let year = civil(days: floorDivide(seconds + 2 * 3_600, 86_400)).year
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

  private static func floorDivide(_ value: Int64, _ divisor: Int64) -> Int64 {
    value >= 0 ? value / divisor : -((-value + divisor - 1) / divisor)
  }

  /// The proleptic Gregorian date of a day counted from 1970-01-01 (Howard Hinnant's
  /// algorithm, the inverse of `Timestamp.daysSinceEpoch`).
  static func civil(days: Int64) -> (year: Int64, month: Int64, day: Int64) {
    let shifted = days + 719_468
    let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
    let dayOfEra = shifted - era * 146_097
    let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
    let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
    let monthIndex = (5 * dayOfYear + 2) / 153
    let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
    let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
    return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
  }
}
