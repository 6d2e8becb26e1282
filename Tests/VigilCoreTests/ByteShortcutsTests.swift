import Testing

@testable import VigilCore

/// Shortcuts taken on the report path answer as the slow ways they replaced:
/// `sameBytes(as:)` and `sameUTF8(as:)` as `elementsEqual`, `Pattern.isBlank` as walking the `Character`s.
@Suite("Byte shortcuts")
struct ByteShortcutsTests {
  static let texts = [
    "", " ", "a", "ab", "Raqqa sector 17", "Raqqa sector 18", "Raqqa sector 1", "الرقة", "\u{0625}",
    "\u{0627}\u{0655}", "\t\n", "\u{00A0}", "\u{3000}", " x\u{0301}", "\u{0301}", "x ", "\u{7F}", "~",
    String(repeating: "حلب ", count: 40),
  ]

  @Test func sameBytesAnswersAsElementsEqual() {
    for left in Self.texts {
      for right in Self.texts {
        var (a, b) = (left, right)
        let fast = a.withUTF8 { a in b.withUTF8 { b in a.sameBytes(as: b) } }
        let fastArray = a.withUTF8 { $0.sameBytes(as: Array(right.utf8)) }
        let slow = left.utf8.elementsEqual(right.utf8)
        #expect(fast == slow && fastArray == slow, "\(left.debugDescription) against \(right.debugDescription)")
        #expect((ReportText(left) == ReportText(right)) == slow)
        #expect(left.sameUTF8(as: right) == slow)
      }
    }
  }

  @Test func blankAnswersAsWalkingTheCharacters() {
    var texts = Self.texts
    for value in UInt32(0)...0x3100 {
      guard let scalar = Unicode.Scalar(value) else { continue }
      texts += [String(scalar), String(scalar) + "x", " " + String(scalar)]
    }
    for text in texts {
      #expect(PatternKey.isBlank(text) == text.allSatisfy(\.isWhitespace), "\(text.debugDescription)")
    }
  }
}
