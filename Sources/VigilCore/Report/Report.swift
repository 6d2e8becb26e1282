/// An incident report, validated against REPORTS.md (version 1).
///
/// Every optional member is `nil` when the report leaves it out or gives `null`. Objects
/// that are present but empty (`"location": {}`) are kept: `exists` sees them.
public struct Report: Sendable, Equatable {
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

  public struct Source: Sendable, Equatable {
    public var org: ReportText?
    public var kind: SourceKind?
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
  }

  /// Who acted, sold or bought: a name, a party key, or both.
  public struct Actor: Sendable, Equatable {
    public var name: ReportText?
    public var party: ReportText?
  }

  public struct Target: Sendable, Equatable {
    public var type: TargetType?
    public var name: ReportText?
    public var party: ReportText?
  }

  public struct Casualties: Sendable, Equatable {
    public var killed: Int?
    public var injured: Int?
    public var civiliansKilled: Int?
    public var civiliansInjured: Int?
    public var childrenKilled: Int?
    public var aidWorkersKilled: Int?
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
  }

  public struct Detention: Sendable, Equatable {
    public var count: Int?
    public var kind: DetentionKind?
    public var ransomDemanded: Bool?
    public var victims: [Victim]?
  }

  public struct Trade: Sendable, Equatable {
    public var commodity: Commodity?
    public var seller: Actor?
    public var buyer: Actor?
    public var originCountry: ReportText?
    public var removedAt: Timestamp?
    public var valueUSD: Double?
  }

  public struct Displacement: Sendable, Equatable {
    public var count: Int?
    public var direction: DisplacementDirection?
    public var voluntary: Bool?
  }
}
