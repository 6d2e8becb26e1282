import ArgumentParser
import Foundation
import VigilServer

/// The `vigil` command line (docs/vigil.md). Exit status: 0 on success, 1 when an input was
/// refused or a check failed, 2 on misuse, an unreadable file, or an unreachable daemon.
@main
struct Vigil: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "vigil",
    abstract: "Work with Vigil's rule sets and daemon.",
    discussion: """
      Examples:
        vigil submit reports.ndjson      record reports, print their alerts
        vigil tail -f --min-priority high
        vigil rules test Rules           test edited rules before a reload
        vigil replay                     what an edit would change on past reports
        vigil import --map awsd FILE.csv a spreadsheet, through a mapping file
      """,
    version: BuildVersion.line(for: "vigil"),
    subcommands: [
      Submit.self, Check.self, Import.self, Tail.self, Status.self, Reload.self, Reopen.self, RulesCommand.self, Verify.self,
      Replay.self, PluginsCommand.self, SinksCommand.self,
    ])

  static func main() {
    // A parent may have spawned us from a thread that blocks signals (libdispatch's
    // workers do, and the mask is inherited): Ctrl-C and SIGTERM must still stop `tail -f`.
    var none = sigset_t()
    sigemptyset(&none)
    pthread_sigmask(SIG_SETMASK, &none, nil)
    StandardDescriptors.ensureOpen()
    // `vigil help NAME` for a NAME that is no command: misuse (the parser would print the
    // top-level help and exit 0).
    let arguments = Array(CommandLine.arguments.dropFirst())
    if arguments.first == "help", arguments.count > 1, !Self.names(commandPath: Array(arguments.dropFirst())) {
      FileHandle.standardError.write(
        Data("vigil: no command \(arguments.dropFirst().joined(separator: " ")); see vigil --help\n".utf8))
      Foundation.exit(2)
    }
    // `vigil NAME --help` the same: the parser printed the top-level help and exit 0, so a
    // script asking it took NAME for a command.
    let named = arguments.prefix { !$0.hasPrefix("-") }
    if !named.isEmpty, named.first != "help", arguments.contains(where: { ["--help", "-h"].contains($0) }),
      !Self.names(commandPath: Array(named))
    {
      FileHandle.standardError.write(Data("vigil: no command \(named.joined(separator: " ")); see vigil --help\n".utf8))
      Foundation.exit(2)
    }
    do {
      var command = try parseAsRoot()
      // `vigil` or `vigil rules` alone names no command to run: misuse, not a request for help.
      if !type(of: command).configuration.subcommands.isEmpty {
        FileHandle.standardError.write(Data((helpMessage(for: type(of: command)) + "\n").utf8))
        Foundation.exit(2)
      }
      try command.run()
    } catch let exit as ExitCode {
      Foundation.exit(exit.rawValue)
    } catch let failure as CommandFailure {
      // Several problems (a configuration's errors, one a line) each start with `vigil:`.
      let lines = failure.sentence.split(separator: "\n", omittingEmptySubsequences: false).map { "vigil: \($0)\n" }
      FileHandle.standardError.write(Data(lines.joined().utf8))
      Foundation.exit(failure.status)
    } catch {
      if exitCode(for: error) == .success {
        print(fullMessage(for: error))
        Foundation.exit(0)
      }
      FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
      Foundation.exit(2)
    }
  }
}

extension Vigil {
  /// Whether `path` (`["rules", "lint"]`) names a command, its options aside.
  static func names(commandPath path: [String]) -> Bool {
    var command: any ParsableCommand.Type = Vigil.self
    // The names before the first option (`help rules lint --config x.yaml`); `help help`
    // is the parser's own.
    if path == ["help"] { return true }
    for name in path.prefix(while: { !$0.hasPrefix("-") }) {
      // A command of no subcommands takes the words after it as its arguments (`tail FILE`).
      if command.configuration.subcommands.isEmpty && command != Vigil.self { return true }
      guard
        let next = command.configuration.subcommands.first(where: {
          $0._commandName == name || $0.configuration.aliases.contains(name)
        })
      else { return false }
      command = next
    }
    return true
  }
}

/// A command that could not do its work: one sentence for standard error, and the status.
struct CommandFailure: Error {
  let status: Int32
  let sentence: String
}
