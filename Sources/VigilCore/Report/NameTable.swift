/// Finds which of a fixed set of names some UTF-8 bytes spell, without allocating: the
/// report parser uses it for field names and enum words, which makes up much of its work.
/// Names are grouped by length, so a lookup compares bytes with one or two candidates.
public struct NameTable<Value: Sendable>: Sendable {
  private let storage: [UInt8]
  /// For each length, the (offset in `storage`, value) of the names of that length.
  private let byLength: [[(offset: Int, value: Value)]]

  public init(_ entries: [(String, Value)]) {
    var storage: [UInt8] = []
    var byLength: [[(offset: Int, value: Value)]] = []
    for (name, value) in entries {
      let length = name.utf8.count
      while byLength.count <= length { byLength.append([]) }
      byLength[length].append((storage.count, value))
      storage.append(contentsOf: name.utf8)
    }
    self.storage = storage
    self.byLength = byLength
  }

  public func value(for bytes: UnsafeBufferPointer<UInt8>) -> Value? {
    guard bytes.count < byLength.count else { return nil }
    return storage.withUnsafeBufferPointer { storage in
      for candidate in byLength[bytes.count] {
        var index = 0
        while index < bytes.count, storage[candidate.offset + index] == bytes[index] {
          index += 1
        }
        if index == bytes.count { return candidate.value }
      }
      return nil
    }
  }
}

extension NameTable where Value: RawRepresentable<String> & CaseIterable, Value.AllCases == [Value] {
  public init() {
    self.init(Value.allCases.map { ($0.rawValue, $0) })
  }
}
