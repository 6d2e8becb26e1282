/// A point in time as a report gives it: RFC 3339 with an offset, or a bare date meaning
/// 00:00 UTC that day (docs/reports.md). Keeps the text as written, for outputs and the
/// journal, and the instant, for comparisons: two timestamps are equal when they name
/// the same instant, whatever their offsets.
public struct Timestamp: Sendable, Hashable, Comparable, CustomStringConvertible {
  /// The text as written in the report.
  public let text: ReportText
  /// Whole seconds since 1970-01-01T00:00:00Z.
  public let seconds: Int64
  /// Fraction of the second, 0 ..< 1,000,000,000.
  public let nanoseconds: Int32

  public init?(_ text: String) {
    guard let instant = text.withUTF8InPlace({ Timestamp.instant(of: $0) }) else { return nil }
    self.init(text: ReportText(text), seconds: instant.seconds, nanoseconds: instant.nanoseconds)
  }

  init(text: ReportText, seconds: Int64, nanoseconds: Int32) {
    self.text = text
    self.seconds = seconds
    self.nanoseconds = nanoseconds
  }

  public var description: String { text.string }

  /// Stands in while a report is being assembled.
  static let placeholder = Timestamp(text: "", seconds: 0, nanoseconds: 0)

  public static func == (lhs: Timestamp, rhs: Timestamp) -> Bool {
    lhs.seconds == rhs.seconds && lhs.nanoseconds == rhs.nanoseconds
  }

  public func hash(into hasher: inout Hasher) {
    hasher.combine(seconds)
    hasher.combine(nanoseconds)
  }

  public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool {
    (lhs.seconds, lhs.nanoseconds) < (rhs.seconds, rhs.nanoseconds)
  }

  /// The instant named by `bytes`, or nil when they are not a timestamp of docs/reports.md.
  public static func instant(of bytes: UnsafeBufferPointer<UInt8>) -> (seconds: Int64, nanoseconds: Int32)? {
    if bytes.count == 20, let base = bytes.baseAddress, base[19] == UInt8(ascii: "Z"),
      let instant = utcInstant(of: base)
    {
      return instant
    }
    var reader = DigitReader(bytes: bytes)
    guard let year = reader.number(digits: 4), reader.skip("-"),
      let month = reader.number(digits: 2), (1...12).contains(month), reader.skip("-"),
      let day = reader.number(digits: 2), (1...daysIn(month: month, year: year)).contains(day)
    else { return nil }
    let days = daysSinceEpoch(year: year, month: month, day: day)
    if reader.atEnd {
      return (days * 86_400, 0)
    }
    guard reader.skip("T") || reader.skip("t"),
      let hour = reader.number(digits: 2), hour < 24, reader.skip(":"),
      let minute = reader.number(digits: 2), minute < 60, reader.skip(":"),
      let second = reader.number(digits: 2), second < 60
    else { return nil }
    var nanoseconds: Int64 = 0
    if reader.skip(".") {
      var fractionDigits = 0
      while let digit = reader.digit() {
        fractionDigits += 1
        guard fractionDigits <= 9 else { return nil }
        nanoseconds = nanoseconds * 10 + digit
      }
      guard fractionDigits > 0 else { return nil }
      for _ in fractionDigits..<9 { nanoseconds *= 10 }
    }
    var offsetSeconds: Int64 = 0
    if reader.skip("Z") || reader.skip("z") {
      offsetSeconds = 0
    } else {
      let sign: Int64
      if reader.skip("+") {
        sign = 1
      } else if reader.skip("-") {
        sign = -1
      } else {
        return nil
      }
      guard let offsetHours = reader.number(digits: 2), offsetHours < 24, reader.skip(":"),
        let offsetMinutes = reader.number(digits: 2), offsetMinutes < 60
      else { return nil }
      offsetSeconds = sign * (offsetHours * 3600 + offsetMinutes * 60)
    }
    guard reader.atEnd else { return nil }
    let local = days * 86_400 + hour * 3600 + minute * 60 + second
    return (local - offsetSeconds, Int32(nanoseconds))
  }

  /// `YYYY-MM-DDTHH:MM:SSZ`, the form most reports use, read at fixed places (the general
  /// reading took ~370 instructions a timestamp; bench/count-instructions). Nil leaves the
  /// text to the general reading.
  private static func utcInstant(of text: UnsafePointer<UInt8>) -> (seconds: Int64, nanoseconds: Int32)? {
    guard text[4] == UInt8(ascii: "-"), text[7] == UInt8(ascii: "-"),
      text[10] == UInt8(ascii: "T") || text[10] == UInt8(ascii: "t"), text[13] == UInt8(ascii: ":"),
      text[16] == UInt8(ascii: ":")
    else { return nil }
    // Every digit read is checked after: the largest must be a digit.
    var largest: UInt8 = 0
    func number(_ first: Int, _ count: Int) -> Int64 {
      var value: Int64 = 0
      for place in first..<first + count {
        let digit = text[place] &- UInt8(ascii: "0")
        largest = max(largest, digit)
        value = value * 10 + Int64(digit)
      }
      return value
    }
    let (year, month, day) = (number(0, 4), number(5, 2), number(8, 2))
    let (hour, minute, second) = (number(11, 2), number(14, 2), number(17, 2))
    guard largest < 10, (1...12).contains(month), (1...daysIn(month: month, year: year)).contains(day), hour < 24, minute < 60,
      second < 60
    else { return nil }
    return (daysSinceEpoch(year: year, month: month, day: day) * 86_400 + hour * 3600 + minute * 60 + second, 0)
  }

  static func daysIn(month: Int64, year: Int64) -> Int64 {
    switch month {
    case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
    case 4, 6, 9, 11: 30
    default: 31
    }
  }

  /// Days from 1970-01-01 in the proleptic Gregorian calendar (Howard Hinnant's algorithm).
  public static func daysSinceEpoch(year: Int64, month: Int64, day: Int64) -> Int64 {
    let shiftedYear = month <= 2 ? year - 1 : year
    let era = (shiftedYear >= 0 ? shiftedYear : shiftedYear - 399) / 400
    let yearOfEra = shiftedYear - era * 400
    let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
    let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
    return era * 146_097 + dayOfEra - 719_468
  }
}

/// Reads fixed-width ASCII fields from the front of a byte buffer.
private struct DigitReader {
  let bytes: UnsafeBufferPointer<UInt8>
  var index = 0

  var atEnd: Bool { index == bytes.count }

  mutating func digit() -> Int64? {
    guard index < bytes.count, bytes[index] &- 48 < 10 else { return nil }
    defer { index += 1 }
    return Int64(bytes[index] &- 48)
  }

  mutating func number(digits: Int) -> Int64? {
    var value: Int64 = 0
    for _ in 0..<digits {
      guard let digit = digit() else { return nil }
      value = value * 10 + digit
    }
    return value
  }

  mutating func skip(_ character: Unicode.Scalar) -> Bool {
    guard index < bytes.count, bytes[index] == UInt8(character.value) else { return false }
    index += 1
    return true
  }
}
