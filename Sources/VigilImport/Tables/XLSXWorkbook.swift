import Foundation

#if canImport(FoundationXML)
  import FoundationXML
#endif

/// What a workbook says about its sheets: their names and parts (the workbook part's
/// `<sheet name= r:id=>`, resolved through its relationships), and its shared-strings part.
struct XLSXWorkbook {
  struct Sheet: Equatable {
    let name: String
    /// The sheet's part in the package, e.g. `xl/worksheets/sheet1.xml`.
    let part: String
  }

  let package: XLSXPackage
  /// The worksheets in the workbook's order. Chart sheets, which hold no cells, are left out.
  let sheets: [Sheet]
  /// The shared-strings part, when the workbook has one (a workbook of numbers need not).
  let sharedStringsPart: String?
  /// Whether serial dates count from 1904 (`<workbookPr date1904="1"/>`) or from 1900.
  let serialDates: SerialDateSystem

  init(path: String) throws(TableError) {
    package = try XLSXPackage(path: path)
    // The package's relationships name the workbook part; `xl/workbook.xml` is what
    // every writer uses, so a package without them is still read.
    let workbookPart =
      try package.relationships(of: "").values.first { $0.type.hasSuffix("/officeDocument") }?.target
      ?? "xl/workbook.xml"
    let workbook = XLSXWorkbookPartParser(part: workbookPart)
    try workbook.parse(XMLParser(data: package.read(workbookPart)))
    let relationships = try package.relationships(of: workbookPart)
    sheets = workbook.sheets.compactMap { sheet in
      guard let relationship = relationships[sheet.relationship], relationship.type.hasSuffix("/worksheet") else {
        return nil
      }
      return Sheet(name: sheet.name, part: relationship.target)
    }
    sharedStringsPart = relationships.values.first { $0.type.hasSuffix("/sharedStrings") }?.target
    serialDates = workbook.date1904 ? .excel1904 : .excel1900
  }

  /// The sheet named `name` — exactly, else ignoring case and surrounding spaces, as
  /// Excel compares sheet names and as real names carry stray spaces — or the first sheet.
  func sheet(named name: String?) throws(TableError) -> Sheet {
    guard let name else {
      guard let first = sheets.first else {
        throw TableError(row: nil, "the workbook \(package.file) has no worksheet")
      }
      return first
    }
    if let exact = sheets.first(where: { $0.name == name }) { return exact }
    let wanted = Self.comparable(name)
    if let loose = sheets.first(where: { Self.comparable($0.name) == wanted }) { return loose }
    let names = sheets.map(\.name).joined(separator: ", ")
    throw TableError(row: nil, "the workbook has no sheet named \(name) (sheets: \(names))")
  }

  private static func comparable(_ name: String) -> String {
    name.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
  }
}

/// The workbook part: the sheets' names and relationship ids, in the workbook's order, and
/// its date system.
final class XLSXWorkbookPartParser: XLSXPartParser {
  struct Sheet {
    let name: String
    let relationship: String
  }
  private(set) var sheets: [Sheet] = []
  private(set) var date1904 = false

  override func start(_ element: String, attributes: [String: String], parser: XMLParser) {
    if element == "workbookPr" {
      // An xsd:boolean: `1` or `true` (Excel writes `1`, LibreOffice `true`).
      date1904 = ["1", "true"].contains(attributes["date1904"]?.trimmingCharacters(in: .whitespaces) ?? "")
      return
    }
    guard element == "sheet", let name = attributes["name"] else { return }
    // The id is in the relationships namespace, whatever its prefix (`r:` as a rule).
    guard let id = attributes["r:id"] ?? attributes.first(where: { $0.key.hasSuffix(":id") })?.value else { return }
    sheets.append(Sheet(name: name, relationship: id))
  }
}
