import ArgumentParser
import Foundation
import VigilServer

/// How a command finds the daemon and the configuration (docs/vigil.md, "Finding the daemon and the configuration"): `--socket`,
/// else `VIGIL_SOCKET`, else the configuration's `socket.path`; `--config`, else
/// `VIGIL_CONFIG`, else `Config/vigild.yaml` when it exists, else the built-in defaults.
struct DaemonOptions: ParsableArguments {
  @Option(help: ArgumentHelp("The daemon's socket (default: $VIGIL_SOCKET, else the configuration's).", valueName: "PATH"))
  var socket: String?

  @Option(
    help: ArgumentHelp("Configuration file (default: $VIGIL_CONFIG, else Config/vigild.yaml if present).", valueName: "FILE"))
  var config: String?

  func validate() throws {
    // An empty path names nothing: misuse, as vigild takes it, not a socket that refused.
    if socket?.isEmpty == true { throw ValidationError("--socket: expected a path, got nothing") }
    if config?.isEmpty == true { throw ValidationError("--config: expected a path, got nothing") }
  }

  func configuration() throws(CommandFailure) -> DaemonConfiguration {
    try loadConfiguration(config)
  }

  var socketPath: String {
    get throws(CommandFailure) {
      if let socket { return socket }
      if let fromEnvironment = ProcessInfo.processInfo.environment["VIGIL_SOCKET"], !fromEnvironment.isEmpty {
        return fromEnvironment
      }
      return try configuration().socket.path
    }
  }

  func connect() throws(CommandFailure) -> DaemonConnection {
    // A configuration named must be readable, even where the socket comes from elsewhere.
    if config != nil { _ = try configuration() }
    return try DaemonConnection(path: socketPath)
  }
}

/// The configuration at `path` (`--config`), else at `VIGIL_CONFIG` (an installed daemon's,
/// `/etc/vigil/vigild.yaml`), else `Config/vigild.yaml` when it exists, else the built-in
/// defaults, checked against the plugins this build links in. One named either way must be
/// readable.
func loadConfiguration(_ path: String?) throws(CommandFailure) -> DaemonConfiguration {
  try configurationSource(path).load()
}

/// Where the configuration comes from: `path` (`--config`), else `VIGIL_CONFIG`, else the
/// default file when it exists.
func configurationSource(_ path: String?) -> ConfigurationSource {
  var source = ConfigurationSource()
  let fromEnvironment = ProcessInfo.processInfo.environment["VIGIL_CONFIG"].flatMap { $0.isEmpty ? nil : $0 }
  source.explicitPath = path ?? fromEnvironment
  return source
}

extension ConfigurationSource {
  /// The configuration, checked against the plugins this build links in.
  func load() throws(CommandFailure) -> DaemonConfiguration {
    do {
      return try load(
        knownPlugins: builtInPlugins.names, withoutSettings: builtInPlugins.withoutSettings,
        enabledByDefault: builtInPlugins.enabledByDefault)
    } catch {
      throw CommandFailure(status: 2, sentence: "\(error)")
    }
  }
}
