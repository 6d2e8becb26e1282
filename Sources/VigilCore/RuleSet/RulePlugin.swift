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

/// A plugin that also wants every alert (docs/plugins.md, "Plugins"): the daemon calls it with
/// each record once the record is durably in the alert log, in `seq` order, on the
/// daemon's writer thread — so it must return quickly (hand slow work to its own queue).
public protocol AlertSink: Sendable {
  func alertRecorded(_ record: AlertRecord, seq: UInt64, line: String)
}
