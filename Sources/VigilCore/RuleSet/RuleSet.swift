/// A loaded, checked rule set: immutable, so a report is checked by exactly one set even
/// while a new one is being swapped in.
public struct RuleSet: Sendable {
  /// `sha256:` + the digest of the set's files, names and contents, in load order.
  public let revision: String
  /// Every rule, disabled ones too, in load order.
  public let rules: [Rule]
  /// Things that load but look like mistakes, for `vigil rules lint`.
  public let warnings: [RuleError]
  /// For each incident type (by its position in `IncidentType.allCases`), the enabled
  /// rules that can match it, in load order.
  private let candidates: [[Rule]]

  init(revision: String, rules: [Rule], warnings: [RuleError]) {
    self.revision = revision
    self.rules = rules
    self.warnings = warnings
    candidates = IncidentType.allCases.map { type in
      rules.filter { $0.enabled && ($0.condition.types?.contains(type) ?? true) }
    }
  }

  public var enabledRuleCount: Int { rules.count { $0.enabled } }

  /// The type's position in `IncidentType.allCases`, without building that array.
  private static func position(of type: IncidentType) -> Int {
    switch type {
    case .attack: 0
    case .access: 1
    case .detention: 2
    case .trade: 3
    case .displacement: 4
    case .siege: 5
    }
  }

  /// The enabled rules the report matches, in load order, with their messages.
  public func evaluate(_ report: Report) -> [RuleMatch] {
    var matches: [RuleMatch] = []
    for rule in candidates[Self.position(of: report.type)] where rule.matches(report) {
      matches.append(RuleMatch(rule: rule, message: rule.message(for: report)))
    }
    return matches
  }
}
