import ArgumentParser
import Foundation
import Logging
import VigilCore
import VigilServer

/// The daemon's command line (DAEMON.md). Exit status: 0 after a clean stop, 1 when it
/// cannot start, 2 on a usage error.
@main
struct Vigild: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "vigild",
    abstract: "Check incident reports against the ISSG rule sets and raise alerts.",
    discussion: """
      Reads Config/vigild.yaml when it exists (else the built-in defaults); each flag \
      overrides its key. Relative paths are taken from the current directory.

      Example: vigild --socket /run/vigil/vigil.sock --rules /etc/vigil/rules
      """)

  @Option(help: ArgumentHelp("Configuration file.", valueName: "FILE"))
  var config: String?

  @Option(help: ArgumentHelp("Socket path (socket.path).", valueName: "PATH"))
  var socket: String?

  @Option(help: ArgumentHelp("A rules directory; repeat for more (replaces rules.paths).", valueName: "DIR"))
  var rules: [String] = []

  @Option(name: .customLong("state-dir"), help: ArgumentHelp("State directory (state_dir).", valueName: "DIR"))
  var stateDirectory: String?

  @Option(name: .customLong("alert-log"), help: ArgumentHelp("Alert log file (alerts.path).", valueName: "FILE"))
  var alertLog: String?

  @Option(help: "fsync once per batch of reports, or never (durability).")
  var durability: DaemonConfiguration.Durability?

  @Option(name: .customLong("log-level"), help: "Which of the daemon's own log lines to print.")
  var logLevel: Logger.Level = .info

  /// The plugins this daemon is built with, which `plugins:` in the configuration may enable.
  static let plugins = KnownPlugins.names

  static func main() {
    let command: Vigild
    do {
      command = try parse()
    } catch {
      if exitCode(for: error) == .success {
        print(fullMessage(for: error))
        Foundation.exit(0)
      }
      FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
      Foundation.exit(2)
    }
    Foundation.exit(command.start())
  }

  func start() -> Int32 {
    var source = ConfigurationSource()
    source.explicitPath = config
    source.socketPath = socket
    source.rulesPaths = rules
    source.stateDirectory = stateDirectory
    source.alertLogPath = alertLog
    source.durability = durability
    let level = logLevel
    LoggingSystem.bootstrap { label in
      var handler = StreamLogHandler.standardError(label: label)
      handler.logLevel = level
      return handler
    }
    let log = Logger(label: "vigild")
    let configuration: DaemonConfiguration
    do {
      configuration = try source.load(knownPlugins: Self.plugins)
    } catch let errors as ConfigurationErrors {
      log.error("cannot start: the configuration has \(errors.errors.count) error(s):\n\(errors)")
      return 1
    } catch {
      log.error("cannot start: \(error)")
      return 1
    }
    let unreadable = RulesDirectoryCheck.problems(in: configuration)
    guard unreadable.isEmpty else {
      log.error("cannot start: \(unreadable.joined(separator: "\n"))")
      return 1
    }
    let rulesPaths = configuration.rules.paths.joined(separator: ", ")
    log.info(
      """
      configuration: socket \(configuration.socket.path), rules \(rulesPaths), state \(configuration.stateDirectory), \
      alert log \(configuration.alerts.path), durability \(configuration.durability.rawValue)
      """)
    let ruleSet: RuleSet
    do {
      switch KnownPlugins.loader(for: configuration).load(try RuleDirectories.read(configuration.rules.paths)) {
      case .success(let loaded): ruleSet = loaded
      case .failure(let errors):
        log.error("cannot start: the rule set has \(errors.errors.count) error(s):\n\(errors)")
        return 1
      }
    } catch {
      log.error("cannot start: \(error)")
      return 1
    }
    log.info("rule set \(ruleSet.revision): \(ruleSet.enabledRuleCount) of \(ruleSet.rules.count) rules enabled")
    // The socket server, journal and alert log are the next piece of work (see README, "Status").
    log.error("cannot start: serving reports on the socket is not built yet")
    return 1
  }
}

extension DaemonConfiguration.Durability: ExpressibleByArgument {}
extension Logger.Level: @retroactive ExpressibleByArgument {}
