import VigilCore

/// The one way Vigil loads its rule set: `vigild` at start and at every reload, and
/// `vigil rules lint|test` and `vigil replay` offline. Same files and configuration, same
/// verdict — a set lint accepts is a set the daemon accepts, examples included.
public enum ConfiguredRuleSet {
  /// The lines vigild logs, as warnings, for a rule set's warnings when it loads one (at
  /// start, at a reload): the first 20, then how many more (`vigil rules lint` shows all).
  /// A slow regular expression, a misspelt list name taken as text: what makes every
  /// report slow, or a rule never fire, must reach the operator's log.
  public static func warningLines(of set: RuleSet, on occasion: String) -> [String] {
    let shown = set.warnings.prefix(20).map { "rule set \(set.revision) on \(occasion): warning: \($0.description)" }
    let more = set.warnings.count - shown.count
    return shown
      + (more > 0 ? ["rule set \(set.revision) on \(occasion): \(more) more warning(s); vigil rules lint shows them all"] : [])
  }

  /// The rule files of `directories`, in load order. A directory or file any user may
  /// write is refused, as vigild refuses it at start: rules decide what is a breach.
  public static func read(_ directories: [String]) throws(RuleDirectories.ReadError) -> [RuleSource] {
    let sources = try RuleDirectories.read(directories)
    for (path, what) in directories.map({ ($0, "the rules directory") }) + sources.map({ ($0.path, "the rule file") }) {
      if let problem = RulesDirectoryCheck.worldWritable(path, what: what, key: nil) {
        throw RuleDirectories.ReadError(description: problem, refused: true, path: path)
      }
    }
    return sources
  }

  /// Loads and checks `sources` with the plugins `configuration` enables: every condition,
  /// output and example.
  public static func load(
    _ sources: [RuleSource], configuration: DaemonConfiguration, plugins: PluginRegistry
  ) -> Result<RuleSet, RuleSetErrors> {
    plugins.loader(for: configuration).load(sources)
  }
}
