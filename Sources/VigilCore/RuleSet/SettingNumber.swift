/// Numbers in settings read as the configuration reads them (docs/vigild.md, "How values
/// are read"): a whole number may group its digits with `_` (`1_000`), as YAML writers do,
/// for a plugin's settings as for the daemon's own.
public enum SettingNumber {
  /// A whole number of ASCII digits, `_` allowed between them; nil for anything else (a
  /// sign, a decimal point, a `_` at either end or doubled).
  public static func whole(_ text: String) -> Int? {
    guard let first = text.first, first.isASCII, first.isNumber, text.last?.isNumber == true,
      !text.contains("__"), text.allSatisfy({ $0 == "_" || ($0.isASCII && $0.isNumber) })
    else { return nil }
    return Int(text.filter { $0 != "_" })
  }
}
