/// Finds which of a fixed set of names some UTF-8 bytes spell, without allocating: the
/// report parser uses it for field names and enum words, which makes up much of its work.
/// Names are grouped by length, so a lookup compares bytes with one or two candidates.
///
/// The tables describe the report schema, are made once and live as long as the process,
/// so their storage is never freed; in exchange a table is a plain value whose use costs no
/// reference counting (measured: retaining and releasing a table at each of the ~40
/// lookups per report cost more than the lookups).
public struct NameTable<Value: Sendable>: @unchecked Sendable {
  /// All names, back to back, ordered by length; `offsets` and `values` in that order.
  private let names: UnsafePointer<UInt8>
  private let offsets: UnsafePointer<Int>
  private let values: UnsafePointer<Value>
  /// For each entry: its position in the list given to `init`.
  private let positions: UnsafePointer<Int>
  /// Entries of length `n` are `firstOfLength[n] ..< firstOfLength[n + 1]`.
  private let firstOfLength: UnsafePointer<Int>
  private let longest: Int

  public init(_ entries: [(String, Value)]) {
    let sorted = entries.enumerated().sorted {
      ($0.element.0.utf8.count, $0.offset) < ($1.element.0.utf8.count, $1.offset)
    }
    longest = sorted.last?.element.0.utf8.count ?? 0
    var names: [UInt8] = []
    var offsets: [Int] = []
    for (_, entry) in sorted {
      offsets.append(names.count)
      names.append(contentsOf: entry.0.utf8)
    }
    let firstOfLength = (0...(longest + 1)).map { length in
      sorted.firstIndex { $0.element.0.utf8.count >= length } ?? sorted.count
    }
    self.names = Self.keep(names)
    self.offsets = Self.keep(offsets)
    self.values = Self.keep(sorted.map(\.element.1))
    self.positions = Self.keep(sorted.map(\.offset))
    self.firstOfLength = Self.keep(firstOfLength)
  }

  public func value(for bytes: UnsafeBufferPointer<UInt8>) -> Value? {
    entry(for: bytes)?.value
  }

  /// The value and its position in the list the table was made from.
  func entry(for bytes: UnsafeBufferPointer<UInt8>) -> (value: Value, position: Int)? {
    let length = bytes.count
    guard length <= longest else { return nil }
    var entry = firstOfLength[length]
    let end = firstOfLength[length + 1]
    while entry < end {
      let name = names + offsets[entry]
      var index = 0
      while index < length, name[index] == bytes[index] { index += 1 }
      if index == length { return (values[entry], positions[entry]) }
      entry += 1
    }
    return nil
  }

  /// A copy of `elements` that is never freed.
  private static func keep<Element>(_ elements: [Element]) -> UnsafePointer<Element> {
    let storage = UnsafeMutablePointer<Element>.allocate(capacity: max(elements.count, 1))
    storage.initialize(from: elements, count: elements.count)
    return UnsafePointer(storage)
  }
}

extension NameTable where Value: RawRepresentable<String> & CaseIterable, Value.AllCases == [Value] {
  public init() {
    self.init(Value.allCases.map { ($0.rawValue, $0) })
  }
}
