import VigilCore

/// Vigil's own settings of a sink, which every sink accepts beside its own
/// (docs/plugins.md): which alert records it takes — `min_priority`, `rules` (globs) and
/// `tags`, with the meaning `subscribe`'s filter gives them — and how far it may fall
/// behind before the writer holds new reports back (`max_lag`). Vigil applies them; the
/// plugin never sees these keys.
public struct SinkOptions: Sendable {
  /// The keys Vigil takes out of a sink's settings.
  public static let keys: Set<String> = ["min_priority", "rules", "tags", "max_lag"]

  public let selector: AlertSelector?
  /// `max_lag`: the records behind (the sink's `lag` in `status`) at which the writer holds
  /// new reports back until the sink is below it again; nil, never.
  public let maxLag: UInt64?

  public init(selector: AlertSelector?, maxLag: UInt64? = nil) {
    self.selector = selector
    self.maxLag = maxLag
  }

  /// Takes every record, and never holds reports back.
  public static let everything = SinkOptions(selector: nil)

  /// Reads Vigil's keys of `settings`, and gives the rest for the plugin; every problem
  /// of the filter at once.
  public static func split(
    _ settings: ConfigurationValue
  ) throws(PluginSettingsError) -> (filter: SinkOptions, rest: ConfigurationValue) {
    let (filter, rest, problems) = splitNoting(settings)
    if let problem = PluginSettingsError.together(problems) { throw problem }
    return (filter, rest)
  }

  /// The same, its problems given beside the rest rather than thrown: a configuration
  /// check says them with the plugin's own problems, all at once.
  public static func splitNoting(
    _ settings: ConfigurationValue
  ) -> (filter: SinkOptions, rest: ConfigurationValue, problems: [PluginSettingsError]) {
    guard case .mapping(let members) = settings else { return (SinkOptions(selector: nil), settings, []) }
    var filter = SubscriptionFilter()
    var rest: [ConfigurationValue.Member] = []
    var problems: [PluginSettingsError] = []
    var any = false
    var maxLag: UInt64?
    for member in members {
      do throws(PluginSettingsError) {
        switch (member.key, member.value) {
        case ("min_priority", .scalar(let word)):
          guard let priority = Priority(rawValue: word) else {
            let allowed = Priority.allCases.map(\.rawValue).joined(separator: ", ")
            throw PluginSettingsError("min_priority must be one of \(allowed), got \(word)")
          }
          filter.minimumPriority = priority
          any = true
        case ("rules", _):
          filter.rules = try words(member.value, "rules")
          for glob in filter.rules {
            if let problem = AlertSelector.problem(inGlob: glob) {
              throw PluginSettingsError("rules: \"\(glob)\" is not a rule-id glob: \(problem)")
            }
          }
          any = true
        case ("tags", _):
          filter.tags = try words(member.value, "tags")
          any = true
        case ("min_priority", _):
          throw PluginSettingsError("min_priority must be a priority word such as critical")
        case ("max_lag", let value):
          guard case .scalar(let word) = value, let records = UInt64(word), records > 0 else {
            throw PluginSettingsError("max_lag must be a whole number of records above 0, such as 100000")
          }
          maxLag = records
        default:
          rest.append(member)
        }
      } catch {
        problems.append(error)
      }
    }
    return (SinkOptions(selector: any ? AlertSelector(filter) : nil, maxLag: maxLag), .mapping(rest), problems)
  }

  private static func words(_ value: ConfigurationValue, _ key: String) throws(PluginSettingsError) -> [String] {
    guard case .sequence(let items) = value else {
      throw PluginSettingsError("\(key) must be a list, such as \(key == "tags" ? "[\"humanitarian_access\"]" : "[\"ceasefire.*\"]")")
    }
    var words: [String] = []
    for item in items {
      // No rule id or tag is empty or holds a space: such a word would select nothing, and
      // say nothing.
      guard case .scalar(let word) = item, !word.isEmpty, !word.contains(where: \.isWhitespace) else {
        throw PluginSettingsError("\(key) must be a list of words (none empty, none with a space)")
      }
      words.append(word)
    }
    // As with `subscribe`: a record must match one of the entries, so an empty list would
    // take no record at all, surely not what was meant.
    guard !words.isEmpty else {
      throw PluginSettingsError("\(key) is an empty list, which selects no record; leave it out to take every one")
    }
    return words
  }

  /// Whether the sink takes the record on `line`. A line that is not a record it can read
  /// goes through: the sink decides, and nothing is dropped unseen.
  public func selects(_ line: String) -> Bool {
    guard let selector else { return true }
    guard case .object(let record)? = try? JSONValue.parse(Array(line.utf8)),
      case .string(let rule)? = record["rule"], case .string(let word)? = record["priority"],
      let priority = Priority(rawValue: word)
    else { return true }
    var tags: [String] = []
    if case .array(let items)? = record["tags"] {
      tags = items.compactMap { if case .string(let tag) = $0 { tag } else { nil } }
    }
    return selector.selects(rule: rule, priority: priority, tags: tags)
  }
}
