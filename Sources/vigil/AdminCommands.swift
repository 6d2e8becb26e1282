import ArgumentParser
import Foundation

struct Status: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Show the daemon's status.", discussion: "Example: vigil status --socket /run/vigil/vigil.sock")

  @OptionGroup var daemon: DaemonOptions
  @Flag(help: "The daemon's raw response.") var json = false

  func run() throws {
    let connection = try daemon.connect()
    if json {
      // The response as it is, an error response too (with its exit status).
      let (line, object) = try connection.exchange(#"{"op":"status"}"#)
      print(String(decoding: line, as: UTF8.self))
      if let refusal = DaemonConnection.refusal(of: object) { throw ExitCode(refusal.status) }
      return
    }
    let status = try connection.request(#"{"op":"status"}"#)
    // What the status carries was written by others (a sink's command on its standard
    // error, a file's name in a spool): shown one line each, its control bytes replaced,
    // so that none can move the cursor or forge a line.
    func print(_ line: String) { Swift.print(TerminalText.safe(line)) }
    let ruleset = status["ruleset"] as? [String: Any] ?? [:]
    let reload = status["last_reload"] as? [String: Any] ?? [:]
    let counters = status["counters"] as? [String: Any] ?? [:]
    let alerts = counters["alerts"] as? [String: Any] ?? [:]
    let number = { (value: Any?) in (value as? NSNumber)?.stringValue ?? "0" }
    print("vigild \(status["version"] as? String ?? "?") on node \(status["node"] as? String ?? "?"), up \(number(status["uptime_s"])) s")
    print("rule set     \(ruleset["revision"] as? String ?? "?"): \(number(ruleset["rules"])) rules, loaded \(ruleset["loaded_at"] as? String ?? "?")")
    let errors = (reload["errors"] as? [[String: Any]]) ?? []
    if reload["ok"] as? Bool == false {
      print("last reload  FAILED at \(reload["at"] as? String ?? "?"); the rule set above stays in force:")
      for error in errors { print("  " + RuleErrorText.describe(error)) }
    } else {
      // The set's warnings, as lint says them (a list name that names no list is text).
      let warnings = (reload["warnings"] as? [[String: Any]]) ?? []
      let said = warnings.isEmpty ? "" : ", \(warnings.count) warning\(warnings.count == 1 ? "" : "s"):"
      print("last reload  ok at \(reload["at"] as? String ?? "?")\(said)")
      for warning in warnings { print("  warning: " + RuleErrorText.describe(warning)) }
    }
    print(
      "reports      \(number(counters["accepted"])) accepted, \(number(counters["duplicates"])) already recorded, "
        + "\(number(counters["refused"])) refused, \(number(counters["checked"])) checked")
    let priorities = ["critical", "high", "medium", "low", "info"].map { "\(number(alerts[$0])) \($0)" }
    print("alerts       " + priorities.joined(separator: ", "))
    if let storage = status["storage"] as? [String: Any], let last = storage["last_error"] as? [String: Any] {
      let failing = storage["ok"] as? Bool == false
      print(
        "storage      \(failing ? "FAILING" : "ok"): \(number(storage["failures"])) commits not written; the last at "
          + "\(last["at"] as? String ?? "?"): \(last["message"] as? String ?? "?")")
    }
    print("connections  \(number(status["connections"])) (\(number(status["subscribers"])) subscribed)")
    print("alert log    \(status["alert_log"] as? String ?? "?")")
    if let console = status["console"] as? [String: Any] {
      let listen = console["listen"] as? String ?? "?"
      if listen == "off" {
        print("console      off")
      } else if console["serving"] as? Bool == true {
        print("console      http://\(listen)/")
      } else if let error = console["error"] as? String {
        print("console      NOT SERVED on \(listen): \(error)")
      } else {
        print("console      starting on \(listen)")
      }
    }
    for sink in (status["sinks"] as? [[String: Any]]) ?? [] {
      var line =
        "sink \(sink["name"] as? String ?? "?"): at seq \(number(sink["cursor"])), \(number(sink["lag"])) behind, "
        + "\(number(sink["delivered"])) delivered, \(number(sink["failures"])) failed deliveries"
      if let busy = sink["delivering_for_s"] as? NSNumber { line += "; delivering for \(busy.stringValue) s" }
      if let limit = sink["max_lag"] as? NSNumber {
        line += sink["holding"] as? Bool == true
          ? "; HOLDING new reports back until under its max_lag of \(limit.stringValue)"
          : (sink["not_holding"] as? String).map { "; max_lag \(limit.stringValue), past it but holding nothing: \($0)" }
            ?? "; max_lag \(limit.stringValue)"
      }
      if let batch = sink["batch"] as? Int, batch < 500 { line += "; batches of \(batch) after failures" }
      if let error = sink["last_error"] as? String { line += "; last error: \(error)" }
      if let parked = sink["parked"] as? Int, parked > 0 { line += "; \(parked) parked (vigil sinks parked)" }
      if let conflicts = sink["conflicts"] as? Int, conflicts > 0 {
        line += "; \(conflicts) CONFLICTS, the last: \(sink["last_conflict"] as? String ?? "?")"
      }
      for case let range as [NSNumber] in (sink["missed"] as? [Any]) ?? [] where range.count == 2 {
        line += "; MISSED alerts \(range[0])–\(range[1]) (no longer in the kept files)"
      }
      if let reports = sink["reports"] as? [String: Any] {
        line += "; reports: \(number(reports["delivered"])) delivered, "
        line += (reports["lag_bytes"] as? NSNumber).map { "\($0.stringValue) bytes behind" } ?? "lag unknown: the journal file it was reading is no longer kept"
        for case let inode as NSNumber in (reports["lost_files"] as? [Any]) ?? [] {
          line += "; LOST the rest of journal file inode \(inode.stringValue) (no longer kept)"
        }
      }
      print(line)
    }
    for source in (status["sources"] as? [[String: Any]]) ?? [] {
      var line =
        "source \(source["name"] as? String ?? "?"): \(number(source["accepted"])) accepted, "
        + "\(number(source["duplicates"])) already recorded, \(number(source["refused"])) refused"
      if source["running"] as? Bool == false { line += "; stopped" }
      if let problem = source["problem"] as? String { line += "; problem: \(problem)" }
      print(line)
    }
  }
}

/// `vigil reopen`: the protocol's `reopen`, for a rotation made outside vigild (logrotate's
/// postrotate, by hand) without a signal.
struct Reopen: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Ask the daemon to reopen its alert log and journal after an external rotation.",
    discussion: "Example: mv var/log/vigil/alerts.jsonl var/log/vigil/alerts.jsonl.1 && vigil reopen")

  @OptionGroup var daemon: DaemonOptions
  @Flag(help: "The daemon's raw response.") var json = false

  func run() throws {
    _ = try daemon.administer("reopen", json: json)
    if !json { print("reopened: the alert log and the journal") }
  }
}

struct Reload: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Ask the daemon to reload its rules; print the errors if it keeps the old set (exit 1).",
    discussion: "Example: vigil reload")

  @OptionGroup var daemon: DaemonOptions
  @Flag(help: "The daemon's raw response.") var json = false

  func run() throws {
    let response = try daemon.administer("reload", json: json)
    if response["reloaded"] as? Bool == true {
      if !json {
        print("reloaded: rule set \(response["ruleset"] as? String ?? "?"), \((response["rules"] as? Int) ?? 0) rules")
        for warning in (response["warnings"] as? [[String: Any]]) ?? [] {
          print("warning: " + RuleErrorText.describe(warning))
        }
      }
      return
    }
    let errors = (response["errors"] as? [[String: Any]]) ?? []
    if !json {
      print("not reloaded: \(errors.count) error(s); the old rule set stays in force:")
      for error in errors { print(RuleErrorText.describe(error)) }
    }
    throw ExitCode(1)
  }
}

/// `file:line:column: message`, as every Vigil tool prints a rule error.
enum RuleErrorText {
  /// An error of no place (a directory that cannot be read) is its message alone; one of a
  /// whole file, `file: message`, or its message alone when that names the file (as
  /// `RuleError.description` says it).
  static func describe(_ error: [String: Any]) -> String {
    let (file, line, column) = (error["file"] as? String ?? "", error["line"] as? Int ?? 0, error["column"] as? Int ?? 0)
    let message = error["message"] as? String ?? ""
    // A file's name and a message may carry what a rule author wrote: shown safe.
    if file.isEmpty || (line == 0 && message.contains(file)) { return TerminalText.safe(message) }
    return TerminalText.safe(line == 0 ? "\(file): \(message)" : "\(file):\(line):\(column): \(message)")
  }
}

struct ListRules: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "list", abstract: "List the daemon's active rules (disabled ones too), and with --patterns its patterns.",
    discussion: "Example: vigil rules list --patterns")

  @OptionGroup var daemon: DaemonOptions
  @Flag(help: "One JSON object per rule (or pattern: its object has \"pattern\":true).") var json = false
  @Flag(help: "Also the patterns (docs/patterns.md), after the rules, with what completes each.") var patterns = false

  func run() throws {
    let response = try daemon.connect().request(#"{"op":"rules"}"#)
    let rules = (response["rules"] as? [[String: Any]]) ?? []
    let patterns = self.patterns ? (response["patterns"] as? [[String: Any]]) ?? [] : []
    let width = (rules + patterns).map { ($0["id"] as? String ?? "").count }.max() ?? 0
    for (entry, isPattern) in rules.map({ ($0, false) }) + patterns.map({ ($0, true) }) {
      if json {
        var object = entry
        if isPattern { object["pattern"] = true }
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]))
        print(String(decoding: data ?? Data(), as: UTF8.self))
        continue
      }
      let id = (entry["id"] as? String ?? "").padding(toLength: width, withPad: " ", startingAt: 0)
      let priority = (entry["priority"] as? String ?? "").padding(toLength: 8, withPad: " ", startingAt: 0)
      let enabled = entry["enabled"] as? Bool == false ? "  (disabled)" : ""
      let basis = ((entry["basis"] as? [String]) ?? []).joined(separator: "; ")
      // A pattern says what completes it: `pattern: 3 in 30 days`, `pattern: sequence of 2 in 7d`.
      let form = entry["form"] as? String ?? "count"
      let threshold = entry["threshold"] as? Int ?? 0
      let shape = form == "sequence" ? "sequence of \(threshold)" : form == "distinct" ? "\(threshold) distinct" : "\(threshold)"
      let what = isPattern ? "  [pattern: \(shape) in \(entry["window"] as? String ?? "")]" : ""
      print(
        TerminalText.safe(
          "\(id)  \(priority)  \(entry["file"] as? String ?? ""):\(entry["line"] as? Int ?? 0)  \(basis)\(what)\(enabled)"))
    }
  }
}

extension DaemonOptions {
  /// An administrative request (`reload`, `reopen`): its response, printed as it is with
  /// `--json`; a refusal is a failure — on standard error, or with `--json` the response
  /// printed says it already, and the status alone is given.
  func administer(_ op: String, json: Bool) throws -> [String: Any] {
    let (line, response) = try connect().exchange("{\"op\":\"\(op)\"}")
    if json { print(String(decoding: line, as: UTF8.self)) }
    if let refusal = DaemonConnection.refusal(of: response) {
      if json { throw ExitCode(refusal.status) }
      throw CommandFailure(status: refusal.status, sentence: "\(op) " + refusal.sentence)
    }
    return response
  }
}
