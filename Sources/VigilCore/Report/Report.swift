/// An incident report, validated against docs/reports.md (version 1).
///
/// Every optional member is `nil` when the report leaves it out or gives `null`. Objects
/// that are present but empty (`"location": {}`) are kept: `exists` sees them.
///
/// A report is immutable once parsed, and its members live in one shared box: reports are
/// passed around far more than they are built, and copying the members themselves (about
/// 950 bytes, a reference count per text) cost more than parsing the line's numbers.
public struct Report: Sendable, Equatable {
  /// The members of a report, for building one.
  public struct Fields: Sendable, Equatable {
    public var id: String
    public var occurredAt: Timestamp
    public var reportedAt: Timestamp?
    public var type: IncidentType
    public var confidence: Confidence?
    public var lang: ReportText?
    public var source: Source?
    public var location: Location?
    public var perpetrator: Actor?
    public var target: Target?
    public var weapons: [Weapon]?
    public var chemicalAgent: ReportText?
    public var casualties: Casualties?
    public var access: Access?
    public var detention: Detention?
    public var trade: Trade?
    public var displacement: Displacement?
    public var narrative: ReportText?
    public var extra: JSONObject?

    public init(id: String, occurredAt: Timestamp, type: IncidentType) {
      self.id = id
      self.occurredAt = occurredAt
      self.type = type
    }
  }

  /// Where a report's members live. The parsers fill `fields` in place before the
  /// report exists (building a `Fields` value and then copying it in cost about a tenth of
  /// the parsing time); after that nothing writes to it, which is why it is Sendable and
  /// why its reads skip the runtime's exclusivity checks (they were a sixth of the time
  /// to evaluate a rule set).
  final class Box: @unchecked Sendable {
    @exclusivity(unchecked) var fields: Fields

    init(_ fields: consuming Fields) {
      self.fields = fields
    }

    /// A box to fill: the required members are placeholders until the parser sets them.
    static func empty() -> Box {
      Box(Fields(id: "", occurredAt: Timestamp.placeholder, type: .attack))
    }
  }

  private let box: Box

  public init(_ fields: consuming Fields) {
    box = Box(fields)
  }

  /// A report whose box is filled and will not change again.
  init(filled box: Box) {
    self.box = box
  }

  // Read accessors lend the box's values rather than copying them out: a getter's copy of
  // `location` retained and released its five texts for every field read through it
  // (`report.location?.place`), some 220,000 times in 20,000 reports (Callgrind).
  public var fields: Fields { _read { yield box.fields } }

  public var id: String { _read { yield box.fields.id } }
  public var occurredAt: Timestamp { _read { yield box.fields.occurredAt } }
  public var reportedAt: Timestamp? { _read { yield box.fields.reportedAt } }
  public var type: IncidentType { _read { yield box.fields.type } }
  public var confidence: Confidence? { _read { yield box.fields.confidence } }
  public var lang: ReportText? { _read { yield box.fields.lang } }
  public var source: Source? { _read { yield box.fields.source } }
  public var location: Location? { _read { yield box.fields.location } }
  public var perpetrator: Actor? { _read { yield box.fields.perpetrator } }
  public var target: Target? { _read { yield box.fields.target } }
  public var weapons: [Weapon]? { _read { yield box.fields.weapons } }
  public var chemicalAgent: ReportText? { _read { yield box.fields.chemicalAgent } }
  public var casualties: Casualties? { _read { yield box.fields.casualties } }
  public var access: Access? { _read { yield box.fields.access } }
  public var detention: Detention? { _read { yield box.fields.detention } }
  public var trade: Trade? { _read { yield box.fields.trade } }
  public var displacement: Displacement? { _read { yield box.fields.displacement } }
  public var narrative: ReportText? { _read { yield box.fields.narrative } }
  public var extra: JSONObject? { _read { yield box.fields.extra } }

  /// The location's governorate and coordinates, read in place: through `location` a
  /// caller's `location?.lat` copied the whole location (its four texts retained and
  /// released) for each member it read.
  public var governorateAndCoordinates: (governorate: ReportText?, lat: Double?, lon: Double?) {
    (box.fields.location?.governorate, box.fields.location?.lat, box.fields.location?.lon)
  }

  public static func == (lhs: Report, rhs: Report) -> Bool {
    lhs.box === rhs.box || lhs.box.fields == rhs.box.fields
  }

  public struct Source: Sendable, Equatable {
    public var org: ReportText?
    public var kind: SourceKind?

    public init(
      org: ReportText? = nil, kind: SourceKind? = nil
    ) {
      self.org = org
      self.kind = kind
    }
  }

  public struct Location: Sendable, Equatable {
    public var governorate: ReportText?
    public var district: ReportText?
    public var place: ReportText?
    public var pcode: ReportText?
    public var lat: Double?
    public var lon: Double?
    public var populated: Bool?
    public var besieged: Bool?

    public init(
      governorate: ReportText? = nil, district: ReportText? = nil, place: ReportText? = nil, pcode: ReportText? = nil,
      lat: Double? = nil, lon: Double? = nil, populated: Bool? = nil, besieged: Bool? = nil
    ) {
      self.governorate = governorate
      self.district = district
      self.place = place
      self.pcode = pcode
      self.lat = lat
      self.lon = lon
      self.populated = populated
      self.besieged = besieged
    }
  }

  /// Who acted, sold or bought: a name, a party key, or both.
  public struct Actor: Sendable, Equatable {
    public var name: ReportText?
    public var party: ReportText?

    public init(
      name: ReportText? = nil, party: ReportText? = nil
    ) {
      self.name = name
      self.party = party
    }
  }

  public struct Target: Sendable, Equatable {
    public var type: TargetType?
    public var name: ReportText?
    public var party: ReportText?

    public init(
      type: TargetType? = nil, name: ReportText? = nil, party: ReportText? = nil
    ) {
      self.type = type
      self.name = name
      self.party = party
    }
  }

  public struct Casualties: Sendable, Equatable {
    public var killed: Int?
    public var injured: Int?
    public var civiliansKilled: Int?
    public var civiliansInjured: Int?
    public var childrenKilled: Int?
    public var aidWorkersKilled: Int?

    public init(
      killed: Int? = nil, injured: Int? = nil, civiliansKilled: Int? = nil, civiliansInjured: Int? = nil,
      childrenKilled: Int? = nil, aidWorkersKilled: Int? = nil
    ) {
      self.killed = killed
      self.injured = injured
      self.civiliansKilled = civiliansKilled
      self.civiliansInjured = civiliansInjured
      self.childrenKilled = childrenKilled
      self.aidWorkersKilled = aidWorkersKilled
    }
  }

  public struct Access: Sendable, Equatable {
    public var requestID: ReportText?
    public var requestedBy: ReportText?
    public var modality: AccessModality?
    public var crossing: ReportText?
    public var destination: ReportText?
    public var status: AccessStatus?
    public var submittedAt: Timestamp?
    public var decidedAt: Timestamp?
    public var itemsRemoved: [ReportText]?

    public init(
      requestID: ReportText? = nil, requestedBy: ReportText? = nil, modality: AccessModality? = nil,
      crossing: ReportText? = nil, destination: ReportText? = nil, status: AccessStatus? = nil,
      submittedAt: Timestamp? = nil, decidedAt: Timestamp? = nil, itemsRemoved: [ReportText]? = nil
    ) {
      self.requestID = requestID
      self.requestedBy = requestedBy
      self.modality = modality
      self.crossing = crossing
      self.destination = destination
      self.status = status
      self.submittedAt = submittedAt
      self.decidedAt = decidedAt
      self.itemsRemoved = itemsRemoved
    }
  }

  public struct Detention: Sendable, Equatable {
    public var count: Int?
    public var kind: DetentionKind?
    public var ransomDemanded: Bool?
    public var victims: [Victim]?

    public init(
      count: Int? = nil, kind: DetentionKind? = nil, ransomDemanded: Bool? = nil, victims: [Victim]? = nil
    ) {
      self.count = count
      self.kind = kind
      self.ransomDemanded = ransomDemanded
      self.victims = victims
    }
  }

  public struct Trade: Sendable, Equatable {
    public var commodity: Commodity?
    public var seller: Actor?
    public var buyer: Actor?
    public var originCountry: ReportText?
    public var removedAt: Timestamp?
    public var valueUSD: Double?

    public init(
      commodity: Commodity? = nil, seller: Actor? = nil, buyer: Actor? = nil, originCountry: ReportText? = nil,
      removedAt: Timestamp? = nil, valueUSD: Double? = nil
    ) {
      self.commodity = commodity
      self.seller = seller
      self.buyer = buyer
      self.originCountry = originCountry
      self.removedAt = removedAt
      self.valueUSD = valueUSD
    }
  }

  public struct Displacement: Sendable, Equatable {
    public var count: Int?
    public var direction: DisplacementDirection?
    public var voluntary: Bool?

    public init(
      count: Int? = nil, direction: DisplacementDirection? = nil, voluntary: Bool? = nil
    ) {
      self.count = count
      self.direction = direction
      self.voluntary = voluntary
    }
  }
}
