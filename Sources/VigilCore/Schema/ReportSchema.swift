/// The field paths of a report (docs/reports.md) that rules may name, with their types and how to read
/// them from a report. Paths under `extra.` are dynamic.
public enum ReportSchema {
  public struct Field: Sendable {
    public let path: String
    public let type: FieldType
    public let read: @Sendable (Report) -> FieldValue?
  }

  public static func field(_ path: String) -> Field? {
    if let field = fieldsByPath[path] { return field }
    guard path.hasPrefix("extra."), path.count > 6, !path.hasSuffix("."),
      !path.split(separator: ".", omittingEmptySubsequences: false).contains(where: \.isEmpty)
    else { return nil }
    let keys = path.split(separator: ".").dropFirst().map(String.init)
    return Field(path: path, type: .dynamic) { report in
      var value = report.extra.map(JSONValue.object)
      for key in keys {
        guard case .object(let object)? = value else { return nil }
        value = object[key]
      }
      guard let value, value != .null else { return nil }
      return .json(value)
    }
  }

  public static var paths: [String] { fields.map(\.path) }

  /// The fields every report must have. This file is the one description of the schema:
  /// the parser's member tables, the fast path and docs/reports.md are held to it by
  /// ReportSchemaAgreementTests.
  public static let requiredPaths: Set<String> = ["id", "occurred_at", "type"]

  private static let fieldsByPath = Dictionary(uniqueKeysWithValues: fields.map { ($0.path, $0) })

  private static let fields: [Field] =
    [
      Field(path: "id", type: .text) { .string($0.id) },
      Field(path: "occurred_at", type: .timestamp) { .timestamp($0.occurredAt) },
      Field(path: "reported_at", type: .timestamp) { $0.reportedAt.map(FieldValue.timestamp) },
      word("type", IncidentType.self) { $0.type },
      word("confidence", Confidence.self) { $0.confidence },
      text("lang") { $0.lang },
      object("source") { $0.source },
      text("source.org") { $0.source?.org },
      word("source.kind", SourceKind.self) { $0.source?.kind },
      object("location") { $0.location },
      text("location.governorate") { $0.location?.governorate },
      text("location.district") { $0.location?.district },
      text("location.place") { $0.location?.place },
      text("location.pcode") { $0.location?.pcode },
      number("location.lat") { $0.location?.lat },
      number("location.lon") { $0.location?.lon },
      bool("location.populated") { $0.location?.populated },
      bool("location.besieged") { $0.location?.besieged },
    ] + actor("perpetrator", { $0.perpetrator }, name: { $0.perpetrator?.name }, party: { $0.perpetrator?.party })
    + [
      object("target") { $0.target },
      word("target.type", TargetType.self) { $0.target?.type },
      text("target.name") { $0.target?.name },
      text("target.party") { $0.target?.party },
      Field(path: "weapons", type: .words(allowed: Weapon.allowedValues)) { $0.weapons.map(FieldValue.weapons) },
      text("chemical_agent") { $0.chemicalAgent },
      object("casualties") { $0.casualties },
      count("casualties.killed") { $0.casualties?.killed },
      count("casualties.injured") { $0.casualties?.injured },
      count("casualties.civilians_killed") { $0.casualties?.civiliansKilled },
      count("casualties.civilians_injured") { $0.casualties?.civiliansInjured },
      count("casualties.children_killed") { $0.casualties?.childrenKilled },
      count("casualties.aid_workers_killed") { $0.casualties?.aidWorkersKilled },
      object("access") { $0.access },
      text("access.request_id") { $0.access?.requestID },
      text("access.requested_by") { $0.access?.requestedBy },
      word("access.modality", AccessModality.self) { $0.access?.modality },
      text("access.crossing") { $0.access?.crossing },
      text("access.destination") { $0.access?.destination },
      word("access.status", AccessStatus.self) { $0.access?.status },
      timestamp("access.submitted_at") { $0.access?.submittedAt },
      timestamp("access.decided_at") { $0.access?.decidedAt },
      Field(path: "access.items_removed", type: .texts) { $0.access?.itemsRemoved.map(FieldValue.texts) },
      object("detention") { $0.detention },
      count("detention.count") { $0.detention?.count },
      word("detention.kind", DetentionKind.self) { $0.detention?.kind },
      bool("detention.ransom_demanded") { $0.detention?.ransomDemanded },
      Field(path: "detention.victims", type: .words(allowed: Victim.allowedValues)) {
        $0.detention?.victims.map(FieldValue.victims)
      },
      object("trade") { $0.trade },
      word("trade.commodity", Commodity.self) { $0.trade?.commodity },
    ]
    + actor("trade.seller", { $0.trade?.seller }, name: { $0.trade?.seller?.name }, party: { $0.trade?.seller?.party })
    + actor("trade.buyer", { $0.trade?.buyer }, name: { $0.trade?.buyer?.name }, party: { $0.trade?.buyer?.party })
    + [
      text("trade.origin_country") { $0.trade?.originCountry },
      timestamp("trade.removed_at") { $0.trade?.removedAt },
      number("trade.value_usd") { $0.trade?.valueUSD },
      object("displacement") { $0.displacement },
      count("displacement.count") { $0.displacement?.count },
      word("displacement.direction", DisplacementDirection.self) { $0.displacement?.direction },
      bool("displacement.voluntary") { $0.displacement?.voluntary },
      text("narrative") { $0.narrative },
      // An object: only `exists` fits it (`extra = 1` could never hold); its members are
      // `extra.KEY`, of whatever type the report gives.
      Field(path: "extra", type: .object) { $0.extra.map { FieldValue.json(.object($0)) } },
    ]

  // MARK: Field makers

  private static func text(_ path: String, _ read: @escaping @Sendable (Report) -> ReportText?) -> Field {
    Field(path: path, type: .text) { read($0).map(FieldValue.text) }
  }

  private static func word<Word: ReportVocabulary>(
    _ path: String, _: Word.Type, _ read: @escaping @Sendable (Report) -> Word?
  ) -> Field {
    Field(path: path, type: .word(allowed: Word.allowedValues)) { read($0).map { .string($0.rawValue) } }
  }

  private static func number(_ path: String, _ read: @escaping @Sendable (Report) -> Double?) -> Field {
    Field(path: path, type: .number) { read($0).map(FieldValue.number) }
  }

  private static func count(_ path: String, _ read: @escaping @Sendable (Report) -> Int?) -> Field {
    Field(path: path, type: .number) { read($0).map { .number(Double($0)) } }
  }

  private static func bool(_ path: String, _ read: @escaping @Sendable (Report) -> Bool?) -> Field {
    Field(path: path, type: .bool) { read($0).map(FieldValue.bool) }
  }

  private static func timestamp(_ path: String, _ read: @escaping @Sendable (Report) -> Timestamp?) -> Field {
    Field(path: path, type: .timestamp) { read($0).map(FieldValue.timestamp) }
  }

  private static func object<Object>(_ path: String, _ read: @escaping @Sendable (Report) -> Object?) -> Field {
    Field(path: path, type: .object) { read($0) == nil ? nil : .present }
  }

  /// An actor's object and its two members. Each member has its own reader: read through
  /// the object's reader, the actor was copied (its two texts retained and released) for
  /// every rule that tests `perpetrator.party`.
  private static func actor(
    _ path: String, _ read: @escaping @Sendable (Report) -> Report.Actor?,
    name: @escaping @Sendable (Report) -> ReportText?, party: @escaping @Sendable (Report) -> ReportText?
  ) -> [Field] {
    [
      object(path, read),
      text(path + ".name", name),
      text(path + ".party", party),
    ]
  }
}
