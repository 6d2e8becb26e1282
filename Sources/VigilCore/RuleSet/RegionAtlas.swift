/// A plugin that knows the regions reports are about — for Syria, its governorates — so that
/// the console (docs/console.md) can count alerts by region and draw them on a map, while
/// the core stays free of any country's geography.
///
/// The console takes the atlas of the first enabled plugin that is one; without one it shows
/// no map and counts by the report's own text.
public protocol RegionAtlasPlugin: VigilPlugin {
  /// The atlas, from the plugin's settings in the daemon's configuration.
  func atlas(settings: ConfigurationValue) -> RegionAtlas
}

/// A point on the map: degrees of longitude and latitude (WGS 84).
public struct GeoPoint: Sendable, Equatable {
  public var lon: Double
  public var lat: Double

  public init(lon: Double, lat: Double) {
    self.lon = lon
    self.lat = lat
  }
}

/// Regions (their outlines and names), and how a report's words or coordinates name one.
public struct RegionAtlas: Sendable {
  public struct Region: Sendable, Equatable {
    /// A stable key (for governorates, the P-code: `SY07`).
    public let key: String
    /// The name shown in English, and in the region's own language (Arabic).
    public let name: String
    public let localName: String
    /// The outline: one or more polygons, each a list of rings (the first the outer
    /// boundary, the others holes), each ring a closed list of points.
    public let polygons: [[[GeoPoint]]]

    public init(key: String, name: String, localName: String, polygons: [[[GeoPoint]]]) {
      self.key = key
      self.name = name
      self.localName = localName
      self.polygons = polygons
    }
  }

  /// What the regions are ("governorates"), and whose the outlines are (source and licence).
  public let kind: String
  public let attribution: String
  public let regions: [Region]
  private let resolveText: @Sendable (String) -> String?
  private let locatePoint: @Sendable (GeoPoint) -> String?

  public init(
    kind: String, attribution: String, regions: [Region], resolve: @escaping @Sendable (String) -> String?,
    locate: @escaping @Sendable (GeoPoint) -> String?
  ) {
    self.kind = kind
    self.attribution = attribution
    self.regions = regions
    self.resolveText = resolve
    self.locatePoint = locate
  }

  /// The key of the region a report's text names ("Idlib", "Idleb", "إدلب", "Idlib
  /// Governorate" → `SY07`), or nil when it names none.
  public func region(named text: String) -> String? { resolveText(text) }

  /// The key of the region a point lies in, or nil when it lies in none.
  public func region(containing point: GeoPoint) -> String? { locatePoint(point) }
}
