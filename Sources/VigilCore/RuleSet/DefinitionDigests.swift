import Crypto

extension RuleSet {
  /// A digest of each rule's and pattern's definition, by id: what tells two loads of one
  /// apart for the "added, removed, changed" counts of `vigil.ruleset_loaded` — its
  /// description, priority, basis, tags, `enabled`, condition (or what it counts) and
  /// output as written, and for a rule what those use: the lists and macros it names
  /// (through other macros too) and the items of the plugins whose functions it calls (a
  /// name added to a designation changes what `designated(…)` answers). Stable across
  /// processes, so a start can count against the set the run before it loaded.
  public var definitionDigests: [String: String] {
    var digests: [String: String] = [:]
    for rule in rules {
      digests[rule.id] = Self.digest(
        [
          rule.description, rule.priority.rawValue, rule.basis.joined(separator: "\u{0}"),
          rule.tags.joined(separator: "\u{0}"), "\(rule.enabled)", rule.definition,
        ] + (ruleDependencies[rule.id].map { [$0] } ?? []))
    }
    // A pattern's is marked `p:`, so a later load can tell a pattern removed from a rule.
    for pattern in patterns where digests[pattern.id] == nil {
      digests[pattern.id] = Self.patternMark + Self.digest([
        pattern.description, pattern.priority.rawValue, pattern.basis.joined(separator: "\u{0}"),
        pattern.tags.joined(separator: "\u{0}"), pattern.definition,
      ])
    }
    return digests
  }

  public static let patternMark = "p:"

  private static func digest(_ parts: [String]) -> String {
    let bytes = SHA256.hash(data: Array(parts.joined(separator: "\u{1}").utf8))
    return bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
  }
}
