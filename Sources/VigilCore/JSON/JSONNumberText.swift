/// What a JSON number's text says exactly, where its `Double` has been rounded: whether
/// it is a whole number, and how it compares with a whole bound. `1e-400` becomes 0 as a
/// `Double` and `10000000.0000000001` becomes 10,000,000, yet neither is whole; `100e-2`
/// and `1.50e1` are.
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

  /// How the number written compares with the whole number `bound`, exactly: -1 below it,
  /// 0 equal, 1 above. A `Double` rounds `90.0000000000000000001` to 90 and `-1e-400` to
  /// -0, inside [-90, 90] and ≥ 0 as read, outside as written.
  public static func compare(_ text: UnsafeBufferPointer<UInt8>, to bound: Int) -> Int {
    var index = 0
    let negative = index < text.count && text[index] == UInt8(ascii: "-")
    if negative { index += 1 }
    // The significant digits, and the power of ten just above the first: 0.d₁d₂… × 10^power.
    var digits: [UInt8] = []
    var integerDigits = 0
    var leadingZeros = 0
    var inFraction = false
    while index < text.count {
      let byte = text[index]
      if byte == UInt8(ascii: ".") {
        inFraction = true
      } else if byte &- UInt8(ascii: "0") < 10 {
        if !inFraction { integerDigits += 1 }
        if digits.isEmpty, byte == UInt8(ascii: "0") { leadingZeros += 1 } else { digits.append(byte) }
      } else {
        break
      }
      index += 1
    }
    while digits.last == UInt8(ascii: "0") { digits.removeLast() }
    let boundSign = bound.signum()
    guard !digits.isEmpty else { return -boundSign }  // zero, whatever its sign
    let sign = negative ? -1 : 1
    if sign != boundSign { return sign > boundSign ? 1 : -1 }
    var boundDigits = Array(String(bound.magnitude).utf8)
    let boundPower = boundDigits.count
    while boundDigits.last == UInt8(ascii: "0") { boundDigits.removeLast() }
    let power = exponent(text, from: index, limit: 1_000_000_000) + integerDigits - leadingZeros
    let magnitude: Int
    if power != boundPower {
      magnitude = power > boundPower ? 1 : -1
    } else if digits == boundDigits {
      magnitude = 0
    } else {
      magnitude = digits.lexicographicallyPrecedes(boundDigits) ? -1 : 1
    }
    return sign * magnitude
  }

  /// Whether the number written lies in `range` exactly, given `value`, its `Double`: the
  /// text is looked at only when the `Double` sits on a whole bound, where rounding may
  /// have brought it in from outside.
  public static func value(
    _ value: Double, writtenAs text: UnsafeBufferPointer<UInt8>, liesIn range: ClosedRange<Double>
  ) -> Bool {
    guard range.contains(value) else { return false }
    if value == range.lowerBound, let whole = Int(exactly: range.lowerBound), compare(text, to: whole) < 0 { return false }
    if value == range.upperBound, let whole = Int(exactly: range.upperBound), compare(text, to: whole) > 0 { return false }
    return true
  }

  /// Appends the number's exact value in one form for all its spellings: its sign (none
  /// for zero), its significant digits without leading or trailing zeros, `e` and the power
  /// of ten of the last of them — `1e1`, `10` and `10.0e0` are all `1e1`; `0.1` is `1e-1`,
  /// where `0.10000000000000000555`, the same `Double`, is not. An exponent of any length
  /// is kept exactly (`1e-99999999999999999999999` is `10e-100000000000000000000000`, and
  /// not `1e-99999999999999999999999999`).
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
    output.append(UInt8(ascii: "e"))
    Self.appendExponent(text, from: index, adjustedBy: trailingZeros - fractionDigits, to: &output)
  }

  /// Appends the exponent written at `index` (0 when there is none) plus `adjustment`, in
  /// decimal, exactly whatever its length: `Int` arithmetic while it fits, digit by digit
  /// past that.
  private static func appendExponent(
    _ text: UnsafeBufferPointer<UInt8>, from start: Int, adjustedBy adjustment: Int, to output: inout [UInt8]
  ) {
    var index = start
    var negative = false
    var digits: [UInt8] = []
    if index < text.count, text[index] | 0x20 == UInt8(ascii: "e") {
      index += 1
      if index < text.count, text[index] == UInt8(ascii: "-") || text[index] == UInt8(ascii: "+") {
        negative = text[index] == UInt8(ascii: "-")
        index += 1
      }
      while index < text.count, text[index] &- UInt8(ascii: "0") < 10 {
        if !(digits.isEmpty && text[index] == UInt8(ascii: "0")) { digits.append(text[index] - UInt8(ascii: "0")) }
        index += 1
      }
    }
    // Up to 17 digits, and an adjustment no longer than a line, fit in an Int.
    if digits.count <= 17 {
      let magnitude = digits.reduce(0) { $0 * 10 + Int($1) }
      output.append(contentsOf: String((negative ? -magnitude : magnitude) + adjustment).utf8)
      return
    }
    // Longer: its magnitude is far above the adjustment's, so the sign stays; the
    // adjustment moves the magnitude up when it has the exponent's sign, else down.
    let towardZero = (adjustment < 0) != negative
    var carry = adjustment.magnitude
    var position = digits.count - 1
    while carry > 0 {
      if position < 0 {  // 999…9 + 1: a digit more
        digits.insert(0, at: 0)
        position = 0
      }
      let step = Int(carry % 10)
      carry /= 10
      var digit = Int(digits[position]) + (towardZero ? -step : step)
      if digit < 0 {
        digit += 10
        carry += 1
      } else if digit > 9 {
        digit -= 10
        carry += 1
      }
      digits[position] = UInt8(digit)
      position -= 1
    }
    let first = digits.firstIndex { $0 != 0 } ?? digits.count - 1
    if negative { output.append(UInt8(ascii: "-")) }
    output.append(contentsOf: digits[first...].map { $0 + UInt8(ascii: "0") })
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
