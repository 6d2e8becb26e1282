import Foundation
import VigilCore

/// A sink that runs a command for each batch of alerts, the records on its standard input,
/// one JSON line each; exit status 0 means delivered, anything else (or running past
/// `timeout_s`) means the batch is retried later. Settings:
///
/// ```yaml
/// plugins:
///   exec:
///     command: [/usr/local/bin/forward-alerts, --to, ops]   # required
///     timeout_s: 30                                         # optional
/// ```
public struct Exec: AlertSink {
  public let name = "exec"

  public init() {}

  public func destination(settings: ConfigurationValue) throws(PluginSettingsError) -> any AlertDestination {
    guard case .mapping(let members) = settings else {
      throw PluginSettingsError("the settings must be a mapping with command (and timeout_s)")
    }
    var command: [String] = []
    var timeout = 30.0
    for member in members {
      switch (member.key, member.value) {
      case ("command", .sequence(let words)):
        command = words.compactMap { if case .scalar(let word) = $0 { word } else { nil } }
        guard command.count == words.count, !command.isEmpty, !command[0].isEmpty else {
          throw PluginSettingsError("command must be a list of words, the program first")
        }
      case ("command", _):
        throw PluginSettingsError("command must be a list of words, the program first: [/path/to/program, arg]")
      case ("timeout_s", .scalar(let text)):
        guard let seconds = Double(text), seconds > 0 else {
          throw PluginSettingsError("timeout_s must be a number of seconds above 0, got \(text)")
        }
        timeout = seconds
      default:
        throw PluginSettingsError("unknown setting \(member.key) (known: command, timeout_s)")
      }
    }
    guard !command.isEmpty else { throw PluginSettingsError("command is required: the program to run for each batch") }
    return ExecDestination(command: command, timeout: timeout)
  }
}

/// Runs the command once per batch.
struct ExecDestination: AlertDestination {
  let command: [String]
  let timeout: Double

  struct Failure: Error, CustomStringConvertible {
    let description: String
  }

  func deliver(_ alerts: [RecordedAlert]) throws {
    // The batch goes through a file, not a pipe: a command that never reads cannot block
    // the delivery past its timeout.
    let input = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-exec-\(UUID().uuidString)")
    try Data(alerts.map { $0.line + "\n" }.joined().utf8).write(to: input)
    defer { try? FileManager.default.removeItem(at: input) }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["--"] + command
    process.standardInput = try FileHandle(forReadingFrom: input)
    process.standardOutput = FileHandle.nullDevice
    // Its standard error goes to a file too: a pipe nobody reads while it runs would block
    // a chatty command until its timeout.
    let errorPath = input.path + ".err"
    _ = FileManager.default.createFile(atPath: errorPath, contents: nil)
    defer { try? FileManager.default.removeItem(atPath: errorPath) }
    process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errorPath))
    do {
      try process.run()
    } catch {
      throw Failure(description: "cannot run \(command[0]): \(error.localizedDescription)")
    }
    let deadline = Date().addingTimeInterval(timeout)
    while process.isRunning, Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
    if process.isRunning {
      kill(process.processIdentifier, SIGKILL)
      process.waitUntilExit()
      throw Failure(description: "\(command[0]) ran past timeout_s (\(timeout) s) and was killed")
    }
    process.waitUntilExit()
    let said = String(decoding: (FileManager.default.contents(atPath: errorPath) ?? Data()).suffix(300), as: UTF8.self)
      .trimmingCharacters(in: .whitespacesAndNewlines)
    guard process.terminationReason == .exit, process.terminationStatus == 0 else {
      throw Failure(
        description: "\(command[0]) exited with status \(process.terminationStatus)" + (said.isEmpty ? "" : ": \(said)"))
    }
  }
}
