import Foundation
import Testing
import VigilCore

@testable import VigilPlugins

/// Territorial control finds the circles that hold a point through a grid of cells
/// (`ControlMap.covering`): it must find exactly the entries a scan of every circle finds,
/// wherever the circles are (small and large, near a pole, across the antimeridian).
@Suite("Territorial control: circles found through the grid")
struct ControlGridTests {
  static func entry(_ number: Int, lat: Double, lon: Double, radius: Double, from: String = "2015-01-01")
    -> ControlEntry
  {
    ControlEntry(
      key: "e\(number)", names: [], aliases: [], governorate: nil, governorateKey: nil,
      point: (lat, lon, radius), designated: [], others: ["X"], from: from, to: "2017-01-01", source: "test",
      position: SourcePosition(file: "control.yaml", line: number, column: 1))
  }

  /// The great-circle distance, written out again here: the reference the grid must agree with.
  static func holds(_ entry: ControlEntry, lat: Double, lon: Double) -> Bool {
    guard let point = entry.point else { return false }
    let radians = Double.pi / 180
    let dLat = (lat - point.lat) * radians
    let dLon = (lon - point.lon) * radians
    let a =
      sin(dLat / 2) * sin(dLat / 2) + cos(point.lat * radians) * cos(lat * radians) * sin(dLon / 2) * sin(dLon / 2)
    return 2 * ControlEntry.earthRadiusKilometres * asin(min(1, a.squareRoot())) <= point.radiusKilometres
  }

  @Test func theGridFindsWhatAScanOfEveryCircleFinds() {
    var generator = SystemRandomNumberGenerator()
    // Centres in Syria, near the poles and by the antimeridian; radii from a town to a region.
    let regions: [(lat: ClosedRange<Double>, lon: ClosedRange<Double>)] = [
      (32...37.5, 35...42.5), (84...89.9, -180...180), (-89.9 ... -84, -180...180), (-10...10, 178...180),
      (-10...10, -180 ... -178),
    ]
    var entries: [ControlEntry] = []
    for number in 0..<300 {
      let region = regions[number % regions.count]
      entries.append(
        Self.entry(
          number, lat: Double.random(in: region.lat, using: &generator),
          lon: Double.random(in: region.lon, using: &generator),
          radius: [0.5, 3, 12, 40, 150][Int.random(in: 0..<5, using: &generator)]))
    }
    let map = ControlMap(entries: entries)
    var found = 0
    for _ in 0..<20_000 {
      // Points near a centre, so that many fall inside a circle and many just outside.
      let near = entries.randomElement(using: &generator)!.point!
      let lat = min(90, max(-90, near.lat + Double.random(in: -1.5...1.5, using: &generator)))
      var lon = near.lon + Double.random(in: -3...3, using: &generator)
      if lon > 180 { lon -= 360 }
      if lon < -180 { lon += 360 }
      let expected = entries.indices.filter { Self.holds(entries[$0], lat: lat, lon: lon) }
      #expect(map.covering(lat: lat, lon: lon, day: 2016_06_01) == expected, "\(lat), \(lon)")
      found += expected.isEmpty ? 0 : 1
    }
    // The points were close enough to test the grid, not only its empty cells.
    #expect(found > 2_000)
  }

  @Test func onlyTheEntriesOfTheDayAreFound() {
    let map = ControlMap(entries: [
      Self.entry(0, lat: 36.2, lon: 37.15, radius: 10), Self.entry(1, lat: 36.2, lon: 37.15, radius: 10, from: "2016-07-01"),
    ])
    #expect(map.covering(lat: 36.21, lon: 37.16, day: 2016_06_01) == [0])
    #expect(map.covering(lat: 36.21, lon: 37.16, day: 2016_07_01) == [0, 1])
    #expect(map.covering(lat: 36.21, lon: 37.16, day: 2017_01_01).isEmpty)
    #expect(map.covering(lat: 36.6, lon: 37.16, day: 2016_07_01).isEmpty)
  }
}
