/// What a JSON number's text says exactly, where its `Double` has been rounded: whether
/// it is a whole number. `1e-400` becomes 0 as a `Double` and `10000000.0000000001`
/// becomes 10,000,000, yet neither is whole; `100e-2` and `1.50e1` are.
public enum JSONNumberText {
  /// Whether the number written (valid JSON number text) is a whole number.
  public static func isWhole(_ text: UnsafeBufferPointer<UInt8>) -> Bool {
    var index = 0
    if index < text.count, text[index] == UInt8(ascii: "-") { index += 1 }
    var digits = 0
    var trailingZeros = 0
    var allZero = true
    var fractionDigits = 0
    var inFraction = false
    while index < text.count {
      let byte = text[index]
      if byte == UInt8(ascii: ".") {
        inFraction = true
      } else if byte &- UInt8(ascii: "0") < 10 {
        digits += 1
        if inFraction { fractionDigits += 1 }
        if byte == UInt8(ascii: "0") {
          trailingZeros += 1
        } else {
          trailingZeros = 0
          allZero = false
        }
      } else {
        break
      }
      index += 1
    }
    if allZero { return true }
    // Past a billion, the answer is the same: a fraction when negative.
    let exponent = Self.exponent(text, from: index, limit: 1_000_000_000)
    // The digits without their trailing zeros, times ten to this power.
    return exponent - fractionDigits + trailingZeros >= 0
  }

  /// Appends the number's exact value in one form for all its spellings: its sign (none
  /// for zero), its significant digits without leading or trailing zeros, `e` and the power
  /// of ten of the last of them — `1e1`, `10` and `10.0e0` are all `1e1`; `0.1` is `1e-1`,
  /// where `0.10000000000000000555`, the same `Double`, is not. (A text exponent past
  /// 10^15 is taken as 10^15: no report means two numbers that far apart.)
  public static func appendExact(_ text: UnsafeBufferPointer<UInt8>, to output: inout [UInt8]) {
    var index = 0
    let negative = index < text.count && text[index] == UInt8(ascii: "-")
    if negative { index += 1 }
    let digitsStart = output.count
    if negative { output.append(UInt8(ascii: "-")) }
    var fractionDigits = 0
    var inFraction = false
    var significantEnd = output.count
    while index < text.count {
      let byte = text[index]
      if byte == UInt8(ascii: ".") {
        inFraction = true
      } else if byte &- UInt8(ascii: "0") < 10 {
        if inFraction { fractionDigits += 1 }
        // Leading zeros are left out; trailing ones are cut once the last significant
        // digit is known.
        if byte != UInt8(ascii: "0") || significantEnd > digitsStart + (negative ? 1 : 0) {
          output.append(byte)
          if byte != UInt8(ascii: "0") { significantEnd = output.count }
        }
      } else {
        break
      }
      index += 1
    }
    let trailingZeros = output.count - significantEnd
    output.removeLast(trailingZeros)
    guard significantEnd > digitsStart + (negative ? 1 : 0) else {
      // Zero, whatever its sign or exponent.
      output.removeLast(output.count - digitsStart)
      output.append(UInt8(ascii: "0"))
      return
    }
    let exponent = Self.exponent(text, from: index, limit: 1_000_000_000_000_000)
    output.append(UInt8(ascii: "e"))
    output.append(contentsOf: String(exponent - fractionDigits + trailingZeros).utf8)
  }

  /// The exponent written at `index` (`e-7`, `E+12`; 0 when there is none), its magnitude
  /// taken as at most `limit`.
  private static func exponent(_ text: UnsafeBufferPointer<UInt8>, from start: Int, limit: Int) -> Int {
    var index = start
    guard index < text.count, text[index] | 0x20 == UInt8(ascii: "e") else { return 0 }
    index += 1
    var negative = false
    if index < text.count, text[index] == UInt8(ascii: "-") || text[index] == UInt8(ascii: "+") {
      negative = text[index] == UInt8(ascii: "-")
      index += 1
    }
    var exponent = 0
    while index < text.count, text[index] &- UInt8(ascii: "0") < 10 {
      exponent = min(exponent * 10 + Int(text[index] - UInt8(ascii: "0")), limit)
      index += 1
    }
    return negative ? -exponent : exponent
  }
}
