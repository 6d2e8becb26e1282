import Foundation

/// The merged ranges of a sheet (`<mergeCell ref="A2:A5"/>`), and the filling of them: a
/// spreadsheet shows a merged range's value across all its cells, but the XML holds it in
/// the top-left cell alone, so a governorate merged over five rows would reach the mapping
/// in the first of them only (the others empty: absent, or refused as missing).
///
/// The ranges come after the rows in the XML, which is read a row at a time; they are
/// found first by a scan of the inflated part's bytes for the element (cell text cannot
/// hold a raw `<`, so no text is taken for one).
struct XLSXMergedCells: Sendable {
  struct Range: Sendable, Equatable {
    /// 1-based, inclusive, as the sheet numbers rows and columns.
    let top: Int, left: Int, bottom: Int, right: Int
  }

  let ranges: [Range]
  /// The first range whose top row has not been reached yet.
  private var nextRange = 0
  /// The ranges over the rows being read, with their top-left values.
  private var active: [(range: Range, value: String)] = []

  init(ranges: [Range]) {
    self.ranges = ranges.sorted { ($0.top, $0.left) < ($1.top, $1.left) }
  }

  /// The ranges of the part inflated at `copy`.
  static func read(from copy: URL) -> XLSXMergedCells {
    guard let handle = try? FileHandle(forReadingFrom: copy) else { return XLSXMergedCells(ranges: []) }
    defer { try? handle.close() }
    let tag = Array("mergeCell ".utf8)
    var ranges: [Range] = []
    var carried: [UInt8] = []
    while let chunk = try? handle.read(upToCount: 1 << 20), !chunk.isEmpty {
      let bytes = carried + Array(chunk)
      var start = 0
      while let found = Self.find(tag, in: bytes, from: start) {
        // The element's end is needed whole: wait for the next chunk when it is cut.
        guard let end = bytes[found...].firstIndex(of: UInt8(ascii: ">")) else { break }
        let before = found > 0 ? bytes[found - 1] : 0
        if before == UInt8(ascii: "<") || before == UInt8(ascii: ":"), let range = Self.range(in: bytes[found..<end]) {
          ranges.append(range)
        }
        start = end + 1
      }
      // What may hold the start of an element cut at the chunk's end.
      let keep = max(start, bytes.count - 256)
      carried = Array(bytes[min(keep, bytes.count)...])
    }
    return XLSXMergedCells(ranges: ranges)
  }

  private static func find(_ needle: [UInt8], in bytes: [UInt8], from start: Int) -> Int? {
    guard bytes.count - start >= needle.count else { return nil }
    var index = start
    while index <= bytes.count - needle.count {
      guard let first = bytes[index...].firstIndex(of: needle[0]), first <= bytes.count - needle.count else { return nil }
      if bytes[first..<(first + needle.count)].elementsEqual(needle) { return first }
      index = first + 1
    }
    return nil
  }

  /// `ref="B2:C4"` in an element's bytes.
  private static func range(in element: ArraySlice<UInt8>) -> Range? {
    let text = String(decoding: element, as: UTF8.self)
    guard let match = text.firstMatch(of: /\bref\s*=\s*["']([A-Za-z]{1,3})(\d+):([A-Za-z]{1,3})(\d+)["']/),
      let left = XLSXSheetParser.column(of: "\(match.1)1"), let right = XLSXSheetParser.column(of: "\(match.3)1"),
      let top = Int(match.2), let bottom = Int(match.4), top >= 1, top <= bottom, left <= right
    else { return nil }
    return Range(top: top, left: left, bottom: bottom, right: right)
  }

  /// `cells` of row `row` (index 0 is column A; rows in order) with each merged range over
  /// it filled with its top-left value, as the sheet shows it, up to column `width` (the
  /// header's: a range reaching past it shows nothing there that a column could take).
  mutating func fill(_ cells: [String], row: Int, width: Int) -> [String] {
    guard !ranges.isEmpty else { return cells }
    active.removeAll { $0.range.bottom < row }
    while nextRange < ranges.count, ranges[nextRange].top <= row {
      let range = ranges[nextRange]
      nextRange += 1
      guard range.bottom >= row else { continue }
      // Its value is in its top row; one begun in a row not read (the header's, or a row
      // the XML leaves out) has none to show.
      let value = range.top == row && range.left <= cells.count ? cells[range.left - 1] : ""
      active.append((range, value))
    }
    var cells = cells
    for (range, value) in active where !value.isEmpty && range.left <= width {
      let right = min(range.right, width)
      if cells.count < right { cells += Array(repeating: "", count: right - cells.count) }
      for column in range.left...right where cells[column - 1].isEmpty { cells[column - 1] = value }
    }
    return cells
  }
}
