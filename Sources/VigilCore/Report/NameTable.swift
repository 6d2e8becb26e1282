/// Finds which of a fixed set of names some UTF-8 bytes spell, without allocating: the
/// report parser uses it for field names and enum words, which makes up much of its work.
/// Names are grouped by length, so a lookup compares bytes with one or two candidates.
/// A class, so that passing a table around costs one reference count, not one per array.
public final class NameTable<Value: Sendable>: Sendable {
  /// All names, back to back, ordered by length.
  private let names: [UInt8]
  private let values: [Value]
  /// For each entry: its position in the list given to `init`.
  private let positions: [Int]
  /// For each entry (in the order of `values`): where its name starts in `names`.
  private let offsets: [Int]
  /// Entries of length `n` are `firstOfLength[n] ..< firstOfLength[n + 1]`.
  private let firstOfLength: [Int]

  public init(_ entries: [(String, Value)]) {
    let sorted = entries.enumerated().sorted { ($0.element.0.utf8.count, $0.offset) < ($1.element.0.utf8.count, $1.offset) }
    let longest = sorted.last?.element.0.utf8.count ?? 0
    var names: [UInt8] = []
    var offsets: [Int] = []
    var firstOfLength = [Int](repeating: 0, count: longest + 2)
    for (_, entry) in sorted {
      offsets.append(names.count)
      names.append(contentsOf: entry.0.utf8)
    }
    for length in 0...(longest + 1) {
      firstOfLength[length] = sorted.firstIndex { $0.element.0.utf8.count >= length } ?? sorted.count
    }
    self.names = names
    self.values = sorted.map(\.element.1)
    self.positions = sorted.map(\.offset)
    self.offsets = offsets
    self.firstOfLength = firstOfLength
  }

  public func value(for bytes: UnsafeBufferPointer<UInt8>) -> Value? {
    entry(for: bytes)?.value
  }

  /// The value and its position in the list the table was made from.
  func entry(for bytes: UnsafeBufferPointer<UInt8>) -> (value: Value, position: Int)? {
    let length = bytes.count
    guard length + 1 < firstOfLength.count else { return nil }
    return names.withUnsafeBufferPointer { names in
      offsets.withUnsafeBufferPointer { offsets in
        var entry = firstOfLength[length]
        let end = firstOfLength[length + 1]
        while entry < end {
          let name = names.baseAddress! + offsets[entry]
          var index = 0
          while index < length, name[index] == bytes[index] { index += 1 }
          if index == length { return (values[entry], positions[entry]) }
          entry += 1
        }
        return nil
      }
    }
  }
}

extension NameTable where Value: RawRepresentable<String> & CaseIterable, Value.AllCases == [Value] {
  public convenience init() {
    self.init(Value.allCases.map { ($0.rawValue, $0) })
  }
}
