import ArgumentParser
import Foundation
import VigilCore
import VigilServer

struct RulesCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "rules",
    abstract: "Check rule sets offline, or list the daemon's rules.",
    subcommands: [Lint.self, Test.self, ListRules.self])

  struct Lint: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Load and check rule sets as vigild does, examples included: every error with file:line:column; exit 1 on any.",
      discussion: "Example: vigil rules lint Rules /etc/vigil/rules")

    @OptionGroup var options: RuleSetOptions

    func run() throws {
      try options.check(runningExamples: false)
    }
  }

  struct Test: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Run every rule's examples; print the failures; exit 1 on any.",
      discussion: "Example: vigil rules test Rules")

    @OptionGroup var options: RuleSetOptions

    func run() throws {
      try options.check(runningExamples: true)
    }
  }
}

/// What `rules lint` and `rules test` share: where the rules are, and how to print.
struct RuleSetOptions: ParsableArguments {
  @Option(help: ArgumentHelp("Configuration file, for the rules directories and plugins (default: $VIGIL_CONFIG, else Config/vigild.yaml if present).", valueName: "FILE"))
  var config: String?

  @Flag(help: "One JSON object per line.")
  var json = false

  @Argument(help: ArgumentHelp("Rules directories (default: the configuration's rules.paths).", valueName: "DIR"))
  var directories: [String] = []

  /// Loads the rule set, prints what was found, and exits 1 when the set has errors.
  func check(runningExamples: Bool) throws {
    let check = try load(runningExamples: runningExamples)
    check.print(json: json)
    if !check.errors.isEmpty { throw ExitCode(1) }
  }

  private func load(runningExamples: Bool) throws -> RuleSetCheck {
    let source = configurationSource(config)
    let configuration = try source.load()
    // The configured set is checked as vigild checks it at start, its configuration too.
    if directories.isEmpty, let path = source.path,
      let problem = RulesDirectoryCheck.worldWritable(path, what: "the configuration", key: nil)
    {
      throw CommandFailure(status: 1, sentence: problem + " (vigild would not start on it)")
    }
    let paths = directories.isEmpty ? configuration.rules.paths : directories
    let sources: [RuleSource]
    do {
      sources = try ConfiguredRuleSet.read(paths)
    } catch {
      // One unreadable is misuse (2). A set refused for who may write it, for a file name
      // that is not UTF-8 or a directory given twice would be rejected: that is a problem
      // of the set, printed as its others are (one line, or a JSON object, and the summary).
      guard error.refused else { throw CommandFailure(status: 2, sentence: error.description) }
      let problem = RuleError(SourcePosition(file: error.path, line: 0, column: 0), error.description)
      return RuleSetCheck(result: .failure(RuleSetErrors(errors: [problem])), files: 0, examples: runningExamples)
    }
    // Examples run for lint too: the daemon refuses a set whose examples fail.
    var result = ConfiguredRuleSet.load(sources, configuration: configuration, plugins: builtInPlugins)
    // The configured set: the plugins' settings too, on which vigild would not start
    // (`plugins.webhook: url is required…`), as problems of the whole set.
    // A file the settings name that this user cannot read is a warning: vigild's user may.
    let problems = directories.isEmpty ? builtInPlugins.settingsProblems(in: configuration) : []
    let whole = SourcePosition(file: "", line: 0, column: 0)
    let settingsErrors = problems.filter { !$0.isAboutAFile }.map {
      RuleError(whole, $0.message + " (vigild would not start on it)")
    }
    let settingsWarnings = problems.filter(\.isAboutAFile).map {
      RuleError(whole, $0.message + " (as this user; vigild would not start if its user cannot read it either)")
    }
    if !settingsErrors.isEmpty {
      switch result {
      case .success(let set): result = .failure(RuleSetErrors(errors: settingsErrors, warnings: set.warnings))
      case .failure(let errors):
        result = .failure(RuleSetErrors(errors: settingsErrors + errors.errors, warnings: errors.warnings))
      }
    }
    return RuleSetCheck(
      result: result, files: sources.count, examples: runningExamples, configurationErrors: settingsErrors.count,
      configurationWarnings: settingsWarnings)
  }
}
