import Foundation

#if canImport(FoundationXML)
  import FoundationXML
#endif

/// The shared-strings part (`xl/sharedStrings.xml`): the workbook's text, which cells of
/// type `s` name by index. Each `<si>` is plain (`<t>`) or rich text (`<r><t>` runs,
/// joined); phonetic guides (`<rPh>`) are not part of the text. Spaces are kept as
/// written (`xml:space="preserve"` only tells other writers not to trim them).
final class XLSXSharedStringsParser: XLSXPartParser {
  private(set) var strings: [String] = []
  private var item: String?
  private var inText = false
  private var phoneticDepth = 0

  /// Reads the part from `url` (a temporary copy), streaming: memory holds the strings.
  static func strings(at url: URL, part: String) throws(TableError) -> [String] {
    guard let parser = XMLParser(contentsOf: url) else {
      throw TableError(row: nil, "cannot read the temporary copy of \(part) at \(url.path)")
    }
    let reader = XLSXSharedStringsParser(part: part)
    try reader.parse(parser)
    return reader.strings
  }

  override func start(_ element: String, attributes: [String: String], parser: XMLParser) {
    switch element {
    case "si": item = ""
    case "rPh": phoneticDepth += 1
    case "t": inText = item != nil && phoneticDepth == 0
    default: break
    }
  }

  override func end(_ element: String, parser: XMLParser) {
    switch element {
    case "si":
      strings.append(Self.unescaped(item ?? ""))
      item = nil
    case "rPh": phoneticDepth -= 1
    case "t": inText = false
    default: break
    }
  }

  override func text(_ string: String) {
    if inText { item? += string }
  }
}
