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
    var exponent = 0
    if index < text.count, text[index] | 0x20 == UInt8(ascii: "e") {
      index += 1
      var negative = false
      if index < text.count, text[index] == UInt8(ascii: "-") || text[index] == UInt8(ascii: "+") {
        negative = text[index] == UInt8(ascii: "-")
        index += 1
      }
      while index < text.count, text[index] &- UInt8(ascii: "0") < 10 {
        // Past a billion, the answer is the same: a fraction when negative.
        exponent = min(exponent * 10 + Int(text[index] - UInt8(ascii: "0")), 1_000_000_000)
        index += 1
      }
      if negative { exponent = -exponent }
    }
    // The digits without their trailing zeros, times ten to this power.
    return exponent - fractionDigits + trailingZeros >= 0
  }
}
