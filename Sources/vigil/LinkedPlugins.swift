import VigilPlugins
import VigilServer

/// The plugins this build links in: the same as vigild's, so the offline commands
/// (`rules lint|test`, `replay`, `plugins`) load rules as the daemon does.
let builtInPlugins = PluginRegistry(BuiltInPlugins.all)
