import VigilCore

/// One load or reload of the rule set, as the console's health and rules pages show it.
public struct ReloadOutcome: Sendable {
  public let ok: Bool
  public let at: String
  /// What asked for it: `start`, `SIGHUP`, `a change in the rule files`, a client's `reload`.
  public let trigger: String
  /// The revision loaded or rejected; nil when the files could not be read.
  public let revision: String?
  public let errors: [RuleError]
}
