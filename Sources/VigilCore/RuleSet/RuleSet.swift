/// A loaded, checked rule set: immutable, so a report is checked by exactly one set even
/// while a new one is being swapped in. A class: every report reads the set in force, and
/// a struct's copy retained and released each of its members (atomic operations, shared
/// by every connection's thread).
public final class RuleSet: Sendable {
  /// `sha256:` + the digest of the set's files, names and contents, in load order.
  public let revision: String
  /// Every rule, disabled ones too, in load order.
  public let rules: [Rule]
  /// Every pattern (docs/patterns.md), disabled ones too, in load order.
  public let patterns: [Pattern]
  /// A digest of what the patterns' windows depend on (`RuleSetLoader.patternBasis`):
  /// empty without patterns.
  public let patternBasis: String
  /// Things that load but look like mistakes, for `vigil rules lint`.
  public let warnings: [RuleError]
  /// For each rule that uses lists, macros or a plugin's functions, a digest of what it
  /// uses (`RuleSetLoader.ruleDependencies`): part of its definition's digest, so a
  /// reload that changes a list it names counts it as changed.
  let ruleDependencies: [String: String]
  /// For each incident type (by its position in `IncidentType.allCases`), the enabled
  /// rules that can match it, indexed by the field most of them pin.
  private let candidates: [RuleCandidates]

  /// For each incident type, the positions of the enabled patterns a report of it can
  /// count toward.
  private let patternCandidates: [[Int]]

  init(
    revision: String, rules: [Rule], patterns: [Pattern] = [], warnings: [RuleError], patternBasis: String = "",
    ruleDependencies: [String: String] = [:]
  ) {
    self.revision = revision
    self.ruleDependencies = ruleDependencies
    self.patternBasis = patternBasis
    self.rules = rules
    self.patterns = patterns
    self.warnings = warnings
    enabledPatternCount = patterns.count { $0.enabled }
    candidates = IncidentType.allCases.map { type in
      RuleCandidates(rules.filter { $0.enabled && ($0.condition.types?.contains(type) ?? true) }, type: type)
    }
    let rulesByID = Dictionary(rules.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
    patternCandidates = IncidentType.allCases.map { type in
      patterns.indices.filter { index in
        patterns[index].enabled
          && patterns[index].steps.contains { step in
            (step.condition?.types?.contains(type) ?? true)
              && (step.rules.isEmpty
                || step.rules.contains { rulesByID[$0]?.condition.types?.contains(type) ?? true })
          }
      }
    }
  }

  /// No rules and no patterns.
  public static let empty = RuleSet(revision: "", rules: [], warnings: [])

  /// How many patterns are enabled (counted once: each report asks).
  public let enabledPatternCount: Int

  /// What the report is to each enabled pattern it counts toward, given the rules it fired.
  public func patternEvents(for report: Report, matches: [RuleMatch]) -> [PatternEvent] {
    let candidates = patternCandidates[Self.position(of: report.type)]
    guard !candidates.isEmpty else { return [] }
    return candidates.compactMap { patterns[$0].event(for: report, fired: matches, index: $0) }
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

  /// The enabled rules the report may match (its type's, narrowed by the indexed field),
  /// in load order: the rules `evaluate` tests.
  func candidateRules(for report: Report) -> [Rule] {
    candidates[Self.position(of: report.type)].candidates(for: report).map(\.rule)
  }

  /// The enabled rules the report matches, in load order, with their messages. Each
  /// candidate's test is what remains of its condition once the index has picked it
  /// (`CompiledCondition.residual(given:)`): the same verdict as the whole condition.
  public func evaluate(_ report: Report) -> [RuleMatch] {
    var matches: [RuleMatch] = []
    // Through a buffer pointer: a `for … in` over the array retained and released each rule
    // it passed (atomic operations, on every report).
    let forType = Unmanaged.passUnretained(candidates[Self.position(of: report.type)])
    forType._withUnsafeGuaranteedRef { $0.candidates(for: report) }.withUnsafeBufferPointer { candidates in
      for index in candidates.indices {
        // The array holds each candidate for the whole loop: called through an unretained
        // reference, its test closure is not retained and released around each call.
        let candidate = Unmanaged.passUnretained(candidates[index])
        guard candidate._withUnsafeGuaranteedRef({ $0.test(report) }) else { continue }
        let rule = candidates[index].rule
        matches.append(RuleMatch(rule: rule, messageText: rule.output.renderText(report)))
      }
    }
    return matches
  }
}
