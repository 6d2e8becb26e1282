/// A value equal to another, and hashed, by its UTF-8 bytes: the comparison a rule's `=`
/// makes. `String` would not do: it equates canonically equivalent spellings (`إ` as one
/// scalar, or as `ا` and a combining hamza), which `=` tells apart. Inlinable, so a
/// comparison in another module is specialized rather than generic.
public protocol BytewiseHashable: Hashable {
  func withUTF8<Result>(_ body: (UnsafeBufferPointer<UInt8>) throws -> Result) rethrows -> Result
}

extension BytewiseHashable {
  @inlinable public static func == (lhs: Self, rhs: Self) -> Bool {
    lhs.withUTF8 { left in rhs.withUTF8 { right in left.sameBytes(as: right) } }
  }

  @inlinable public func hash(into hasher: inout Hasher) {
    withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
  }
}
