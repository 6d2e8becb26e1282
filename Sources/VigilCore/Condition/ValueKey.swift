/// A text value as a set member or dictionary key, equal and hashed by its UTF-8 bytes (the
/// comparison `=` makes), whether it is a report's text or a string, without copying either.
/// `String` would not do: it equates canonically equivalent spellings (`إ` as one scalar or
/// as `ا` and a combining hamza), which `=` tells apart.
struct ValueKey: Hashable, Sendable {
  private enum Storage: Sendable {
    case text(ReportText)
    case string(String)
  }

  private let storage: Storage

  init(_ text: ReportText) { storage = .text(text) }
  init(_ string: String) { storage = .string(string) }

  private func withUTF8<Result>(_ body: (UnsafeBufferPointer<UInt8>) -> Result) -> Result {
    switch storage {
    case .text(let text): return text.withUTF8(body)
    case .string(var string): return string.withUTF8(body)
    }
  }

  static func == (lhs: ValueKey, rhs: ValueKey) -> Bool {
    lhs.withUTF8 { left in rhs.withUTF8 { right in left.elementsEqual(right) } }
  }

  func hash(into hasher: inout Hasher) {
    withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
  }
}
