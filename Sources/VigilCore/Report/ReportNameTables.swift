/// The report's name tables, its fields' and its vocabularies', behind one pointer that
/// the fast path reads once a report. Each table is a `static let` of its own type, and
/// every read of one went through `swift_once`: 22 a report, ~300 instructions
/// (bench/count-instructions). Made once, never freed, as the tables themselves.
struct ReportNameTables {
  let report = ReportField.names
  let source = SourceField.names
  let location = LocationField.names
  let actor = ActorField.names
  let target = TargetField.names
  let casualties = CasualtiesField.names
  let access = AccessField.names
  let detention = DetentionField.names
  let trade = TradeField.names
  let displacement = DisplacementField.names

  let incidentType = IncidentType.names
  let confidence = Confidence.names
  let sourceKind = SourceKind.names
  let targetType = TargetType.names
  let weapon = Weapon.names
  let accessModality = AccessModality.names
  let accessStatus = AccessStatus.names
  let detentionKind = DetentionKind.names
  let victim = Victim.names
  let commodity = Commodity.names
  let displacementDirection = DisplacementDirection.names

  nonisolated(unsafe) static let shared: UnsafePointer<ReportNameTables> = {
    let tables = UnsafeMutablePointer<ReportNameTables>.allocate(capacity: 1)
    tables.initialize(to: ReportNameTables())
    return UnsafePointer(tables)
  }()
}
