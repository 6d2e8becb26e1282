import Testing
import VigilCore
import VigilPlugins

/// The places plugin's region atlas: Syria's governorates, found by a report's governorate
/// text in any spelling or script, and by a point.
@Suite("Governorate atlas: Syria's governorates by name and by point")
struct GovernorateAtlasTests {
  static let atlas = Places().atlas(settings: .mapping([]))

  static let names: [(String, String)] = [
    ("Idleb", "SY07"), ("Idlib", "SY07"), ("إدلب", "SY07"), ("ادلب", "SY07"), ("Idlib Governorate", "SY07"),
    ("Idlib governorate", "SY07"), ("محافظة إدلب", "SY07"), ("IDLIB", "SY07"), ("  idlib  ", "SY07"),
    ("Aleppo", "SY02"), ("Halab", "SY02"), ("حلب", "SY02"),
    ("Dar'a", "SY12"), ("Daraa", "SY12"), ("Deraa", "SY12"), ("درعا", "SY12"),
    ("Deir ez-Zor", "SY09"), ("Deir-ez-Zor", "SY09"), ("Deir Ezzor", "SY09"), ("Dayr al-Zawr", "SY09"),
    ("دير الزور", "SY09"),
    ("Al-Hasakeh", "SY08"), ("Hasakah", "SY08"), ("Al Hasakah", "SY08"), ("Hassakeh", "SY08"), ("الحسكة", "SY08"),
    ("Ar-Raqqa", "SY11"), ("Raqqa", "SY11"), ("Rakka", "SY11"), ("الرقة", "SY11"),
    ("As-Sweida", "SY13"), ("Suwayda", "SY13"), ("Sweida", "SY13"), ("As-Suwayda", "SY13"), ("السويداء", "SY13"),
    ("Lattakia", "SY06"), ("Latakia", "SY06"), ("اللاذقية", "SY06"), ("لاذقية", "SY06"), ("محافظة اللاذقية", "SY06"),
    ("السويدا", "SY13"),
    ("Tartous", "SY10"), ("Tartus", "SY10"), ("طرطوس", "SY10"),
    ("Quneitra", "SY14"), ("القنيطرة", "SY14"),
    ("Hama", "SY05"), ("حماة", "SY05"), ("حماه", "SY05"),
    ("Homs", "SY04"), ("حمص", "SY04"),
    ("Damascus", "SY01"), ("دمشق", "SY01"), ("Old City of Damascus", "SY01"), ("دمشق القديمة", "SY01"),
    ("Rural Damascus", "SY03"), ("Damascus Countryside", "SY03"), ("Rif Dimashq", "SY03"), ("Reef Damascus", "SY03"),
    ("ريف دمشق", "SY03"), ("محافظة ريف دمشق", "SY03"),
    // As the real datasets of ../shared/data write them (AWSD's Region, Insecurity
    // Insight's Admin 1).
    ("Al-Hasakah", "SY08"), ("Ar-Raqqah", "SY11"), ("Rif Dimashq Governorate", "SY03"),
    ("Rif Dimashq governorate", "SY03"), ("Deir Ezzor Governorate", "SY09"), ("Al-Hasaka Governorate", "SY08"),
    ("Al-Raqqah Governorate", "SY11"), ("As-Suwayda Governorate", "SY13"), ("Al-Qunaitra Governorate", "SY14"),
    ("Damascus Governorate", "SY01"), ("Tartus Governorate", "SY10"), ("Latakia Governorate", "SY06"),
  ]

  @Test(arguments: names)
  func aNameResolves(text: String, key: String) {
    #expect(Self.atlas.region(named: text) == key)
  }

  @Test func theDataOwnNamesResolveToTheirRegion() {
    for region in Self.atlas.regions {
      #expect(Self.atlas.region(named: region.name) == region.key)
      #expect(Self.atlas.region(named: region.localName) == region.key)
    }
  }

  @Test func ruralDamascusIsNotDamascus() {
    #expect(Self.atlas.region(named: "Rural Damascus") == "SY03")
    #expect(Self.atlas.region(named: "Damascus") == "SY01")
    #expect(Self.atlas.region(named: "ريف دمشق") == "SY03")
    #expect(Self.atlas.region(named: "دمشق") == "SY01")
  }

  /// Only a whole governorate name resolves. "Idlib countryside" is the rural part of
  /// Idlib governorate in everyday use, but not a governorate's name (unlike "Damascus
  /// Countryside", the official translation of Rif Dimashq); a report that says it has not
  /// named a governorate, so it gets nil rather than a guess.
  @Test(arguments: [
    "Idlib countryside", "ريف إدلب", "Aleppo city and Idlib", "Manbij", "Beirut", "Governorate", "محافظة", "", "  ",
    "No Information", "al-Bab District", "Rural", "Raqqa Raqqa",
  ])
  func otherTextResolvesToNothing(text: String) {
    #expect(Self.atlas.region(named: text) == nil)
  }

  @Test func aRepeatedTextResolvesTheSame() {
    for _ in 0..<3 {
      #expect(Self.atlas.region(named: "Idlib Governorate") == "SY07")
      #expect(Self.atlas.region(named: "Idlib countryside") == nil)
    }
  }

  static let points: [(lon: Double, lat: Double, key: String?)] = [
    (36.63, 35.93, "SY07"),  // Idlib city
    (36.29, 33.51, "SY01"),  // Damascus: the hole in Rural Damascus
    (36.40, 33.57, "SY03"),  // Douma
    (37.16, 36.20, "SY02"),  // Aleppo city
    (35.858, 34.8564, "SY10"),  // Arwad, the island of Tartous's first polygon
    (35.89, 34.89, "SY10"),  // Tartous city, in its second
    (40.14, 35.33, "SY09"),  // Deir ez-Zor city
    (39.01, 35.95, "SY11"),  // Raqqa city
    // Coastal centres the simplified outline leaves in the sea, within its 0.01° (audit 25)
    (35.8866, 34.889, "SY10"),  // Tartous, the shipped control entry's point
    (35.9403, 35.1822, "SY10"),  // Baniyas
    (35.9256, 35.3611, "SY06"),  // Jableh
    (35.7833, 35.5167, "SY06"),  // Latakia city
    (35.83, 34.89, nil),  // the sea 5 km off Tartous
    (35.84, 34.43, nil),  // Tripoli, Lebanon
    (35.50, 33.89, nil),  // Beirut
    (35.80, 34.85, nil),  // the sea between Arwad and the coast
    (36.00, 31.95, nil),  // Amman
    (.nan, .nan, nil),
  ]

  @Test(arguments: points)
  func aPointLiesInItsRegion(point: (lon: Double, lat: Double, key: String?)) {
    #expect(Self.atlas.region(containing: GeoPoint(lon: point.lon, lat: point.lat)) == point.key)
  }

  @Test func theFourteenGovernorates() {
    let keys = Self.atlas.regions.map(\.key)
    #expect(keys.count == 14)
    #expect(Set(keys) == Set((1...14).map { $0 < 10 ? "SY0\($0)" : "SY\($0)" }))
    #expect(Self.atlas.kind == "governorates")
    #expect(Self.atlas.attribution.contains("OCHA") && Self.atlas.attribution.contains("CC BY 3.0 IGO"))
  }

  @Test func everyOutlineIsNonEmptyAndClosed() {
    for region in Self.atlas.regions {
      #expect(!region.polygons.isEmpty, "\(region.key)")
      for polygon in region.polygons {
        #expect(!polygon.isEmpty, "\(region.key)")
        for ring in polygon {
          #expect(ring.count >= 4 && ring.first == ring.last, "\(region.key)")
        }
      }
    }
  }

  @Test func damascusIsAHoleInRuralDamascusAndTartousHasTwoPolygons() throws {
    let region = { (key: String) in try #require(Self.atlas.regions.first { $0.key == key }) }
    let rural = try region("SY03")
    let damascus = try region("SY01")
    #expect(rural.polygons.count == 1 && rural.polygons[0].count == 2)
    let points = { (ring: [GeoPoint]) in Set(ring.map { "\($0.lon) \($0.lat)" }) }
    #expect(points(rural.polygons[0][1]) == points(damascus.polygons[0][0]))
    #expect(try region("SY10").polygons.count == 2)
  }
}
