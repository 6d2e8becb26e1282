import ArgumentParser
import Foundation
import Logging
import NIOConcurrencyHelpers
import ServiceLifecycle
import VigilConsole
import VigilCore
import VigilPlugins
import VigilServer

/// The daemon's command line (docs/vigild.md). Exit status: 0 after a clean stop, 1 when it
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
      """,
    version: BuildVersion.line(for: "vigild"))

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

  @Option(
    help: ArgumentHelp(
      "The console's address (http.listen), e.g. 127.0.0.1:8470, or off.", valueName: "HOST:PORT|off"))
  var http: String?

  func validate() throws {
    if let http, case .failure(let problem) = HTTPAddress.parse(http) {
      throw ValidationError("--http: \(problem)")
    }
    let paths = [("--config", config), ("--state-dir", stateDirectory), ("--alert-log", alertLog)]
      + rules.map { ("--rules", $0) }
    for case (let flag, let path?) in paths where path.isEmpty || path.utf8.contains(0) {
      throw ValidationError("\(flag): expected a path, got \(path.isEmpty ? "nothing" : "a string containing NUL")")
    }
    if let socket, let problem = UnixSocket.problem(withPath: socket) { throw ValidationError("--socket: \(problem)") }
  }

  @Option(name: .customLong("log-level"), help: "Which of the daemon's own log lines to print.")
  var logLevel: Logger.Level = .info

  /// The plugins this daemon is built with, which `plugins:` in the configuration may enable.
  static let plugins = PluginRegistry(BuiltInPlugins.all)

  static func main() {
    // Before any thread exists: see SignalHandling.
    SignalHandling.blockInEveryThread()
    // A standard error whose reader has gone (`vigild 2>&1 | head -1`) fails a write with
    // EPIPE instead of killing the daemon; NIO ignores SIGPIPE too, but only once it runs.
    signal(SIGPIPE, SIG_IGN)
    StandardDescriptors.ensureOpen()
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
    // Files and the socket are created private; the socket is widened to its configured
    // mode after bind, so there is never a window of wider access.
    umask(0o077)
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
    if let http, case .success(let address) = HTTPAddress.parse(http) { source.http = .some(address) }
    let level = logLevel
    LoggingSystem.bootstrap { label in
      var handler = ControlSafeLogHandler(label: label)
      handler.logLevel = level
      return handler
    }
    let log = Logger(label: "vigild")
    let configuration: DaemonConfiguration
    do {
      configuration = try source.load(
        knownPlugins: Self.plugins.names, withoutSettings: Self.plugins.withoutSettings,
        enabledByDefault: Self.plugins.enabledByDefault)
    } catch let errors as ConfigurationErrors {
      // Every problem at once: those of the paths the file names too, when they were read.
      let more =
        (source.path.flatMap { RulesDirectoryCheck.worldWritable($0, what: "the configuration", key: nil) }.map { [$0] } ?? [])
        + (errors.rulesPaths.map(RulesDirectoryCheck.problems(inPaths:)) ?? [])
        // The sinks' and sources' settings too, when the plugins section itself was read.
        + (errors.pluginsRead.map { read in
          Self.plugins.settingsProblems(in: read).map { Self.placed($0.message, $0.place, in: source.path) }
        } ?? [])
      let all = errors.errors.map(\.description) + more
      Self.logEach(log, "cannot start: the configuration has \(all.count) error(s):", all)
      return 1
    } catch {
      log.critical("cannot start: \(error)")
      return 1
    }
    let unreadable =
      (source.path.flatMap { RulesDirectoryCheck.worldWritable($0, what: "the configuration", key: nil) }.map {
        [$0]
      } ?? []) + RulesDirectoryCheck.problems(in: configuration) + Self.groupProblem(configuration)
      + configuration.pathConflicts(configurationFile: source.path)
      // The sinks' and sources' settings, before anything is made (the state directory, the
      // log) or read (the rules, the journal): every plugin's problem, with its file.
      + Self.plugins.settingsProblems(in: configuration).map { Self.placed($0.message, $0.place, in: source.path) }
    // The console's token too, in the same list (it came alone, after the others were fixed).
    var access: ConsoleAccess?
    var tokenProblem: [String] = []
    do {
      access = try ConsoleAccess.load(configuration.http)
    } catch {
      tokenProblem = ["\(error)"]
    }
    guard unreadable.isEmpty, tokenProblem.isEmpty, let access else {
      Self.logEach(log, "cannot start:", unreadable + tokenProblem)
      return 1
    }
    let rulesPaths = configuration.rules.paths.joined(separator: ", ")
    log.info(
      """
      configuration: socket \(configuration.socket.path), rules \(rulesPaths), state \(configuration.stateDirectory), \
      alert log \(configuration.alerts.path), durability \(configuration.durability.rawValue), \
      console \(configuration.http.listen.map { "http://\($0)/" } ?? "off")
      """)
    // Watching starts before the first load, so an edit made meanwhile is not missed.
    let watcher =
      configuration.rules.watch
      ? RuleWatcher(directories: configuration.rules.paths, pollSeconds: configuration.rules.pollSeconds) {
        guard let server = Vigild.serverBox.withLockedValue({ $0 }) else { return }
        _ = try? server.responder.reload(trigger: RequestResponder.fileChangeTrigger).wait()
      } : nil
    let ruleSet: RuleSet
    do {
      let sources = try ConfiguredRuleSet.read(configuration.rules.paths)
      if sources.isEmpty {
        let directories = configuration.rules.paths.joined(separator: ", ")
        log.warning(
          "the rules directories (\(directories)) hold no rule file: every report is recorded with no alert until rule files are added")
      }
      switch ConfiguredRuleSet.load(sources, configuration: configuration, plugins: Self.plugins) {
      case .success(let loaded): ruleSet = loaded
      case .failure(let errors):
        Self.logEach(
          log, "cannot start: the rule set has \(errors.errors.count) error(s):", errors.errors.map(\.description))
        return 1
      }
    } catch {
      log.critical("cannot start: \(error)")
      return 1
    }
    log.info("rule set \(ruleSet.revision): \(ruleSet.enabledRuleCount) of \(ruleSet.rules.count) rules enabled")
    for line in ConfiguredRuleSet.warningLines(of: ruleSet, on: "start") { log.warning("\(line)") }
    let server: Daemon
    do {
      server = try Daemon.start(configuration: configuration, plugins: Self.plugins, ruleSet: ruleSet) { event in
        // One line per event (docs/vigild.md): a message that still spans lines (an error
        // a library wrote so) is joined into one; at the event's level.
        let line: Logger.Message = "\(event.message.split(separator: "\n").joined(separator: " | "))"
        let logger = Logger(label: "vigild")
        switch event.level {
        case .notice: logger.notice(line)
        case .warning: logger.warning(line)
        case .error: logger.error(line)
        }
      }
    } catch {
      log.critical("cannot start: \(error)")
      return 1
    }
    let threads = Daemon.connectionThreads(for: configuration)
    log.notice(
      """
      ready on \(configuration.socket.path): rule set \(ruleSet.revision), \(ruleSet.enabledRuleCount) rules, \
      \(threads) connection thread\(threads == 1 ? "" : "s")
      """)
    Self.serverBox.withLockedValue { $0 = server }
    if let watcher { server.responder.beforeReading.withLockedValue { $0 = { watcher.noteReading() } } }
    let console =
      configuration.http.listen == nil
      ? nil : ConsoleService(server: server, configuration: configuration, access: access, log: log)
    Self.run(server, watcher: watcher, console: console, log: log)
    log.notice("stopped")
    return 0
  }

  /// A socket group this machine does not have, found before anything is opened or written
  /// (checked here, not where the configuration is read: `vigil` reads the same file on
  /// machines that need not have the group).
  static func groupProblem(_ configuration: DaemonConfiguration) -> [String] {
    let group = configuration.socket.group
    guard !group.isEmpty, DaemonConfiguration.Socket.groupID(of: group) == nil else { return [] }
    return ["socket.group: no group \(group) on this machine (a name or a number from /etc/group)"]
  }

  /// A plugin's settings problem as the configuration's own are said: `file:line:column: …`.
  static func placed(_ message: String, _ place: DaemonConfiguration.Place?, in file: String?) -> String {
    (file ?? "the configuration") + (file != nil ? place.map { ":\($0.line):\($0.column)" } ?? "" : "") + ": " + message
  }

  /// One line per event (docs/vigild.md): each of a failure's errors on a line of its own,
  /// after what they are errors of, so every line of the log stands alone.

  static func logEach(_ log: Logger, _ context: String, _ errors: [String]) {
    for error in errors {
      log.critical("\(context) \(error.split(separator: "\n").joined(separator: " | "))")
    }
  }

  /// The server, once it runs; the rule watcher, started before it, looks here.
  static let serverBox = NIOLockedValueBox<Daemon?>(nil)

  /// The composition root: the parts of the running daemon, as a `ServiceGroup`, until a
  /// graceful stop (SIGTERM, SIGINT). The socket and the writer are running already (the
  /// daemon is ready when they are); the group starts the rest and, at the stop, stops
  /// every part in the reverse order of this list — signals first; then the rule watcher;
  /// the sources, given a while to finish the report in hand; the socket, answering what
  /// each connection has read, and the writer; the sinks; last, the socket file and the
  /// state directory's lock.
  static func run(_ server: Daemon, watcher: RuleWatcher?, console: ConsoleService?, log: Logger) {
    var parts: [ServiceGroupConfiguration.ServiceConfiguration] = [
      .init(service: DaemonPart("state directory lock and socket file", stop: server.release)),
      .init(service: DaemonPart("sinks", start: server.startSinks, stop: server.stopSinks)),
      .init(service: DaemonPart("socket and writer", stop: server.stopServing)),
      .init(service: DaemonPart("sources", start: server.startSources, stop: server.stopSources)),
    ]
    // The console stops before the sources: its live streams end, its requests are answered.
    if let console { parts.append(.init(service: console)) }
    parts += [
      .init(service: DaemonPart("rule watcher", start: { watcher?.start() }, stop: { watcher?.stop() })),
      .init(
        service: SignalHandling(
          reload: { _ = try? server.responder.reload(trigger: "SIGHUP").wait() },
          reopen: {
            let response = (try? server.responder.reopen().wait()) ?? ""
            // Said as a sentence: the answer is the protocol's JSON, its message the reason.
            let answer = (try? JSONSerialization.jsonObject(with: Data(response.utf8))) as? [String: Any]
            if answer?["ok"] as? Bool == true {
              log.notice("reopened the journal and the alert log on SIGUSR1")
            } else {
              let error = answer?["error"] as? [String: Any]
              let reason = (error?["message"] as? String) ?? response.trimmingCharacters(in: .whitespacesAndNewlines)
              log.warning("reopen on SIGUSR1 failed: \(reason); reports are refused until it succeeds, which is tried again at each commit")
            }
          },
          stopping: {
            log.notice("stopping on \($0): answering what was read, then closing")
            // Reports held back for a sink's max_lag are committed at once: nothing the
            // stop waits for (a reload under way, the sources) waits behind them.
            server.endHolding()
          }),
        successTerminationBehavior: .gracefullyShutdownGroup),
    ]
    let group = ServiceGroup(configuration: ServiceGroupConfiguration(services: parts, logger: log))
    let stopped = DispatchSemaphore(value: 0)
    Task {
      do {
        try await group.run()
      } catch {
        log.error("stopping after an error in a part of the daemon: \(error)")
      }
      stopped.signal()
    }
    stopped.wait()
  }
}

extension DaemonConfiguration.Durability: ExpressibleByArgument {}
extension Logger.Level: @retroactive ExpressibleByArgument {}
