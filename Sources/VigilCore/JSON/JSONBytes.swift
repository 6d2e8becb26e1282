import CVigilBytes

/// JSON text being written as UTF-8 bytes, a piece at a time: punctuation and member names
/// as given, strings escaped, numbers in decimal.
///
/// It keeps its bytes in memory of its own, not in an `Array`: a response and an alert
/// line are some twenty small appends each, and `Array.append(contentsOf:)` cost about 100
/// instructions a call (uniqueness, capacity, then a generic copy), some 4,000 a report in
/// all (bench/count-instructions); here an append is a capacity test and a copy.
/// Non-copyable, so that the memory has one owner and is freed once. A struct with
/// mutating methods rather than helpers nested in the writing function: a nested function
/// that captured the bytes boxed them, and every append paid a dynamic exclusivity check.
public struct JSONBytes: ~Copyable {
  @usableFromInline var base: UnsafeMutablePointer<UInt8>
  /// The bytes written.
  /// How many bytes are written.
  @usableFromInline var end = 0
  public var count: Int { end }
  @usableFromInline var capacity: Int

  public init(capacity: Int) {
    self.capacity = max(capacity, 64)
    base = UnsafeMutablePointer<UInt8>.allocate(capacity: self.capacity)
  }

  deinit { base.deallocate() }

  /// Runs `body` on the bytes written so far. (A pointer handed out by a property could
  /// outlive the value: a non-copyable value may be freed right after its last use.)
  public borrowing func withWritten<Result>(_ body: (UnsafeBufferPointer<UInt8>) throws -> Result) rethrows
    -> Result
  {
    try body(UnsafeBufferPointer(start: base, count: end))
  }

  /// The bytes, as an array; the memory is freed once they are copied.
  public consuming func finished() -> [UInt8] {
    let (base, end) = (self.base, self.end)
    discard self
    defer { base.deallocate() }
    return Array(UnsafeBufferPointer(start: base, count: end))
  }

  /// Takes back what was written after the first `count` bytes.
  public mutating func truncate(to count: Int) {
    precondition(count >= 0 && count <= end)
    end = count
  }

  /// Room for `extra` more bytes.
  @inlinable @inline(__always)
  mutating func reserve(_ extra: Int) {
    if end + extra > capacity { grow(to: end + extra) }
  }

  @usableFromInline
  mutating func grow(to needed: Int) {
    let larger = max(needed, capacity * 2)
    let moved = UnsafeMutablePointer<UInt8>.allocate(capacity: larger)
    moved.initialize(from: base, count: end)
    base.deallocate()
    base = moved
    capacity = larger
  }

  @inlinable
  mutating func append(_ byte: UInt8) {
    reserve(1)
    base[end] = byte
    end += 1
  }

  /// Bytes as they are.
  @inlinable @inline(__always)
  public mutating func append(_ bytes: UnsafeBufferPointer<UInt8>) {
    guard let source = bytes.baseAddress else { return }
    reserve(bytes.count)
    (base + end).initialize(from: source, count: bytes.count)
    end += bytes.count
  }

  /// ASCII text as it is: punctuation, member names. Always inlined: with the literal's
  /// length known where it is written, the copy compiles to a few moves rather than a call
  /// to `memcpy` (~45 instructions an append otherwise, bench/count-instructions).
  @inlinable @inline(__always) public mutating func raw(_ text: StaticString) {
    append(UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
  }

  /// Text as it is, already fit to stand in JSON (a hash's hex, an enum's word). Named
  /// apart from `raw`, so that literals take the `StaticString` path.
  public mutating func verbatim(_ text: String) {
    text.withUTF8InPlace { append($0) }
  }

  /// A JSON string literal whose content is escaped already (as another line holds it):
  /// the bytes between quotes.
  public mutating func quoted(escaped content: UnsafeBufferPointer<UInt8>) {
    reserve(content.count + 2)
    append(UInt8(ascii: "\""))
    append(content)
    append(UInt8(ascii: "\""))
  }

  /// A JSON string literal of `text`, quotes included.
  public mutating func string(_ text: String) {
    text.withUTF8InPlace { string(utf8: $0) }
  }

  /// A JSON string literal of UTF-8 text: quotes, backslashes and control characters
  /// escaped, the runs between them copied whole.
  public mutating func string(utf8: UnsafeBufferPointer<UInt8>) {
    // Room for the text, its quotes and a block's read past it (vigil_first_special_padded).
    reserve(utf8.count + 2 + 16)
    append(UInt8(ascii: "\""))
    guard let source = utf8.baseAddress else {
      append(UInt8(ascii: "\""))
      return
    }
    // Most texts need no escape: copied whole, then looked over where they lie, in whole
    // blocks (scanning the source first ended in words and single bytes, ~60 instructions a
    // text more, bench/count-instructions).
    (base + end).initialize(from: source, count: utf8.count)
    var run = vigil_first_special_padded(base + end, utf8.count)
    if run == utf8.count {
      end += utf8.count
      append(UInt8(ascii: "\""))
      return
    }
    // An escape is needed: the copy is kept up to it, the rest written run by run.
    end += run
    while true {
      let index = JSONStringBytes.firstSpecial(in: source, from: run, to: utf8.count).index
      guard index < utf8.count else { break }
      append(UnsafeBufferPointer(rebasing: utf8[run..<index]))
      run = index + 1
      let byte = utf8[index]
      append(UInt8(ascii: "\\"))
      switch byte {
      case UInt8(ascii: "\""), UInt8(ascii: "\\"): append(byte)
      case UInt8(ascii: "\n"): append(UInt8(ascii: "n"))
      case UInt8(ascii: "\r"): append(UInt8(ascii: "r"))
      case UInt8(ascii: "\t"): append(UInt8(ascii: "t"))
      default:
        let digits: StaticString = "0123456789abcdef"
        raw("u00")
        append(digits.utf8Start[Int(byte >> 4)])
        append(digits.utf8Start[Int(byte & 15)])
      }
    }
    append(UnsafeBufferPointer(rebasing: utf8[run...]))
    append(UInt8(ascii: "\""))
  }

  /// `["a","b"]`.
  public mutating func strings(_ items: [String]) {
    append(UInt8(ascii: "["))
    for index in items.indices {
      if index > 0 { append(UInt8(ascii: ",")) }
      string(items[index])
    }
    append(UInt8(ascii: "]"))
  }

  /// A whole number in decimal, `-` first when negative.
  public mutating func decimal(_ value: Int) {
    if value < 0 { append(UInt8(ascii: "-")) }
    decimal(UInt64(value.magnitude))
  }

  /// A whole number in decimal, without making a `String` of it.
  public mutating func decimal(_ value: UInt64) {
    guard value >= 10 else {
      append(UInt8(ascii: "0") + UInt8(value))
      return
    }
    var digits = 1
    var rest = value / 10
    while rest > 0 {
      digits += 1
      rest /= 10
    }
    reserve(digits)
    rest = value
    for position in stride(from: end + digits - 1, through: end, by: -1) {
      base[position] = UInt8(ascii: "0") + UInt8(rest % 10)
      rest /= 10
    }
    end += digits
  }
}
