/// Text from a report. Each text is a slice of the report's own copy of its line, shared
/// with the other fields, so parsing a report allocates once for all of its texts instead
/// of once per string (one `String` per field cost about half of the time to parse and
/// validate a report). `string` decodes on demand; comparisons work on the bytes.
public struct ReportText: Sendable, Hashable, Comparable, CustomStringConvertible,
  ExpressibleByStringLiteral
{
  private let line: ReportLine
  private let start: Int32
  private let count: Int32

  public init(_ string: String) {
    var string = string
    line = string.withUTF8 { ReportLine(copying: $0) }
    start = 0
    count = Int32(line.unsafeBytes.count)
  }

  public init(stringLiteral value: String) {
    self.init(value)
  }

  init(line: ReportLine, start: Int, count: Int) {
    self.line = line
    self.start = Int32(start)
    self.count = Int32(count)
  }

  public var string: String { String(decoding: utf8, as: UTF8.self) }

  public var description: String { string }

  /// Length in UTF-8 bytes.
  public var utf8Count: Int { Int(count) }

  /// The UTF-8 bytes, valid while this text is alive.
  private var utf8: UnsafeBufferPointer<UInt8> {
    UnsafeBufferPointer(rebasing: line.unsafeBytes[Int(start)..<Int(start + count)])
  }

  public func withUTF8<Result>(_ body: (UnsafeBufferPointer<UInt8>) throws -> Result) rethrows -> Result {
    try withExtendedLifetime(line) { try body(utf8) }
  }

  public static func == (lhs: ReportText, rhs: ReportText) -> Bool {
    lhs.withUTF8 { left in rhs.withUTF8 { right in left.elementsEqual(right) } }
  }

  /// Orders by UTF-8 bytes, which is the order of Unicode scalar values.
  public static func < (lhs: ReportText, rhs: ReportText) -> Bool {
    lhs.withUTF8 { left in rhs.withUTF8 { right in left.lexicographicallyPrecedes(right) } }
  }

  public func hash(into hasher: inout Hasher) {
    withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
  }
}

/// A private, immutable copy of the bytes a report's texts point into: its line, or the
/// decoded form of a text that had escapes.
final class ReportLine: Sendable {
  /// Never written after `init`, which is why sharing it between threads is safe.
  nonisolated(unsafe) let unsafeBytes: UnsafeBufferPointer<UInt8>

  init(copying source: UnsafeBufferPointer<UInt8>) {
    let copy = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: max(source.count, 1))
    _ = copy.initialize(from: source)
    unsafeBytes = UnsafeBufferPointer(rebasing: copy[0..<source.count])
  }

  deinit {
    UnsafeMutableRawPointer(mutating: unsafeBytes.baseAddress!).deallocate()
  }
}
