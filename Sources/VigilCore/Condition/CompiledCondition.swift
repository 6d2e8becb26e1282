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
  /// For `a and b and …`: its operands, nested `and`s flattened, in order. A rule set
  /// leaves out those its index already decided for a report (`residual(given:)`).
  var conjuncts: [CompiledCondition]?
  /// For a lone `=` or `in` on a field of one text or word: the field and the values it
  /// accepts, which is all the condition tests.
  var exactPin: (path: String, values: Set<ValueKey>)?

  /// The test that remains once the report is known to hold `known` (field path → its
  /// value): the operands of a top-level `and` that only pin a field to values including
  /// the known one are true already, and are left out. (A rule set's index picks a
  /// report's candidate rules by its type and one field: their own tests of those were
  /// most of what a thousand generated rules cost, bench/count-instructions.)
  func residual(given known: [String: ValueKey]) -> @Sendable (Report) -> Bool {
    func decided(_ part: CompiledCondition) -> Bool {
      guard let pin = part.exactPin, let value = known[pin.path] else { return false }
      return pin.values.contains(value)
    }
    let holds: @Sendable (Report) -> Bool = { _ in true }
    guard let conjuncts else { return decided(self) ? holds : evaluate }
    let left = conjuncts.filter { !decided($0) }
    if left.count == conjuncts.count { return evaluate }
    return left.isEmpty ? holds : ConditionCompiler.all(left)
  }

  public func matches(_ report: Report) -> Bool {
    evaluate(report)
  }
}
