import Designations
import Places
import VigilCore

/// The plugins this build links in; the configuration enables them by name
/// (`plugins: {designations: {}, places: {}}`) and gives each its settings.
public enum KnownPlugins {
  public static let all: [any RulePlugin] = [Designations(), Places()]

  public static var names: [String] { all.map(\.name) }

  /// The enabled plugins that take every alert.
  public static func alertSinks(for configuration: DaemonConfiguration) -> [any AlertSink] {
    configuration.plugins.compactMap { plugin in all.first { $0.name == plugin.name } as? any AlertSink }
  }

  /// A rule loader with the plugins the configuration enables, each with its settings.
  public static func loader(for configuration: DaemonConfiguration) -> RuleSetLoader {
    let enabled = configuration.plugins.compactMap { plugin in all.first { $0.name == plugin.name } }
    let settings = Dictionary(
      configuration.plugins.map { ($0.name, $0.settings) }, uniquingKeysWith: { first, _ in first })
    return RuleSetLoader(plugins: enabled, settings: settings)
  }
}
