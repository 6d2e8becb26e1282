/// The closed vocabularies of docs/reports.md. Each raw value is the exact lowercase word a
/// report carries.
public protocol ReportVocabulary: RawRepresentable<String>, CaseIterable, Hashable, Sendable
where AllCases == [Self] {
  /// Matches a report's bytes against the words without allocating.
  static var names: NameTable<Self> { get }
}

extension ReportVocabulary {
  public static var allowedValues: [String] { allCases.map(\.rawValue) }
}

public enum IncidentType: String, ReportVocabulary {
  case attack, access, detention, trade, displacement, siege
  public static let names = NameTable<Self>()
}

public enum Confidence: String, ReportVocabulary {
  case confirmed, probable, unverified
  public static let names = NameTable<Self>()
}

public enum SourceKind: String, ReportVocabulary {
  case un, ngo, media, local, party, other
  public static let names = NameTable<Self>()
}

public enum TargetType: String, ReportVocabulary {
  case civilians, residential, market, hospital
  case medicalPersonnel = "medical_personnel"
  case ambulance, school
  case placeOfWorship = "place_of_worship"
  case bakery
  case waterFacility = "water_facility"
  case idpCamp = "idp_camp"
  case aidConvoy = "aid_convoy"
  case aidWorker = "aid_worker"
  case aidWarehouse = "aid_warehouse"
  case ceasefireMonitor = "ceasefire_monitor"
  case culturalHeritage = "cultural_heritage"
  case infrastructure
  case militaryPosition = "military_position"
  case armedGroup = "armed_group"
  case checkpoint, other
  public static let names = NameTable<Self>()
}

public enum Weapon: String, ReportVocabulary {
  case barrelBomb = "barrel_bomb"
  case clusterMunition = "cluster_munition"
  case unguidedRocket = "unguided_rocket"
  case mortar, artillery
  case unguidedAirBomb = "unguided_air_bomb"
  case guidedMunition = "guided_munition"
  case incendiary, thermobaric, chemical, vbied, ied
  case suicideAttack = "suicide_attack"
  case smallArms = "small_arms"
  case tank, sniper, landmine
  case airStrike = "air_strike"
  case shelling, other, unknown
  public static let names = NameTable<Self>()
}

public enum AccessModality: String, ReportVocabulary {
  case crossBorder = "cross_border"
  case crossLine = "cross_line"
  case regular
  public static let names = NameTable<Self>()
}

public enum AccessStatus: String, ReportVocabulary {
  case approved, conditional, pending
  case noResponse = "no_response"
  case denied, obstructed, delayed
  public static let names = NameTable<Self>()
}

public enum DetentionKind: String, ReportVocabulary {
  case arbitrary, kidnapping
  case enforcedDisappearance = "enforced_disappearance"
  case hostage
  public static let names = NameTable<Self>()
}

public enum Victim: String, ReportVocabulary {
  case woman, child, elderly
  case sickWounded = "sick_wounded"
  case unStaff = "un_staff"
  case aidWorker = "aid_worker"
  case journalist
  public static let names = NameTable<Self>()
}

public enum Commodity: String, ReportVocabulary {
  case oil
  case crudeOil = "crude_oil"
  case refinedOil = "refined_oil"
  case modularRefinery = "modular_refinery"
  case antiquities, ransom, arms, other
  public static let names = NameTable<Self>()
}

public enum DisplacementDirection: String, ReportVocabulary {
  case `internal`
  case `return`
  case crossBorder = "cross_border"
  public static let names = NameTable<Self>()
}
