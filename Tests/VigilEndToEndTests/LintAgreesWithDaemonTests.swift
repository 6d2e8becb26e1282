import Foundation
import Testing
import VigilTestSupport

/// `vigil rules lint` says what `vigild` would do: for every kind of broken set, the lint
/// verdict and errors equal the running daemon's reload verdict and errors.
@Suite("vigil rules lint agrees with vigild's reload", .onThreadsOfTheirOwn)
struct LintAgreesWithDaemonTests {
  static let base = """
    - list: un_agencies
      items: [OCHA, WFP]
    - macro: denied
      condition: access.status = denied
    - rule: access.denied
      desc: A UN request was denied.
      condition: type = access and access.requested_by in (un_agencies) and denied
      output: "%access.requested_by request%{ %access.request_id} denied"
      priority: high
      examples:
        match: [{type: access, access: {requested_by: WFP, status: denied}}]
        no_match: [{type: access, access: {requested_by: WFP, status: approved}}]
    """

  static func rule(_ id: String, _ body: String) -> String {
    "- rule: \(id)\n  desc: A test rule.\n" + body
  }

  static let standard = "  condition: type = attack\n  output: \"attack\"\n  priority: low\n"

  /// (what is wrong, the candidate file `case.yaml`)
  static let cases: [(String, String)] = [
    ("YAML syntax", "- rule: x\n  desc: [unclosed\n"),
    ("a file that is not a list", "rule: x\n"),
    ("an unknown item kind", "- policy: x\n"),
    ("an unknown key", rule("t.unknown_key", standard + "  severity: high\n")),
    ("a missing key", rule("t.no_output", "  condition: type = attack\n  priority: low\n")),
    ("an unknown priority", rule("t.priority", "  condition: type = attack\n  output: x\n  priority: urgent\n")),
    ("an unknown field", rule("t.field", "  condition: casualty.killed > 3\n  output: x\n  priority: low\n")),
    ("an operator that does not fit", rule("t.op", "  condition: casualties.killed contains x\n  output: x\n  priority: low\n")),
    ("an enum typo", rule("t.enum", "  condition: type = atack\n  output: x\n  priority: low\n")),
    ("a bad regular expression", rule("t.regex", "  condition: narrative matches \"(\"\n  output: x\n  priority: low\n")),
    ("an undefined macro", rule("t.macro", "  condition: type = attack and no_such_macro\n  output: x\n  priority: low\n")),
    (
      "recursive macros",
      "- macro: loop_a\n  condition: loop_b\n- macro: loop_b\n  condition: loop_a\n"
        + rule("t.loop", "  condition: loop_a\n  output: x\n  priority: low\n")
    ),
    ("a duplicate rule id", rule("access.denied", standard)),
    ("a reserved id", rule("vigil.mine", standard)),
    ("an unknown output field", rule("t.out", "  condition: type = attack\n  output: \"%perpetrator.nmae\"\n  priority: low\n")),
    ("an unclosed output segment", rule("t.seg", "  condition: type = attack\n  output: \"x%{ by %perpetrator.name\"\n  priority: low\n")),
    ("an unknown designated-list key", "- designation: isil\n  names: [Daesh]\n  aliases: [x]\n"),
    (
      "a failing match example",
      rule("t.match", standard + "  examples:\n    match: [{type: access}]\n")
    ),
    (
      "a failing no_match example",
      rule("t.no_match", standard + "  examples:\n    no_match: [{type: attack}]\n")
    ),
    (
      "an example that is not a valid report",
      rule("t.invalid", standard + "  examples:\n    match: [{type: attack, location: {lat: north}}]\n")
    ),
    ("a good addition", rule("t.good", standard + "  examples:\n    match: [{type: attack}]\n")),
    ("a pattern naming no rule", pattern("  rules: [access.denyed]\n  count: 2\n")),
    ("a pattern with a bad window", pattern("  rules: [access.denied]\n  count: 2\n").replacingOccurrences(of: "30d", with: "a month")),
    ("a pattern with a bad group key", pattern("  rules: [access.denied]\n  count: 2\n  group_by: [access.destinaton]\n")),
    (
      "a pattern whose example does not fire",
      pattern(
        "  rules: [access.denied]\n  count: 2\n  examples:\n    fires:\n"
          + "      - [{type: access, access: {requested_by: WFP, status: denied}}]\n")
    ),
    (
      "a good pattern",
      pattern(
        "  rules: [access.denied]\n  count: 2\n  examples:\n    fires:\n"
          + "      - [{type: access, occurred_at: 2016-01-01, access: {requested_by: WFP, status: denied}},"
          + " {type: access, occurred_at: 2016-01-02, access: {requested_by: WFP, status: denied}}]\n")
    ),
  ]

  /// A pattern counting the base set's rule.
  static func pattern(_ body: String) -> String {
    "- pattern: t.pattern\n  desc: A test pattern.\n  window: 30d\n  output: \"%count\"\n  priority: high\n" + body
  }

  /// A verdict and its errors as `file:line:column: message`, however it was given.
  struct Verdict: Equatable, CustomStringConvertible {
    let ok: Bool
    let errors: [String]
    var description: String { "\(ok ? "accepted" : "rejected") \(errors)" }
  }

  static func daemonVerdict(_ daemon: RunningDaemon) throws -> Verdict {
    let answer = try daemon.exchange(#"{"op":"reload"}"#)
    let errors = (answer["errors"] as? [[String: Any]] ?? []).map(Self.place)
    return Verdict(ok: answer["reloaded"] as? Bool == true, errors: errors)
  }

  static func lintVerdict(in directory: String) throws -> Verdict {
    let lint = try Vigil.run(["rules", "lint", "--json", "--config", "v.yaml"], in: directory)
    let lines = lint.standardOutput.split(separator: "\n").compactMap {
      try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
    }
    let errors = lines.filter { $0["severity"] as? String == "error" }.map(Self.place)
    #expect(lint.status == 0 || lint.status == 1, "lint: \(lint.standardError)")
    return Verdict(ok: lint.status == 0, errors: errors)
  }

  static func place(_ error: [String: Any]) -> String {
    "\(error["file"] ?? "?"):\(error["line"] ?? "?"):\(error["column"] ?? "?"): \(error["message"] ?? "?")"
  }

  @Test func everyKindOfBrokenSetGetsTheSameVerdictFromBoth() throws {
    let directory = try TemporaryDirectory()
    try "rules:\n  paths: [Rules]\n  watch: false\n".write(
      toFile: directory.path + "/v.yaml", atomically: true, encoding: .utf8)
    let daemon = try RunningDaemon(rules: ["base.yaml": Self.base], arguments: ["--config", "v.yaml"], directory: directory)
    for (what, text) in Self.cases {
      try text.write(toFile: directory.path + "/Rules/case.yaml", atomically: true, encoding: .utf8)
      let daemonSays = try Self.daemonVerdict(daemon)
      let lintSays = try Self.lintVerdict(in: directory.path)
      #expect(lintSays == daemonSays, "\(what)")
      // The table means what it says: only the "a good …" cases are good sets.
      #expect(daemonSays.ok == what.hasPrefix("a good "), "\(what): \(daemonSays)")
      #expect(daemonSays.ok || !daemonSays.errors.isEmpty, "\(what)")
    }
    // Invalid UTF-8 in a rule file.
    try Data([0x2D, 0x20, 0x72, 0x75, 0x6C, 0x65, 0x3A, 0x20, 0xC3, 0x28, 0x0A]).write(
      to: URL(fileURLWithPath: directory.path + "/Rules/case.yaml"))
    let daemonSays = try Self.daemonVerdict(daemon)
    #expect(try Self.lintVerdict(in: directory.path) == daemonSays)
    #expect(!daemonSays.ok)

    // A good file that any user may write: refused by both (lint with exit 1, a set that
    // would be rejected, not 2, a file it cannot read), as vigild refuses it at start.
    let shared = directory.path + "/Rules/case.yaml"
    try Self.rule("t.shared", Self.standard).write(toFile: shared, atomically: true, encoding: .utf8)
    #expect(chmod(shared, 0o646) == 0)
    let refused = try daemon.exchange(#"{"op":"reload"}"#)
    let message = try #require((refused["errors"] as? [[String: Any]])?.first?["message"] as? String)
    #expect(refused["reloaded"] as? Bool == false && message.contains("any user may write it"))
    // Named in `file`, by both, as a problem of that file (line 0).
    #expect((refused["errors"] as? [[String: Any]])?.first?["file"] as? String == "Rules/case.yaml", "\(refused)")
    #expect(try Self.lintVerdict(in: directory.path) == Self.daemonVerdict(daemon))
    let lint = try Vigil.run(["rules", "lint", "--config", "v.yaml"], in: directory.path)
    #expect(lint.status == 1 && lint.standardOutput.contains(message), "\(lint.standardOutput)\(lint.standardError)")
    // An error of no place is printed as its message, not at ":0:0:".
    let reload = try Vigil.run(["reload", "--socket", daemon.socketPath], in: directory.path)
    #expect(reload.status == 1 && !(reload.standardOutput + reload.standardError).contains(":0:0:"), "\(reload)")
    #expect((reload.standardOutput + reload.standardError).contains("refusing the rule file"), "\(reload)")
    let status = try Vigil.run(["status", "--socket", daemon.socketPath], in: directory.path)
    #expect(status.standardOutput.contains("refusing the rule file") && !status.standardOutput.contains(":0:0:"), "\(status.standardOutput)")
    // A link to nothing and a named pipe among the rule files: the set rejected by both,
    // lint saying it with the summary, exit 1, and in JSON (it exited 2, printing neither:
    // audit 53).
    #expect(chmod(shared, 0o644) == 0)
    for (name, make) in [
      ("gone.yaml", { (path: String) in symlink(directory.path + "/nowhere.yaml", path) }),
      ("pipe.yaml", { (path: String) in mkfifo(path, 0o644) }),
    ] {
      let path = directory.path + "/Rules/" + name
      #expect(make(path) == 0)
      let rejected = try daemon.exchange(#"{"op":"reload"}"#)
      let said = try #require((rejected["errors"] as? [[String: Any]])?.first?["message"] as? String)
      #expect(rejected["reloaded"] as? Bool == false && said.hasPrefix("cannot read the rule file Rules/\(name)"), "\(rejected)")
      let lintSaid = try Vigil.run(["rules", "lint", "--config", "v.yaml"], in: directory.path)
      #expect(lintSaid.status == 1, "\(lintSaid)")
      #expect(lintSaid.standardOutput.contains(said) && lintSaid.standardOutput.contains("rejected: 1 error"), "\(lintSaid)")
      let json = try Vigil.run(["rules", "lint", "--json", "--config", "v.yaml"], in: directory.path)
      #expect(json.status == 1 && json.standardOutput.contains(#""line":0"#), "\(json)")
      #expect(unlink(path) == 0)
    }
    #expect(chmod(shared, 0o646) == 0)
    expectCleanStop(daemon)
    let start = try Vigild.run(["--config", "v.yaml", "--socket", directory.path + "/second.sock"], in: directory.path)
    #expect(start.status == 1 && start.standardError.contains("any user may write it"))

    // A configuration any user may write: vigild refuses to start on it, and so does lint
    // refuse the set it configures.
    #expect(chmod(shared, 0o644) == 0)
    #expect(chmod(directory.path + "/v.yaml", 0o646) == 0)
    let configured = try Vigil.run(["rules", "lint", "--config", "v.yaml"], in: directory.path)
    #expect(configured.status == 1, "\(configured)")
    #expect(configured.standardError.contains(#"refusing the configuration "v.yaml": any user may write it (mode 646)"#), "\(configured.standardError)")
    let named = try Vigil.run(["rules", "lint", "--config", "v.yaml", "Rules"], in: directory.path)
    #expect(named.status == 0, "directories named are checked without the configuration's own mode: \(named)")
  }

  /// A rule file's text quoted in lint's lines is shown safe for a terminal, as a report's
  /// is: a bidi override or isolate cannot turn the line round (YAML refuses control
  /// characters itself).
  @Test func lintShowsARuleFilesTextSafe() throws {
    let directory = try TemporaryDirectory()
    try FileManager.default.createDirectory(atPath: directory.path + "/Rules", withIntermediateDirectories: false)
    try "- rule: t.hostile\n  desc: d\n  condition: \"type = at\u{202E}ta\u{2066}ck\"\n  output: o\n  priority: low\n".write(
      toFile: directory.path + "/Rules/h.yaml", atomically: true, encoding: .utf8)
    let lint = try Vigil.run(["rules", "lint", "Rules"], in: directory.path)
    #expect(lint.status == 1, "\(lint)")
    #expect(lint.standardOutput.contains("Rules/h.yaml:3:24: rule t.hostile: unexpected character U+202E (RIGHT-TO-LEFT OVERRIDE, which cannot be seen)"), "\(lint.standardOutput)")
    #expect(!lint.standardOutput.unicodeScalars.contains { $0.value == 0x202E || $0.value == 0x2066 }, "\(lint.standardOutput)")
  }
}
