/// A journal line as `jsonb` can take it. PostgreSQL keeps a JSON number as `numeric`,
/// which holds at most 131,072 digits before the decimal point and 16,383 after, as
/// written (`1.50e-16382` is 16,384 after; so is `0.0e-16383`): a report may carry any JSON
/// number under an unknown member or `extra`, and one beyond that (`1e-20000`) made the
/// whole batch's `::jsonb` fail, every time, so that the node's sink never moved again.
/// Such a number is given to `jsonb` as `null` — the value PostgreSQL cannot read is
/// stored as NULL, as its README promises — while the `line` column keeps the exact text.
enum PostgresReadableJSON {
  static let mostIntegerDigits = 131_072
  static let mostFractionDigits = 16_383

  /// The line with each number `numeric` cannot hold written `null`; nil when it has none.
  static func replacingUnreadableNumbers(in line: String) -> String? {
    let bytes = Array(line.utf8)
    var out: [UInt8] = []
    var copied = 0
    var replaced = false
    var index = 0
    var inString = false
    while index < bytes.count {
      let byte = bytes[index]
      if inString {
        if byte == UInt8(ascii: "\\") {
          index += 2
          continue
        }
        if byte == UInt8(ascii: "\"") { inString = false }
        index += 1
        continue
      }
      if byte == UInt8(ascii: "\"") {
        inString = true
        index += 1
        continue
      }
      guard byte == UInt8(ascii: "-") || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else {
        index += 1
        continue
      }
      let end = numberEnd(bytes, from: index)
      if !fits(bytes[index..<end]) {
        out.append(contentsOf: bytes[copied..<index])
        out.append(contentsOf: "null".utf8)
        copied = end
        replaced = true
      }
      index = end
    }
    guard replaced else { return nil }
    out.append(contentsOf: bytes[copied...])
    return String(decoding: out, as: UTF8.self)
  }

  private static func numberEnd(_ bytes: [UInt8], from start: Int) -> Int {
    var end = start
    while end < bytes.count, "+-0123456789.eE".utf8.contains(bytes[end]) { end += 1 }
    return end
  }

  /// Whether `numeric` holds the number as written: its scale (the digits after the point,
  /// trailing zeros included, less the exponent) and, when it is not zero, the digits
  /// before the point that its first significant digit makes.
  static func fits(_ number: ArraySlice<UInt8>) -> Bool {
    var digits = number.drop { $0 == UInt8(ascii: "-") }
    let mantissa = digits.prefix { $0 != UInt8(ascii: "e") && $0 != UInt8(ascii: "E") }
    digits = digits.dropFirst(mantissa.count + 1)
    var exponent = 0
    var negative = false
    if let sign = digits.first, sign == UInt8(ascii: "-") || sign == UInt8(ascii: "+") {
      negative = sign == UInt8(ascii: "-")
      digits = digits.dropFirst()
    }
    for digit in digits {
      // Saturated: an exponent past a million is past either bound.
      exponent = min(exponent * 10 + Int(digit - UInt8(ascii: "0")), 1_000_000)
    }
    if negative { exponent = -exponent }
    let whole = mantissa.prefix { $0 != UInt8(ascii: ".") }
    let fraction = mantissa.dropFirst(whole.count + 1)
    guard fraction.count - exponent <= mostFractionDigits else { return false }
    // The first significant digit's place: digits of `whole` from it, or minus the zeros
    // of `fraction` before it.
    if let first = whole.firstIndex(where: { $0 != UInt8(ascii: "0") }) {
      return whole.distance(from: first, to: whole.endIndex) + exponent <= mostIntegerDigits
    }
    guard let first = fraction.firstIndex(where: { $0 != UInt8(ascii: "0") }) else { return true }
    return -fraction.distance(from: fraction.startIndex, to: first) + exponent <= mostIntegerDigits
  }
}
