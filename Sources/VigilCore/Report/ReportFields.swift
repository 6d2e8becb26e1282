/// The member names of each object in a report (docs/reports.md), as the parser looks them up.
enum ReportField: String, CaseIterable {
  case id
  case occurredAt = "occurred_at"
  case reportedAt = "reported_at"
  case type, confidence, lang, source, location, perpetrator, target, weapons
  case chemicalAgent = "chemical_agent"
  case casualties, access, detention, trade, displacement, narrative, extra
  static let names = NameTable<Self>()
}

enum SourceField: String, CaseIterable {
  case org, kind
  static let names = NameTable<Self>()
}

enum LocationField: String, CaseIterable {
  case governorate, district, place, pcode, lat, lon, populated, besieged
  static let names = NameTable<Self>()
}

enum ActorField: String, CaseIterable {
  case name, party
  static let names = NameTable<Self>()
}

enum TargetField: String, CaseIterable {
  case type, name, party
  static let names = NameTable<Self>()
}

enum CasualtiesField: String, CaseIterable {
  case killed, injured
  case civiliansKilled = "civilians_killed"
  case civiliansInjured = "civilians_injured"
  case childrenKilled = "children_killed"
  case aidWorkersKilled = "aid_workers_killed"
  static let names = NameTable<Self>()
}

extension Report.Casualties {
  /// Every casualty field is a count, so both parsers set them the same way.
  mutating func set(_ field: CasualtiesField, to count: Int) {
    switch field {
    case .killed: killed = count
    case .injured: injured = count
    case .civiliansKilled: civiliansKilled = count
    case .civiliansInjured: civiliansInjured = count
    case .childrenKilled: childrenKilled = count
    case .aidWorkersKilled: aidWorkersKilled = count
    }
  }
}

enum AccessField: String, CaseIterable {
  case requestID = "request_id"
  case requestedBy = "requested_by"
  case modality, crossing, destination, status
  case submittedAt = "submitted_at"
  case decidedAt = "decided_at"
  case itemsRemoved = "items_removed"
  static let names = NameTable<Self>()
}

enum DetentionField: String, CaseIterable {
  case count, kind
  case ransomDemanded = "ransom_demanded"
  case victims
  static let names = NameTable<Self>()
}

enum TradeField: String, CaseIterable {
  case commodity, seller, buyer
  case originCountry = "origin_country"
  case removedAt = "removed_at"
  case valueUSD = "value_usd"
  static let names = NameTable<Self>()
}

enum DisplacementField: String, CaseIterable {
  case count, direction, voluntary
  static let names = NameTable<Self>()
}
