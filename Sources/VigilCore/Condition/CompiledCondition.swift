/// A condition resolved, type-checked and turned into a closure: evaluating it reads only
/// the fields it names, with every literal, list and regular expression prepared at load.
public struct CompiledCondition: Sendable {
  let evaluate: @Sendable (Report) -> Bool
  /// For each single-valued text or word field the condition pins (`location.governorate =
  /// Aleppo`, `trade.commodity in (crude_oil, refined_oil)` under `and`), the values it can
  /// hold when the condition matches, as bytes (`ValueKey`), as `=` compares them. A rule
  /// set indexes its rules by one such field (`RuleCandidates`).
  var pinnedValues: [String: Set<ValueKey>] = [:]
  /// The incident types this condition can match, when it pins them (`type = access`,
  /// `type in (…)` under `and`): its pinned values of `type`. Nil when any report could
  /// match. Rule sets use it to skip rules that cannot match a report.
  public var types: Set<IncidentType>? {
    pinnedValues["type"].map { Set($0.compactMap { IncidentType(rawValue: $0.string) }) }
  }
  /// Things that load but look like mistakes (for `vigil rules lint`).
  public var warnings: [ConditionError] = []

  public func matches(_ report: Report) -> Bool {
    evaluate(report)
  }
}
