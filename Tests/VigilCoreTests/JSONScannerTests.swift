import Foundation
import Testing
import VigilTestSupport

@testable import VigilCore

@Suite("JSON below the schema: RFC 8259 and the limits of docs/reports.md")
struct JSONScannerTests {
  /// Lines that are not acceptable JSON, each with the reason the error must give.
  static let invalid: [(String, [UInt8], String)] = [
    ("empty", [], "unexpected end of the line at byte 0"),
    ("unterminated object", bytes(#"{"id":"A""#), "unexpected end of the line at byte 9"),
    ("unterminated string", bytes(#"{"id":"A}"#), "unterminated string at byte 6"),
    (
      "trailing data", bytes(#"{"id":"A"} x"#),
      "unexpected 'x', expected the end of the line after the JSON value at byte 11"
    ),
    ("two values", bytes(#"{}{}"#), "unexpected '{', expected the end of the line after the JSON value at byte 2"),
    ("trailing comma", bytes(#"{"a":1,}"#), "unexpected '}', expected a key in double quotes at byte 7"),
    ("single quotes", bytes("{'a':1}"), "unexpected ''', expected a key in double quotes at byte 1"),
    ("missing colon", bytes(#"{"a" 1}"#), "unexpected '1', expected ':' after the key at byte 5"),
    ("bare word", bytes(#"{"a":yes}"#), "unexpected 'y', expected a JSON value at byte 5"),
    ("truncated literal", bytes(#"{"a":tru}"#), "unexpected characters, expected a JSON value at byte 5"),
    ("leading zero", bytes(#"{"a":01}"#), "invalid number: leading zero at byte 5"),
    ("bare minus", bytes(#"{"a":-}"#), "invalid number: expected a digit at byte 5"),
    ("dot without digits", bytes(#"{"a":1.}"#), "invalid number: expected a digit after '.' at byte 5"),
    ("leading dot", bytes(#"{"a":.5}"#), "unexpected '.', expected a JSON value at byte 5"),
    ("empty exponent", bytes(#"{"a":1e}"#), "invalid number: expected a digit in the exponent at byte 5"),
    ("plus sign", bytes(#"{"a":+1}"#), "unexpected '+', expected a JSON value at byte 5"),
    ("overflowing number", bytes(#"{"a":1e999}"#), "number does not fit a 64-bit float at byte 5"),
    ("overflowing negative", bytes(#"{"a":-1.8e308}"#), "number does not fit a 64-bit float at byte 5"),
    ("NaN", bytes(#"{"a":NaN}"#), "unexpected 'N', expected a JSON value at byte 5"),
    ("raw tab in string", bytes("{\"a\":\"x\ty\"}"), "raw control character 0x09 in a string (escape it) at byte 7"),
    (
      "raw NUL in string", [0x7B, 0x22, 0x61, 0x22, 0x3A, 0x22, 0x00, 0x22, 0x7D],
      "raw control character 0x00 in a string (escape it) at byte 6"
    ),
    ("bad escape", bytes(#"{"a":"\x"}"#), "invalid escape in a string at byte 6"),
    ("short unicode escape", bytes(#"{"a":"\u12"}"#), "invalid \\u escape in a string at byte 6"),
    ("lone high surrogate", bytes(#"{"a":"\ud800"}"#), "lone high surrogate escape in a string at byte 6"),
    ("high surrogate then text", bytes(#"{"a":"\ud800x"}"#), "lone high surrogate escape in a string at byte 6"),
    ("two high surrogates", bytes(#"{"a":"\ud800\ud800"}"#), "lone high surrogate escape in a string at byte 6"),
    ("lone low surrogate", bytes(#"{"a":"\udc00"}"#), "lone low surrogate escape in a string at byte 6"),
    ("duplicate key", bytes(#"{"id":"A","id":"B"}"#), #"duplicate key "id" in one object at byte 10"#),
    ("duplicate key by escape", bytes(#"{"id":"A","\u0069d":"B"}"#), #"duplicate key "id" in one object at byte 10"#),
    ("duplicate nested key", bytes(#"{"extra":{"k":1,"j":2,"k":3}}"#), #"duplicate key "k" in one object at byte 22"#),
    ("byte order mark", [0xEF, 0xBB, 0xBF] + bytes("{}"), "unexpected byte-order mark (U+FEFF: save the file as UTF-8 without one), expected a JSON value at byte 0"),
    ("overlong encoding", bytes(#"{"a":""#) + [0xC0, 0x80] + bytes(#""}"#), "invalid UTF-8 at byte 6"),
    ("encoded surrogate", bytes(#"{"a":""#) + [0xED, 0xA0, 0x80] + bytes(#""}"#), "invalid UTF-8 at byte 6"),
    ("beyond U+10FFFF", bytes(#"{"a":""#) + [0xF4, 0x90, 0x80, 0x80] + bytes(#""}"#), "invalid UTF-8 at byte 6"),
    ("stray continuation byte", bytes(#"{"a":""#) + [0x80] + bytes(#""}"#), "invalid UTF-8 at byte 6"),
    ("truncated sequence", bytes(#"{"a":""#) + [0xD8] + bytes(#""}"#), "invalid UTF-8 at byte 6"),
    ("latin-1 byte", bytes(#"{"a":"caf"#) + [0xE9] + bytes(#""}"#), "invalid UTF-8 at byte 9"),
    ("0xFF", bytes(#"{"a":""#) + [0xFF] + bytes(#""}"#), "invalid UTF-8 at byte 6"),
    ("65 levels", nested(65), "nesting deeper than 64 levels at byte 64"),
  ]

  @Test(arguments: invalid)
  func invalidJSON(name: String, line: [UInt8], reason: String) throws {
    let error = try #require(refusalOf(line))
    #expect(error.code == .invalidJSON)
    #expect(error.message == "not valid JSON: \(reason)")
    #expect(error.field == nil)
  }

  @Test func sixtyFourLevelsAreAllowed() {
    #expect(throws: Never.self) { try JSONScanner.scan(nested(64)) }
  }

  @Test func deepNestingIsRefusedWithoutRecursion() throws {
    // A megabyte of '[' would overflow a recursive parser's stack many times over.
    let hostile = [UInt8](repeating: UInt8(ascii: "["), count: 1 << 20)
    let error = try #require(refusalOf(hostile))
    #expect(error.code == .invalidJSON)
    #expect(error.message.contains("nesting deeper than 64 levels"))
  }

  @Test func validJSONOfEveryKindScans() throws {
    let text = #" { "a" : [ 1 , -2.5e3 , true , false , null , "x\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00" , { } , [ ] ] } "#
    let tape = try JSONScanner.scan(bytes(text))
    #expect(tape[0].kind == .object)
    #expect(tape[0].count == 1)
    #expect(tape[2].kind == .array)
    #expect(tape[2].count == 8)
    #expect(tape[0].next == Int32(tape.count))
    #expect(tape[3].number == 1)
    #expect(tape[4].number == -2500)
    #expect((5...7).map { tape[$0].kind } == [.true, .false, .null])
  }

  @Test func manyKeysAreCheckedForDuplicatesToo() throws {
    let members = (0..<5000).map { #""k\#($0)":\#($0)"# }.joined(separator: ",")
    #expect(throws: Never.self) { try JSONScanner.scan(bytes("{\(members)}")) }
    let error = try #require(refusalOf("{\(members),\"k4711\":0}"))
    #expect(error.message.contains(#"duplicate key "k4711""#))
  }

  /// Keys that the fingerprint cannot tell apart (the same first and last eight bytes and
  /// length): they were compared pair by pair, 22 s for 4,000 of them on one connection's
  /// thread. Sorted by their bytes they are told apart, and a repeat is still found: the
  /// first in the object's order.
  @Test func keysAlikeAtBothEndsAreToldApartAndTheirRepeatsFound() throws {
    let names = (0..<6000).map { "aaaaaaaa" + String(100_000 + $0) + "bbbbbbbb" }
    let members = names.map { #""\#($0)":0"# }.joined(separator: ",")
    #expect(throws: Never.self) { try JSONScanner.scan(bytes("{\(members)}")) }
    let repeated = "{\(members),\"\(names[4711])\":1,\"\(names[12])\":2}"
    let error = try #require(refusalOf(repeated))
    #expect(error.message.contains("duplicate key \"\(names[4711])\""), "\(error.message)")
    // An escaped spelling of a key repeats it too.
    let escaped = names[99].replacingOccurrences(of: "aaaaaaaa", with: #"\u0061aaaaaaa"#)
    let byEscape = try #require(refusalOf("{\(members),\"\(escaped)\":1}"))
    #expect(byEscape.message.contains("duplicate key \"\(names[99])\""), "\(byEscape.message)")
  }

  /// An exponent too long to keep whole is read only by the exact parse: kept at 100,000,
  /// the fast path let as many fraction digits cancel it, and 0.0…01e1000000 was read as 1.
  @Test func aVeryLongNumberIsReadForWhatItIs() throws {
    let tiny = "0." + String(repeating: "0", count: 99_999) + "1"
    let huge = try #require(refusalOf("{\"n\":\(tiny)e1000000}"))
    #expect(huge.message.contains("does not fit a 64-bit float"), "\(huge.message)")
    for (exponent, value) in [("e100000", 1.0), ("e100001", 10.0), ("e99999", 0.1)] {
      let tape = try JSONScanner.scan(bytes("{\"n\":\(tiny)\(exponent)}"))
      #expect(tape[2].number == value, "\(exponent)")
    }
  }

  /// Numbers are read to the nearest double, exactly as the standard library reads them.
  @Test func numbersAreCorrectlyRounded() throws {
    var generator = SplitMix64(seed: 7)
    var texts = [
      "0", "-0", "1", "0.1", "0.3", "1.7976931348623157e308", "5e-324", "2.2250738585072014e-308",
      "123456789012345678901234567890", "9007199254740993", "0.000001", "1E+2", "1e-2", "35.64312",
      "-180.0", "4.9e-324", "1e-400", "0.1e1", "100000000000000000000000e-10",
    ]
    for _ in 0..<2000 {
      let mantissa = generator.next() % 10_000_000_000_000_000
      let exponent = Int(generator.next() % 60) - 30
      texts.append("\(mantissa)e\(exponent)")
      texts.append(String(Double(bitPattern: generator.next() & 0x7FEF_FFFF_FFFF_FFFF)))
    }
    for text in texts {
      let tape = try JSONScanner.scan(bytes("[\(text)]"))
      #expect(tape[1].number.bitPattern == Double(text)!.bitPattern, "\(text)")
    }
  }
}

private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

/// `depth` nested arrays around a number, the outermost being a report-sized object.
private func nested(_ depth: Int) -> [UInt8] {
  bytes(String(repeating: "[", count: depth) + "1" + String(repeating: "]", count: depth))
}
