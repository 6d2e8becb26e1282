import Foundation

/// Dates as real files write them: ISO text, Excel serial numbers (the days since
/// 1899-12-30, or 1904-01-01 in a workbook of that system: 42632 is 2016-09-19 in the first;
/// from 10000, since a four-digit number is a year), patterns such as `dd/MM/yyyy`, and separate year,
/// month and day cells. Each gives `YYYY-MM-DD` (or, with a time, the ISO text as written).
enum DateReading {
  /// ISO text: `YYYY-MM-DD`, optionally with a time and zone (`2016-03-04T06:40:00+02:00`);
  /// kept as written when it is a valid date.
  static func isoDate(_ text: String) -> String? {
    let trimmed = text.trimmingCharacters(in: .whitespaces)
    let bytes = Array(trimmed.utf8)
    guard bytes.count >= 10, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"),
      let year = Int(trimmed.prefix(4)), let month = Int(trimmed.dropFirst(5).prefix(2)),
      let day = Int(trimmed.dropFirst(8).prefix(2)), valid(year, month, day)
    else { return nil }
    if bytes.count == 10 { return trimmed }
    // With a time: `T`, `t` or a space, as the report schema's timestamps take it.
    guard bytes[10] == UInt8(ascii: "T") || bytes[10] == UInt8(ascii: "t") || bytes[10] == UInt8(ascii: " ") else { return nil }
    // Only that one: another space (before an offset) is the text's fault, shown as written.
    var time = Array(trimmed.dropFirst(11))
    // A time to the minute (`06:40+02:00`, as ISO 8601 allows): its seconds are 00. Not one
    // without its zone, refused as it was written.
    let digit = { (index: Int) in time[index].isASCII && time[index].isNumber }
    if time.count > 5, digit(0), digit(1), time[2] == ":", digit(3), digit(4), "Zz+-".contains(time[5]) {
      time.insert(contentsOf: ":00", at: 5)
    }
    return String(trimmed.prefix(10)) + "T" + String(time)
  }

  /// A spreadsheet's serial day number in the table's date system (a fraction is the
  /// time of day, dropped).
  static func excelSerial(_ text: String, _ system: SerialDateSystem = .excel1900) -> String? {
    let trimmed = text.trimmingCharacters(in: .whitespaces)
    // From 10000 (1927-05-18): a four-digit number is a year, not a day.
    // As a workbook writes a number, in E notation too (`4.2632E4`).
    // Not one with a leading zero: a count of days is not written so, a date of digits is
    // (`040316`, day, month and year, which no format read).
    guard !trimmed.hasPrefix("0"), let serial = Double(trimmed), serial >= 10_000, serial < 2_958_466,
      trimmed.allSatisfy({ $0.isASCII && ($0.isNumber || ".eE+".contains($0)) })
    else { return nil }
    let day = Int(serial.rounded(.down))
    let date = Date(timeIntervalSince1970: Double(day - system.unixEpochSerial) * 86_400)
    return format(date)
  }

  /// A pattern of `dd`, `d`, `MM`, `M`, `yyyy`, `yy` and separators.
  static func isPattern(_ pattern: String) -> Bool {
    tokens(pattern) != nil
  }

  static func withPattern(_ text: String, _ pattern: String) -> String? {
    guard let tokens = tokens(pattern) else { return nil }
    var rest = Substring(text.trimmingCharacters(in: .whitespaces))
    var year: Int?
    var month: Int?
    var day: Int?
    for token in tokens {
      switch token {
      case "dd", "d", "MM", "M", "yyyy", "yy":
        let allowed = token.hasPrefix("y") ? (token == "yyyy" ? 4...4 : 2...2) : 1...2
        // At most the field's width: `yyyyMMdd` reads 20160304 without separators.
        let digits = rest.prefix(allowed.upperBound).prefix { $0.isASCII && $0.isNumber }
        guard allowed.contains(digits.count), let value = Int(digits) else { return nil }
        rest = rest.dropFirst(digits.count)
        switch token.first {
        case "d": day = value
        case "M": month = value
        // Two digits as POSIX's strptime reads them: 69–99 are 1969–1999, 00–68 2000–2068.
        default: year = token == "yy" ? (value >= 69 ? 1900 : 2000) + value : value
        }
      default:
        guard rest.hasPrefix(token) else { return nil }
        rest = rest.dropFirst(token.count)
      }
    }
    guard rest.isEmpty, let year, let month, let day, valid(year, month, day) else { return nil }
    return String(format: "%04d-%02d-%02d", year, month, day)
  }

  /// From cells; an empty day gives the month's first day (its precision is the month).
  static func fromParts(year: String, month: String, day: String?) -> String? {
    guard isYear(year), let year = Int(number(year)), let month = Int(number(month)) else { return nil }
    let dayText = day.map(number) ?? ""
    let day = dayText.isEmpty ? 1 : Int(dayText)
    guard let day, valid(year, month, day) else { return nil }
    return String(format: "%04d-%02d-%02d", year, month, day)
  }

  /// A year cell: four digits (`16` could be 1916 or 2016, and is no year of its own).
  static func isYear(_ text: String) -> Bool {
    let digits = number(text)
    return digits.count == 4 && digits.allSatisfy { $0.isASCII && $0.isNumber }
  }

  /// "12.0" as "12" (spreadsheets write whole numbers so).
  private static func number(_ text: String) -> String {
    let trimmed = text.trimmingCharacters(in: .whitespaces)
    if trimmed.hasSuffix(".0") { return String(trimmed.dropLast(2)) }
    return trimmed
  }

  /// The last day (`YYYY-MM-DD`) of the month of a date `YYYY-MM-DD`.
  static func lastDay(ofMonth date: String) -> String {
    guard let year = Int(date.prefix(4)), let month = Int(date.dropFirst(5).prefix(2)) else { return date }
    let last = (28...31).last { valid(year, month, $0) } ?? 28
    return String(format: "%04d-%02d-%02d", year, month, last)
  }

  private static func valid(_ year: Int, _ month: Int, _ day: Int) -> Bool {
    guard (1...9999).contains(year), (1...12).contains(month), day >= 1 else { return false }
    var components = DateComponents()
    (components.year, components.month, components.day) = (year, month, 1)
    let calendar = Calendar(identifier: .gregorian)
    guard let first = calendar.date(from: components), let days = calendar.range(of: .day, in: .month, for: first) else {
      return false
    }
    return days.contains(day)
  }

  static func format(_ date: Date) -> String {
    var calendar = Calendar(identifier: .gregorian)
    calendar.timeZone = TimeZone(identifier: "UTC")!
    let parts = calendar.dateComponents([.year, .month, .day], from: date)
    return String(format: "%04d-%02d-%02d", parts.year!, parts.month!, parts.day!)
  }

  /// The pattern split into fields and literal separators; nil when it has no day, month
  /// and year or holds letters that are none of them.
  private static func tokens(_ pattern: String) -> [String]? {
    var tokens: [String] = []
    var rest = Substring(pattern)
    while let first = rest.first {
      if first == "d" || first == "M" || first == "y" {
        let run = rest.prefix { $0 == first }
        guard ["dd", "d", "MM", "M", "yyyy", "yy"].contains(String(run)) else { return nil }
        tokens.append(String(run))
        rest = rest.dropFirst(run.count)
      } else if first.isLetter || first.isNumber {
        return nil
      } else {
        tokens.append(String(first))
        rest = rest.dropFirst()
      }
    }
    let fields = Set(tokens.compactMap { $0.first }.filter { "dMy".contains($0) })
    return fields == ["d", "M", "y"] ? tokens : nil
  }
}
