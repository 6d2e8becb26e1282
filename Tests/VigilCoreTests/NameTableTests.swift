import Testing

@testable import VigilCore

@Suite("NameTable: which of a fixed set of names some bytes spell")
struct NameTableTests {
  /// Names of every length from 1 to 24, several of each length sharing their first or
  /// last 8 bytes (what the table's two words hold), Arabic among them.
  static let names: [String] = [
    "a", "b", "id", "ie", "lat", "lon", "type", "typf", "place", "lang", "kind",
    "status", "source", "target", "weapons", "modality", "crossing", "occurred_at", "reported_at",
    "governorate", "civilians_killed", "civilians_injured", "children_killed", "aid_workers_killed",
    "aid_workers_xilled", "aid_workers_kill_d", "abcdefgh_middle_12345678", "abcdefgh_middlf_12345678",
    "abcdefghijklmnop", "abcdefgh12345678", "abcdefgz12345678", "حلب", "دير الزور",
  ]

  static func lookUp(_ table: NameTable<Int>, _ text: String) -> (value: Int, position: Int)? {
    Array(text.utf8).withUnsafeBufferPointer { table.entry(for: $0) }
  }

  @Test("every name is found, with its value and its place in the list")
  func everyNameIsFound() throws {
    let table = NameTable(Self.names.enumerated().map { ($0.element, $0.offset * 10) })
    for (position, name) in Self.names.enumerated() {
      let found = try #require(Self.lookUp(table, name), "\(name)")
      #expect(found.value == position * 10)
      #expect(found.position == position)
    }
  }

  @Test("a name with any one byte changed, cut short or made longer is not found")
  func nearMissesAreNotFound() {
    let table = NameTable(Self.names.enumerated().map { ($0.element, $0.offset) })
    let known = Set(Self.names.map { Array($0.utf8) })
    for name in Self.names {
      let bytes = Array(name.utf8)
      var misses: [[UInt8]] = [Array(bytes.dropLast()), bytes + [UInt8(ascii: "x")], [UInt8(ascii: "x")] + bytes]
      for index in bytes.indices {
        var changed = bytes
        changed[index] ^= 0x01
        misses.append(changed)
      }
      for miss in misses where !known.contains(miss) {
        let found = miss.withUnsafeBufferPointer { table.entry(for: $0) }
        #expect(found == nil, "\(String(decoding: miss, as: UTF8.self)) found as \(String(describing: found))")
      }
    }
  }

  @Test("the empty name, and bytes longer than any name")
  func edges() {
    let withEmpty = NameTable([("", 1), ("x", 2)])
    #expect(Self.lookUp(withEmpty, "")?.value == 1)
    #expect(Self.lookUp(withEmpty, "y") == nil)
    let table = NameTable([("type", 1)])
    #expect(Self.lookUp(table, "") == nil)
    #expect(Self.lookUp(table, String(repeating: "type", count: 10)) == nil)
  }
}
