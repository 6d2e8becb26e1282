import Foundation

#if canImport(FoundationXML)
  import FoundationXML
#endif

/// What every part reader shares: Foundation's `XMLParser` events (with namespaces
/// processed, so `x:row` and `row` are both `row`), and a parse that stops at the first
/// error. libxml2 runs in recovery mode under `XMLParser`, so without that stop a
/// damaged part would be read as whatever libxml2 made of it.
///
/// Subclasses override `start`, `end` and `text`. (The delegate methods themselves are
/// implemented here, not overridden: a subclass cannot override a protocol's default.)
class XLSXPartParser: NSObject, XMLParserDelegate {
  /// The part's name, for messages.
  let part: String
  private(set) var failure: TableError?

  init(part: String) {
    self.part = part
  }

  func start(_ element: String, attributes: [String: String], parser: XMLParser) {}
  func end(_ element: String, parser: XMLParser) {}
  func text(_ string: String) {}

  /// The row a malformed-XML error is reported at, when the part has rows.
  var currentRow: Int? { nil }

  /// Stops the parse; the first error is the one reported.
  func fail(_ error: TableError, parser: XMLParser) {
    if failure == nil { failure = error }
    parser.abortParsing()
  }

  /// Runs `parser` over the part with this delegate; throws the first error.
  func parse(_ parser: XMLParser) throws(TableError) {
    parser.delegate = self
    parser.shouldProcessNamespaces = true
    let parsed = parser.parse()
    if let failure { throw failure }
    guard parsed else { throw malformed(parser, parser.parserError) }
  }

  private func malformed(_ parser: XMLParser, _ error: (any Error)?) -> TableError {
    let detail = (error as NSError?).map { " (libxml2 error \($0.code))" } ?? ""
    return TableError(
      row: currentRow,
      "the part \(part) is not well-formed XML at line \(parser.lineNumber), column \(parser.columnNumber)\(detail)")
  }

  // MARK: XMLParserDelegate

  final func parser(
    _ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?, qualifiedName qName: String?,
    attributes attributeDict: [String: String]
  ) {
    start(elementName, attributes: attributeDict, parser: parser)
  }

  final func parser(
    _ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName qName: String?
  ) {
    end(elementName, parser: parser)
  }

  final func parser(_ parser: XMLParser, foundCharacters string: String) {
    text(string)
  }

  final func parser(_ parser: XMLParser, foundCDATA cdata: Data) {
    text(String(decoding: cdata, as: UTF8.self))
  }

  final func parser(_ parser: XMLParser, parseErrorOccurred parseError: any Error) {
    fail(malformed(parser, parseError), parser: parser)
  }

  // MARK: Text

  /// SpreadsheetML text with its `_xHHHH_` escapes decoded: the characters XML cannot
  /// hold (Excel writes a carriage return as `_x000D_`), and `_x005F_` for an underscore
  /// that would otherwise start one.
  static func unescaped(_ text: String) -> String {
    guard text.contains("_x") else { return text }
    var result = ""
    var rest = Substring(text)
    while let start = rest.range(of: "_x") {
      let hex = rest[start.upperBound...].prefix(5)
      guard hex.count == 5, hex.last == "_", let unit = UInt16(hex.dropLast(), radix: 16),
        hex.dropLast().allSatisfy(\.isHexDigit)
      else {
        result += rest[..<start.upperBound]
        rest = rest[start.upperBound...]
        continue
      }
      result += rest[..<start.lowerBound]
      // A lone surrogate cannot be a character: kept as written.
      result += Unicode.Scalar(unit).map { String(Character($0)) } ?? String(rest[start.lowerBound..<hex.endIndex])
      rest = rest[hex.endIndex...]
    }
    return result + rest
  }
}
