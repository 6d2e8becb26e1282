import Foundation
import VigilCore

/// The overview's chart and map, drawn by the server as SVG (no script, no library).
enum ConsoleCharts {
  /// One bar per day; each bar's title says its day and count.
  static func perDay(_ days: [(day: Int, count: Int)]) -> String {
    let width = 720.0
    let height = 160.0
    let top = Double(max(days.map(\.count).max() ?? 0, 1))
    let step = width / Double(max(days.count, 1))
    let bars = days.enumerated().map { offset, item in
      let barHeight = item.count == 0 ? 0 : max(1, Double(item.count) / top * (height - 20))
      let day = UTCDay.text(item.day)
      return "<rect class=\"bar\" data-day=\"\(day)\" data-count=\"\(item.count)\" x=\(q(Double(offset) * step + 1)) "
        + "y=\(q(height - barHeight)) width=\(q(max(step - 2, 1))) height=\(q(barHeight))><title>\(day): \(item.count)</title></rect>"
    }.joined()
    let first = days.first.map { UTCDay.text($0.day) } ?? ""
    let last = days.last.map { UTCDay.text($0.day) } ?? ""
    return """
      <svg viewBox="0 0 \(Int(width)) \(Int(height + 16))" role="img" aria-label="Alerts per day">\
      <line x1="0" y1="\(Int(height))" x2="\(Int(width))" y2="\(Int(height))" stroke="#999"/>\(bars)\
      <text x="0" y="\(Int(height + 14))" font-size="11">\(first)</text>\
      <text x="\(Int(width))" y="\(Int(height + 14))" font-size="11" text-anchor="end">\(last)</text>\
      <text x="\(Int(width))" y="11" font-size="11" text-anchor="end">max \(Int(top))</text></svg>
      """
  }

  /// The atlas's regions shaded by their count, and a point per alert with coordinates.
  static func map(
    _ atlas: RegionAtlas, counts: [String: Int], points: [(seq: UInt64, lat: Float, lon: Float, priority: Priority)]
  ) -> String {
    let all = atlas.regions.flatMap { $0.polygons.flatMap { $0.flatMap { $0 } } }
    guard let minLon = all.map(\.lon).min(), let maxLon = all.map(\.lon).max(), let minLat = all.map(\.lat).min(),
      let maxLat = all.map(\.lat).max()
    else { return "" }
    // Equirectangular, with longitude shrunk by the cosine of the middle latitude.
    let scaleX = cos((minLat + maxLat) / 2 * .pi / 180)
    let width = 600.0
    let scale = width / ((maxLon - minLon) * scaleX)
    let height = (maxLat - minLat) * scale
    func x(_ lon: Double) -> Double { (lon - minLon) * scaleX * scale }
    func y(_ lat: Double) -> Double { (maxLat - lat) * scale }
    let top = Double(max(counts.values.max() ?? 0, 1))
    let regions = atlas.regions.map { region in
      let count = counts[region.key] ?? 0
      let path = region.polygons.flatMap { $0 }.map { ring in
        "M" + ring.map { "\(q2(x($0.lon))),\(q2(y($0.lat)))" }.joined(separator: "L") + "Z"
      }.joined()
      return
        "<a href=\"/alerts?governorate=\(HTML.query(region.key))\"><path class=\"region\" data-region=\"\(HTML.escape(region.key))\" "
        + "data-count=\"\(count)\" fill=\"\(shade(Double(count) / top, empty: count == 0))\" fill-rule=\"evenodd\" d=\"\(path)\">"
        + "<title>\(HTML.escape(region.name)) (\(HTML.escape(region.localName))): \(count)</title></path></a>"
    }.joined()
    let dots = points.map { point in
      "<a href=\"/alerts/\(point.seq)\"><circle class=\"point\" data-seq=\"\(point.seq)\" cx=\(q(x(Double(point.lon)))) "
        + "cy=\(q(y(Double(point.lat)))) r=\"3.5\" fill=\"\(color(point.priority))\"><title>alert \(point.seq), \(point.priority.rawValue)</title></circle></a>"
    }.joined()
    return
      "<svg viewBox=\"0 0 \(Int(width)) \(Int(height.rounded(.up)))\" role=\"img\" aria-label=\"Alerts by \(HTML.escape(atlas.kind))\">\(regions)\(dots)</svg>"
  }

  /// Light to dark red by share of the largest count; grey for none.
  static func shade(_ share: Double, empty: Bool) -> String {
    if empty { return "#e9ecef" }
    let t = min(max(share, 0), 1)
    let r = Int(253 - t * (253 - 165))
    let g = Int(219 - t * (219 - 15))
    let b = Int(199 - t * (199 - 21))
    return String(format: "#%02x%02x%02x", r, g, b)
  }

  static func color(_ priority: Priority) -> String {
    switch priority {
    case .critical: "#8b0000"
    case .high: "#c0392b"
    case .medium: "#d68910"
    case .low: "#2e86c1"
    case .info: "#7f8c8d"
    }
  }

  private static func q(_ value: Double) -> String { "\"\(String(format: "%.1f", value))\"" }
  private static func q2(_ value: Double) -> String { String(format: "%.1f", value) }
}
