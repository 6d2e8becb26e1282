import Testing

@testable import VigilCore

/// Whole numbers in plugins' settings read as the configuration's own: digits, `_`
/// between them.
@Suite("Settings: whole numbers")
struct SettingNumberTests {
  @Test(arguments: [("10", 10), ("1_048_576", 1_048_576), ("0", 0), ("007", 7)])
  func reads(_ text: String, _ value: Int) {
    #expect(SettingNumber.whole(text) == value)
  }

  @Test(arguments: ["", "_1", "1_", "1__0", "+1", "-1", "1.0", "1e3", "١٠", " 1", "99999999999999999999"])
  func refuses(_ text: String) {
    #expect(SettingNumber.whole(text) == nil)
  }
}
