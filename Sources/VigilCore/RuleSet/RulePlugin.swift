/// What a plugin adds to the rule language. The engine knows no domain: designated groups,
/// named places and the like come in through this protocol.
public protocol RulePlugin: Sendable {
  /// The name the configuration enables it by (`plugins: {designations: {}}`).
  var name: String { get }
  /// The keys that introduce this plugin's items in rule files (`- designation: isil`).
  var itemKinds: [String] { get }
  /// Reads the plugin's items of one rule set and gives the functions conditions may call,
  /// or every problem found, each at its place.
  func prepare(items: [RuleNode], settings: ConfigurationValue) -> Result<[ConditionFunction], RuleSetErrors>
}
