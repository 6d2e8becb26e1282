/// The enabled rules that can match reports of one incident type, indexed by the field
/// most of them pin (`location.governorate = Aleppo`, `trade.commodity in (…)`): a report
/// is tested against the rules that pin its value of that field and the rules that do not
/// pin the field, in load order, and never against rules that pin other values. A thousand
/// rules written for fourteen governorates cost a report about seventy of them.
/// A class: taken from the rule set's array for every report, a struct was copied out and
/// its three members retained and released (bench/count-instructions).
final class RuleCandidates: Sendable {
  /// Fewer rules pinning a field than this, and the index is not worth its lookup.
  static let fewestPinningRules = 4

  /// A candidate rule, with the test that remains of its condition once the report is
  /// known to be of this type and (in `byValue`) to hold that value (`residual(given:)`).
  /// A class: a list of them is walked for every report, and a struct's copy retained its
  /// members.
  final class Candidate: Sendable {
    let rule: Rule
    let test: @Sendable (Report) -> Bool

    init(_ rule: Rule, given known: [String: ValueKey]) {
      self.rule = rule
      test = rule.condition.residual(given: known)
    }
  }

  /// The reader of the field the rules are indexed by; nil when no field is pinned by
  /// enough rules, and every rule is a candidate. (The reader alone: a whole
  /// `ReportSchema.Field` was copied for each report, its members retained.)
  private let read: (@Sendable (Report) -> FieldValue?)?
  /// For each value some rule pins: those rules and the rules that do not pin the field, in
  /// load order.
  private let byValue: [ValueKey: [Candidate]]
  /// The rules that do not pin the field: all a report without one of the pinned values meets.
  private let unpinned: [Candidate]

  /// `rules` in load order, all of which can match reports of `type`.
  init(_ rules: [Rule], type: IncidentType) {
    let known = ["type": ValueKey(type.rawValue)]
    var pinning: [String: Int] = [:]
    for rule in rules {
      for path in rule.condition.pinnedValues.keys where path != "type" { pinning[path, default: 0] += 1 }
    }
    // The field pinned by the most rules (of equals, the alphabetically first, for a stable choice).
    guard let (path, count) = pinning.max(by: { ($0.value, $1.key) < ($1.value, $0.key) }),
      count >= Self.fewestPinningRules, let field = ReportSchema.field(path)
    else {
      read = nil
      byValue = [:]
      unpinned = rules.map { Candidate($0, given: known) }
      return
    }
    read = field.read
    // In one pass over the rules: each pinning rule under each value it pins, with its load
    // position; then each value's list is merged with the unpinned rules in load order.
    // (Filtering every rule once per value was values × rules: 8,000 rules each pinning a
    // place of its own took 46 s to load, and a reload of 20,000, 15 minutes.)
    var unpinnedInOrder: [(position: Int, candidate: Candidate)] = []
    var pinnedByValue: [ValueKey: [(position: Int, candidate: Candidate)]] = [:]
    for (position, rule) in rules.enumerated() {
      guard let values = rule.condition.pinnedValues[path] else {
        // Its remaining test does not depend on the value: one candidate serves every list.
        unpinnedInOrder.append((position, Candidate(rule, given: known)))
        continue
      }
      var seen = Set<ValueKey>()
      for value in values where seen.insert(value).inserted {
        pinnedByValue[value, default: []].append((position, Candidate(rule, given: known.merging([path: value]) { $1 })))
      }
    }
    unpinned = unpinnedInOrder.map(\.candidate)
    byValue = pinnedByValue.mapValues { pinned in
      var merged: [Candidate] = []
      merged.reserveCapacity(pinned.count + unpinnedInOrder.count)
      var (p, u) = (0, 0)
      while p < pinned.count || u < unpinnedInOrder.count {
        if u == unpinnedInOrder.count || (p < pinned.count && pinned[p].position < unpinnedInOrder[u].position) {
          merged.append(pinned[p].candidate)
          p += 1
        } else {
          merged.append(unpinnedInOrder[u].candidate)
          u += 1
        }
      }
      return merged
    }
  }

  /// The rules the report may match, in load order, with what remains to test of each.
  func candidates(for report: Report) -> [Candidate] {
    guard let read else { return unpinned }
    let key: ValueKey? =
      switch read(report) {
      case .text(let text)?: ValueKey(text)
      case .string(let string)?: ValueKey(string)
      default: nil
      }
    guard let key, let rules = byValue[key] else { return unpinned }
    return rules
  }
}
