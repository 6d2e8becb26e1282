import VigilCore

/// The groups the ISSG statement excludes from the ceasefire (¶4, ¶12): Daesh, Nusra and
/// any group designated later. Rule files list them as items:
///
/// ```yaml
/// - designation: isil                  # the party key reports use
///   names: [Daesh, "Da'esh", ISIL, ISIS, Islamic State, داعش, الدولة الإسلامية, تنظيم الدولة]
/// ```
///
/// and conditions ask `designated(perpetrator)` (or `target`, `trade.seller`,
/// `trade.buyer`): true when the actor's party key or its name names a designated group,
/// matched as docs/rules.md's "Name matching" says, read a little more leniently
/// (`NameNormalizer.lenientWords`) and with each name's English possessive.
public struct Designations: RulePlugin {
  public let name = "designations"
  /// On unless a configuration names plugins without it.
  public var enabledByDefault: Bool { true }
  public let takesSettings = false
  public let itemKinds = ["designation"]

  public init() {}

  /// A listed name, read leniently as reports' names are, and its English possessive:
  /// name matching deletes the apostrophe, so "Jabhat Fatah al-Sham's fighters" has the
  /// word `shams`, which the name with an `s` on its last Latin word matches. Only for
  /// these names: a place or an agency given the same would match plurals (Hama, Hamas).
  static func aliases(_ name: String) -> [Alias] {
    let words = NameNormalizer.lenientWords(of: name)
    let alias = Alias(name, words: words)
    guard let last = words.last, last.unicodeScalars.allSatisfy(\.isASCII),
      last.unicodeScalars.contains(where: { $0.properties.isAlphabetic })
    else { return [alias] }
    return [alias, Alias(name + "'s", words: words.dropLast() + [last + "s"])]
  }

  public func prepare(items: [RuleNode], settings: ConfigurationValue) -> Result<[ConditionFunction], RuleSetErrors> {
    var aliases: [Alias] = []
    var errors: [RuleError] = []
    var keys: [String: SourcePosition] = [:]
    for item in items {
      switch NamedItem.read(item, kind: "designation") {
      case .failure(let problems): errors += problems.errors
      case .success(let designation):
        if let earlier = keys[designation.key] {
          errors.append(
            RuleError(designation.position, "designation \(designation.key) is already defined at \(earlier)"))
        }
        keys[designation.key] = designation.position
        aliases += [Alias(designation.key)] + designation.names.flatMap(Self.aliases)
      }
    }
    guard errors.isEmpty else { return .failure(RuleSetErrors(errors: errors)) }
    let known = aliases.filter { !$0.words.isEmpty }
    let verdicts = TextCache<Bool>()
    let designated = ConditionFunction(name: "designated", parameters: [.actor], result: .bool) {
      (arguments: [ConditionFunction.Argument]) -> ConditionFunction.Evaluation in
      guard case .field(let actor) = arguments[0] else { return { _ in .bool(false) } }
      // The actor's party key and name, resolved once for the call.
      let parts = ["party", "name"].compactMap { ReportSchema.field(actor.path + "." + $0) }
      return { report in
        for part in parts {
          guard case .text(let text)? = part.read(report) else { continue }
          let isDesignated = verdicts.value(for: text) { text in
            let words = NameNormalizer.lenientWords(of: text.string)
            return known.contains { $0.occurs(in: words) }
          }
          if isDesignated { return .bool(true) }
        }
        return .bool(false)
      }
    }
    return .success([designated])
  }
}
