import VigilCore

/// The plugins a build links in, which the configuration enables by name and gives their
/// settings. `vigild` and `vigil` make it from `BuiltInPlugins.all` (generated from the
/// folders of `Plugins/`); the server itself imports no plugin.
public struct PluginRegistry: Sendable {
  public let all: [any VigilPlugin]

  public init(_ plugins: [any VigilPlugin]) {
    all = plugins
  }

  public var names: [String] { all.map(\.name) }
  /// The plugins that read no settings.
  public var withoutSettings: [String] { all.filter { !$0.takesSettings }.map(\.name) }
  /// The plugins a configuration that names none enables.
  public var enabledByDefault: [String] { all.filter(\.enabledByDefault).map(\.name) }

  /// The enabled plugins, in the configuration's order.
  public func enabled(by configuration: DaemonConfiguration) -> [any VigilPlugin] {
    configuration.plugins.compactMap { plugin in all.first { $0.name == plugin.name } }
  }

  /// The enabled plugins that produce reports.
  public func reportSources(for configuration: DaemonConfiguration) -> [any ReportSource] {
    enabled(by: configuration).compactMap { $0 as? any ReportSource }
  }

  /// The enabled plugins that take every alert.
  public func alertSinks(for configuration: DaemonConfiguration) -> [any AlertSink] {
    enabled(by: configuration).compactMap { $0 as? any AlertSink }
  }

  /// What is wrong with the enabled sources' and sinks' settings, as vigild says it when
  /// it refuses to start (`plugins.webhook: url is required…`), for `vigil rules lint`.
  /// Each problem is one of its own, with its place in the configuration file where it is
  /// known: the setting it names (`batch must be …` is at `batch`), else the plugin's key.
  public func settingsProblems(
    in configuration: DaemonConfiguration
  ) -> [(message: String, isAboutAFile: Bool, place: DaemonConfiguration.Place?)] {
    var problems: [(message: String, isAboutAFile: Bool, place: DaemonConfiguration.Place?)] = []
    let plugin = { (name: String) in configuration.plugins.first { $0.name == name } }
    func add(_ error: PluginSettingsError, of name: String) {
      let places = plugin(name)?.places ?? [:]
      for each in error.all {
        problems.append(("plugins.\(name): \(each)", each.isAboutAFile, Self.place(of: each.description, in: places)))
      }
    }
    for source in reportSources(for: configuration) {
      do throws(PluginSettingsError) {
        _ = try source.feed(settings: plugin(source.name)?.settings ?? .mapping([]))
      } catch {
        add(error, of: source.name)
      }
    }
    // A source that empties a folder holding the daemon's own files would move them away
    // while they are written (a spool at /srv/vigil with the state under it).
    for source in reportSources(for: configuration) {
      for folder in source.foldersItEmpties(settings: plugin(source.name)?.settings ?? .mapping([])) {
        for problem in configuration.filesWithin(folder) {
          add(PluginSettingsError("folder \(folder) holds \(problem): the \(source.name) would move its files away; give it a folder of its own"), of: source.name)
        }
      }
    }
    for sink in alertSinks(for: configuration) {
      // The filter's problems and the plugin's own, all at once.
      let (_, rest, filterProblems) = SinkOptions.splitNoting(plugin(sink.name)?.settings ?? .mapping([]))
      for problem in filterProblems { add(problem, of: sink.name) }
      do throws(PluginSettingsError) {
        try sink.checkSettings(rest, node: configuration.node)
      } catch {
        add(error, of: sink.name)
      }
    }
    // A setting given empty keeps its default, so the plugin never saw it: one it does not
    // know (`batchh: ~`, a slip) is asked about alone.
    for source in reportSources(for: configuration) {
      for key in plugin(source.name)?.emptyKeys ?? []
      where unknown(key, in: plugin(source.name), { (settings) throws(PluginSettingsError) in _ = try source.feed(settings: settings) }) {
        add(PluginSettingsError("unknown setting \(key) (given empty)"), of: source.name)
      }
    }
    for sink in alertSinks(for: configuration) {
      for key in plugin(sink.name)?.emptyKeys ?? []
      where unknown(key, in: plugin(sink.name), { (settings) throws(PluginSettingsError) in
        try sink.checkSettings(SinkOptions.splitNoting(settings).rest, node: configuration.node)
      }) {
        add(PluginSettingsError("unknown setting \(key) (given empty)"), of: sink.name)
      }
    }
    return problems
  }

  /// Whether the plugin refuses `key` as a setting it does not know, asked with the key
  /// given a value beside its settings.
  private func unknown(
    _ key: String, in plugin: DaemonConfiguration.Plugin?, _ check: (ConfigurationValue) throws(PluginSettingsError) -> Void
  ) -> Bool {
    guard case .mapping(let members)? = plugin?.settings ?? .mapping([]) else { return false }
    do throws(PluginSettingsError) {
      try check(.mapping(members + [.init(key: key, value: .scalar("1"))]))
      return false
    } catch {
      return error.all.contains { $0.description.hasPrefix("unknown setting \(key)") }
    }
  }

  /// Where a problem's setting is: the longest key path its first word names
  /// (`owner.password_file /x cannot be read`, `url's port …`), else the plugin's own key.
  static func place(of message: String, in places: [String: DaemonConfiguration.Place]) -> DaemonConfiguration.Place? {
    let named = message.hasPrefix("unknown setting ") ? message.dropFirst("unknown setting ".count) : Substring(message)
    let word = named.prefix { !$0.isWhitespace && $0 != "'" && $0 != ":" && $0 != "," }
    var path = String(word)
    while !path.isEmpty {
      if let place = places[path] { return place }
      guard let dot = path.lastIndex(of: ".") else { break }
      path = String(path[..<dot])
    }
    return places[""]
  }

  /// The regions the console counts and maps by: the first enabled atlas plugin's.
  public func atlas(for configuration: DaemonConfiguration) -> RegionAtlas? {
    for plugin in enabled(by: configuration) {
      guard let atlas = plugin as? any RegionAtlasPlugin else { continue }
      let settings = configuration.plugins.first { $0.name == plugin.name }?.settings ?? .mapping([])
      return atlas.atlas(settings: settings)
    }
    return nil
  }

  /// A rule loader with the rule plugins the configuration enables, each with its settings.
  public func loader(for configuration: DaemonConfiguration) -> RuleSetLoader {
    let settings = Dictionary(
      configuration.plugins.map { ($0.name, $0.settings) }, uniquingKeysWith: { first, _ in first })
    let enabled = enabled(by: configuration)
    var loader = RuleSetLoader(
      plugins: enabled.compactMap { $0 as? any RulePlugin }, settings: settings,
      latenessHorizon: configuration.rules.latenessHorizon)
    let on = Set(enabled.map(\.name))
    loader.disabledPlugins = all.filter { !on.contains($0.name) }.compactMap { $0 as? any RulePlugin }
    return loader
  }

  /// What a plugin does, as `vigil plugins` names it.
  public static func roles(of plugin: any VigilPlugin) -> [String] {
    var roles: [String] = []
    if plugin is any RulePlugin { roles.append("functions") }
    if plugin is any AlertSink { roles.append("sink") }
    if plugin is any ReportSource { roles.append("source") }
    if plugin is any RegionAtlasPlugin { roles.append("atlas") }
    return roles
  }
}
