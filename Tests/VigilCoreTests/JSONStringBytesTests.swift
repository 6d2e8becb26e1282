import CVigilBytes
import Testing

@testable import VigilCore

/// The scan both the JSON scanner and writer stop at: its blocks of 16 (SSE2), words of 8
/// and single bytes must agree with a byte-by-byte reading wherever the byte falls.
@Suite("JSONStringBytes: the first byte a JSON string cannot hold as it is")
struct JSONStringBytesTests {
  static func isSpecial(_ byte: UInt8) -> Bool { byte < 0x20 || byte == 0x22 || byte == 0x5C }

  static func check(_ bytes: [UInt8], from start: Int) {
    let expected = bytes[start...].firstIndex(where: isSpecial) ?? bytes.count
    let passedNonASCII = bytes[start..<expected].contains { $0 >= 0x80 }
    bytes.withUnsafeBufferPointer { buffer in
      let found = JSONStringBytes.firstSpecial(in: buffer.baseAddress!, from: start, to: buffer.count)
      #expect(found.index == expected, "\(bytes) from \(start)")
      // It may say so when it is not, never the other way round.
      if passedNonASCII { #expect(found.mayBeNonASCII, "\(bytes) from \(start)") }
    }
  }

  @Test("each special byte at every position, in lines of every length up to 48")
  func everyPosition() {
    for length in 1...48 {
      for special: UInt8 in [0x22, 0x5C, 0x00, 0x1F, 0x0A] {
        for position in 0..<length {
          var bytes = [UInt8](repeating: UInt8(ascii: "a"), count: length)
          bytes[position] = special
          for start in [0, 1, 7, 8, 15, 16, 17] where start < length { Self.check(bytes, from: start) }
        }
      }
      // None at all.
      Self.check([UInt8](repeating: 0x20, count: length), from: 0)
      Self.check([UInt8](repeating: 0x7F, count: length), from: 0)
    }
  }

  @Test("bytes beside the specials: 0x20, 0x21, 0x23, 0x5B, 0x5D, 0x7F, 0x80, 0xFF are ordinary")
  func neighboursAreOrdinary() {
    let ordinary: [UInt8] = [0x20, 0x21, 0x23, 0x5B, 0x5D, 0x7F, 0x80, 0xFF]
    for length in [5, 16, 31, 40] {
      for byte in ordinary {
        Self.check([UInt8](repeating: byte, count: length) + [0x22], from: 0)
      }
    }
  }

  @Test("UTF-8 before the special byte is reported, in a block, a word or the tail")
  func nonASCIIIsReported() {
    let arabic = Array("حلب".utf8)
    for before in 0...20 {
      for after in [0, 3, 20] {
        let bytes = [UInt8](repeating: 0x61, count: before) + arabic + [UInt8](repeating: 0x61, count: after) + [0x22]
        Self.check(bytes, from: 0)
      }
    }
  }

  @Test("random lines against the byte-by-byte reading")
  func randomLines() {
    var generator = SystemRandomNumberGenerator()
    let alphabet: [UInt8] = [0x22, 0x5C, 0x01, 0x61, 0x62, 0x20, 0xD8, 0xA7, 0x7E]
    for _ in 0..<2_000 {
      let length = Int.random(in: 1...70, using: &generator)
      let bytes = (0..<length).map { _ in
        Bool.random(using: &generator) ? UInt8(ascii: "x") : alphabet.randomElement(using: &generator)!
      }
      Self.check(bytes, from: Int.random(in: 0..<length, using: &generator))
    }
  }

  @Test("the next quote (what the report parser reads names and words to), at every position")
  func nextQuote() {
    for length in 0...40 {
      for position in 0...length {
        var bytes = [UInt8](repeating: UInt8(ascii: "\\"), count: length)
        if position < length { bytes[position] = UInt8(ascii: "\"") }
        if position + 1 < length { bytes[position + 1] = UInt8(ascii: "\"") }
        for start in [0, 1, 15, 16, 17] where start <= length {
          let expected = bytes[start...].firstIndex(of: UInt8(ascii: "\"")) ?? length
          let found = bytes.withUnsafeBufferPointer { buffer in
            vigil_find_quote(buffer.baseAddress ?? UnsafePointer(bitPattern: 1)!, start, length)
          }
          #expect(found == expected, "\(length) \(position) \(start)")
        }
      }
    }
  }

  /// The writer's escaping, byte by byte.
  static func escaped(_ bytes: [UInt8]) -> [UInt8] {
    var out: [UInt8] = [0x22]
    for byte in bytes {
      switch byte {
      case 0x22: out += Array(#"\""#.utf8)
      case 0x5C: out += Array(#"\\"#.utf8)
      case 0x0A: out += Array(#"\n"#.utf8)
      case 0x0D: out += Array(#"\r"#.utf8)
      case 0x09: out += Array(#"\t"#.utf8)
      case ..<0x20:
        let hex = Array("0123456789abcdef".utf8)
        out += Array(#"\u00"#.utf8) + [hex[Int(byte >> 4)], hex[Int(byte & 15)]]
      default: out.append(byte)
      }
    }
    return out + [0x22]
  }

  @Test("the writer escapes texts of every length with a special byte anywhere, after other output")
  func writerEscapes() {
    var generator = SystemRandomNumberGenerator()
    let alphabet: [UInt8] = [0x22, 0x5C, 0x0A, 0x01, 0x1F, 0x61, 0x20, 0xD8, 0xA7, 0x7F]
    for length in 0...48 {
      for _ in 0..<20 {
        let text = (0..<length).map { _ in
          Int.random(in: 0..<4, using: &generator) == 0 ? alphabet.randomElement(using: &generator)! : 0x62
        }
        var out = JSONBytes(capacity: Int.random(in: 1...80, using: &generator))
        out.raw("[")
        text.withUnsafeBufferPointer { out.string(utf8: $0) }
        out.raw("]")
        let written = out.finished()
        #expect(written == [0x5B] + Self.escaped(text) + [0x5D], "\(text)")
      }
    }
  }
}
