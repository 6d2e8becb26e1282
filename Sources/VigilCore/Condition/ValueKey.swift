/// A value a condition pins, or a report's value of that field, as a set member or
/// dictionary key: equal and hashed by its UTF-8 bytes (`BytewiseHashable`), whether it is a
/// report's text or a string (an enum word), without copying either.
struct ValueKey: BytewiseHashable, Sendable {
  private enum Storage: Sendable {
    case text(ReportText)
    case string(String)
  }

  private let storage: Storage

  init(_ text: ReportText) { storage = .text(text) }
  init(_ string: String) { storage = .string(string) }

  /// The value as a string.
  var string: String {
    switch storage {
    case .text(let text): text.string
    case .string(let string): string
    }
  }

  func withUTF8<Result>(_ body: (UnsafeBufferPointer<UInt8>) throws -> Result) rethrows -> Result {
    switch storage {
    case .text(let text): return try text.withUTF8(body)
    case .string(let string): return try string.withUTF8InPlace(body)
    }
  }
}
