/// A loaded, checked rule set: immutable, so a report is checked by exactly one set even
/// while a new one is being swapped in.
public struct RuleSet: Sendable {
  /// `sha256:` + the digest of the set's files, names and contents, in load order.
  public let revision: String
  /// Every rule, disabled ones too, in load order.
  public let rules: [Rule]
  /// Things that load but look like mistakes, for `vigil rules lint`.
  public let warnings: [RuleError]
  /// For each incident type, the enabled rules that can match it, in load order.
  private let candidates: [IncidentType: [Rule]]

  init(revision: String, rules: [Rule], warnings: [RuleError]) {
    self.revision = revision
    self.rules = rules
    self.warnings = warnings
    var candidates: [IncidentType: [Rule]] = [:]
    for type in IncidentType.allCases {
      candidates[type] = rules.filter { $0.enabled && ($0.condition.types?.contains(type) ?? true) }
    }
    self.candidates = candidates
  }

  public var enabledRuleCount: Int { rules.count { $0.enabled } }

  /// The enabled rules the report matches, in load order, with their messages.
  public func evaluate(_ report: Report) -> [RuleMatch] {
    var matches: [RuleMatch] = []
    for rule in candidates[report.type] ?? [] where rule.matches(report) {
      matches.append(RuleMatch(rule: rule, message: rule.message(for: report)))
    }
    return matches
  }
}
