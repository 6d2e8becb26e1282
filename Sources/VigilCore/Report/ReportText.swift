/// Text from a report. Most texts are a slice of the report's own line, shared with the
/// other fields, so parsing a report allocates once for all of them instead of once per
/// string (measured: creating a `String` per field cost about half of the time to parse
/// and validate a report). `string` decodes on demand; comparisons work on the bytes.
public struct ReportText: Sendable, Hashable, Comparable, CustomStringConvertible,
  ExpressibleByStringLiteral
{
  private enum Storage: Sendable {
    case slice(ReportLine, start: Int32, count: Int32)
    case string(String)
  }

  private let storage: Storage

  public init(_ string: String) {
    storage = .string(string)
  }

  public init(stringLiteral value: String) {
    storage = .string(value)
  }

  init(line: ReportLine, start: Int, count: Int) {
    storage = .slice(line, start: Int32(start), count: Int32(count))
  }

  public var string: String {
    switch storage {
    case .string(let string): string
    case .slice: withUTF8 { String(decoding: $0, as: UTF8.self) }
    }
  }

  public var description: String { string }

  /// Length in UTF-8 bytes.
  public var utf8Count: Int {
    switch storage {
    case .slice(_, _, let count): Int(count)
    case .string(let string): string.utf8.count
    }
  }

  public func withUTF8<Result>(_ body: (UnsafeBufferPointer<UInt8>) throws -> Result) rethrows -> Result {
    switch storage {
    case .slice(let line, let start, let count):
      return try line.withBytes { try body(UnsafeBufferPointer(rebasing: $0[Int(start)..<Int(start + count)])) }
    case .string(var string):
      return try string.withUTF8(body)
    }
  }

  public static func == (lhs: ReportText, rhs: ReportText) -> Bool {
    lhs.withUTF8 { left in
      rhs.withUTF8 { right in left.elementsEqual(right) }
    }
  }

  /// Orders by UTF-8 bytes, which is the order of Unicode scalar values.
  public static func < (lhs: ReportText, rhs: ReportText) -> Bool {
    lhs.withUTF8 { left in
      rhs.withUTF8 { right in left.lexicographicallyPrecedes(right) }
    }
  }

  public func hash(into hasher: inout Hasher) {
    withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
  }
}

/// A private copy of the line a report came from; its texts point into it.
final class ReportLine: @unchecked Sendable {
  // Immutable after `init`, which is why sharing it between threads is safe.
  private let bytes: UnsafeMutableBufferPointer<UInt8>

  init(copying source: UnsafeBufferPointer<UInt8>) {
    bytes = .allocate(capacity: max(source.count, 1))
    _ = bytes.initialize(from: source)
  }

  deinit {
    bytes.deallocate()
  }

  func withBytes<Result>(_ body: (UnsafeBufferPointer<UInt8>) throws -> Result) rethrows -> Result {
    try body(UnsafeBufferPointer(bytes))
  }
}
