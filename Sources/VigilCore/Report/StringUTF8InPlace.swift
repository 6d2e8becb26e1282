extension String {
  /// Runs `body` on the string's UTF-8, read where it lies when the string is native (the
  /// usual case). `withUTF8` wants a mutable copy, and making one retained the text: atomic
  /// operations on memory often made on another thread. A bridged or lazy string is copied
  /// once, as `withUTF8` would.
  @inlinable
  public func withUTF8InPlace<Result>(_ body: (UnsafeBufferPointer<UInt8>) throws -> Result) rethrows -> Result {
    if let result = try utf8.withContiguousStorageIfAvailable(body) { return result }
    var copy = self
    return try copy.withUTF8(body)
  }
}
