/// Finds which of a fixed set of names some UTF-8 bytes spell, without allocating: the
/// report parser uses it for field names and enum words, which makes up much of its work.
/// Names are grouped by length, so a lookup compares with one or two candidates, and each
/// candidate by two words that hold up to 16 of its bytes (`Words`), so most comparisons
/// are two integer compares (measured: byte by byte, a lookup cost ~80 instructions, about
/// 2,000 of a report's).
///
/// The tables describe the report schema, are made once and live as long as the process,
/// so their storage is never freed; in exchange a table is a plain value whose use costs no
/// reference counting (measured: retaining and releasing a table at each of the ~40
/// lookups per report cost more than the lookups).
public struct NameTable<Value: Sendable>: @unchecked Sendable {
  /// All names, back to back, ordered by length; `offsets` and `values` in that order.
  private let names: UnsafePointer<UInt8>
  private let offsets: UnsafePointer<Int>
  /// Each entry's `Words`.
  private let words: UnsafePointer<Words>
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
    self.words = Self.keep(
      names.withUnsafeBufferPointer { all in
        sorted.indices.map { entry in
          // No bytes at all when every name is empty.
          all.baseAddress.map { Words($0 + offsets[entry], sorted[entry].element.0.utf8.count) } ?? Words()
        }
      })
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
    guard entry < end else { return nil }
    // Only the empty name has no bytes to point to.
    guard let start = bytes.baseAddress else { return (values[entry], positions[entry]) }
    let key = Words(start, length)
    while entry < end {
      if words[entry] == key, length <= 16 || Self.middleEqual(names + offsets[entry], start, length) {
        return (values[entry], positions[entry])
      }
      entry += 1
    }
    return nil
  }

  /// Up to 16 bytes of a name of `length` bytes as two words: its first and its last 8
  /// bytes, or 4, or 2 when it is shorter (the two overlap or coincide). Names of one
  /// length whose words are equal are equal up to 16 bytes; longer ones also compare
  /// `middleEqual`.
  private struct Words: Equatable {
    let first: UInt64
    let last: UInt64

    init() {
      first = 0
      last = 0
    }

    @inline(__always)
    init(_ start: UnsafePointer<UInt8>, _ length: Int) {
      let raw = UnsafeRawPointer(start)
      switch length {
      case 8...:
        first = raw.loadUnaligned(as: UInt64.self)
        last = raw.loadUnaligned(fromByteOffset: length - 8, as: UInt64.self)
      case 4...:
        first = UInt64(raw.loadUnaligned(as: UInt32.self))
        last = UInt64(raw.loadUnaligned(fromByteOffset: length - 4, as: UInt32.self))
      case 2...:
        first = UInt64(raw.loadUnaligned(as: UInt16.self))
        last = UInt64(raw.loadUnaligned(fromByteOffset: length - 2, as: UInt16.self))
      case 1:
        first = UInt64(start[0])
        last = 0
      default:
        first = 0
        last = 0
      }
    }
  }

  /// Whether the bytes between the first and the last 8 of two names longer than 16 agree.
  private static func middleEqual(_ name: UnsafePointer<UInt8>, _ key: UnsafePointer<UInt8>, _ length: Int) -> Bool {
    var index = 8
    while index < length - 8 {
      guard name[index] == key[index] else { return false }
      index += 1
    }
    return true
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
