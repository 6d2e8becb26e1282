import Foundation
import Testing
import VigilTestSupport

@testable import VigilServer

/// The start-up readers' line walk (FileLines): lines across its read slices, offsets,
/// starting part-way, and a last line still being written.
@Suite("A file's lines, a slice at a time")
struct FileLinesTests {
  /// Every line of `path` from `start`, with its offset.
  static func lines(_ path: String, from start: Int64 = 0) -> [(String, Int64)] {
    guard let file = fopen(path, "rb") else { return [] }
    defer { fclose(file) }
    var seen: [(String, Int64)] = []
    FileLines.forEach(in: file, from: start) { line, offset in
      seen.append((String(decoding: line, as: UTF8.self), offset))
    }
    return seen
  }

  @Test func linesAcrossSlicesComeWholeWithTheirOffsets() throws {
    let directory = try TemporaryDirectory()
    let path = directory.path + "/lines"
    // Lines of 1 byte to 2 MB: several straddle the 1 MiB slices, one spans three.
    let lengths = [1, 700_000, 5, 1_500_000, 3, 0, 2_000_000, 42]
    let written = lengths.enumerated().map { String(repeating: Character(UnicodeScalar(97 + $0.offset)!), count: $0.element) }
    try (written.joined(separator: "\n") + "\nunfinished").write(toFile: path, atomically: true, encoding: .utf8)
    var offset: Int64 = 0
    var expected: [(String, Int64)] = []
    for line in written {
      if !line.isEmpty { expected.append((line, offset)) }
      offset += Int64(line.utf8.count + 1)
    }
    let seen = Self.lines(path)
    #expect(seen.map(\.0) == expected.map(\.0), "whole lines, the empty one passed over, the unfinished one left out")
    #expect(seen.map(\.1) == expected.map(\.1))
    let fromFourth = Self.lines(path, from: expected[3].1)
    #expect(fromFourth.map(\.1) == expected[3...].map(\.1))
  }
}

extension FileLinesTests {
  @Test func aWalkStopsAtTheEndItIsGiven() throws {
    let directory = try TemporaryDirectory()
    let path = directory.path + "/lines"
    try "one\ntwo\nthree\nfour\n".write(toFile: path, atomically: true, encoding: .utf8)
    guard let file = fopen(path, "rb") else {
      Issue.record("cannot open \(path)")
      return
    }
    defer { fclose(file) }
    var seen: [String] = []
    // From "two" to the end of "three" (its newline included).
    FileLines.forEach(in: file, from: 4, to: 14) { line, _ in seen.append(String(decoding: line, as: UTF8.self)) }
    #expect(seen == ["two", "three"])
  }
}
