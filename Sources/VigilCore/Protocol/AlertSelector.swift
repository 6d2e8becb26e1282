/// A subscription's filter made ready to test alert records: the least priority, the
/// rule-id globs (any may match) and the tags (any may match), combined with AND.
public struct AlertSelector: Sendable {
  private let minimumPriority: Priority?
  private let rules: [Glob]
  private let tags: Set<String>

  /// The filter's globs were checked when the request was parsed.
  public init(_ filter: SubscriptionFilter) {
    minimumPriority = filter.minimumPriority
    rules = filter.rules.compactMap { try? Glob($0) }
    tags = Set(filter.tags)
  }

  public func selects(_ record: AlertRecord) -> Bool {
    selects(rule: record.rule, priority: record.priority, tags: record.tags)
  }

  public func selects(rule: String, priority: Priority, tags recordTags: [String]) -> Bool {
    if let minimumPriority, priority < minimumPriority { return false }
    if !rules.isEmpty, !rules.contains(where: { $0.matches(rule) }) { return false }
    if !tags.isEmpty, !recordTags.contains(where: tags.contains) { return false }
    return true
  }

  /// Whether `pattern` is a well-formed glob; nil, or the reason it is not.
  public static func problem(inGlob pattern: String) -> String? {
    do {
      _ = try Glob(pattern)
      return nil
    } catch {
      return error.reason
    }
  }
}
