import Foundation
import Testing

import VigilCore

/// `trimmingSpaces` is `trimmingCharacters(in: .whitespaces)`, only cheaper.
@Suite("Trimming spaces")
struct SpaceTrimmingTests {
  @Test func everyScalarAtEitherEndIsTrimmedAsFoundationTrimsIt() {
    var differences: [String] = []
    for value in UInt32(0)...0xFFFF {
      guard let scalar = Unicode.Scalar(value) else { continue }
      let c = String(Character(scalar))
      for text in ["Aleppo" + c, c + "Aleppo"] where text.trimmingSpaces != text.trimmingCharacters(in: .whitespaces) {
        differences.append(String(format: "U+%04X", value))
      }
    }
    #expect(differences.isEmpty)
  }

  @Test func spacesOfEveryKindAreTrimmed() {
    for text in ["Aleppo\u{200B}", "\u{3000}حلب", "\tIdlib ", "\u{00A0}", "\u{200B}", " x\u{0301} "] {
      #expect(text.trimmingSpaces == text.trimmingCharacters(in: .whitespaces), "\(text.debugDescription)")
    }
    #expect("Aleppo\u{200B}".trimmingSpaces == "Aleppo")
    #expect("Aleppo".trimmingSpaces == "Aleppo")
    #expect("".trimmingSpaces == "")
  }
}
