/// Text from a report. Each text is a slice of the report's own copy of its line, shared
/// with the other fields, so parsing a report allocates once for all of its texts instead
/// of once per string, and validates the UTF-8 once instead of again for each `String`.
/// `string` decodes on demand; comparisons work on the bytes.
public struct ReportText: Sendable, BytewiseHashable, Comparable, CustomStringConvertible,
  ExpressibleByStringLiteral
{
  // ManagedBuffer is not Sendable, but a ReportLine is never written after `copying`,
  // so sharing it between threads is safe.
  @usableFromInline nonisolated(unsafe) let line: ReportLine
  @usableFromInline let start: Int32
  @usableFromInline let count: Int32

  public init(_ string: String) {
    line = string.isEmpty ? ReportLine.empty : string.withUTF8InPlace { ReportLine.copying($0) }
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

  /// The same text in storage of its own, its bytes copied: a text of a report keeps the
  /// report's whole line alive, and one kept longer (a cache's key) should not.
  public var compacted: ReportText {
    withUTF8 { ReportLine.copying($0).whole }
  }

  public var description: String { string }

  /// Length in UTF-8 bytes.
  public var utf8Count: Int { Int(count) }

  /// The UTF-8 bytes, valid while this text is alive.
  @inlinable var utf8: UnsafeBufferPointer<UInt8> {
    UnsafeBufferPointer(rebasing: line.unsafeBytes[Int(start)..<Int(start + count)])
  }

  /// Inlinable: called generically from another module (a plugin's text cache), each call
  /// went through `withExtendedLifetime`'s closures and metadata, ~80 instructions.
  @inlinable
  public func withUTF8<Result>(_ body: (UnsafeBufferPointer<UInt8>) throws -> Result) rethrows -> Result {
    try withExtendedLifetime(line) { try body(utf8) }
  }

  /// Orders by UTF-8 bytes, which is the order of Unicode scalar values.
  public static func < (lhs: ReportText, rhs: ReportText) -> Bool {
    lhs.withUTF8 { left in rhs.withUTF8 { right in left.lexicographicallyPrecedes(right) } }
  }
}

/// A private, immutable copy of the bytes a report's texts point into: its line, or the
/// decoded form of a text that had escapes. One allocation holds the object and the bytes.
@usableFromInline
package final class ReportLine: ManagedBuffer<Int, UInt8> {
  nonisolated(unsafe) static let empty = copying(UnsafeBufferPointer(start: nil, count: 0))

  package static func copying(_ source: UnsafeBufferPointer<UInt8>) -> ReportLine {
    let buffer = create(minimumCapacity: source.count) { _ in source.count }
    buffer.withUnsafeMutablePointerToElements { elements in
      if let base = source.baseAddress { elements.initialize(from: base, count: source.count) }
    }
    return unsafeDowncast(buffer, to: ReportLine.self)
  }

  /// All of it as one text.
  var whole: ReportText { ReportText(line: self, start: 0, count: unsafeBytes.count) }

  /// The bytes, valid while this object is alive.
  @inlinable var unsafeBytes: UnsafeBufferPointer<UInt8> {
    withUnsafeMutablePointers { count, elements in UnsafeBufferPointer(start: elements, count: count.pointee) }
  }
}
