import Foundation
import Testing
import VigilTestSupport

/// The real `vigild` binary, started as a child process.
@Suite("vigild: flags, configuration and exit status", .onThreadsOfTheirOwn)
struct VigildCommandTests {
  /// A folder whose `Rules/x.yaml` holds one rule, `a.b`, with this condition and priority.
  static func withOneRule(condition: String, priority: String) throws -> TemporaryDirectory {
    let directory = try TemporaryDirectory()
    try FileManager.default.createDirectory(atPath: directory.path + "/Rules", withIntermediateDirectories: false)
    try "- rule: a.b\n  desc: d\n  condition: \(condition)\n  output: o\n  priority: \(priority)\n".write(
      toFile: directory.path + "/Rules/x.yaml", atomically: true, encoding: .utf8)
    return directory
  }

  @Test func helpExitsZeroAndShowsAnExample() throws {
    let run = try Vigild.run(["--help"])
    #expect(run.status == 0)
    #expect(run.standardOutput.contains("USAGE: vigild [--config <FILE>] [--socket <PATH>] [--rules <DIR> ...]"))
    #expect(run.standardOutput.contains("Example: vigild"))
  }

  @Test(arguments: [["--bogus"], ["--durability", "sometimes"], ["--log-level", "loud"], ["--socket"]])
  func usageErrorsExitTwo(arguments: [String]) throws {
    let run = try Vigild.run(arguments)
    #expect(run.status == 2)
    #expect(run.standardError.contains("Error: "))
  }

  /// An empty path given to a flag is a bad value (2), not a file the daemon fails to
  /// make (1); nor is a socket path longer than a client could connect to.
  @Test(arguments: [
    (["--socket", ""], "--socket: expected a path, got nothing"),
    (["--state-dir", ""], "--state-dir: expected a path, got nothing"),
    (["--alert-log", ""], "--alert-log: expected a path, got nothing"),
    (["--config", ""], "--config: expected a path, got nothing"),
    (["--rules", "Rules", "--rules", ""], "--rules: expected a path, got nothing"),
    (["--socket", "/tmp/" + String(repeating: "s", count: 103) + ".sock"], "--socket: 113 bytes long, more than the 107"),
  ])
  func badFlagValuesAreUsageErrors(arguments: [String], message: String) throws {
    let directory = try TemporaryDirectory()
    let run = try Vigild.run(arguments, in: directory.path)
    #expect(run.status == 2)
    #expect(run.standardError.contains(message), "\(run.standardError)")
    #expect(!FileManager.default.fileExists(atPath: directory.path + "/var"), "nothing is made for a usage error")
  }

  /// A socket path of up to 107 bytes is served, as documented: SwiftNIO's own binding
  /// takes 103 at most, and paths from 104 to 107 (or a hidden name beside them that long)
  /// are bound by vigild itself.
  @Test(arguments: [104, 107]) func aSocketPathOfUpTo107BytesIsServed(length: Int) throws {
    let directory = try TemporaryDirectory()
    try FileManager.default.createDirectory(atPath: directory.path + "/Rules", withIntermediateDirectories: false)
    let folder = directory.path + "/" + String(repeating: "d", count: length - directory.path.utf8.count - 8)
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false)
    let path = folder + "/v.sock"
    #expect(path.utf8.count == length)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("vigild")
    process.arguments = ["--socket", path, "--http", "off"]
    process.currentDirectoryURL = URL(fileURLWithPath: directory.path)
    process.standardError = FileHandle.nullDevice
    try process.run()
    defer {
      if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
    var client: UnixSocketClient?
    #expect(eventually(within: 60) {
      client = try? UnixSocketClient(path: path)
      return client != nil || !process.isRunning
    })
    let connected = try #require(client, "vigild did not serve \(path) (\(process.isRunning ? "running" : "exited \(process.terminationStatus)"))")
    try connected.send(Array("{\"op\":\"ping\"}\n".utf8))
    #expect(connected.readLine()?.contains(#""ok":true"#) == true)
    kill(process.processIdentifier, SIGTERM)
    process.waitUntilExit()
    #expect(process.terminationStatus == 0)
    #expect(!FileManager.default.fileExists(atPath: path), "the socket is removed at the stop")
  }

  /// `Config/vigild.yaml` as a symbolic link whose target is gone is an error, not a start
  /// on the built-in defaults without a word.
  @Test func aDanglingDefaultConfigurationIsAnError() throws {
    let directory = try TemporaryDirectory()
    try FileManager.default.createDirectory(atPath: directory.path + "/Config", withIntermediateDirectories: false)
    try FileManager.default.createSymbolicLink(atPath: directory.path + "/Config/vigild.yaml", withDestinationPath: "/nonexistent/vigild.yaml")
    let run = try Vigild.run(["--http", "off"], in: directory.path)
    #expect(run.status == 1, "\(run.standardError)")
    #expect(
      run.standardError.contains(
        "cannot read the configuration Config/vigild.yaml: it is a symbolic link to /nonexistent/vigild.yaml, which does not exist"),
      "\(run.standardError)")
  }

  /// A socket path no client could reach, or a group the machine does not have, is a
  /// configuration error naming its key, found before anything is written.
  @Test func aSocketPathTooLongOrAnUnknownGroupIsRefusedAtStart() throws {
    let directory = try TemporaryDirectory()
    try FileManager.default.createDirectory(atPath: directory.path + "/Rules", withIntermediateDirectories: false)
    let long = directory.path + "/" + String(repeating: "s", count: 110) + ".sock"
    try "socket:\n  path: \(long)\n".write(toFile: directory.path + "/v.yaml", atomically: true, encoding: .utf8)
    let run = try Vigild.run(["--config", "v.yaml"], in: directory.path)
    #expect(run.status == 1)
    #expect(run.standardError.contains("v.yaml:2:9: socket.path: \(long.utf8.count) bytes long, more than the 107"), "\(run.standardError)")
    #expect(!FileManager.default.fileExists(atPath: long))
    try "socket:\n  path: s.sock\n  group: vigil-no-such-group\n".write(
      toFile: directory.path + "/v.yaml", atomically: true, encoding: .utf8)
    let group = try Vigild.run(["--config", "v.yaml"], in: directory.path)
    #expect(group.status == 1)
    #expect(group.standardError.contains("cannot start: socket.group: no group vigil-no-such-group on this machine"), "\(group.standardError)")
    #expect(!FileManager.default.fileExists(atPath: directory.path + "/var"), "no journal, no alert log, no record")

    // A group by its number is taken.
    try "socket:\n  path: s.sock\n  group: \(getgid())\n".write(
      toFile: directory.path + "/v.yaml", atomically: true, encoding: .utf8)
    let numbered = try Vigild.run(["--config", "v.yaml"], in: directory.path)
    #expect(numbered.standardError.contains("ready on s.sock"), "\(numbered.standardError)")
  }

  /// An alert log or a socket on one of the daemon's own state files, in any spelling of
  /// its path, is refused before anything is made: an alert log at the journal's path
  /// interleaved reports and alerts in one file, and one at alerts.head lost its first record.
  @Test(arguments: [
    (["--alert-log", "st/reports.jsonl"], "alerts.path: st/reports.jsonl is the daemon's own reports.jsonl"),
    (["--alert-log", "./st/../st/alerts.head"], "alerts.path: ./st/../st/alerts.head is the daemon's own alerts.head"),
    (["--alert-log", "st/reports.jsonl.2"], "alerts.path: st/reports.jsonl.2 is the daemon's own reports.jsonl"),
    (["--alert-log", "st"], "alerts.path: st is the state directory itself"),
    (["--alert-log", "al.jsonl", "--socket", "al.jsonl"], "socket.path: al.jsonl is the alert log's path too"),
    (["--socket", "st/vigild.lock"], "socket.path: st/vigild.lock is the daemon's own vigild.lock"),
    (["--alert-log", "st/sinks/webhook.cursor"], "alerts.path: st/sinks/webhook.cursor is the daemon's own sinks"),
    (["--socket", "st/"], "socket.path: st/ is the state directory itself"),
  ])
  func anAlertLogOrSocketOnTheDaemonsOwnFilesIsRefused(arguments: [String], message: String) throws {
    let directory = try TemporaryDirectory()
    try FileManager.default.createDirectory(atPath: directory.path + "/Rules", withIntermediateDirectories: false)
    let run = try Vigild.run(["--state-dir", "st", "--socket", "v.sock", "--http", "off"] + arguments, in: directory.path)
    #expect(run.status == 1)
    #expect(run.standardError.contains("cannot start: " + message), "\(run.standardError)")
    #expect(!FileManager.default.fileExists(atPath: directory.path + "/st"), "nothing is made")
    #expect(!FileManager.default.fileExists(atPath: directory.path + "/al.jsonl"), "nothing is made")
  }

  /// A socket path of one character, relative, is a socket path (Foundation's path
  /// functions crashed on it: SIGILL).
  @Test func aOneLetterSocketPathStarts() throws {
    let directory = try TemporaryDirectory()
    try FileManager.default.createDirectory(atPath: directory.path + "/Rules", withIntermediateDirectories: false)
    let run = try Vigild.run(["--socket", "s", "--http", "off", "--rules", "Rules"], in: directory.path)
    #expect(run.status == 0, "\(run.standardError)")
    #expect(run.standardError.contains("ready on s:"), "\(run.standardError)")
  }

  /// Through a symbolic link to the state directory, before any file is there (a first
  /// start), the journal is still the journal.
  @Test func anAlertLogOnTheStateFilesThroughALinkIsRefused() throws {
    let directory = try TemporaryDirectory()
    try FileManager.default.createDirectory(atPath: directory.path + "/Rules", withIntermediateDirectories: false)
    try FileManager.default.createDirectory(atPath: directory.path + "/real", withIntermediateDirectories: false)
    try FileManager.default.createSymbolicLink(atPath: directory.path + "/st", withDestinationPath: "real")
    let run = try Vigild.run(
      ["--state-dir", "real", "--socket", "v.sock", "--http", "off", "--alert-log", "st/alerts.head"], in: directory.path)
    #expect(run.status == 1)
    #expect(run.standardError.contains("cannot start: alerts.path: st/alerts.head is the daemon's own alerts.head"), "\(run.standardError)")
    // A link to the file that is not there yet.
    try FileManager.default.createSymbolicLink(atPath: directory.path + "/log.jsonl", withDestinationPath: "real/alerts.head")
    let dangling = try Vigild.run(
      ["--state-dir", "real", "--socket", "v.sock", "--http", "off", "--alert-log", "log.jsonl"], in: directory.path)
    #expect(dangling.status == 1)
    #expect(dangling.standardError.contains("alerts.path: log.jsonl is the daemon's own alerts.head"), "\(dangling.standardError)")
    // A link to the state directory that is not there yet, the alert log under it: the
    // link is followed as a folder too (audit 26: it was not, and the alert records went
    // into alerts.head, or into the journal).
    try FileManager.default.createSymbolicLink(atPath: directory.path + "/stlink", withDestinationPath: "new")
    for file in ["alerts.head", "reports.jsonl"] {
      let ahead = try Vigild.run(
        ["--state-dir", "new", "--socket", "v.sock", "--http", "off", "--alert-log", "stlink/" + file], in: directory.path)
      #expect(ahead.status == 1)
      #expect(ahead.standardError.contains("alerts.path: stlink/\(file) is the daemon's own \(file)"), "\(ahead.standardError)")
      #expect(!FileManager.default.fileExists(atPath: directory.path + "/new"), "nothing is made")
    }
  }

  /// An alert log that holds lines and not one alert record is another file (another
  /// daemon's journal, a README): refused at start and left as it was, not appended to
  /// with a chain going on from a seq it quotes. A new log whose first write a crash cut
  /// (one line without its newline) still starts.
  @Test func anAlertLogThatHoldsNoRecordIsAnotherFileAndRefused() throws {
    let directory = try TemporaryDirectory()
    try FileManager.default.createDirectory(atPath: directory.path + "/Rules", withIntermediateDirectories: false)
    let notes = "# Notes\n\n```json\n{\"seq\":7,\"rule\":\"example\"}\n```\n"
    let journal = #"{"received_at":"2026-11-29T03:43:07.497Z","report":{"id":"A","occurred_at":"2016-03-01","type":"attack"}}"# + "\n"
    for (name, text) in [("notes.md", notes), ("reports.jsonl", journal)] {
      try text.write(toFile: directory.path + "/" + name, atomically: true, encoding: .utf8)
      let run = try Vigild.run(
        ["--state-dir", "st", "--socket", "v.sock", "--http", "off", "--alert-log", name], in: directory.path)
      #expect(run.status == 1, "\(name): \(run.standardError)")
      #expect(run.standardError.contains("and not one alert record: it is no alert log"), "\(name): \(run.standardError)")
      #expect(try String(contentsOfFile: directory.path + "/" + name, encoding: .utf8) == text, "\(name) left as it was")
    }
    try #"{"seq":1,"time":"2026-"#.write(toFile: directory.path + "/torn.jsonl", atomically: true, encoding: .utf8)
    let torn = try Vigild.run(
      ["--state-dir", "st", "--socket", "v.sock", "--http", "off", "--alert-log", "torn.jsonl"], in: directory.path)
    #expect(torn.status == 0, "\(torn.standardError)")
  }

  /// A link to the rules in a folder any user may write (without the sticky bit) can be
  /// replaced by one to other rules: refused, as the rules directory itself there is.
  @Test func aLinkToTheRulesInAFolderAnyUserMayWriteIsRefused() throws {
    let directory = try TemporaryDirectory()
    try FileManager.default.createDirectory(atPath: directory.path + "/safe/Rules", withIntermediateDirectories: true)
    try FileManager.default.createDirectory(atPath: directory.path + "/shared", withIntermediateDirectories: false)
    chmod(directory.path + "/shared", 0o777)
    try FileManager.default.createSymbolicLink(atPath: directory.path + "/shared/rules", withDestinationPath: directory.path + "/safe/Rules")
    let run = try Vigild.run(["--socket", "v.sock", "--http", "off", "--rules", "shared/rules"], in: directory.path)
    #expect(run.status == 1, "\(run.standardError)")
    #expect(run.standardError.contains(#"the folder "\#(directory.path)/shared" it is in may be written by any user"#), "\(run.standardError)")
    chmod(directory.path + "/shared", 0o755)
  }

  /// In the repository's layout the socket's folder and those above it are open to others
  /// (the socket's own mode and group say who may connect), though they share `var/` with
  /// the state directory, which stays the daemon's alone.
  @Test func theSocketsFoldersAreReachableInTheRepositoryLayout() throws {
    let directory = try TemporaryDirectory()
    try FileManager.default.createDirectory(atPath: directory.path + "/Rules", withIntermediateDirectories: false)
    let run = try Vigild.run(["--socket", "var/run/vigil.sock", "--http", "off"], in: directory.path)
    #expect(run.status == 0, "\(run.standardError)")
    let mode = { (path: String) -> mode_t in
      var status = stat()
      return stat(directory.path + "/" + path, &status) == 0 ? status.st_mode & 0o777 : 0
    }
    #expect(mode("var") == 0o755 && mode("var/run") == 0o755, "\(String(mode("var"), radix: 8))")
    #expect(mode("var/lib/vigil") == 0o700 && mode("var/log/vigil") == 0o700)
  }

  /// A path vigild cannot make its folder or file at is refused naming its key.
  @Test(arguments: [
    ("state_dir: in-a-file/state\n", "state_dir: cannot create the directory in-a-file/state"),
    ("alerts:\n  path: in-a-file/alerts.jsonl\n", "alerts.path: cannot create the directory in-a-file"),
    ("socket:\n  path: in-a-file/v.sock\n", "socket.path: cannot create the directory in-a-file"),
    ("alerts:\n  path: a-folder\n", "alerts.path: "),
  ])
  func aPathThatCannotBeMadeIsRefusedNamingItsKey(config: String, message: String) throws {
    let directory = try TemporaryDirectory()
    try FileManager.default.createDirectory(atPath: directory.path + "/Rules", withIntermediateDirectories: false)
    try FileManager.default.createDirectory(atPath: directory.path + "/a-folder", withIntermediateDirectories: false)
    try "".write(toFile: directory.path + "/in-a-file", atomically: true, encoding: .utf8)
    try config.write(toFile: directory.path + "/v.yaml", atomically: true, encoding: .utf8)
    let run = try Vigild.run(["--config", "v.yaml"], in: directory.path)
    #expect(run.status == 1)
    #expect(run.standardError.contains("cannot start: " + message), "\(run.standardError)")
  }

  /// The reasons it cannot start are printed whatever `--log-level` filters.
  @Test func whyItCannotStartIsPrintedAtEveryLogLevel() throws {
    let directory = try Self.withOneRule(condition: "type = access and", priority: "low")
    let rules = try Vigild.run(["--log-level", "critical"], in: directory.path)
    #expect(rules.status == 1)
    #expect(rules.standardError.contains("cannot start: the rule set has 1 error(s): Rules/x.yaml:3:31"), "\(rules.standardError)")
    let configuration = try Vigild.run(["--log-level", "critical", "--config", "none.yaml"], in: directory.path)
    #expect(configuration.status == 1)
    #expect(configuration.standardError.contains("cannot read the configuration none.yaml: no such file"))
  }

  @Test func anExplicitConfigurationThatCannotBeReadIsFatal() throws {
    let run = try Vigild.run(["--config", "/nonexistent/vigild.yaml"])
    #expect(run.status == 1)
    #expect(run.standardError.contains("cannot read the configuration /nonexistent/vigild.yaml: no such file"))
  }

  @Test func configurationErrorsAreAllPrintedWithTheirKeyPaths() throws {
    let directory = try TemporaryDirectory()
    let file = directory.path + "/vigild.yaml"
    try "socket:\n  mode: rw\nlimits: {max_connections: 0}\ndurabilty: none\n".write(
      toFile: file, atomically: true, encoding: .utf8)
    let run = try Vigild.run(["--config", file])
    #expect(run.status == 1)
    #expect(run.standardError.contains("the configuration has 3 error(s)"))
    #expect(run.standardError.contains("\(file):2:9: socket.mode: expected an octal file mode"))
    #expect(run.standardError.contains("\(file):3:27: limits.max_connections: expected a whole number of at least 1"))
    #expect(run.standardError.contains("\(file):4:1: durabilty: unknown key"))

    // A rules directory that cannot be read is listed with the file's own mistakes, not
    // after they are fixed; one whose key is itself wrong is not looked for.
    try "socket:\n  mode: rw\nrules: {paths: [Rulez]}\n".write(toFile: file, atomically: true, encoding: .utf8)
    let withPaths = try Vigild.run(["--config", file], in: directory.path)
    #expect(withPaths.status == 1)
    #expect(withPaths.standardError.contains("the configuration has 2 error(s)"), "\(withPaths.standardError)")
    #expect(withPaths.standardError.contains(#"rules.paths[0]: cannot read the rules directory "Rulez": no such directory"#))
    // Another of the rules' settings wrong beside the paths: both listed (audit 50).
    try "rules:\n  poll_s: -1\n  paths: [Rulez]\n".write(toFile: file, atomically: true, encoding: .utf8)
    let withPoll = try Vigild.run(["--config", file], in: directory.path)
    #expect(withPoll.standardError.contains("the configuration has 2 error(s)"), "\(withPoll.standardError)")
    #expect(withPoll.standardError.contains(#"rules.paths[0]: cannot read the rules directory "Rulez": no such directory"#))
    try "socket:\n  mode: rw\nrules: {paths: 3}\n".write(toFile: file, atomically: true, encoding: .utf8)
    let badPaths = try Vigild.run(["--config", file], in: directory.path)
    #expect(badPaths.standardError.contains("the configuration has 2 error(s)"), "\(badPaths.standardError)")
    #expect(badPaths.standardError.contains("rules.paths: expected a list") && !badPaths.standardError.contains("cannot read the rules"))
  }

  /// The sinks' and sources' settings are checked with the rest, before anything is made:
  /// every plugin's problem, with the file, and no state directory or log left behind.
  @Test func pluginSettingsAreCheckedBeforeAnythingIsMade() throws {
    let directory = try TemporaryDirectory()
    try FileManager.default.createDirectory(atPath: directory.path + "/Rules", withIntermediateDirectories: false)
    let file = directory.path + "/vigild.yaml"
    try """
      plugins:
        exec: {command: [/bin/cat], timeout_s: soon, foo: 1}
        webhook:
          secret_file: /nonexistent/secret
          batch: 0
          retries: 5
          timeoutt_s: ~
          timeout_s: ~
          rules: []
          min_priority: urgent
        spool: {folder: /nonexistent, settle_s: -1, bar: 2}
      """.write(toFile: file, atomically: true, encoding: .utf8)
    let run = try Vigild.run(["--config", file, "--rules", "Rules"], in: directory.path)
    // The filter's problems too, with the plugin's own (they hid them).
    #expect(run.standardError.contains("\(file):9:5: plugins.webhook: rules is an empty list"), "\(run.standardError)")
    #expect(run.standardError.contains("\(file):10:5: plugins.webhook: min_priority must be one of"), "\(run.standardError)")
    #expect(run.status == 1)
    // Every problem of a plugin's settings, each at its setting's place (or the plugin's).
    #expect(run.standardError.contains("\(file):2:31: plugins.exec: timeout_s must be"), "\(run.standardError)")
    // The exec and spool plugins' too, not their first alone (audit 29).
    #expect(run.standardError.contains("\(file):2:48: plugins.exec: unknown setting foo"), "\(run.standardError)")
    #expect(run.standardError.contains("\(file):11:33: plugins.spool: settle_s must be"), "\(run.standardError)")
    #expect(run.standardError.contains("\(file):11:47: plugins.spool: unknown setting bar"), "\(run.standardError)")
    #expect(run.standardError.contains("plugins.spool: folder /nonexistent cannot be read"), "\(run.standardError)")
    #expect(run.standardError.contains("\(file):3:3: plugins.webhook: url is required"), "\(run.standardError)")
    #expect(run.standardError.contains("\(file):5:5: plugins.webhook: batch must be a whole number"), "\(run.standardError)")
    #expect(run.standardError.contains("\(file):6:5: plugins.webhook: unknown setting retries"), "\(run.standardError)")
    // A misspelt setting given empty is as unknown; a known one given empty keeps its default.
    #expect(run.standardError.contains("\(file):7:5: plugins.webhook: unknown setting timeoutt_s (given empty)"), "\(run.standardError)")
    #expect(!run.standardError.contains("plugins.webhook: timeout_s"), "\(run.standardError)")
    #expect(
      run.standardError.contains("\(file):4:5: plugins.webhook: secret_file /nonexistent/secret cannot be read (no such file)"),
      "\(run.standardError)")
    #expect(!FileManager.default.fileExists(atPath: directory.path + "/var"), "nothing made")

    // With a mistake elsewhere in the file, the plugins' problems come in the same list,
    // not at the next start.
    try """
      socket:
        mode: rw
      plugins:
        exec: {command: [/bin/cat], timeout_s: soon}
      """.write(toFile: file, atomically: true, encoding: .utf8)
    let both = try Vigild.run(["--config", file, "--rules", "Rules"], in: directory.path)
    #expect(both.status == 1)
    #expect(both.standardError.contains("the configuration has 2 error(s)"), "\(both.standardError)")
    #expect(both.standardError.contains("socket.mode: expected an octal file mode"), "\(both.standardError)")
    #expect(both.standardError.contains("\(file):4:31: plugins.exec: timeout_s must be"), "\(both.standardError)")
  }

  /// The console's token is checked with the rest: a short one came alone, only once the
  /// other mistakes were fixed.
  @Test func theConsolesTokenIsCheckedWithTheRest() throws {
    let directory = try TemporaryDirectory()
    let file = directory.path + "/vigild.yaml"
    try "short\n".write(toFile: directory.path + "/token", atomically: true, encoding: .utf8)
    try """
      socket:
        group: nosuchgroup-vigil
      http:
        listen: 127.0.0.1:1
        token_file: \(directory.path)/token
      """.write(toFile: file, atomically: true, encoding: .utf8)
    let run = try Vigild.run(["--config", file, "--rules", "Rulez"], in: directory.path)
    #expect(run.status == 1)
    for part in [
      "rules.paths[0]: cannot read the rules directory \"Rulez\"", "socket.group: no group nosuchgroup-vigil",
      "http.token_file: the access token in \(directory.path)/token is 5 bytes; use at least 16",
    ] {
      #expect(run.standardError.contains(part), "\(part): \(run.standardError)")
    }
    try FileManager.default.removeItem(atPath: directory.path + "/token")
    let missing = try Vigild.run(["--config", file, "--rules", "Rulez"], in: directory.path)
    #expect(
      missing.standardError.contains("http.token_file: cannot read the console's access token from \(directory.path)/token (no such file)"),
      "\(missing.standardError)")
  }

  @Test func aRulesDirectoryThatCannotBeReadIsFatalAndNamed() throws {
    let directory = try TemporaryDirectory()
    try FileManager.default.createDirectory(atPath: directory.path + "/Rules", withIntermediateDirectories: false)
    try "".write(toFile: directory.path + "/plain", atomically: true, encoding: .utf8)
    let run = try Vigild.run(["--rules", "Rules", "--rules", "missing", "--rules", "plain"], in: directory.path)
    #expect(run.status == 1)
    #expect(
      run.standardError.contains(#"rules.paths[1]: cannot read the rules directory "missing": no such directory"#))
    #expect(
      run.standardError.contains(#"rules.paths[2]: cannot read the rules directory "plain": it is not a directory"#))
    #expect(!run.standardError.contains("rules.paths[0]"))
  }

  @Test func worldWritableRulesOrConfigurationAreRefused() throws {
    let directory = try TemporaryDirectory()
    let rules = directory.path + "/Rules"
    try FileManager.default.createDirectory(atPath: rules, withIntermediateDirectories: false)
    try DaemonEndToEndTests.rules["weapons.yaml"]!.write(toFile: rules + "/w.yaml", atomically: true, encoding: .utf8)
    chmod(rules, 0o755)
    chmod(rules + "/w.yaml", 0o644)
    try "durability: none\n".write(toFile: directory.path + "/v.yaml", atomically: true, encoding: .utf8)
    chmod(directory.path + "/v.yaml", 0o666)
    let configuration = try Vigild.run(["--config", "v.yaml", "--socket", "s.sock"], in: directory.path)
    #expect(configuration.status == 1)
    #expect(configuration.standardError.contains(#"refusing the configuration "v.yaml": any user may write it (mode 666)"#))

    chmod(directory.path + "/v.yaml", 0o644)
    chmod(rules, 0o777)
    let directoryRun = try Vigild.run(["--config", "v.yaml", "--socket", "s.sock"], in: directory.path)
    #expect(directoryRun.status == 1)
    #expect(directoryRun.standardError.contains(#"rules.paths[0]: refusing the rules directory "Rules": any user may write it (mode 777)"#))

    chmod(rules, 0o755)
    chmod(rules + "/w.yaml", 0o646)
    let fileRun = try Vigild.run(["--config", "v.yaml", "--socket", "s.sock"], in: directory.path)
    #expect(fileRun.status == 1)
    #expect(fileRun.standardError.contains(#"refusing the rule file "Rules/w.yaml""#))

    chmod(rules + "/w.yaml", 0o644)
    let fine = try Vigild.run(["--config", "v.yaml", "--socket", "s.sock"], in: directory.path)
    #expect(fine.standardError.contains("ready on s.sock"), "\(fine.standardError)")
  }

  @Test func aRuleSetThatFailsToLoadIsFatalWithEveryError() throws {
    let directory = try Self.withOneRule(condition: "type = access and", priority: "urgent")
    let run = try Vigild.run([], in: directory.path)
    #expect(run.status == 1)
    #expect(run.standardError.contains("cannot start: the rule set has 2 error(s):"))
    #expect(run.standardError.contains("Rules/x.yaml:3:31: rule a.b: expected an operand after 'and'"))
    #expect(run.standardError.contains("Rules/x.yaml:5:13: rule a.b: priority must be one of"))
    #expect(isOneLinePerEvent(run.standardError), "\(run.standardError)")
  }

  @Test func aGoodRuleSetIsLoadedAndNamedByItsRevision() throws {
    let directory = try Self.withOneRule(condition: "type = access", priority: "low")
    let run = try Vigild.run([], in: directory.path)
    #expect(run.standardError.contains("rule set sha256:"))
    #expect(run.standardError.contains(": 1 of 1 rules enabled"))
  }

  @Test func flagsOverrideTheFile() throws {
    let directory = try TemporaryDirectory()
    try FileManager.default.createDirectory(atPath: directory.path + "/a", withIntermediateDirectories: false)
    try FileManager.default.createDirectory(atPath: directory.path + "/b", withIntermediateDirectories: false)
    let file = directory.path + "/vigild.yaml"
    try "socket:\n  path: from-file.sock\ndurability: batch\n".write(toFile: file, atomically: true, encoding: .utf8)
    let run = try Vigild.run(
      [
        "--config", file, "--socket", "s.sock", "--rules", "a", "--rules", "b", "--state-dir", "st",
        "--alert-log", "al.jsonl", "--durability", "none",
      ], in: directory.path)
    #expect(
      run.standardError.contains(
        "configuration: socket s.sock, rules a, b, state st, alert log al.jsonl, durability none"))
  }

  @Test func withoutAConfigurationFileTheDefaultsApply() throws {
    let directory = try TemporaryDirectory()
    try FileManager.default.createDirectory(atPath: directory.path + "/Rules", withIntermediateDirectories: false)
    let run = try Vigild.run([], in: directory.path)
    #expect(
      run.standardError.contains(
        "configuration: socket var/run/vigil.sock, rules Rules, state var/lib/vigil, alert log var/log/vigil/alerts.jsonl, durability batch"
      ))
  }

  @Test func logLevelFiltersTheDaemonsOwnLog() throws {
    let rules = ["r.yaml": "- rule: a.b\n  desc: d\n  condition: type = access\n  output: o\n  priority: low\n"]
    let quiet = try RunningDaemon(rules: rules, arguments: ["--log-level", "error"])
    #expect(quiet.stop() == 0)
    let quietLog = quiet.log()
    #expect(!quietLog.contains("configuration: socket"))
    #expect(!quietLog.contains("ready on"))
    let normal = try RunningDaemon(rules: rules)
    #expect(normal.stop() == 0)
    let normalLog = normal.log()
    #expect(normalLog.contains("configuration: socket"))
    #expect(normalLog.contains("ready on \(normal.socketPath): rule set sha256:"))
    #expect(normalLog.contains("stopped"))

    // What goes wrong is a warning or an error, so `--log-level warning` still shows it:
    // a rejected edit of the rules, not the reload that went.
    let watchful = try RunningDaemon(rules: rules, arguments: ["--log-level", "warning"])
    try "- rule: a.b\n  desc: d\n  condition: type = acess\n  output: o\n  priority: low\n".write(
      toFile: watchful.directory.path + "/Rules/r.yaml", atomically: true, encoding: .utf8)
    _ = try watchful.exchange(#"{"op":"reload"}"#)
    #expect(watchful.stop() == 0)
    let watchfulLog = watchful.log()
    #expect(watchfulLog.contains("warning vigild: [vigild] rule set rejected on"), "\(watchfulLog)")
    #expect(!watchfulLog.contains("ready on"), "notices stay out")
  }
}
