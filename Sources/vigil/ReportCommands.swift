import ArgumentParser
import Foundation

struct Submit: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Submit reports to the daemon and print each verdict; exit 1 if any was refused.",
    discussion: """
      Input: NDJSON (one report per line), one JSON object, or a JSON array; FILE or - for \
      standard input (the default). Reports are pipelined, so large files go at socket speed.
      Example: vigil submit reports.ndjson
      """)

  @OptionGroup var reports: ReportInputOptions

  func run() throws {
    try reports.stream(op: "submit")
  }
}

struct Check: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Check reports against the active rules without recording anything.",
    discussion: """
      The same input as submit. Exit 0 whatever alerts fire; 1 if a report was refused.
      Example: echo '{"id":"T-1","occurred_at":"2016-03-01","type":"attack","weapons":["barrel_bomb"]}' | vigil check
      """)

  @OptionGroup var reports: ReportInputOptions

  func run() throws {
    try reports.stream(op: "check")
  }
}

/// What `submit` and `check` take: the daemon, the output form, the inputs.
struct ReportInputOptions: ParsableArguments {
  @OptionGroup var daemon: DaemonOptions
  @Flag(help: "One JSON object per line: the daemon's response, with file and line.") var json = false
  @Argument(help: ArgumentHelp("Files of reports (- for standard input).", valueName: "FILE")) var files: [String] = []

  /// Streams every input to the daemon as `op`; exit status 1 if a report was refused, 2
  /// if an input broke off in a read error (each said on standard error after the verdicts).
  func stream(op: String) throws {
    let outcome = try ReportStreaming(connection: daemon.connect(), op: op, json: json).run(inputs: files)
    for problem in outcome.unreadable {
      FileHandle.standardError.write(Data("vigil: \(problem); the rest of the file was not read\n".utf8))
    }
    if !outcome.unreadable.isEmpty { throw ExitCode(2) }
    if outcome.refused { throw ExitCode(1) }
  }
}
