import ArgumentParser
import Foundation
import VigilCore
import VigilServer

/// `vigil plugins`: the plugins this build links in (one per folder of `Plugins/`), what
/// each does, and whether the configuration enables it.
struct PluginsCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "plugins",
    abstract: "List the plugins built in: their roles, their rule-file items, and which the configuration enables.",
    discussion: "Example: vigil plugins --config /etc/vigil/vigild.yaml")

  @Option(help: ArgumentHelp("Configuration file (default: $VIGIL_CONFIG, else Config/vigild.yaml if present).", valueName: "FILE"))
  var config: String?

  @Flag(help: "One JSON object per plugin.")
  var json = false

  func run() throws {
    let configuration = try loadConfiguration(config)
    let enabled = Set(configuration.plugins.map(\.name))
    let width = builtInPlugins.names.map(\.count).max() ?? 0
    for plugin in builtInPlugins.all {
      let roles = PluginRegistry.roles(of: plugin)
      let items = (plugin as? any RulePlugin)?.itemKinds ?? []
      let isEnabled = enabled.contains(plugin.name)
      if json {
        let object: [String: Any] = [
          "name": plugin.name, "roles": roles, "enabled": isEnabled, "item_kinds": items,
        ]
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        print(String(decoding: data, as: UTF8.self))
        continue
      }
      let name = plugin.name.padding(toLength: width, withPad: " ", startingAt: 0)
      let state = (isEnabled ? "enabled" : "disabled").padding(toLength: 8, withPad: " ", startingAt: 0)
      let itemText = items.isEmpty ? "" : "  rule-file items: " + items.joined(separator: ", ")
      print("\(name)  \(state)  \(roles.joined(separator: ", "))\(itemText)")
    }
  }
}
