/// Something a build links in from its folder `Plugins/<Name>/` (docs/plugins.md), which
/// the configuration enables by name (`plugins: {designations: {}}`). What it does are the
/// roles it adopts: `RulePlugin` (item kinds and functions for rule files), `AlertSink`
/// (every alert record). The engine knows no domain: designated groups, named places and
/// the like come in through these protocols.
public protocol VigilPlugin: Sendable {
  /// The name the configuration enables it by.
  var name: String { get }
}

/// A plugin that adds to the rule language.
public protocol RulePlugin: VigilPlugin {
  /// The keys that introduce this plugin's items in rule files (`- designation: isil`).
  var itemKinds: [String] { get }
  /// Reads the plugin's items of one rule set and gives the functions conditions may call,
  /// or every problem found, each at its place.
  func prepare(items: [RuleNode], settings: ConfigurationValue) -> Result<[ConditionFunction], RuleSetErrors>
}

/// A plugin that wants every alert (docs/plugins.md): the daemon calls it with each record
/// once the record is durably in the alert log, in `seq` order, on the daemon's writer
/// thread — so it must return quickly (hand slow work to its own queue).
public protocol AlertSink: VigilPlugin {
  func alertRecorded(_ record: AlertRecord, seq: UInt64, line: String)
}
