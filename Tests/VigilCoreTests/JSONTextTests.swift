import Foundation
import Testing

@testable import VigilCore

/// Writing JSON strings (JSONText), on every alert line's and response's path: each text
/// written is read back as itself, by Foundation's parser and by ours, and an alert line
/// says where its message is.
@Suite("Writing JSON strings")
struct JSONTextTests {
  /// Texts of every length around the eight-byte steps, with the bytes that need escaping
  /// at every position, Arabic among them.
  static func texts() -> [String] {
    let pieces = ["a", "\"", "\\", "\n", "\u{01}", "\u{1F}", "\t", "ب", "é", " ", "\r", "z", "\u{7F}", "😀"]
    var generator = SystemRandomNumberGenerator()
    var texts = ["", "plain ascii only, longer than sixteen bytes", "قصف مدفعي على الأحياء السكنية"]
    for length in 0..<40 {
      for _ in 0..<5 {
        texts.append(String((0..<length).map { _ in pieces.randomElement(using: &generator)! }.joined()))
      }
    }
    return texts
  }

  @Test func everyTextReadsBackAsItself() throws {
    for text in Self.texts() {
      var bytes: [UInt8] = []
      JSONText.appendString(text, to: &bytes)
      let read = try JSONSerialization.jsonObject(with: Data(bytes), options: .fragmentsAllowed) as? String
      #expect(read == text, "\(text.debugDescription) written as \(String(decoding: bytes, as: UTF8.self))")
      #expect(try JSONValue.parse(bytes) == .string(text))
      #expect(JSONText.string(text) == String(decoding: bytes, as: UTF8.self))
      #expect(!bytes.dropFirst().dropLast().contains { $0 < 0x20 }, "no raw control character")
    }
  }

  @Test func anAlertLineSaysWhereItsMessageIs() {
    for text in Self.texts() {
      let record = AlertRecord(
        time: "2016-03-04T04:40:00.000Z", rule: "a.b", priority: .high, reportID: "R-\"1\"", occurredAt: nil,
        message: text, basis: ["ISSG ¶4"], tags: [], ruleset: "sha256:x")
      let written = record.written(seq: 7, prev: AlertChain.genesis)
      let line = written.line
      var quoted: [UInt8] = []
      JSONText.appendString(text, to: &quoted)
      #expect(Array(line[written.message]) == Array(quoted.dropFirst().dropLast()))
      #expect(String(decoding: written.line, as: UTF8.self) == record.line(seq: 7, prev: AlertChain.genesis).line)
    }
  }
}

@Suite("Writing JSON a piece at a time (JSONBytes)")
struct JSONBytesTests {
  @Test(arguments: [0, 1, 9, 10, 11, 99, 100, 1_000_007, UInt64(UInt32.max), UInt64.max - 1, UInt64.max])
  func aWholeNumberIsWrittenAsSwiftPrintsIt(value: UInt64) {
    var out = JSONBytes(capacity: 0)
    out.decimal(value)
    #expect(String(decoding: out.finished(), as: UTF8.self) == String(value))
  }

  @Test(arguments: [0, -1, -10, 42, Int.min, Int.max])
  func aSignedNumberIsWrittenAsSwiftPrintsIt(value: Int) {
    var out = JSONBytes(capacity: 0)
    out.decimal(value)
    #expect(String(decoding: out.finished(), as: UTF8.self) == String(value))
  }

  @Test func piecesMakeOneValueThatFoundationReads() throws {
    var out = JSONBytes(capacity: 8)
    out.raw("{\"n\":")
    out.decimal(-7)
    out.raw(",\"s\":")
    out.string("قال \"لا\"\n")
    out.raw(",\"l\":")
    out.strings(["a", "ب", ""])
    out.raw(",\"e\":")
    out.strings([])
    out.raw("}")
    let read = try #require(try JSONSerialization.jsonObject(with: Data(out.finished())) as? [String: Any])
    #expect(read["n"] as? Int == -7)
    #expect(read["s"] as? String == "قال \"لا\"\n")
    #expect(read["l"] as? [String] == ["a", "ب", ""])
    #expect((read["e"] as? [String])?.isEmpty == true)
  }

  @Test func growingPastItsCapacityKeepsEveryByte() throws {
    // Strings of every kind, control characters (escaped as \u00XX) among them, written
    // into a writer that starts small and grows many times; Foundation reads them back.
    var generator = SystemRandomNumberGenerator()
    let alphabet: [Character] = ["a", "Z", " ", "\"", "\\", "\n", "\r", "\t", "\u{01}", "\u{1F}", "ح", "ل", "€", "😀", "/"]
    var texts: [String] = []
    for _ in 0..<300 {
      texts.append(String((0..<Int.random(in: 0..<40, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! }))
    }
    var out = JSONBytes(capacity: 0)
    out.strings(texts)
    let bytes = out.finished()
    let read = try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String])
    #expect(read == texts)
  }
}
