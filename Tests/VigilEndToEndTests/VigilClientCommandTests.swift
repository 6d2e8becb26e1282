import Crypto
import Foundation
import Testing
import VigilTestSupport

/// The real `vigil` against a real `vigild` (docs/vigil.md): output and exit status
/// of every command that talks to the daemon or reads its files.
@Suite("vigil: submit, check, status, reload, rules list, tail, verify, replay", .onThreadsOfTheirOwn)
struct VigilClientCommandTests {
  static func report(_ id: String, weapons: String = "barrel_bomb") -> String {
    DaemonEndToEndTests.report(id, weapons: weapons)
  }

  static func vigil(_ daemon: RunningDaemon, _ arguments: [String]) throws -> ChildProcess.Run {
    try ChildProcess.run("vigil", arguments + ["--socket", daemon.socketPath], in: daemon.directory.path)
  }

  /// For the commands that only read files (verify, replay): no `--socket`.
  static func offline(_ daemon: RunningDaemon, _ arguments: [String]) throws -> ChildProcess.Run {
    try ChildProcess.run("vigil", arguments, in: daemon.directory.path)
  }

  static func file(_ daemon: RunningDaemon, _ name: String, _ text: String) throws {
    try text.write(toFile: daemon.directory.path + "/" + name, atomically: true, encoding: .utf8)
  }

  static var alertLog: String { "var/log/vigil/alerts.jsonl" }

  @Test func submitPrintsEachVerdictAndFailsOnARefusal() throws {
    let daemon = try RunningDaemon(rules: DaemonEndToEndTests.rules)
    try Self.file(
      daemon, "reports.ndjson",
      [Self.report("N-1"), Self.report("N-2", weapons: "tank"), #"{"id":"N-3","occurred_at":"2016","type":"attack"}"#]
        .joined(separator: "\n") + "\n")
    let first = try Self.vigil(daemon, ["submit", "reports.ndjson"])
    #expect(first.status == 1)
    let lines = first.standardOutput.split(separator: "\n").map(String.init)
    #expect(lines.first == "reports.ndjson:1: N-1: 2 alerts")
    #expect(lines.contains { $0.contains("critical") && $0.contains("#2 weapons.barrel_bomb") && $0.contains("Darayya") })
    #expect(lines.contains("reports.ndjson:2: N-2: 1 alert"))
    #expect(lines.contains { $0.hasPrefix("reports.ndjson:3: refused (invalid_report): occurred_at:") })
    #expect(lines.last == "3 reports: 2 accepted, 0 already recorded, 1 refused; 3 alerts (1 critical, 2 low)")

    // Again: the two recorded ones are duplicates; JSON output carries file and line.
    let again = try Self.vigil(daemon, ["submit", "--json", "reports.ndjson"])
    #expect(again.status == 1)
    let objects = again.standardOutput.split(separator: "\n").map {
      (try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) ?? [:]
    }
    #expect(objects.count == 3)
    #expect(objects[0]["file"] as? String == "reports.ndjson" && objects[0]["line"] as? Int == 1)
    #expect(objects[0]["duplicate"] as? Bool == true && objects[1]["duplicate"] as? Bool == true)
    #expect((objects[2]["error"] as? [String: Any])?["field"] as? String == "occurred_at")
  }

  /// A socket whose mode shuts this user out: said so, not "is it running?" — the daemon
  /// runs (audit 56).
  @Test func aSocketThatShutsTheUserOutSaysSo() throws {
    let daemon = try RunningDaemon(rules: DaemonEndToEndTests.rules)
    chmod(daemon.directory.path, 0o755)
    chmod(daemon.socketPath, 0o660)
    let vigil = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("vigil").path
    let run = try ChildProcess.run(
      "/usr/bin/setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", vigil, "status", "--socket", daemon.socketPath], in: "/")
    #expect(run.status == 2)
    #expect(
      run.standardError.contains("(Permission denied); the socket's group may use it (vigil, docs/install.md): is this user in it?"),
      "\(run.standardError)")
    #expect(!run.standardError.contains("is it running"))
  }

  /// `VIGIL_CONFIG` is read only when the configuration is needed: with the socket given
  /// by `VIGIL_SOCKET`, one that names a file the user cannot read does not stop `status`;
  /// a `--config` given is always read (docs/vigil.md, audit 56).
  @Test func vigilConfigIsReadOnlyWhenTheConfigurationIsNeeded() throws {
    let daemon = try RunningDaemon(rules: DaemonEndToEndTests.rules)
    let vigil = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("vigil").path
    let environment = ["VIGIL_SOCKET=\(daemon.socketPath)", "VIGIL_CONFIG=\(daemon.directory.path)/no-such.yaml"]
    let status = try ChildProcess.run("/usr/bin/env", environment + [vigil, "status"], in: daemon.directory.path)
    #expect(status.status == 0 && status.standardOutput.contains("rule set"), "\(status.standardOutput)\(status.standardError)")
    let named = try ChildProcess.run("/usr/bin/env", environment + [vigil, "status", "--config", "no-such.yaml"], in: daemon.directory.path)
    #expect(named.status == 2 && named.standardError.contains("no-such.yaml"), "\(named.standardError)")
    // Needed (no socket given): read, and refused.
    let offline = try ChildProcess.run("/usr/bin/env", [environment[1], vigil, "status"], in: daemon.directory.path)
    #expect(offline.status == 2 && offline.standardError.contains("no-such.yaml"), "\(offline.standardError)")
  }

  /// A daemon whose `limits.max_line_bytes` is 1024.
  static func daemonWithALineLimitOf1024() throws -> RunningDaemon {
    let directory = try TemporaryDirectory()
    try "limits:\n  max_line_bytes: 1024\n".write(toFile: directory.path + "/v.yaml", atomically: true, encoding: .utf8)
    return try RunningDaemon(rules: DaemonEndToEndTests.rules, arguments: ["--config", "v.yaml"], directory: directory)
  }

  /// `bare`, its empty `narrative` filled so that the report is 1020 bytes: within a limit
  /// of 1024, past it with a `check` or `submit` request around it.
  static func paddedTo1020Bytes(_ bare: String) -> String {
    let report = bare.replacingOccurrences(
      of: #""narrative":"""#, with: #""narrative":""# + String(repeating: "x", count: 1020 - bare.utf8.count) + #"""#)
    #expect(report.utf8.count == 1020)
    return report
  }

  /// An invalid report goes inside a request (where it can only be a report); one within
  /// the line limit that only the request takes past it gets its own refusal, the field
  /// named, not `too_large` (audit 56), from `submit` and from `check`.
  @Test func anInvalidReportNearTheLineLimitGetsItsOwnRefusal() throws {
    let daemon = try Self.daemonWithALineLimitOf1024()
    let report = Self.paddedTo1020Bytes(#"{"id":"BAD-1","occurred_at":"2016-03-04","type":"skirmish","narrative":""}"#)
    try Self.file(daemon, "bad.ndjson", report + "\n")
    for command in ["submit", "check"] {
      let run = try Self.vigil(daemon, [command, "bad.ndjson"])
      #expect(run.status == 1)
      #expect(run.standardOutput.hasPrefix("bad.ndjson:1: refused (invalid_report): type:"), "\(command): \(run.standardOutput)")
      let json = try Self.vigil(daemon, [command, "--json", "bad.ndjson"])
      #expect(json.standardOutput.contains(#""code":"invalid_report""#) && json.standardOutput.contains(#""field":"type""#), "\(json.standardOutput)")
    }
  }

  /// `check` sends a report inside a request, whose bytes the daemon's line limit counts
  /// too: a report within the limit that only the request takes past it is refused so, and
  /// said so, where `submit` (which sends it as it is) takes it (audit 45).
  @Test func checkSaysWhenOnlyTheRequestTakesAReportPastTheLineLimit() throws {
    let daemon = try Self.daemonWithALineLimitOf1024()
    let report = Self.paddedTo1020Bytes(#"{"id":"BIG-1","occurred_at":"2016-03-04","type":"attack","narrative":""}"#)
    try Self.file(daemon, "big.ndjson", report + "\n")
    let check = try Self.vigil(daemon, ["check", "big.ndjson"])
    #expect(check.status == 1)
    #expect(
      check.standardOutput.contains(
        "big.ndjson:1: refused (too_large): the line is longer than 1024 bytes (limits.max_line_bytes) "
          + "(the report alone is 1020 bytes; the check request around it adds 24)"), "\(check.standardOutput)")
    let submit = try Self.vigil(daemon, ["submit", "big.ndjson"])
    #expect(submit.status == 0 && submit.standardOutput.hasPrefix("big.ndjson:1: BIG-1: "), "\(submit.standardOutput)")
    // Past the limit on its own: refused without the note, as `submit` refuses it.
    try Self.file(daemon, "bigger.ndjson", report.replacingOccurrences(of: "BIG-1", with: "BIG-222222") + "\n")
    let bigger = try Self.vigil(daemon, ["check", "bigger.ndjson"])
    #expect(
      bigger.standardOutput.contains("bigger.ndjson:1: refused (too_large): the line is longer than 1024 bytes (limits.max_line_bytes)\n"),
      "\(bigger.standardOutput)")
    expectCleanStop(daemon)
  }

  /// The line's nesting is what REPORTS.md bounds: a report 64 deep, which `submit` sends
  /// bare, is 65 deep inside `check`'s request, refused, and said so; 65 deep on its own is
  /// refused by both without the note.
  @Test func checkSaysWhenOnlyTheRequestTakesAReportPastTheNestingLimit() throws {
    let daemon = try RunningDaemon(rules: DaemonEndToEndTests.rules)
    func report(_ id: String, depth: Int) -> String {
      #"{"id":"\#(id)","occurred_at":"2016-03-04","type":"attack","extra":{"a":"# + String(repeating: "[", count: depth - 2)
        + String(repeating: "]", count: depth - 2) + "}}\n"
    }
    try Self.file(daemon, "deep.ndjson", report("DEEP-64", depth: 64))
    let check = try Self.vigil(daemon, ["check", "deep.ndjson"])
    #expect(check.status == 1)
    #expect(
      check.standardOutput.contains("deep.ndjson:1: refused (invalid_json): not valid JSON: nesting deeper than 64 levels at byte ")
        && check.standardOutput.contains("(the report alone is within the limit; the check request around it adds a level)"),
      "\(check.standardOutput)")
    let submit = try Self.vigil(daemon, ["submit", "deep.ndjson"])
    #expect(submit.status == 0 && submit.standardOutput.hasPrefix("deep.ndjson:1: DEEP-64: "), "\(submit.standardOutput)")
    try Self.file(daemon, "deeper.ndjson", report("DEEP-65", depth: 65))
    for command in ["check", "submit"] {
      let deeper = try Self.vigil(daemon, [command, "deeper.ndjson"])
      #expect(deeper.status == 1 && deeper.standardOutput.contains("nesting deeper than 64 levels"), "\(deeper.standardOutput)")
      #expect(!deeper.standardOutput.contains("adds a level"), "\(deeper.standardOutput)")
    }
    expectCleanStop(daemon)
  }

  @Test func submitTakesAJSONArrayOrOneObjectOverManyLines() throws {
    let daemon = try RunningDaemon(rules: DaemonEndToEndTests.rules)
    try Self.file(daemon, "array.json", "[\n  \(Self.report("A-1")),\n  \(Self.report("A-2", weapons: "tank"))\n]\n")
    try Self.file(
      daemon, "one.json",
      "{\n  \"id\": \"O-1\",\n  \"occurred_at\": \"2016-03-04\",\n  \"type\": \"attack\",\n  \"weapons\": [\"tank\"]\n}\n")
    let run = try Self.vigil(daemon, ["submit", "array.json", "one.json"])
    #expect(run.status == 0, "\(run.standardOutput)\(run.standardError)")
    #expect(run.standardOutput.contains("array.json:2: A-1: 2 alerts"))
    #expect(run.standardOutput.contains("array.json:3: A-2: 1 alert"))
    #expect(run.standardOutput.contains("one.json:1: O-1: 1 alert"))
    #expect(run.standardOutput.hasSuffix("3 reports: 3 accepted, 0 already recorded, 0 refused; 4 alerts (1 critical, 3 low)\n"))
    // An array cut short: its reports are sent, and the missing `]` is a refusal (exit 1).
    try Self.file(daemon, "cut.json", "[\n  \(Self.report("A-3")),\n  \(Self.report("A-4"))")
    let cut = try Self.vigil(daemon, ["check", "cut.json"])
    #expect(cut.status == 1, "\(cut.standardOutput)\(cut.standardError)")
    #expect(cut.standardOutput.contains("cut.json:3: A-4:"), "\(cut.standardOutput)")
    #expect(
      cut.standardOutput.contains("cut.json:1: refused (not sent): the JSON array begun here is never closed (no ']')"),
      "\(cut.standardOutput)")
  }

  /// The layout of the first report decides nothing: a one-line report may be followed by
  /// one spread over lines. A report cut short costs only itself: an object still open when
  /// a line begins with a word JSON does not allow there (the next report's `{` after a
  /// member's value) is refused, and the next one read.
  @Test func reportsAreReadHoweverEachIsLaidOutAndABrokenOneCostsOnlyItself() throws {
    let daemon = try RunningDaemon(rules: DaemonEndToEndTests.rules)
    try Self.file(
      daemon, "mixed.json",
      Self.report("L-1") + "\n{\"id\": \"L-2\",\n  \"occurred_at\": \"2016-03-04\", \"type\": \"siege\"}\n")
    let mixed = try Self.vigil(daemon, ["check", "mixed.json"])
    #expect(mixed.status == 0, "\(mixed.standardOutput)")
    #expect(mixed.standardOutput.contains("mixed.json:1: L-1: 2 alerts"), "\(mixed.standardOutput)")
    #expect(mixed.standardOutput.contains("mixed.json:2: L-2: no alerts"), "\(mixed.standardOutput)")
    let cutShort = #"{"id":"L-3","occurred_at":"2016-03-04","type":"attack""#
    try Self.file(
      daemon, "broken.ndjson",
      [Self.report("L-4"), cutShort, Self.report("L-5"), #"{"id":"L-6","type":"att"#, Self.report("L-7")]
        .joined(separator: "\n") + "\n")
    let broken = try Self.vigil(daemon, ["check", "broken.ndjson"])
    #expect(broken.status == 1)
    let lines = broken.standardOutput.split(separator: "\n").map(String.init)
    #expect(lines.filter { $0.contains("refused (invalid_json)") }.map { $0.prefix(16) } == ["broken.ndjson:2:", "broken.ndjson:4:"],
      "\(broken.standardOutput)")
    for (line, id) in [(1, "L-4"), (3, "L-5"), (5, "L-7")] {
      #expect(lines.contains("broken.ndjson:\(line): \(id): 2 alerts"), "\(id): \(broken.standardOutput)")
    }
    // The same in reports spread over lines: the one whose `}` never comes is refused alone.
    try Self.file(
      daemon, "pretty.json",
      "{\n  \"id\": \"L-8\",\n  \"occurred_at\": \"2016-03-04\",\n\n{\n  \"id\": \"L-9\",\n  \"occurred_at\": \"2016-03-04\",\n"
        + "  \"type\": \"siege\"\n}\n")
    let pretty = try Self.vigil(daemon, ["check", "pretty.json"])
    #expect(pretty.standardOutput.contains("pretty.json:1: refused (invalid_json)"), "\(pretty.standardOutput)")
    #expect(pretty.standardOutput.contains("pretty.json:5: L-9: no alerts"), "\(pretty.standardOutput)")
    #expect(pretty.standardOutput.hasSuffix("2 reports: 1 checked, 1 refused; no alerts\n"), "\(pretty.standardOutput)")
    // NDJSON indented (spaces, tabs): a line missing its `}` is still refused alone; the
    // next line's `{` cannot follow a member's value.
    try Self.file(
      daemon, "indented.ndjson", "  " + Self.report("L-10") + "\n  " + cutShort + "\n\t" + Self.report("L-11") + "\n  " + Self.report("L-12") + "\n")
    let indented = try Self.vigil(daemon, ["check", "indented.ndjson"])
    #expect(indented.standardOutput.contains("indented.ndjson:2: refused (invalid_json)"), "\(indented.standardOutput)")
    for (line, id) in [(1, "L-10"), (3, "L-11"), (4, "L-12")] {
      #expect(indented.standardOutput.contains("indented.ndjson:\(line): \(id): 2 alerts"), "\(id): \(indented.standardOutput)")
    }
    // Objects of a report's own at the first column of their lines (Python's
    // `json.dumps(indent=0)`) are read as part of it: `{` may follow `[` or `,` there.
    let flat = (1...2).map { "{\n\"id\": \"L-2\($0)\",\n\"occurred_at\": \"2016-03-04\",\n\"type\": \"siege\",\n\"extra\": {\n\"src\": [\n{\n\"n\": 1\n},\n{\n\"n\": 2\n}\n]\n}\n}" }
    try Self.file(daemon, "flat.json", flat.joined(separator: "\n") + "\n")
    let flatRun = try Self.vigil(daemon, ["check", "flat.json"])
    #expect(flatRun.status == 0, "\(flatRun.standardOutput)")
    #expect(flatRun.standardOutput.hasSuffix("2 reports: 2 checked, 0 refused; no alerts\n"), "\(flatRun.standardOutput)")
    // A string left open in a report spread over lines: that report is refused once, whole,
    // not each of its lines after the break.
    try Self.file(
      daemon, "string.json",
      "{\n  \"id\": \"L-30,\n  \"occurred_at\": \"2016-03-04\",\n  \"type\": \"siege\"\n}\n{\n  \"id\": \"L-31\", \"occurred_at\": \"2016-03-04\", \"type\": \"siege\"\n}\n")
    let string = try Self.vigil(daemon, ["check", "string.json"])
    #expect(string.standardOutput.contains("string.json:1: refused (invalid_json)"), "\(string.standardOutput)")
    #expect(string.standardOutput.contains("string.json:6: L-31: no alerts"), "\(string.standardOutput)")
    #expect(string.standardOutput.hasSuffix("2 reports: 1 checked, 1 refused; no alerts\n"), "\(string.standardOutput)")
  }

  /// A UTF-8 file as Windows Notepad saves it starts with a byte-order mark: no part of the
  /// first report (it was refused as invalid JSON at byte 0), in NDJSON, an array or one object.
  @Test func aByteOrderMarkAtTheStartIsNoPartOfTheInput() throws {
    let daemon = try RunningDaemon(rules: DaemonEndToEndTests.rules)
    let files = [
      ("bom.ndjson", Self.report("M-1") + "\r\n" + Self.report("M-2") + "\r\n"),
      ("bom-array.json", "[\n" + Self.report("M-3") + "\n]\n"),
      ("bom-one.json", "{\n  \"id\": \"M-4\", \"occurred_at\": \"2016-03-04\", \"type\": \"attack\"\n}\n"),
    ]
    for (name, text) in files {
      try (Data([0xEF, 0xBB, 0xBF]) + Data(text.utf8)).write(to: URL(fileURLWithPath: daemon.directory.path + "/" + name))
    }
    let run = try Self.vigil(daemon, ["check"] + files.map(\.0))
    #expect(run.status == 0, "\(run.standardOutput)\(run.standardError)")
    for id in ["M-1", "M-2", "M-3", "M-4"] {
      #expect(run.standardOutput.contains(": \(id): "), "\(id): \(run.standardOutput)")
    }
    #expect(!run.standardOutput.contains("refused (invalid_json)"), "\(run.standardOutput)")
    #expect(run.standardOutput.contains("bom.ndjson:1: M-1:"), "\(run.standardOutput)")
    // A file that starts with the mark's first bytes but no mark keeps them.
    try Data([0xEF, 0xBB] + Array(Self.report("M-5").utf8) + [10]).write(
      to: URL(fileURLWithPath: daemon.directory.path + "/half.ndjson"))
    let half = try Self.vigil(daemon, ["check", "half.ndjson"])
    #expect(half.status == 1 && half.standardOutput.contains("half.ndjson:1: refused (invalid_json)"), "\(half.standardOutput)")
    // A file saved in Windows' Arabic code page, or as UTF-16: each line refused, and the
    // way to convert it said once at the end.
    let arabic = Self.report("M-6").replacingOccurrences(of: "\"type\"", with: "\"narrative\":\"XX\",\"type\"")
    var windows1256 = Array(arabic.utf8)
    let at = try #require(windows1256.firstIndex(of: UInt8(ascii: "X")))
    windows1256.replaceSubrange(at..<at + 2, with: [0xCF, 0xC7])  // دا in Windows-1256
    try Data(windows1256 + [10]).write(to: URL(fileURLWithPath: daemon.directory.path + "/cp1256.ndjson"))
    try (Data([0xFF, 0xFE]) + (Self.report("M-7") + "\n").data(using: .utf16LittleEndian)!).write(
      to: URL(fileURLWithPath: daemon.directory.path + "/utf16.ndjson"))
    for name in ["cp1256.ndjson", "utf16.ndjson"] {
      let encoded = try Self.vigil(daemon, ["check", name])
      #expect(encoded.status == 1 && encoded.standardOutput.contains("\(name):1: refused (invalid_json)"), "\(encoded.standardOutput)")
      #expect(encoded.standardError.contains("not UTF-8") && encoded.standardError.contains("iconv -f windows-1256 -t utf-8"),
        "\(name): \(encoded.standardError)")
      #expect(encoded.standardError.components(separatedBy: "iconv -f windows-1256").count == 2, "said once")
    }
    // A refusal that only echoes such words in a value is no encoding problem.
    try (#"{"id":"M-8","occurred_at":"2016-03-04","type":"0x00"}"# + "\n" + #"{"id":"M-9","occurred_at":"2016-03-04","type":"attack","weapons":["invalid UTF-8"]}"# + "\n")
      .write(toFile: daemon.directory.path + "/values.ndjson", atomically: true, encoding: .utf8)
    let values = try Self.vigil(daemon, ["check", "values.ndjson"])
    #expect(values.status == 1 && values.standardOutput.contains("refused (invalid_report)"), "\(values.standardOutput)")
    #expect(!values.standardError.contains("iconv"), "\(values.standardError)")
  }

  @Test func checkRecordsNothing() throws {
    let daemon = try RunningDaemon(rules: DaemonEndToEndTests.rules)
    try Self.file(daemon, "r.ndjson", Self.report("C-1") + "\n")
    let run = try Self.vigil(daemon, ["check", "r.ndjson"])
    #expect(run.status == 0)
    #expect(run.standardOutput.contains("r.ndjson:1: C-1: 2 alerts"))
    #expect(run.standardOutput.contains("critical  weapons.barrel_bomb  barrel bombs in Darayya"))
    #expect(!run.standardOutput.contains("#"))
    let status = try daemon.exchange(#"{"op":"status"}"#)
    let counters = try #require(status["counters"] as? [String: Any])
    #expect(counters["accepted"] as? Int == 0 && counters["checked"] as? Int == 1)
  }

  /// `vigil` sends a report to submit as it is, and puts one to check inside a request:
  /// either way an error's offset counts from the report's own first byte, as the daemon
  /// counts for the bare line, and a report cut short is not blamed on a wrapper's brace.
  @Test func refusalsPointAtTheReportsOwnBytes() throws {
    let daemon = try RunningDaemon(rules: DaemonEndToEndTests.rules)
    let duplicateKey = #"{"id":"K-1","id":"K-2","occurred_at":"2016-03-04","type":"attack"}"#
    let cutShort = #"{"id":"B-1","occurred_at":"#
    // The daemon's own words for each line sent bare.
    var expected: [String] = []
    for line in [duplicateKey, cutShort] {
      let error = try #require(try daemon.exchange(line)["error"] as? [String: Any])
      let code = try #require(error["code"] as? String)
      let message = try #require(error["message"] as? String)
      #expect(message.contains("at byte"), "\(message)")
      expected.append("refused (\(code)): \(message)")
    }
    #expect(expected[1].contains("at byte \(cutShort.utf8.count)"), "\(expected[1])")
    // The line cut short comes last, with no newline, so that nothing follows it.
    try Self.file(daemon, "bad.ndjson", duplicateKey + "\n" + cutShort)
    for command in ["submit", "check"] {
      let run = try Self.vigil(daemon, [command, "bad.ndjson"])
      #expect(run.status == 1)
      let lines = run.standardOutput.split(separator: "\n").map(String.init)
      #expect(lines.contains("bad.ndjson:1: \(expected[0])"), "\(command): \(run.standardOutput)")
      #expect(lines.contains("bad.ndjson:2: \(expected[1])"), "\(command): \(run.standardOutput)")
      let json = try Self.vigil(daemon, [command, "--json", "bad.ndjson"])
      let objects = json.standardOutput.split(separator: "\n").map {
        (try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) ?? [:]
      }
      let messages = objects.map { ($0["error"] as? [String: Any])?["message"] as? String ?? "" }
      #expect(messages.count == 2 && expected[1].hasSuffix(messages[1]), "\(command): \(json.standardOutput)")
    }
    // A file that cannot be read is named with the reason.
    let missing = try Self.vigil(daemon, ["submit", "missing.ndjson"])
    #expect(missing.status == 2)
    #expect(missing.standardError == "vigil: cannot read missing.ndjson: No such file or directory\n")
  }

  /// A report with an `op` member is still a report to `vigil submit` (recorded, with a
  /// warning for the member it does not know, or refused), never taken for a request.
  @Test func aReportWithAnOpMemberIsNotARequest() throws {
    let daemon = try RunningDaemon(rules: DaemonEndToEndTests.rules)
    try Self.file(
      daemon, "op.ndjson",
      [
        #"{"op":"ping","id":"P-1","occurred_at":"2016-03-04","type":"attack","weapons":["tank"]}"#,
        // Indented: still an object, so still inside a submit request (bare, it would
        // subscribe the connection, and nothing after it would be answered).
        #"  {"op":"subscribe"}"#,
        // A whole submit request is a report too, whose members are not a report's.
        #"{"op":"submit","report":\#(Self.report("P-2"))}"#,
        Self.report("P-3"),
      ].joined(separator: "\n") + "\n")
    let run = try Self.vigil(daemon, ["submit", "op.ndjson"])
    #expect(run.status == 1)
    let lines = run.standardOutput.split(separator: "\n").map(String.init)
    #expect(lines.first?.hasPrefix("op.ndjson:1: P-1: 1 alert; warnings: unknown field \"op\"") == true, "\(run.standardOutput)")
    #expect(lines.contains { $0.hasPrefix("op.ndjson:2: refused (invalid_report): ") }, "\(run.standardOutput)")
    #expect(lines.contains { $0.hasPrefix("op.ndjson:3: refused (invalid_report): ") }, "\(run.standardOutput)")
    #expect(lines.contains("op.ndjson:4: P-3: 2 alerts"), "\(run.standardOutput)")
    let counters = try #require(try daemon.exchange(#"{"op":"status"}"#)["counters"] as? [String: Any])
    #expect(counters["accepted"] as? Int == 2)
  }

  @Test func statusReloadAndRulesList() throws {
    let daemon = try RunningDaemon(rules: DaemonEndToEndTests.rules)
    let status = try Self.vigil(daemon, ["status"])
    #expect(status.status == 0)
    #expect(status.standardOutput.contains("rule set     sha256:"))
    #expect(status.standardOutput.contains("alert log    /"))
    #expect(status.standardOutput.contains("console      "), "\(status.standardOutput)")
    let raw = try Self.vigil(daemon, ["status", "--json"])
    #expect(raw.standardOutput.hasPrefix(#"{"ok":true,"version":"#))

    let list = try Self.vigil(daemon, ["rules", "list"])
    #expect(list.status == 0)
    #expect(list.standardOutput.contains("weapons.barrel_bomb  critical  Rules/weapons.yaml:1  ISSG ¶7"))

    let reloaded = try Self.vigil(daemon, ["reload"])
    #expect(reloaded.status == 0)
    #expect(reloaded.standardOutput.hasPrefix("reloaded: rule set sha256:"))

    // Patterns are listed after the rules, with what completes them.
    try Self.file(
      daemon, "Rules/patterns.yaml",
      "- pattern: weapons.repeated\n  desc: d\n  rules: [weapons.barrel_bomb]\n  group_by: [location.place]\n"
        + "  count: 3\n  window: 30d\n  output: o\n  priority: high\n  basis: [\"ISSG ¶7\"]\n")
    #expect(try Self.vigil(daemon, ["reload"]).status == 0)
    let rulesOnly = try Self.vigil(daemon, ["rules", "list"]).standardOutput.split(separator: "\n")
    #expect(rulesOnly.count == 2, "\(rulesOnly)")
    let withPatterns = try Self.vigil(daemon, ["rules", "list", "--patterns"]).standardOutput.split(separator: "\n")
    #expect(
      withPatterns.last == "weapons.repeated     high      Rules/patterns.yaml:1  ISSG ¶7  [pattern: 3 in 30d]",
      "\(withPatterns)")
    #expect(withPatterns.first?.hasPrefix("weapons.barrel_bomb  critical  Rules/weapons.yaml:1") == true)
    let patternJSON = try Self.vigil(daemon, ["rules", "list", "--json", "--patterns"]).standardOutput.split(separator: "\n").last ?? ""
    #expect(patternJSON.contains(#""form":"count""#) && patternJSON.contains(#""pattern":true"#), "\(patternJSON)")
    try FileManager.default.removeItem(atPath: daemon.directory.path + "/Rules/patterns.yaml")

    try Self.file(daemon, "Rules/broken.yaml", "- rule: x.y\n  desc: d\n  condition: type = attack and\n  output: o\n  priority: low\n")
    let kept = try Self.vigil(daemon, ["reload"])
    #expect(kept.status == 1)
    #expect(kept.standardOutput.contains("not reloaded: 1 error(s); the old rule set stays in force:"))
    #expect(kept.standardOutput.contains("Rules/broken.yaml:3:31: "))
  }

  /// The log's last record, the one alerts.head names, whole but for its newline (removed
  /// by hand or a tool): `verify` verifies it and says so, and vigild puts the newline back
  /// at its next start, keeping the record (audit 51: it was cut as a torn line, and the log
  /// then lacked a record the head had, which `verify` called deleted).
  @Test func aLastRecordThatLostOnlyItsNewlineIsKept() throws {
    var daemon = try RunningDaemon(rules: DaemonEndToEndTests.rules)
    _ = try daemon.exchange([Self.report("NL-1"), Self.report("NL-2")])
    expectCleanStop(daemon)
    let path = daemon.directory.path + "/" + Self.alertLog
    let whole = try Data(contentsOf: URL(fileURLWithPath: path))
    let records = whole.split(separator: UInt8(ascii: "\n")).count
    try whole.dropLast().write(to: URL(fileURLWithPath: path))
    let before = try Self.offline(daemon, ["verify"])
    #expect(before.status == 0, "\(before.standardOutput)\(before.standardError)")
    #expect(before.standardOutput.contains("ok: \(records) records"), "\(before.standardOutput)")
    #expect(before.standardOutput.contains(":\(records) is a whole record but has lost its newline"), "\(before.standardOutput)")
    daemon = try RunningDaemon(rules: DaemonEndToEndTests.rules, directory: daemon.directory)
    #expect(daemon.log().contains("its last record, seq \(records), the one alerts.head names, had lost its newline: it was put back"), "\(daemon.log())")
    _ = try daemon.exchange([Self.report("NL-3")])
    expectCleanStop(daemon)
    let after = try Self.offline(daemon, ["verify"])
    #expect(after.status == 0 && after.standardOutput.hasPrefix("ok: "), "\(after.standardOutput)\(after.standardError)")
    #expect(!FileManager.default.fileExists(atPath: path + ".torn"))
    let kept = try String(contentsOfFile: path, encoding: .utf8)
    #expect(kept.contains(#""report_id":"NL-2""#) && kept.contains(#""report_id":"NL-3""#))
  }

  /// A journal cut back by hand (the same file, shorter than alerts.head says the last
  /// commit left it) is said at start: the reports cut are no longer known as recorded
  /// (audit 51: nothing was said, and reports sent again had their alerts written twice).
  @Test func aJournalShorterThanTheHeadSaysIsSaid() throws {
    var daemon = try RunningDaemon(rules: DaemonEndToEndTests.rules)
    _ = try daemon.exchange([Self.report("JC-1"), Self.report("JC-2")])
    expectCleanStop(daemon)
    let journal = daemon.directory.path + "/var/lib/vigil/reports.jsonl"
    let lines = try String(contentsOfFile: journal, encoding: .utf8).split(separator: "\n")
    let handle = try #require(FileHandle(forWritingAtPath: journal))
    try handle.truncate(atOffset: UInt64(lines[0].utf8.count + 1))
    try handle.close()
    daemon = try RunningDaemon(rules: DaemonEndToEndTests.rules, directory: daemon.directory)
    #expect(daemon.log().contains("reports.jsonl is shorter than alerts.head says the last commit left it"), "\(daemon.log())")
    expectCleanStop(daemon)
    // Not said again once commits have moved the head on.
    daemon = try RunningDaemon(rules: DaemonEndToEndTests.rules, directory: daemon.directory)
    _ = try daemon.exchange([Self.report("JC-3")])
    expectCleanStop(daemon)
    daemon = try RunningDaemon(rules: DaemonEndToEndTests.rules, directory: daemon.directory)
    #expect(!daemon.log().contains("is shorter than alerts.head says"), "\(daemon.log())")
    expectCleanStop(daemon)
  }

  @Test func anUnreachableDaemonIsExitStatus2() throws {
    let directory = try TemporaryDirectory()
    let run = try ChildProcess.run("vigil", ["status", "--socket", directory.path + "/none.sock"], in: directory.path)
    #expect(run.status == 2)
    #expect(run.standardError.hasPrefix("vigil: cannot reach vigild at \(directory.path)/none.sock"))
    #expect(run.standardError.split(separator: "\n").count == 1)
  }

  /// A directory where a file is expected is an unreadable file (2), said in one sentence
  /// before anything is sent, by every command that reads files.
  @Test func aDirectoryGivenAsAFileIsRefusedInOneSentence() throws {
    let daemon = try RunningDaemon(rules: DaemonEndToEndTests.rules)
    try Self.file(daemon, "one.json", Self.report("D-1"))
    for arguments in [["check", "one.json", "Rules"], ["submit", "Rules"], ["tail", "Rules"]] {
      let run = try Self.vigil(daemon, arguments)
      #expect(run.status == 2, "\(arguments): \(run.standardError)")
      #expect(run.standardError == "vigil: cannot read Rules: it is a directory\n", "\(arguments)")
      #expect(run.standardOutput.isEmpty, "\(arguments): nothing sent, nothing printed")
    }
    for arguments in [["verify", "Rules"], ["replay", "--journal", "Rules"]] {
      let run = try Self.offline(daemon, arguments)
      #expect(run.status == 2, "\(arguments): \(run.standardError)")
      #expect(run.standardError.hasSuffix("Rules: it is a directory\n"), "\(arguments): \(run.standardError)")
    }
    let missing = try Self.offline(daemon, ["verify", "nothere.jsonl"])
    #expect(missing.status == 2 && missing.standardError == "vigil: cannot read nothere.jsonl: No such file or directory\n")
    let counters = try daemon.exchange(#"{"op":"status"}"#)["counters"] as? [String: Any]
    #expect(counters?["checked"] as? Int == 0, "the check of one.json stopped before it was sent")
    expectCleanStop(daemon)
  }

  /// An input that fails with a read error (EIO, as from a failing disk: `/proc/self/mem`
  /// gives it at its first byte) is said in one sentence, exit 2, by every command that
  /// reads files, where Foundation's reads stopped the program; for submit and check the
  /// inputs around it are still sent and answered.
  @Test func aReadErrorIsOneSentenceAndTheOtherInputsGoOn() throws {
    let daemon = try RunningDaemon(rules: DaemonEndToEndTests.rules)
    try Self.file(daemon, "one.json", Self.report("E-1"))
    try Self.file(daemon, "two.json", Self.report("E-2"))
    let failing = "/proc/self/mem"
    let reason = "cannot read \(failing): Input/output error"
    for op in ["submit", "check"] {
      let run = try Self.vigil(daemon, [op, "one.json", failing, "two.json"])
      #expect(run.status == 2, "\(op): \(run.standardError)")
      #expect(run.standardError == "vigil: \(reason); the rest of the file was not read\n", "\(op)")
      #expect(run.standardOutput.contains("one.json:1: E-1: "), "\(op): \(run.standardOutput)")
      #expect(run.standardOutput.contains("two.json:1: E-2: "), "\(op): \(run.standardOutput)")
      #expect(run.standardOutput.contains("2 reports: 2 "), "\(op): \(run.standardOutput)")
    }
    let tail = try Self.vigil(daemon, ["tail", failing])
    #expect(tail.status == 2 && tail.standardError == "vigil: \(reason)\n", "\(tail.standardError)")
    for arguments in [["verify", failing], ["replay", "--journal", failing]] {
      let run = try Self.offline(daemon, arguments)
      #expect(run.status == 2, "\(arguments): \(run.standardError)")
      #expect(run.standardError.hasSuffix("\(failing): Input/output error\n"), "\(arguments): \(run.standardError)")
      #expect(run.standardError.split(separator: "\n").count == 1, "\(arguments): \(run.standardError)")
    }
    let counters = try daemon.exchange(#"{"op":"status"}"#)["counters"] as? [String: Any]
    #expect(counters?["accepted"] as? Int == 2, "\(counters ?? [:])")
    #expect(counters?["checked"] as? Int == 2, "\(counters ?? [:])")
    expectCleanStop(daemon)
  }

  /// A read error in the middle of an input (a socket on standard input, reset by its peer
  /// after a report and a half): the whole report before it is sent and answered, the one it
  /// cut is not, and the next input is read in full.
  @Test func aReadErrorMidFileSendsWhatCameWholeBeforeIt() throws {
    let daemon = try RunningDaemon(rules: DaemonEndToEndTests.rules)
    try Self.file(daemon, "two.json", Self.report("M-2"))
    for op in ["submit", "check"] {
      let input = try Self.socketReset(after: Self.report("M-1") + "\n" + String(Self.report("M-3").prefix(30)))
      let run = try ChildProcess.run(
        "vigil", [op, "-", "two.json", "--socket", daemon.socketPath], in: daemon.directory.path,
        standardInput: input)
      #expect(run.status == 2, "\(op): \(run.standardError)")
      #expect(
        run.standardError == "vigil: cannot read <stdin>: Connection reset by peer; the rest of the file was not read\n",
        "\(op): \(run.standardError)")
      #expect(run.standardOutput.contains("<stdin>:1: M-1: "), "\(op): \(run.standardOutput)")
      #expect(run.standardOutput.contains("two.json:1: M-2: "), "\(op): \(run.standardOutput)")
      #expect(!run.standardOutput.contains("M-3"), "\(op): the report cut short is not sent")
      #expect(run.standardOutput.contains("2 reports: 2 "), "\(op): \(run.standardOutput)")
    }
    let counters = try daemon.exchange(#"{"op":"status"}"#)["counters"] as? [String: Any]
    #expect(counters?["accepted"] as? Int == 2, "\(counters ?? [:])")
    #expect(counters?["checked"] as? Int == 2, "\(counters ?? [:])")
    expectCleanStop(daemon)
  }

  /// The reading end of a socket pair that gives `text`, then ECONNRESET: the writing end
  /// is closed with a byte it never read.
  static func socketReset(after text: String) throws -> FileHandle {
    var ends: [Int32] = [0, 0]
    guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &ends) == 0 else {
      throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
    }
    let bytes = Array(text.utf8)
    #expect(bytes.withUnsafeBytes { write(ends[0], $0.baseAddress, $0.count) } == bytes.count)
    #expect(write(ends[1], "x", 1) == 1)
    close(ends[0])
    return FileHandle(fileDescriptor: ends[1], closeOnDealloc: true)
  }

  /// `vigil help NAME` helps with a command, and is misuse for a name that is none.
  @Test func helpForACommandThatIsNoneIsMisuse() throws {
    // `vigil NAME --help` as `vigil help NAME` (it printed the top-level help, exit 0); a
    // command's own argument before --help is no command name.
    for (arguments, status) in [
      (["help", "rules", "lint"], Int32(0)), (["help", "tail"], 0), (["help", "help"], 0), (["help", "nosuch"], 2),
      (["help", "rules", "nope"], 2), (["nosuch", "--help"], 2), (["rules", "nope", "-h"], 2), (["tail", "x.jsonl", "--help"], 0),
      (["reopen", "--help"], 0),
    ] {
      let run = try Vigil.run(arguments)
      #expect(run.status == status, "\(arguments): \(run.status) \(run.standardError)")
      if status == 2 { #expect(run.standardError.contains("vigil: no command"), "\(run.standardError)") }
    }
  }

  /// `vigil reopen` after a rotation made outside vigild: the next records go to the new
  /// file, and the moved one keeps what it had.
  @Test func reopenStartsTheNewFilesAfterAnExternalRotation() throws {
    let daemon = try RunningDaemon(rules: DaemonEndToEndTests.rules)
    _ = try daemon.exchange([Self.report("RO-1")])
    let log = daemon.directory.path + "/" + Self.alertLog
    try FileManager.default.moveItem(atPath: log, toPath: log + ".1")
    let reopen = try Self.vigil(daemon, ["reopen"])
    #expect(reopen.status == 0 && reopen.standardOutput == "reopened: the alert log and the journal\n", "\(reopen.standardError)")
    _ = try daemon.exchange([Self.report("RO-2")])
    #expect(try String(contentsOfFile: log, encoding: .utf8).contains(#""report_id":"RO-2""#))
    #expect(try !String(contentsOfFile: log + ".1", encoding: .utf8).contains("RO-2"))
    let json = try Self.vigil(daemon, ["reopen", "--json"])
    #expect(json.standardOutput == #"{"ok":true,"op":"reopen"}"# + "\n", "\(json.standardOutput)")
    expectCleanStop(daemon)
  }

  /// `vigil` or `vigil rules` alone names nothing to do: misuse, with the usage on standard error.
  @Test(arguments: [[String](), ["rules"], ["sinks"]])
  func aCommandGroupAloneIsMisuse(arguments: [String]) throws {
    let run = try Vigil.run(arguments)
    #expect(run.status == 2)
    #expect(run.standardError.contains("USAGE: vigil"), "\(run.standardError)")
    #expect(run.standardOutput.isEmpty)
    #expect(try Vigil.run(arguments + ["--help"]).status == 0, "asking for help is not misuse")
  }

  /// Flags that cannot go together, or name nothing, are misuse, before anything is read:
  /// `--node` without `--sink` would verify the files and let the user think a node's rows
  /// were verified.
  @Test(arguments: [
    (["verify", "--node", "x"], "--node names whose rows to verify in a sink: give --sink too"),
    (["verify", "--sink", "postgres", "alerts.jsonl"], "give files or --sink, not both"),
    (["status", "--socket", ""], "--socket: expected a path, got nothing"),
    (["submit", "--config", "", "x.ndjson"], "--config: expected a path, got nothing"),
  ])
  func verifyFlagsThatCannotGoTogetherAreMisuse(arguments: [String], message: String) throws {
    let run = try Vigil.run(arguments)
    #expect(run.status == 2)
    #expect(run.standardError.contains(message), "\(run.standardError)")
    #expect(run.standardOutput.isEmpty)
  }

  /// Read back from the end in chunks: records on both sides of lines that span many
  /// chunks (a long message, a line that is no record) are found whole, in order.
  @Test func tailFindsRecordsAcrossLinesLongerThanItsChunks() throws {
    let directory = try TemporaryDirectory()
    let path = directory.path + "/a.jsonl"
    let record = { (seq: Int, message: String) in
      #"{"seq":\#(seq),"time":"2026-12-06T04:57:54.932Z","rule":"t.r","priority":"high","report_id":"R-\#(seq)","occurred_at":null,"message":"\#(message)","basis":[],"tags":[],"ruleset":"sha256:x","prev":"0","hash":"0"}"#
    }
    let long = String(repeating: "m", count: 300_000)
    let lines = [record(1, "first"), record(2, long), String(repeating: "x", count: 200_000), record(3, "last")]
    try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
    let run = try Vigil.run(["tail", "-n", "3", "--json", path])
    #expect(run.status == 0, "\(run.standardError)")
    #expect(run.standardOutput == [record(1, "first"), record(2, long), record(3, "last")].joined(separator: "\n") + "\n")
  }

  @Test func tailShowsTheLastAlertsFilteredAndFollowsARotation() throws {
    let daemon = try RunningDaemon(rules: DaemonEndToEndTests.rules)
    _ = try daemon.exchange([Self.report("T-1"), Self.report("T-2", weapons: "tank")])
    // Without FILE it asks the daemon where the log is.
    let last = try Self.vigil(daemon, ["tail", "-n", "2"])
    #expect(last.status == 0)
    let rows = last.standardOutput.split(separator: "\n")
    #expect(rows.count == 2)
    #expect(rows[0].contains("#3") && rows[0].contains("LOW") && rows[0].contains("weapons.any_attack"))
    #expect(rows[1].contains("#4") && rows[1].contains("T-2") && rows[1].contains("attack in Darayya"))
    // `-n2`, as tail(1) takes it.
    let joined = try Self.vigil(daemon, ["tail", "-n2"])
    #expect(joined.status == 0 && joined.standardOutput == last.standardOutput, "\(joined.standardError)")
    let critical = try Self.vigil(daemon, ["tail", "--min-priority", "critical", "--json", Self.alertLog])
    let lines = critical.standardOutput.split(separator: "\n")
    #expect(lines.count == 1 && lines[0].contains(#""rule":"weapons.barrel_bomb""#) && lines[0].hasSuffix("\"}"))
    let byRule = try Self.vigil(daemon, ["tail", "--rule", "vigil.*", Self.alertLog])
    #expect(byRule.standardOutput.split(separator: "\n").count == 1)
    #expect(byRule.standardOutput.contains("vigil.ruleset_loaded"))
    // A glob matching no rule of the set in force is said (a typo shows nothing new, silently);
    // one that matches, or Vigil's own records, is not.
    let misspelt = try Self.vigil(daemon, ["tail", "--rule", "weapons.barel_bomb", "--rule", "weapons.*", "--rule", "vigil.*"])
    #expect(misspelt.status == 0)
    #expect(
      misspelt.standardError
        == "vigil: note: --rule 'weapons.barel_bomb' matches no rule or pattern of the set in force "
        + "(vigil rules list --patterns); only alerts of rules since removed can match it\n", "\(misspelt.standardError)")

    // Follow, across an external rotation (rename, then reopen).
    let (follower, seen) = try Self.follow(["-n", "1", Self.alertLog], in: daemon.directory.path)
    defer {
      follower.terminate()
      follower.waitUntilExit()
    }
    // Following once it has shown the last alert (T-2's).
    #expect(eventually { seen.sofar().contains("T-2") })
    _ = try daemon.exchange([Self.report("T-3", weapons: "tank")])
    #expect(eventually { seen.sofar().contains("T-3") })
    let log = daemon.directory.path + "/" + Self.alertLog
    #expect(rename(log, log + ".1") == 0)
    #expect(try daemon.exchange(#"{"op":"reopen"}"#)["op"] as? String == "reopen")
    _ = try daemon.exchange([Self.report("T-4", weapons: "tank")])
    #expect(eventually { seen.sofar().contains("T-4") })
    // The last alerts reach back into the rotated file when the new one holds too few.
    let across = try Self.vigil(daemon, ["tail", "-n", "3", "--json", Self.alertLog])
    let acrossLines = across.standardOutput.split(separator: "\n")
    #expect(acrossLines.count == 3, "\(across.standardOutput)")
    #expect(zip(acrossLines, ["T-2", "T-3", "T-4"]).allSatisfy { $0.contains(#""report_id":"\#($1)""#) }, "\(across.standardOutput)")
    // And across a truncation in place (logrotate's copytruncate).
    #expect(truncate(log, 0) == 0)
    _ = try daemon.exchange([Self.report("T-5", weapons: "tank")])
    #expect(eventually { seen.sofar().contains("T-5") })
    #expect(!seen.sofar().contains("T-1"))
  }

  /// Started with standard input closed, `submit` and `check` read nothing (their
  /// connection to the daemon must not take descriptor 0 and be read as the input).
  @Test func aClosedStandardInputIsEmptyInput() throws {
    let daemon = try RunningDaemon(rules: DaemonEndToEndTests.rules)
    let vigil = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("vigil").path
    for command in ["submit", "check"] {
      let run = try ChildProcess.run(
        "/bin/sh", ["-c", "exec timeout 60 \"$0\" \(command) --socket \"$1\" <&-", vigil, daemon.socketPath])
      #expect(run.status == 0, "\(command): \(run.status) \(run.standardError)")
      #expect(run.standardOutput.contains("0 reports"), "\(command): \(run.standardOutput)")
    }
    expectCleanStop(daemon)
  }

  /// `vigil tail -f` with `arguments`, running in `directory`, and what it prints as it comes.
  static func follow(_ arguments: [String], in directory: String) throws -> (Process, ReadInBackground) {
    let follower = Process()
    follower.executableURL = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
      .appendingPathComponent("vigil")
    follower.arguments = ["tail", "-f"] + arguments
    follower.currentDirectoryURL = URL(fileURLWithPath: directory)
    let output = Pipe()
    follower.standardOutput = output
    try follower.run()
    return (follower, ReadInBackground(output.fileHandleForReading))
  }

  /// `program` started with `arguments`, and what it prints on standard output and on
  /// standard error as it comes.
  static func started(_ program: String, _ arguments: [String]) throws -> (Process, ReadInBackground, ReadInBackground) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: program)
    process.arguments = arguments
    process.currentDirectoryURL = URL(fileURLWithPath: "/")
    let output = Pipe()
    let errors = Pipe()
    process.standardOutput = output
    process.standardError = errors
    try process.run()
    return (process, ReadInBackground(output.fileHandleForReading), ReadInBackground(errors.fileHandleForReading))
  }

  /// A record line as `tail` reads it (the fields it shows), with its newline.
  static func tailRecord(_ seq: Int) -> String {
    #"{"seq":\#(seq),"rule":"r","priority":"low","report_id":"R\#(seq)"}"# + "\n"
  }

  /// The seqs of the records `tail --json` printed, in order.
  static func printedSeqs(_ output: String) -> [Int] {
    output.split(separator: "\n").compactMap { $0.firstMatch(of: #/"seq":(\d+)/#).map { Int($0.1)! } }
  }

  /// A daemon that takes the connection and never answers (stopped, wedged): a command,
  /// `submit` and `check` among them, fails with exit 2 once its time is up, rather than hang; `tail` reads the
  /// configuration's log instead, as it does when the daemon cannot be reached.
  @Test func aDaemonThatNeverAnswersFailsTheCommandInsteadOfHangingIt() throws {
    let directory = try TemporaryDirectory()
    let socketPath = directory.path + "/mute.sock"
    let listener = Process()
    listener.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
    listener.arguments = [
      "-c",
      "import socket,sys,time\ns=socket.socket(socket.AF_UNIX)\ns.bind(sys.argv[1])\ns.listen(16)\nkept=[]\n"
        + "while True:\n  c,_=s.accept()\n  kept.append(c)\n",
      socketPath,
    ]
    try listener.run()
    defer {
      // SIGKILL: the child inherits the test process's blocked signals, SIGTERM among them.
      kill(listener.processIdentifier, SIGKILL)
      listener.waitUntilExit()
    }
    #expect(eventually { FileManager.default.fileExists(atPath: socketPath) })
    let vigil = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("vigil").path
    for command in [["status"], ["reload"], ["rules", "list"]] {
      let run = try ChildProcess.run(
        "/usr/bin/env", ["VIGIL_TIMEOUT=2", vigil] + command + ["--socket", socketPath], in: directory.path)
      #expect(run.status == 2, "\(command): \(run.standardError)")
      #expect(run.standardError.contains("took the connection but did not answer within 2 s"), "\(command): \(run.standardError)")
    }
    // Reports streamed the same: their answers never come, and after the same silence the
    // command says how far it got.
    try #"{"id":"M-1","occurred_at":"2016-03-04T06:40:00Z","type":"attack"}"#.write(
      toFile: directory.path + "/r.jsonl", atomically: true, encoding: .utf8)
    for command in ["submit", "check"] {
      let run = try ChildProcess.run(
        "/usr/bin/env", ["VIGIL_TIMEOUT=2", vigil, command, "r.jsonl", "--socket", socketPath], in: directory.path)
      #expect(run.status == 2, "\(command): \(run.standardError)")
      #expect(
        run.standardError.contains("answered 0 of the 1 reports sent, then nothing for 2 s"), "\(command): \(run.standardError)")
    }
    try "alerts:\n  path: log.jsonl\n".write(toFile: directory.path + "/v.yaml", atomically: true, encoding: .utf8)
    try Self.tailRecord(7).write(toFile: directory.path + "/log.jsonl", atomically: true, encoding: .utf8)
    let tail = try ChildProcess.run(
      "/usr/bin/env", ["VIGIL_TIMEOUT=2", vigil, "tail", "-n", "1", "--json", "--socket", socketPath, "--config", "v.yaml"],
      in: directory.path)
    #expect(tail.status == 0 && Self.printedSeqs(tail.standardOutput) == [7], "\(tail.standardOutput)\(tail.standardError)")
  }

  /// Rotated into a file the reader may not read: said once on standard error, the old
  /// records never shown again (it was taken for the log cut in place, and reread for
  /// ever); once the new file is made readable, its records follow.
  @Test func tailFollowsARotationIntoAFileItCannotReadYet() throws {
    let directory = try TemporaryDirectory()
    chmod(directory.path, 0o755)
    let log = directory.path + "/alerts.jsonl"
    let record = Self.tailRecord
    try (record(1) + record(2)).write(toFile: log, atomically: false, encoding: .utf8)
    chmod(log, 0o644)
    let vigil = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("vigil").path
    let (follower, seen, said) = try Self.started(
      "/usr/bin/setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", vigil, "tail", "-f", "-n", "2", "--json", log])
    defer {
      follower.terminate()
      follower.waitUntilExit()
    }
    #expect(eventually { Self.printedSeqs(seen.sofar()) == [1, 2] }, "\(seen.sofar())")
    // Rotated as logrotate without `create` and a daemon's reopen would leave it: the new
    // file is root's alone.
    #expect(rename(log, log + ".1") == 0)
    let descriptor = open(log, O_WRONLY | O_CREAT | O_EXCL, 0o600)
    #expect(descriptor >= 0)
    fchmod(descriptor, 0o600)
    let line = record(3)
    _ = line.withCString { write(descriptor, $0, strlen($0)) }
    close(descriptor)
    #expect(eventually { said.sofar().contains("was rotated, and the new file cannot be read: Permission denied") }, "\(said.sofar())")
    // Some reads later, still only the old records, once each.
    usleep(1_500_000)
    #expect(Self.printedSeqs(seen.sofar()) == [1, 2], "\(seen.sofar())")
    #expect(said.sofar().components(separatedBy: "cannot be read").count == 2, "said once: \(said.sofar())")
    chmod(log, 0o644)
    #expect(eventually { Self.printedSeqs(seen.sofar()) == [1, 2, 3] }, "\(seen.sofar())")
  }

  /// `tail -f` on a log not made yet (vigild not started yet) says so once and waits, as
  /// `tail -F` does; the log's lines are all new when it comes.
  @Test func tailFollowWaitsForALogNotMadeYet() throws {
    let directory = try TemporaryDirectory()
    let log = directory.path + "/later/alerts.jsonl"
    let vigil = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("vigil").path
    let (follower, seen, said) = try Self.started(vigil, ["tail", "-f", "-n", "1", "--json", log])
    defer {
      kill(follower.processIdentifier, SIGKILL)
      follower.waitUntilExit()
    }
    #expect(eventually { said.sofar().contains("\(log) does not exist yet; waiting for it to be created") }, "\(said.sofar())")
    #expect(follower.isRunning)
    try FileManager.default.createDirectory(atPath: directory.path + "/later", withIntermediateDirectories: true)
    try (Self.tailRecord(1) + Self.tailRecord(2)).write(toFile: log, atomically: false, encoding: .utf8)
    #expect(eventually { Self.printedSeqs(seen.sofar()) == [1, 2] }, "\(seen.sofar())")
    let handle = try #require(FileHandle(forWritingAtPath: log))
    try handle.seekToEnd()
    try handle.write(contentsOf: Data(Self.tailRecord(3).utf8))
    try handle.close()
    #expect(eventually { Self.printedSeqs(seen.sofar()) == [1, 2, 3] }, "\(seen.sofar())")
    #expect(said.sofar().components(separatedBy: "does not exist yet").count == 2, "said once: \(said.sofar())")
    // Without -f, a missing log is an error, as before.
    let once = try ChildProcess.run(vigil, ["tail", log + ".none"])
    #expect(once.status == 2 && once.standardError.contains("No such file or directory"), "\(once.standardError)")
  }

  /// A log compressed by logrotate is no JSON lines: `verify` and `tail` say it is
  /// compressed and how to read it (exit 2), never that its first line was altered.
  @Test func aCompressedLogIsSaidToBeCompressed() throws {
    let daemon = try RunningDaemon(rules: DaemonEndToEndTests.rules)
    _ = try daemon.exchange((1...2).map { Self.report("Z-\($0)") })
    expectCleanStop(daemon)
    let path = daemon.directory.path + "/" + Self.alertLog
    let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map { $0 + "\n" }
    try lines.prefix(2).joined().write(toFile: path + ".1", atomically: false, encoding: .utf8)
    try lines.dropFirst(2).joined().write(toFile: daemon.directory.path + "/newer.jsonl", atomically: false, encoding: .utf8)
    let plain = try Self.offline(daemon, ["verify", Self.alertLog + ".1", "newer.jsonl"])
    #expect(plain.status == 0, "\(plain.standardOutput)")
    let gzip = try ChildProcess.run("/bin/gzip", ["-k", path + ".1"])
    #expect(gzip.status == 0, "\(gzip.standardError)")
    let compressed = try Self.offline(daemon, ["verify", Self.alertLog + ".1.gz", "newer.jsonl"])
    #expect(compressed.status == 2, "\(compressed.standardOutput)")
    #expect(!compressed.standardOutput.contains("altered"), "\(compressed.standardOutput)")
    #expect(
      compressed.standardError.contains(
        "cannot read \(Self.alertLog).1.gz: it is compressed (gzip); decompress it (`gunzip -k \(Self.alertLog).1.gz`)"),
      "\(compressed.standardError)")
    let tail = try Self.offline(daemon, ["tail", Self.alertLog + ".1.gz"])
    #expect(tail.status == 2 && tail.standardError.contains("it is compressed (gzip)"), "\(tail.standardError)")
  }

  /// Two rotations between two of `tail -f`'s reads: the file rotated in between (now
  /// `.1`, the one followed now `.2`) is read whole before the new one, and nothing twice.
  @Test func tailFollowsTwoRotationsBetweenItsReads() throws {
    let directory = try TemporaryDirectory()
    let log = directory.path + "/alerts.jsonl"
    let record = Self.tailRecord
    try (record(1) + record(2)).write(toFile: log, atomically: false, encoding: .utf8)
    let (follower, seen) = try Self.follow(["-n", "1", "--json", log], in: directory.path)
    defer {
      follower.terminate()
      follower.waitUntilExit()
    }
    #expect(eventually { seen.sofar().contains(#""seq":2"#) })
    // Faster than its reads (every 0.2 s): rotate, write, rotate again, write.
    let handle = try #require(FileHandle(forWritingAtPath: log))
    try handle.seekToEnd()
    try handle.write(contentsOf: Data(record(3).utf8))
    try handle.close()
    #expect(rename(log, log + ".1") == 0)
    try record(4).write(toFile: log, atomically: false, encoding: .utf8)
    #expect(rename(log + ".1", log + ".2") == 0 && rename(log, log + ".1") == 0)
    try (record(5) + record(6)).write(toFile: log, atomically: false, encoding: .utf8)
    #expect(eventually { seen.sofar().contains(#""seq":6"#) })
    Thread.sleep(forTimeInterval: 0.5)
    let seqs = Self.printedSeqs(seen.sofar())
    #expect(seqs == [2, 3, 4, 5, 6], "\(seen.sofar())")
  }

  /// The log renamed past a stale rotated file (to `.2`, `.1` holding older records): the
  /// older records are not shown again as new (audit 50).
  @Test func tailDoesNotShowAStaleRotatedFileAgain() throws {
    let directory = try TemporaryDirectory()
    let log = directory.path + "/alerts.jsonl"
    let record = Self.tailRecord
    try (1...3).map(record).joined().write(toFile: log + ".1", atomically: false, encoding: .utf8)
    try (4...6).map(record).joined().write(toFile: log, atomically: false, encoding: .utf8)
    let (follower, seen) = try Self.follow(["-n", "1", "--json", log], in: directory.path)
    defer {
      follower.terminate()
      follower.waitUntilExit()
    }
    #expect(eventually { seen.sofar().contains(#""seq":6"#) })
    #expect(rename(log, log + ".2") == 0)
    try record(7).write(toFile: log, atomically: false, encoding: .utf8)
    #expect(eventually { seen.sofar().contains(#""seq":7"#) })
    Thread.sleep(forTimeInterval: 0.5)
    #expect(Self.printedSeqs(seen.sofar()) == [6, 7], "\(seen.sofar())")
  }

  /// Cut in place and written again past where `tail -f` was, between two of its reads:
  /// it reads the file again from its start, not on from its old offset (which skipped
  /// the records written before it).
  @Test func tailReadsAFileCutAndRefilledFromItsStart() throws {
    let directory = try TemporaryDirectory()
    let log = directory.path + "/alerts.jsonl"
    let record = Self.tailRecord
    try (13...16).map(record).joined().write(toFile: log, atomically: false, encoding: .utf8)
    let (follower, seen) = try Self.follow(["-n", "1", "--json", log], in: directory.path)
    defer {
      follower.terminate()
      follower.waitUntilExit()
    }
    #expect(eventually { seen.sofar().contains(#""seq":16"#) })
    #expect(stopProcess(follower.processIdentifier))
    #expect(truncate(log, 0) == 0)
    let handle = try #require(FileHandle(forWritingAtPath: log))
    try handle.write(contentsOf: Data((17...30).map(record).joined().utf8))
    try handle.close()
    kill(follower.processIdentifier, SIGCONT)
    #expect(eventually { seen.sofar().contains(#""seq":30"#) })
    Thread.sleep(forTimeInterval: 0.5)
    let seqs = Self.printedSeqs(seen.sofar())
    #expect(seqs == Array(16...30), "\(seen.sofar())")
  }

  /// logrotate's `create`: the log renamed and a new, empty one made at once, vigild told
  /// to reopen a moment later — records go on to the old file meanwhile. `tail -f` reads
  /// them there until the new file is written, then goes on in it: nothing skipped.
  @Test func tailReadsTheOldFileUntilTheNewOneIsWritten() throws {
    let directory = try TemporaryDirectory()
    let log = directory.path + "/alerts.jsonl"
    let record = Self.tailRecord
    try (record(1) + record(2)).write(toFile: log, atomically: false, encoding: .utf8)
    let (follower, seen) = try Self.follow(["-n", "1", "--json", log], in: directory.path)
    defer {
      follower.terminate()
      follower.waitUntilExit()
    }
    #expect(eventually { seen.sofar().contains(#""seq":2"#) })
    // The daemon's descriptor, still on the old file after the rename.
    let writer = try #require(FileHandle(forWritingAtPath: log))
    try writer.seekToEnd()
    #expect(rename(log, log + ".1") == 0)
    #expect(FileManager.default.createFile(atPath: log, contents: nil))
    Thread.sleep(forTimeInterval: 0.6)  // tail has seen the new, empty file
    try writer.write(contentsOf: Data((record(3) + record(4)).utf8))
    #expect(eventually { seen.sofar().contains(#""seq":4"#) }, "records written to the old file before the reopen")
    try writer.close()
    // Reopened: the new file is written.
    try record(5).write(toFile: log, atomically: false, encoding: .utf8)
    #expect(eventually { seen.sofar().contains(#""seq":5"#) })
    Thread.sleep(forTimeInterval: 0.5)
    let seqs = Self.printedSeqs(seen.sofar())
    #expect(seqs == [2, 3, 4, 5], "\(seen.sofar())")
  }

  /// The file `tail -f` follows rotated and then removed (past `keep`) while it was held
  /// up (here stopped; a paused pager does the same): it takes up after the last record
  /// it printed from the kept files, and says which records no file holds any more.
  @Test(arguments: [false, true]) func tailTakesUpFromTheKeptFilesWhenTheOneFollowedWasRemoved(lostOne: Bool) throws {
    let directory = try TemporaryDirectory()
    let log = directory.path + "/alerts.jsonl"
    let record = Self.tailRecord
    func append(_ text: String) throws {
      let handle = try #require(FileHandle(forWritingAtPath: log))
      try handle.seekToEnd()
      try handle.write(contentsOf: Data(text.utf8))
      try handle.close()
    }
    func rotate() {
      _ = rename(log + ".1", log + ".2")
      _ = rename(log, log + ".1")
    }
    try (record(1) + record(2)).write(toFile: log, atomically: false, encoding: .utf8)
    let (follower, seen, said) = try Self.started(
      URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("vigil").path,
      ["tail", "-f", "-n", "1", "--json", log])
    defer {
      kill(follower.processIdentifier, SIGCONT)
      follower.terminate()
      follower.waitUntilExit()
    }
    #expect(eventually { seen.sofar().contains(#""seq":2"#) })
    #expect(stopProcess(follower.processIdentifier))
    try append(record(3))
    rotate()  // .1 = 1–3, the file followed
    try (record(4) + record(5)).write(toFile: log, atomically: false, encoding: .utf8)
    rotate()  // .2 = 1–3, .1 = 4–5
    try record(6).write(toFile: log, atomically: false, encoding: .utf8)
    #expect(unlink(log + ".2") == 0)  // past keep: the file followed is gone
    rotate()  // .2 = 4–5, .1 = 6
    try record(7).write(toFile: log, atomically: false, encoding: .utf8)
    if lostOne { #expect(unlink(log + ".2") == 0) }  // 4–5 gone too
    kill(follower.processIdentifier, SIGCONT)
    #expect(eventually { seen.sofar().contains(#""seq":7"#) })
    Thread.sleep(forTimeInterval: 0.5)
    let seqs = Self.printedSeqs(seen.sofar())
    #expect(seqs == (lostOne ? [2, 3, 6, 7] : [2, 3, 4, 5, 6, 7]), "\(seen.sofar())")
    if lostOne {
      #expect(said.sofar().contains("vigil: records 4–5 were rotated away and removed (alerts.keep) before they could be read"), "\(said.sofar())")
    } else {
      #expect(said.sofar().isEmpty, "\(said.sofar())")
    }
  }

  /// `tail -n N` reads the log from its end back, in chunks: over chunk boundaries it gives
  /// exactly the file's last N matching lines.
  @Test func tailGivesTheLastLinesOfALongLog() throws {
    let daemon = try RunningDaemon(rules: DaemonEndToEndTests.rules)
    _ = try daemon.exchange((1...400).map { Self.report("L-\($0)", weapons: $0 % 3 == 0 ? "tank" : "barrel_bomb") })
    let log = try String(contentsOfFile: daemon.directory.path + "/" + Self.alertLog, encoding: .utf8)
    let lines = log.split(separator: "\n").map(String.init)
    #expect(log.utf8.count > 3 * 64 * 1024, "\(log.utf8.count) bytes: more than three chunks")
    for count in [1, 150, 700] {
      let run = try Self.vigil(daemon, ["tail", "-n", "\(count)", "--json", Self.alertLog])
      #expect(run.standardOutput.split(separator: "\n").map(String.init) == Array(lines.suffix(count)), "-n \(count)")
    }
    let critical = try Self.vigil(daemon, ["tail", "-n", "300", "--json", "--min-priority", "critical", Self.alertLog])
    let expected = lines.filter { $0.contains(#""priority":"critical""#) }.suffix(300)
    #expect(critical.standardOutput.split(separator: "\n").map(String.init) == Array(expected))
    // A negative count is told as one, written apart or joined (it was "missing value").
    for arguments in [["-n", "-3"], ["-n-3"]] {
      let negative = try Self.vigil(daemon, ["tail"] + arguments + [Self.alertLog])
      #expect(negative.status == 2 && negative.standardError.contains("-n must be 0 or more, not -3"), "\(negative.standardError)")
    }
    expectCleanStop(daemon)
  }

  /// A report's text reaches a terminal made safe: an escape sequence, a carriage return or
  /// a newline in a place name cannot erase a row or print a forged one, in `submit`'s
  /// verdicts or in `tail`; `--json` keeps the record's exact bytes.
  @Test func hostileTextIsShownSafeOnATerminal() throws {
    let daemon = try RunningDaemon(rules: DaemonEndToEndTests.rules)
    let place = #"Darayya\u001b[2K\u001b[1A\r\nforged #99 CRITICAL\u0007\u202eevil\u0085"#
    try Self.file(daemon, "hostile.json", Self.report("H-1").replacingOccurrences(of: "Darayya", with: place) + "\n")
    let submitted = try Self.vigil(daemon, ["submit", "hostile.json"])
    #expect(submitted.status == 0, "\(submitted.standardError)")
    let tail = try Self.vigil(daemon, ["tail", "-n", "2"])
    for (run, rows) in [(submitted, 4), (tail, 2)] {
      let text = run.standardOutput
      #expect(!text.unicodeScalars.contains { $0.value < 0x20 && $0 != "\n" || (0x7F..<0xA0).contains($0.value) }, "\(text)")
      #expect(!text.unicodeScalars.contains("\u{202E}"), "\(text)")
      #expect(text.contains("Darayya\u{FFFD}[2K\u{FFFD}[1A\u{FFFD}\u{FFFD}forged #99 CRITICAL\u{FFFD}\u{2423}evil\u{FFFD}"), "\(text)")
      #expect(text.split(separator: "\n").count == rows, "\(text)")
    }
    let json = try Self.vigil(daemon, ["tail", "-n", "1", "--json"])
    #expect(json.standardOutput.contains(#"\u001b[2K"#), "the record's own bytes: \(json.standardOutput)")
    expectCleanStop(daemon)
  }

  @Test func verifyNamesTheFirstBrokenLine() throws {
    let daemon = try RunningDaemon(rules: DaemonEndToEndTests.rules)
    _ = try daemon.exchange((1...4).map { Self.report("V-\($0)") })
    expectCleanStop(daemon)
    let good = try Self.offline(daemon, ["verify", Self.alertLog])
    #expect(good.status == 0)
    #expect(good.standardOutput == "ok: 9 records, seq 1–9, chain intact\n")
    // Without FILE: the configuration's alert log (here the built-in default path).
    let configured = try Self.offline(daemon, ["verify"])
    #expect(configured.status == 0 && configured.standardOutput == good.standardOutput)

    let path = daemon.directory.path + "/" + Self.alertLog
    let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
    func verify(_ edited: [String]) throws -> ChildProcess.Run {
      try Self.file(daemon, "edited.jsonl", edited.joined(separator: "\n") + "\n")
      return try Self.offline(daemon, ["verify", "edited.jsonl"])
    }
    var altered = lines
    altered[4] = altered[4].replacingOccurrences(of: "Darayya", with: "Douma")
    let alteredRun = try verify(altered)
    #expect(alteredRun.status == 1)
    #expect(alteredRun.standardOutput == "edited.jsonl:5: seq 5: altered: its hash does not match its content\n")

    var deleted = lines
    deleted.remove(at: 3)
    let deletedRun = try verify(deleted)
    #expect(deletedRun.status == 1)
    #expect(deletedRun.standardOutput == "edited.jsonl:4: seq 5: 1 record deleted before it (after seq 3)\n")

    var swapped = lines
    swapped.swapAt(5, 6)
    let swappedRun = try verify(swapped)
    #expect(swappedRun.status == 1)
    #expect(swappedRun.standardOutput == "edited.jsonl:6: seq 7: reordered: seq 6 was expected here and comes later (line 7)\n")
    var movedFar = lines
    movedFar.append(movedFar.remove(at: 2))
    let movedRun = try verify(movedFar)
    #expect(movedRun.standardOutput == "edited.jsonl:3: seq 4: reordered: seq 3 was expected here and comes later (line 9)\n")
    // Two deleted, the next moved further: the deletion is what is said.
    var deletedAndMoved = lines
    deletedAndMoved.swapAt(6, 7)
    deletedAndMoved.removeSubrange(4...5)
    let deletedAndMovedRun = try verify(deletedAndMoved)
    #expect(deletedAndMovedRun.standardOutput == "edited.jsonl:5: seq 8: 3 records deleted before it (after seq 4)\n", "\(deletedAndMovedRun.standardOutput)")

    var inserted = lines
    inserted.insert(lines[2], at: 6)
    let insertedRun = try verify(inserted)
    #expect(insertedRun.status == 1)
    #expect(insertedRun.standardOutput == "edited.jsonl:7: seq 3: out of order after seq 6 (reordered or inserted)\n")

    // A forgery whose own hash was recomputed: the record after it names another hash for
    // it, and the one after that names the record after it — the forgery is named, not the
    // genuine record that follows it. A record replaced in its place, then one inserted
    // before a genuine record with the seq it has.
    func resealed(_ line: String, prev: String? = nil) -> String {
      let cut = line.range(of: #","hash":""#)!
      var prefix = String(line[..<cut.lowerBound])
      let written = String(prefix.firstMatch(of: #/"prev":"([0-9a-f]{64})"/#)!.1)
      if let prev { prefix = prefix.replacingOccurrences(of: written, with: prev) }
      let digest = SHA256.hash(data: Data(((prev ?? written) + prefix).utf8)).map { String(format: "%02x", $0) }.joined()
      return prefix + #","hash":""# + digest + #""}"#
    }
    var replaced = lines
    replaced[4] = resealed(replaced[4].replacingOccurrences(of: "Darayya", with: "Douma"))
    let replacedRun = try verify(replaced)
    #expect(replacedRun.status == 1)
    #expect(
      replacedRun.standardOutput
        == "edited.jsonl:5: seq 5: replaced (its hash recomputed), or seq 6 given another prev: seq 6 does not name "
        + "this record's hash, and the records after it follow it\n",
      "\(replacedRun.standardOutput)")
    var forged = lines
    let previousHash = String(lines[3].firstMatch(of: #/"hash":"([0-9a-f]{64})"/#)!.1)
    forged.insert(resealed(lines[4].replacingOccurrences(of: "Darayya", with: "Douma"), prev: previousHash), at: 4)
    let forgedRun = try verify(forged)
    #expect(forgedRun.status == 1)
    #expect(
      forgedRun.standardOutput == "edited.jsonl:5: seq 5: inserted: the records before and after it name each other\n",
      "\(forgedRun.standardOutput)")
    // The same across a rotation: the record at the end of one file is named, not the
    // genuine first of the next.
    func verifySplit(_ edited: [String], at index: Int) throws -> ChildProcess.Run {
      try Self.file(daemon, "split.1", edited[..<index].joined(separator: "\n") + "\n")
      try Self.file(daemon, "split", edited[index...].joined(separator: "\n") + "\n")
      return try Self.offline(daemon, ["verify", "split.1", "split"])
    }
    let replacedSplit = try verifySplit(replaced, at: 5)
    #expect(replacedSplit.standardOutput.hasPrefix("split.1:5: seq 5: replaced (its hash recomputed)"), "\(replacedSplit.standardOutput)")
    let forgedSplit = try verifySplit(forged, at: 5)
    #expect(
      forgedSplit.standardOutput == "split.1:5: seq 5: inserted: the records before and after it name each other\n",
      "\(forgedSplit.standardOutput)")
    // The break on the older file's last line: the newer file's first line says which
    // record is at fault; an empty one says nothing, and the break itself is named (it was
    // lost, and the empty line named instead).
    var replacedFourth = lines
    replacedFourth[3] = resealed(replacedFourth[3].replacingOccurrences(of: "Darayya", with: "Douma"))
    let atTheEnd = try verifySplit(replacedFourth, at: 5)
    #expect(atTheEnd.standardOutput.hasPrefix("split.1:4: seq 4: replaced (its hash recomputed)"), "\(atTheEnd.standardOutput)")
    try Self.file(daemon, "split", "\n" + replacedFourth[5...].joined(separator: "\n") + "\n")
    let beforeAnEmptyLine = try Self.offline(daemon, ["verify", "split.1", "split"])
    #expect(
      beforeAnEmptyLine.standardOutput == "split.1:5: seq 5: inserted or replaced: it does not follow the record before it\n",
      "\(beforeAnEmptyLine.standardOutput)")
    // A forged first record, put before the genuine one: both name 000…0.
    let genesis = String(repeating: "0", count: 64)
    let forgedFirst = [resealed(lines[0].replacingOccurrences(of: #""seq":1,"#, with: #""seq":1,"x":1,"#), prev: genesis)] + lines
    let forgedFirstRun = try verify(forgedFirst)
    #expect(
      forgedFirstRun.standardOutput == "edited.jsonl:1: seq 1: inserted: the records before and after it name each other\n",
      "\(forgedFirstRun.standardOutput)")

    // Bytes after the hash are outside what it covers: a member, a space, a carriage return.
    let afterHash = [
      String(lines[4].dropLast()) + #","retracted":true}"#, lines[4] + " ", lines[4] + "\r",
    ]
    for line in afterHash {
      var edited = lines
      edited[4] = line
      let run = try verify(edited)
      #expect(run.status == 1, "\(line)")
      #expect(
        run.standardOutput == "edited.jsonl:5: altered: not an alert record (seq, prev and hash, hash last)\n",
        "\(line): \(run.standardOutput)")
    }
    var blank = lines
    blank.insert("", at: 4)
    let blankRun = try verify(blank)
    #expect(blankRun.status == 1)
    #expect(blankRun.standardOutput == "edited.jsonl:5: altered: an empty line\n", "\(blankRun.standardOutput)")

    // Rotated files beside the log, more than `alerts.keep` (5): all of them are walked.
    let log = daemon.directory.path + "/" + Self.alertLog
    for (index, line) in lines.enumerated() {
      let number = lines.count - 1 - index  // the oldest, .8; the newest stays the log
      try (line + "\n").write(toFile: number == 0 ? log : "\(log).\(number)", atomically: true, encoding: .utf8)
    }
    let rotated = try Self.offline(daemon, ["verify"])
    #expect(rotated.status == 0 && rotated.standardOutput == "ok: 9 records, seq 1–9, chain intact\n", "\(rotated.standardOutput)")
    try FileManager.default.removeItem(atPath: "\(log).4")
    let gap = try Self.offline(daemon, ["verify"])
    #expect(gap.status == 1 && gap.standardOutput.hasSuffix(": seq 6: 1 record deleted before it (after seq 4)\n"), "\(gap.standardOutput)")

    // A log whose older files were rotated away verifies from its first seq.
    let partial = try verify(Array(lines[3...]))
    #expect(partial.status == 0)
    #expect(partial.standardOutput.contains("verified from seq 4"))
  }

  /// A daemon that recorded four reports (ids `PREFIX-1` to `PREFIX-4`, nine records with
  /// the start's) and stopped: its alert log's path and lines.
  static func stoppedDaemonWithFourReports(_ prefix: String) throws -> (RunningDaemon, String, [String]) {
    let daemon = try RunningDaemon(rules: DaemonEndToEndTests.rules)
    _ = try daemon.exchange((1...4).map { Self.report("\(prefix)-\($0)") })
    expectCleanStop(daemon)
    let path = daemon.directory.path + "/" + Self.alertLog
    return (daemon, path, try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init))
  }

  /// A line whose hash is sound but which is no alert record — written by something other
  /// than vigild, and the chain's hashes recomputed from it on — is named, not called
  /// "chain intact" (audit 41). Members of a later version before `prev` are not refused.
  @Test func verifyTellsALineThatIsNoAlertRecord() throws {
    let (daemon, path, lines) = try Self.stoppedDaemonWithFourReports("N")
    // Line 5 edited, then every line from it chained again as ALERTS.md says.
    func verify(_ edit: (String) -> String) throws -> ChildProcess.Run {
      var edited = lines
      edited[4] = edit(edited[4])
      var prev = String(lines[3].firstMatch(of: #/"hash":"([0-9a-f]{64})"/#)!.1)
      for index in 4..<edited.count {
        let line = edited[index].replacing(#/"prev":"[0-9a-f]*"/#, with: #""prev":""# + prev + #"""#, maxReplacements: 1)
        let prefix = String(line[..<line.range(of: #","hash":""#)!.lowerBound])
        prev = SHA256.hash(data: Data((prev + prefix).utf8)).map { String(format: "%02x", $0) }.joined()
        edited[index] = prefix + #","hash":""# + prev + #""}"#
      }
      try Self.file(daemon, "edited.jsonl", edited.joined(separator: "\n") + "\n")
      return try Self.offline(daemon, ["verify", "edited.jsonl"])
    }
    let seq = #/"seq":5,/#
    let cases: [(String, (String) -> String, String)] = [
      ("a stub", { _ in #"{"seq":5,"prev":"","hash":""}"# }, "it has no time member"),
      ("prev first", { line in #"{"prev":"","# + line.replacing(#/,"prev":"[0-9a-f]*"/#, with: "").dropFirst() },
       "prev must come just before hash, and hash last"),
      ("seq 5.0", { $0.replacing(seq, with: #""seq":5.0,"#) }, "seq must come first, written as a whole number (1, 2, 3, …)"),
      ("no message", { $0.replacing(#/,"message":"[^"]*"/#, with: "") }, "it has no message member"),
      ("rule renamed", { $0.replacing(#/"rule":/#, with: #""rulez":"#) }, "it has no rule member"),
      ("members swapped", { $0.replacing(#/"basis":(\[[^\]]*\]),"tags":(\[[^\]]*\])/#) { #""tags":\#($0.2),"basis":\#($0.1)"# } },
       "its members are out of order (seq, time, rule, priority, report_id, occurred_at, message, tags, basis, ruleset): "
        + "docs/alerts.md gives seq, time, rule, priority, report_id, occurred_at, message, basis, tags, ruleset, then prev and hash"),
      ("priority", { $0.replacing(#/"priority":"[a-z]*"/#, with: #""priority":"urgent""#) },
       #"priority must be one of critical, high, medium, low, info, not "urgent""#),
      ("time", { $0.replacing(#/"time":"[^"]*"/#, with: #""time":"yesterday""#) },
       #"time must be RFC 3339 UTC with milliseconds (2016-03-04T06:40:00.000Z), not "yesterday""#),
      ("day 31 of April", { $0.replacing(#/"time":"[^"]*"/#, with: #""time":"2026-04-31T10:00:00.000Z""#) },
       #"time must be RFC 3339 UTC with milliseconds (2016-03-04T06:40:00.000Z), not "2026-04-31T10:00:00.000Z""#),
      ("ruleset", { $0.replacing(#/"ruleset":"[^"]*"/#, with: #""ruleset":"md5:abc""#) },
       #"ruleset must be a revision (sha256: and 64 lowercase hex digits), not "md5:abc""#),
      ("basis", { $0.replacing(#/"basis":\[[^\]]*\]/#, with: #""basis":"ISSG""#) }, #"basis must be a list of strings, not "ISSG""#),
      ("report_id", { $0.replacing(#/"report_id":"[^"]*"/#, with: #""report_id":5"#) }, "report_id must be a string or null, not 5"),
      ("a name escaped", { $0.replacing(#/"time":/#, with: #""ti\u006de":"#) },
       #"its time member is not written as vigild writes it ("time": with no escape in the name, no space before the colon)"#),
      ("prev escaped", { $0.replacing(#/"prev":/#, with: #""\u0070rev":"#) },
       #"its prev member is not written as vigild writes it ("prev": with no escape in the name, no space before the colon)"#),
      ("a space before a colon", { $0.replacing(#/"ruleset":/#, with: #""ruleset" :"#) },
       #"its ruleset member is not written as vigild writes it ("ruleset": with no escape in the name, no space before the colon)"#),
    ]
    for (name, edit, problem) in cases {
      let run = try verify(edit)
      #expect(run.status == 1, "\(name): \(run.standardOutput)")
      #expect(run.standardOutput == "edited.jsonl:5: seq 5: altered: not an alert record: \(problem)\n", "\(name): \(run.standardOutput)")
    }
    // A member of a later version, before prev, and nothing else changed: the chain holds.
    let later = try verify { $0.replacing(#/,"prev":/#, with: #","retracted":false,"prev":"#) }
    #expect(later.status == 0 && later.standardOutput == "ok: 9 records, seq 1–9, chain intact\n", "\(later.standardOutput)")
  }

  /// Records deleted from the log's end break no link of the chain; `alerts.head` shows
  /// them: to `vigil verify` on the configured log (not on a copy), and to the daemon at its
  /// next start, which goes on from the head so that the next record shows the gap.
  @Test func verifyAndTheDaemonTellALogCutAtItsEndFromTheHead() throws {
    let (daemon, path, lines) = try Self.stoppedDaemonWithFourReports("E")
    #expect(lines.count == 9)
    try (lines[..<7].joined(separator: "\n") + "\n").write(toFile: path, atomically: false, encoding: .utf8)
    try Self.file(daemon, "copy.jsonl", lines[..<7].joined(separator: "\n") + "\n")

    let configured = try Self.offline(daemon, ["verify"])
    #expect(configured.status == 1)
    #expect(
      configured.standardOutput == "\(Self.alertLog):8: 2 records deleted at the end, after seq 7 (alerts.head says seq 9 was written)\n",
      "\(configured.standardOutput)")
    let named = try Self.offline(daemon, ["verify", "--json", Self.alertLog])
    #expect(named.status == 1)
    #expect(named.standardOutput.hasPrefix(#"{"ok":false,"file":"\#(Self.alertLog)","line":8,"problem":"2 records deleted at the end"#))
    let copy = try Self.offline(daemon, ["verify", "copy.jsonl"])
    #expect(copy.status == 0 && copy.standardOutput == "ok: 7 records, seq 1–7, chain intact\n", "a copy has no head")
    // What it could not verify is said with --json too: a last line without its newline.
    let copyPath = daemon.directory.path + "/copy.jsonl"
    let unfinished = try #require(FileHandle(forWritingAtPath: copyPath))
    unfinished.seekToEndOfFile()
    unfinished.write(Data(#"{"seq":8,"#.utf8))
    try unfinished.close()
    let noted = try Self.offline(daemon, ["verify", "--json", "copy.jsonl"])
    #expect(noted.status == 0)
    #expect(
      noted.standardOutput
        == #"{"ok":true,"records":7,"first_seq":1,"last_seq":7,"notes":["copy.jsonl:8 has no newline yet, so it was not verified: a write in progress, or a line a crash cut short (vigild cuts it at its next start)"]}"# + "\n",
      "\(noted.standardOutput)")

    let restarted = try RunningDaemon(rules: DaemonEndToEndTests.rules, directory: daemon.directory)
    #expect(restarted.log().contains("its last record is seq 7 but alerts.head says seq 9 was written"), "\(restarted.log())")
    expectCleanStop(restarted)
    let after = try Self.offline(daemon, ["verify"])
    #expect(after.status == 1)
    #expect(after.standardOutput == "\(Self.alertLog):8: seq 10: 2 records deleted before it (after seq 7)\n", "\(after.standardOutput)")

    // The last record replaced by one whose hash is sound: the head keeps another hash.
    let now = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
    let record = try #require(JSONSerialization.jsonObject(with: Data(now[7].utf8)) as? [String: Any])
    let prev = try #require(record["prev"] as? String)
    let cut = try #require(now[7].range(of: #","hash":""#)).lowerBound
    let body = String(now[7][..<cut]).replacingOccurrences(of: "vigil.ruleset_loaded", with: "vigil.ruleset_lodged")
    let hash = SHA256.hash(data: Data((prev + body).utf8)).map { String(format: "%02x", $0) }.joined()
    try ((now[..<7] + [body + #","hash":""# + hash + #""}"#]).joined(separator: "\n") + "\n")
      .write(toFile: path, atomically: false, encoding: .utf8)
    let rewritten = try Self.offline(daemon, ["verify"])
    #expect(rewritten.status == 1)
    #expect(rewritten.standardOutput.hasPrefix("\(Self.alertLog):8: seq 10: altered: alerts.head keeps another hash for it"), "\(rewritten.standardOutput)")
  }

  /// The last record rewritten with its hash recomputed, then a daemon started: the record
  /// it writes next is chained to the head, and so is the one the head keeps. It is in its
  /// place, and the record before it is named (it was named itself, until one more came).
  @Test func verifyNamesARewrittenLastRecordWhenTheHeadVouchesForTheNext() throws {
    let daemon = try RunningDaemon(rules: DaemonEndToEndTests.rules)
    _ = try daemon.exchange((1...2).map { Self.report("H-\($0)") })
    expectCleanStop(daemon)
    let path = daemon.directory.path + "/" + Self.alertLog
    let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
    #expect(lines.count == 5)
    let prev = String(try #require(lines[4].firstMatch(of: #/"prev":"([0-9a-f]{64})"/#)).1)
    let cut = try #require(lines[4].range(of: #","hash":""#)).lowerBound
    let body = String(lines[4][..<cut]).replacingOccurrences(of: "Darayya", with: "Douma")
    let hash = SHA256.hash(data: Data((prev + body).utf8)).map { String(format: "%02x", $0) }.joined()
    try ((lines[..<4] + [body + #","hash":""# + hash + #""}"#]).joined(separator: "\n") + "\n")
      .write(toFile: path, atomically: false, encoding: .utf8)
    let restarted = try RunningDaemon(rules: DaemonEndToEndTests.rules, directory: daemon.directory)
    expectCleanStop(restarted)
    let now = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
    #expect(now.count == 6 && now[5].contains("vigil.ruleset_loaded"), "the restart's record is the last")
    let verdict = try Self.offline(daemon, ["verify"])
    #expect(verdict.status == 1)
    #expect(verdict.standardOutput.hasPrefix("\(Self.alertLog):5: seq 5: replaced (its hash recomputed)"), "\(verdict.standardOutput)")
  }

  /// `alerts.head` that this user may not read, its folder the daemon's alone: what it
  /// would show cannot be told, and verify says so with its verdict (and in `--json`'s
  /// notes), where it said a bare "ok".
  @Test func verifySaysWhenItCannotReadTheHead() throws {
    let daemon = try RunningDaemon(rules: DaemonEndToEndTests.rules)
    _ = try daemon.exchange((1...2).map { Self.report("H-\($0)") })
    expectCleanStop(daemon)
    let root = daemon.directory.path
    for folder in ["", "/var", "/var/log", "/var/log/vigil"] { chmod(root + folder, 0o755) }
    chmod(root + "/" + Self.alertLog, 0o644)
    chmod(root + "/var/lib/vigil", 0o700)
    let vigil = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("vigil").path
    let asNobody = { (arguments: [String]) in
      try ChildProcess.run("/usr/bin/setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", vigil] + arguments, in: root)
    }
    let plain = try asNobody(["verify"])
    #expect(plain.status == 0, "\(plain.standardOutput)\(plain.standardError)")
    #expect(plain.standardOutput.hasPrefix("ok: 5 records"), "\(plain.standardOutput)")
    #expect(
      plain.standardOutput.contains("note: var/lib/vigil/alerts.head cannot be read (permission denied: its folder may not be searched)"),
      "\(plain.standardOutput)")
    let json = try asNobody(["verify", "--json"])
    #expect(json.standardOutput.contains(#""notes":["var/lib/vigil/alerts.head cannot be read"#), "\(json.standardOutput)")
  }

  /// A log emptied (or removed) with no rotated file beside it is no rotation: `vigil verify`
  /// names it, the daemon logs it at start, and `verify` says why it verifies from past `seq`
  /// 1 once the daemon has written to the log again. A rotation whose `.1` ends short of the
  /// head is records lost too.
  /// `vigil verify` while the daemon writes and rotates under it (and removes the oldest
  /// file past `keep`): the files are opened together, so each verdict is of one state of
  /// the log, and none is a false break or a file that could not be read.
  @Test func verifyWhileTheDaemonRotatesUnderLoadFindsTheChainIntact() throws {
    let (directory, daemon) = try Self.rotatingDaemon(rotateBytes: 3000, keep: 3)
    let client = try UnixSocketClient(path: daemon.socketPath)
    let count = 4000
    let sender = Thread {
      for chunk in stride(from: 0, to: count, by: 20) {
        try? client.send(Array((chunk..<chunk + 20).map { Self.report("LOAD-\($0)") + "\n" }.joined().utf8))
        Thread.sleep(forTimeInterval: 0.002)
      }
      client.closeWriting()
    }
    sender.start()
    var verdicts: [ChildProcess.Run] = []
    for _ in 0..<12 {
      verdicts.append(try ChildProcess.run("vigil", ["verify", "--config", "v.yaml"], in: directory.path))
    }
    var answered = 0
    while client.readLine(timeout: 60) != nil { answered += 1 }
    #expect(answered == count)
    for verdict in verdicts {
      #expect(verdict.status == 0 && verdict.standardOutput.hasPrefix("ok: "), "\(verdict.standardOutput)\(verdict.standardError)")
    }
    expectCleanStop(daemon)
  }

  /// A daemon in a directory of its own, its alert log rotated past `rotateBytes` with
  /// `keep` files kept (durability `none`: the tests load it fast).
  static func rotatingDaemon(rotateBytes: Int, keep: Int) throws -> (TemporaryDirectory, RunningDaemon) {
    let directory = try TemporaryDirectory()
    try "durability: none\nalerts:\n  rotate_bytes: \(rotateBytes)\n  keep: \(keep)\n".write(
      toFile: directory.path + "/v.yaml", atomically: true, encoding: .utf8)
    let daemon = try RunningDaemon(
      rules: DaemonEndToEndTests.rules, arguments: ["--config", "v.yaml"], directory: directory)
    return (directory, daemon)
  }

  /// `vigil tail -f` while vigild rotates its log many times a second (audit 53: whole
  /// rotated files were skipped and others printed twice, out of order, without a word):
  /// every record once, in order, when every file stays kept.
  @Test func tailFollowsEveryRecordOnceAcrossRotationsManyTimesASecond() throws {
    let (directory, daemon) = try Self.rotatingDaemon(rotateBytes: 4000, keep: 1000)
    let (follower, seen) = try Self.follow(["-n", "0", "--json", "var/log/vigil/alerts.jsonl"], in: directory.path)
    defer { follower.terminate() }
    Thread.sleep(forTimeInterval: 0.5)
    let clients = try (0..<3).map { _ in try UnixSocketClient(path: daemon.socketPath) }
    let count = 2000
    let senders = clients.enumerated().map { index, client in
      Thread {
        for chunk in stride(from: 0, to: count, by: 50) {
          try? client.send(Array((chunk..<chunk + 50).map { Self.report("ROT-\(index)-\($0)") + "\n" }.joined().utf8))
        }
        client.closeWriting()
      }
    }
    senders.forEach { $0.start() }
    for client in clients {
      var answered = 0
      while client.readLine(timeout: 60) != nil { answered += 1 }
      #expect(answered == count)
    }
    let logs = directory.path + "/var/log/vigil"
    let files = try FileManager.default.contentsOfDirectory(atPath: logs).filter { $0.hasPrefix("alerts.jsonl") }
    #expect(files.count > 3, "rotated \(files.count - 1) times")
    let last = try #require(
      try files.flatMap { Self.printedSeqs(try String(contentsOfFile: logs + "/" + $0, encoding: .utf8)) }.max())
    #expect(eventually(within: 60) { Self.printedSeqs(seen.sofar()).last == last }, "\(Self.printedSeqs(seen.sofar()).suffix(5))")
    let printed = Self.printedSeqs(seen.sofar())
    let first = try #require(printed.first)
    let missing = Set(first...last).subtracting(printed).sorted()
    #expect(
      printed == Array(first...last),
      "\(printed.count) printed of \(last - first + 1); missing \(missing.count): \(missing.prefix(3))…\(missing.suffix(3)); files \(files.sorted())")
    expectCleanStop(daemon)
  }

  /// alerts.head is what shows records deleted from the log's end: one altered past reading
  /// fails verify (deletions could no longer be told, yet the chain holds), and vigild says
  /// so at start; an empty one (a crash as it was first made) is a note. One removed while
  /// vigild runs is written anew at its path at the next commit, not to the removed file.
  @Test func aDamagedOrRemovedHeadIsSaid() throws {
    let daemon = try RunningDaemon(rules: DaemonEndToEndTests.rules)
    _ = try daemon.exchange((1...2).map { Self.report("H-\($0)") })
    let head = daemon.directory.path + "/var/lib/vigil/alerts.head"
    #expect(unlink(head) == 0)
    _ = try daemon.exchange([Self.report("H-3")])
    #expect(FileManager.default.fileExists(atPath: head), "alerts.head was not written anew")
    #expect(eventually { daemon.log().contains("alerts.head was removed or replaced while vigild ran") }, "\(daemon.log())")
    // Its last records cut: the head shows it.
    expectCleanStop(daemon)
    let path = daemon.directory.path + "/" + Self.alertLog
    var lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
    lines.removeLast(2)
    try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: false, encoding: .utf8)
    #expect(try Self.offline(daemon, ["verify"]).status == 1)

    // Altered by a byte: what it would show cannot be told, and that fails.
    let text = try String(contentsOfFile: head, encoding: .utf8)
    try text.replacingOccurrences(of: #"{"seq":"#, with: #"{"seq";"#).write(toFile: head, atomically: false, encoding: .utf8)
    let altered = try Self.offline(daemon, ["verify"])
    #expect(altered.status == 1, "\(altered.standardOutput)")
    #expect(
      altered.standardOutput.contains("alerts.head:1: alerts.head is not a head (its text was altered, or it was damaged): "),
      "\(altered.standardOutput)")
    // Empty: a note, the chain verified.
    try "".write(toFile: head, atomically: false, encoding: .utf8)
    let empty = try Self.offline(daemon, ["verify"])
    #expect(empty.status == 0, "\(empty.standardOutput)")
    #expect(empty.standardOutput.contains("note: alerts.head is empty: "), "\(empty.standardOutput)")
    // vigild says a damaged head at start, rather than calling it missing.
    try text.replacingOccurrences(of: #"{"seq":"#, with: #"{"seq";"#).write(toFile: head, atomically: false, encoding: .utf8)
    let restarted = try RunningDaemon(rules: DaemonEndToEndTests.rules, directory: daemon.directory)
    #expect(restarted.log().contains("alerts.head is there but is no head (its text was altered, or damaged)"), "\(restarted.log())")
    expectCleanStop(restarted)
    // Removed, beside a log that holds records: a note too, never a silent "ok"; and
    // vigild says it at start.
    #expect(unlink(head) == 0)
    let removed = try Self.offline(daemon, ["verify"])
    #expect(removed.status == 0, "\(removed.standardOutput)")
    #expect(removed.standardOutput.contains("note: alerts.head is missing: "), "\(removed.standardOutput)")
    let headless = try RunningDaemon(rules: DaemonEndToEndTests.rules, directory: daemon.directory)
    #expect(headless.log().contains("alerts.head is missing while the alert log holds records (its last, seq "), "\(headless.log())")
    expectCleanStop(headless)
  }

  @Test func verifyAndTheDaemonTellAnEmptiedLogFromARotatedOne() throws {
    let daemon = try RunningDaemon(rules: DaemonEndToEndTests.rules)
    _ = try daemon.exchange((1...2).map { Self.report("W-\($0)") })
    expectCleanStop(daemon)
    let path = daemon.directory.path + "/" + Self.alertLog
    let whole = try String(contentsOfFile: path, encoding: .utf8)
    #expect(whole.split(separator: "\n").count == 5)
    try "".write(toFile: path, atomically: false, encoding: .utf8)

    let emptied = try Self.offline(daemon, ["verify"])
    #expect(emptied.status == 1)
    #expect(
      emptied.standardOutput == "\(Self.alertLog):1: no records, and no rotated file beside it, but alerts.head says "
        + "seq 5 was written: the log was emptied or removed (if it is rotated into another folder, name the files to "
        + "verify them)\n", "\(emptied.standardOutput)")

    // A compressed or dated name beside it is not read, and does not excuse the empty log.
    for decoy in [".7.gz", "-20261201"] {
      FileManager.default.createFile(atPath: path + decoy, contents: Data())
      let besideDecoy = try Self.offline(daemon, ["verify"])
      #expect(besideDecoy.status == 1, "\(decoy): \(besideDecoy.standardOutput)")
      #expect(
        besideDecoy.standardOutput.hasPrefix(
          "\(Self.alertLog):1: no records, and beside it only files that are not read (alerts.jsonl\(decoy): "),
        "\(besideDecoy.standardOutput)")
      try FileManager.default.removeItem(atPath: path + decoy)
    }

    // Removed, not emptied: the same finding, not a file that could not be read (exit 2).
    try FileManager.default.removeItem(atPath: path)
    let removed = try Self.offline(daemon, ["verify"])
    #expect(removed.status == 1)
    #expect(removed.standardOutput == emptied.standardOutput, "\(removed.standardOutput) \(removed.standardError)")
    try "".write(toFile: path, atomically: false, encoding: .utf8)

    let restarted = try RunningDaemon(rules: DaemonEndToEndTests.rules, directory: daemon.directory)
    #expect(restarted.log().contains("warning vigild: [vigild] \(Self.alertLog): the alert log's end is not what this daemon wrote: it holds no record, and no rotated file read beside it holds one, but alerts.head says seq 5 was written"), "\(restarted.log())")
    expectCleanStop(restarted)
    let after = try Self.offline(daemon, ["verify"])
    #expect(after.status == 0)
    #expect(
      after.standardOutput == "ok: 1 record, seq 6–6, chain intact\nverified from seq 6: the records before it are not in the log, "
        + "and no rotated file is beside it (moved to another folder or archived, or deleted: name those files to verify them)\n",
      "\(after.standardOutput)")
    let sixth = try String(contentsOfFile: path, encoding: .utf8)

    // A rotation leaves the old records beside the log: the same start is no finding, and
    // neither is a log just rotated (empty, its records in `.1`).
    try whole.write(toFile: path + ".1", atomically: false, encoding: .utf8)
    let rotated = try Self.offline(daemon, ["verify"])
    #expect(rotated.status == 0 && rotated.standardOutput == "ok: 6 records, seq 1–6, chain intact\n", "\(rotated.standardOutput)")
    try "".write(toFile: path, atomically: false, encoding: .utf8)
    try FileManager.default.removeItem(atPath: path + ".1")
    try (whole + sixth).write(toFile: path + ".1", atomically: false, encoding: .utf8)
    let again = try RunningDaemon(rules: DaemonEndToEndTests.rules, directory: daemon.directory)
    expectCleanStop(again)
    #expect(!again.log().contains("is not what this daemon wrote"), "\(again.log())")
    // … but a `.1` that ends short of the head lost records from its end.
    let seventh = try String(contentsOfFile: path, encoding: .utf8)
    try "".write(toFile: path, atomically: false, encoding: .utf8)
    try FileManager.default.removeItem(atPath: path + ".1")
    try (whole + sixth).write(toFile: path + ".1", atomically: false, encoding: .utf8)
    #expect(!seventh.isEmpty)
    let short = try RunningDaemon(rules: DaemonEndToEndTests.rules, directory: daemon.directory)
    expectCleanStop(short)
    #expect(short.log().contains("error vigild: [vigild] \(Self.alertLog): the alert log's end is not what this daemon wrote: its last record (in the rotated .1, the log being empty) is seq 6 but alerts.head says seq 7 was written"), "\(short.log())")
  }

  /// The log named as a file is the configured log all the same (its head applies); an
  /// empty log beside rotated files must find the head at the end of the newest of them,
  /// whichever is newest (`.1` removed is records deleted); a last line without its newline
  /// is a write in progress, said and not verified, unless it is a whole record.
  @Test func verifyHoldsTheNewestRotatedFileAndTheLogNamedToTheHead() throws {
    let daemon = try RunningDaemon(rules: DaemonEndToEndTests.rules)
    _ = try daemon.exchange((1...2).map { Self.report("H-\($0)") })
    expectCleanStop(daemon)
    let path = daemon.directory.path + "/" + Self.alertLog
    let whole = try String(contentsOfFile: path, encoding: .utf8)
    let lines = whole.split(separator: "\n").map(String.init)
    #expect(lines.count == 5)

    // A torn last line, of a record past the head (a write a crash cut short): not
    // verified, and said; the chain before it holds.
    let next = lines[4].replacingOccurrences(of: #"{"seq":5,"#, with: #"{"seq":6,"#)
    try (whole + String(next.prefix(40))).write(toFile: path, atomically: false, encoding: .utf8)
    let torn = try Self.offline(daemon, ["verify"])
    #expect(torn.status == 0, "\(torn.standardOutput)")
    #expect(
      torn.standardOutput == "ok: 5 records, seq 1–5, chain intact\nnote: \(Self.alertLog):6 has no newline yet, so it "
        + "was not verified: a write in progress, or a line a crash cut short (vigild cuts it at its next start)\n",
      "\(torn.standardOutput)")
    // A whole last record without its newline is verified, and said.
    try String(whole.dropLast()).write(toFile: path, atomically: false, encoding: .utf8)
    let unended = try Self.offline(daemon, ["verify"])
    #expect(
      unended.status == 0
        && unended.standardOutput == "ok: 5 records, seq 1–5, chain intact\nnote: \(Self.alertLog):5 is a whole record but has "
        + "lost its newline (vigild puts it back at its next start when it is the record alerts.head names)\n",
      "\(unended.standardOutput)")
    // Torn inside its seq's digits (`{"seq":1` of seq 15, say): still a write in progress.
    try (whole + #"{"seq":1"#).write(toFile: path, atomically: false, encoding: .utf8)
    let tornDigits = try Self.offline(daemon, ["verify"])
    #expect(tornDigits.status == 0 && tornDigits.standardOutput.contains("has no newline yet"), "\(tornDigits.standardOutput)")
    // One the head says was written, altered and its newline taken: named, not taken for
    // a write in progress (nor for records deleted from the end).
    let altered = String(whole.dropLast()).replacingOccurrences(of: #""report_id":"H-2""#, with: #""report_id":"H-9""#)
    try altered.write(toFile: path, atomically: false, encoding: .utf8)
    let alteredLast = try Self.offline(daemon, ["verify"])
    #expect(alteredLast.status == 1)
    #expect(
      alteredLast.standardOutput.hasPrefix("\(Self.alertLog):4: "), "the first line of H-2's, altered: \(alteredLast.standardOutput)")
    let lastOnly = whole.dropLast().replacingOccurrences(of: #""rule":"weapons.any_attack","priority":"low","report_id":"H-2""#, with: #""rule":"weapons.any_attack","priority":"high","report_id":"H-2""#)
    try lastOnly.write(toFile: path, atomically: false, encoding: .utf8)
    let lastAltered = try Self.offline(daemon, ["verify"])
    #expect(lastAltered.status == 1)
    #expect(
      lastAltered.standardOutput.hasPrefix("\(Self.alertLog):5: ") && lastAltered.standardOutput.contains("(and its newline is gone)"),
      "\(lastAltered.standardOutput)")

    // Emptied, and named: the head still applies to the configured log.
    try "".write(toFile: path, atomically: false, encoding: .utf8)
    let named = try Self.offline(daemon, ["verify", Self.alertLog])
    #expect(named.status == 1)
    #expect(named.standardOutput.hasPrefix("\(Self.alertLog):1: no records, and no rotated file beside it"), "\(named.standardOutput)")

    // Rotated twice, and the newest rotated file (.1) removed: .2 ends short of the head.
    try (lines[0..<3].joined(separator: "\n") + "\n").write(toFile: path + ".2", atomically: false, encoding: .utf8)
    let short = try Self.offline(daemon, ["verify"])
    #expect(short.status == 1)
    #expect(
      short.standardOutput == "\(Self.alertLog):1: 2 records deleted at the end, after seq 3 (alerts.head says seq 5 was written)\n",
      "\(short.standardOutput)")
    let restarted = try RunningDaemon(rules: DaemonEndToEndTests.rules, directory: daemon.directory)
    expectCleanStop(restarted)
    #expect(
      restarted.log().contains(
        "error vigild: [vigild] \(Self.alertLog): the alert log's end is not what this daemon wrote: its last record "
          + "(in the rotated .2, the log being empty) is seq 3 but alerts.head says seq 5 was written"), "\(restarted.log())")
  }

  /// `replay` reads every rotated file beside the log, as `verify` does (logrotate keeps more
  /// than `alerts.keep`), and leaves out the reports received before the first record kept:
  /// their alerts were in files rotated away, so a rule set in force all along adds nothing.
  @Test func replayReadsEveryRotatedFileAndComparesOnlyTheReportsTheyCover() throws {
    let daemon = try RunningDaemon(rules: DaemonEndToEndTests.rules)
    for number in 1...3 {
      _ = try daemon.exchange([Self.report("R-\(number)")])
      usleep(20_000)  // received in another millisecond than the next
    }
    expectCleanStop(daemon)
    let path = daemon.directory.path + "/" + Self.alertLog
    let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
    #expect(lines.count == 7)
    // One record a file, .6 (seq 1) to the log (seq 7): more files than alerts.keep (5).
    try FileManager.default.removeItem(atPath: path)
    for (index, line) in lines.enumerated() {
      let number = lines.count - 1 - index
      try (line + "\n").write(toFile: number == 0 ? path : "\(path).\(number)", atomically: true, encoding: .utf8)
    }
    let all = try Self.offline(daemon, ["replay"])
    #expect(all.status == 0, "\(all.standardError)")
    #expect(all.standardOutput.hasPrefix("replayed 3 reports from var/lib/vigil/reports.jsonl"), "\(all.standardOutput)")
    #expect(all.standardOutput.hasSuffix("0 alerts added, 0 removed, 0 rules affected\n"), "\(all.standardOutput)")
    // The journal rotated after R-1 (`reports.jsonl.1`): its reports are read too, first,
    // as the patterns and the daemon's rebuild read them; a rule added shows all three.
    let journal = daemon.directory.path + "/var/lib/vigil/reports.jsonl"
    let entries = try String(contentsOfFile: journal, encoding: .utf8).split(separator: "\n").map { $0 + "\n" }
    try entries[0].write(toFile: journal + ".1", atomically: true, encoding: .utf8)
    try entries[1...].joined().write(toFile: journal, atomically: true, encoding: .utf8)
    let rotatedJournal = try Self.offline(daemon, ["replay"])
    #expect(
      rotatedJournal.standardOutput.hasPrefix("replayed 3 reports from var/lib/vigil/reports.jsonl and 1 rotated file beside it "),
      "\(rotatedJournal.standardOutput)")
    #expect(rotatedJournal.standardOutput.hasSuffix("0 alerts added, 0 removed, 0 rules affected\n"), "\(rotatedJournal.standardOutput)")
    try Self.file(
      daemon, "Rules/zz-any.yaml",
      "- rule: t.any\n  desc: Any report.\n  condition: id exists\n  output: \"any\"\n  priority: low\n")
    let added = try Self.offline(daemon, ["replay"])
    #expect(added.standardOutput.contains("t.any  +3 would be added    R-1, R-2, R-3"), "\(added.standardOutput)")
    try FileManager.default.removeItem(atPath: daemon.directory.path + "/Rules/zz-any.yaml")

    // The files of seq 1–3 (the rule set's record and R-1's two alerts) gone.
    for number in 4...6 { try FileManager.default.removeItem(atPath: "\(path).\(number)") }
    let partial = try Self.offline(daemon, ["replay"])
    #expect(partial.status == 0, "\(partial.standardError)")
    #expect(
      partial.standardOutput.hasSuffix(
        "0 alerts added, 0 removed, 0 rules affected; 1 earlier report not compared (received before seq 4, "
          + "the alert log's first record kept)\n"), "\(partial.standardOutput)")
    let json = try Self.offline(daemon, ["replay", "--json"])
    #expect(json.standardOutput.contains(#""reports":2,"unreadable":0"#) && json.standardOutput.contains(#""not_compared":1,"added":0"#), "\(json.standardOutput)")

    // A file in the middle gone (seq 5, R-2's second alert): the reports received from the
    // record before it to the one after (R-2, R-3) are not compared, not shown as adding
    // the rule whose record is missing (audit 50).
    try FileManager.default.removeItem(atPath: "\(path).2")
    let middle = try Self.offline(daemon, ["replay"])
    #expect(middle.status == 0, "\(middle.standardError)")
    #expect(
      middle.standardOutput.hasSuffix(
        "0 alerts added, 0 removed, 0 rules affected; 1 earlier report not compared (received before seq 4, "
          + "the alert log's first record kept); 2 reports not compared (received while record 5 was written, "
          + "which the alert log no longer holds: see vigil verify)\n"), "\(middle.standardOutput)")
  }

  /// Outside the repository (an installed daemon), `VIGIL_CONFIG` names the configuration
  /// the offline commands read; a configuration named, either way, must be readable even
  /// when the socket is given.
  @Test func theConfigurationIsFoundFromVIGIL_CONFIG() throws {
    let daemon = try RunningDaemon(rules: DaemonEndToEndTests.rules)
    _ = try daemon.exchange([Self.report("V-1")])
    let named = try Self.vigil(daemon, ["status", "--config", "/nonexistent/vigild.yaml"])
    #expect(named.status == 2 && named.standardError.contains("/nonexistent/vigild.yaml"), "\(named.standardError)")
    expectCleanStop(daemon)
    let root = daemon.directory.path
    try Self.file(daemon, "site.yaml", "state_dir: \(root)/var/lib/vigil\nalerts:\n  path: \(root)/\(Self.alertLog)\n")
    let elsewhere = try TemporaryDirectory()
    let vigil = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("vigil").path
    let found = try ChildProcess.run("/usr/bin/env", ["VIGIL_CONFIG=\(root)/site.yaml", vigil, "verify"], in: elsewhere.path)
    #expect(found.status == 0 && found.standardOutput == "ok: 3 records, seq 1–3, chain intact\n", "\(found.standardOutput)\(found.standardError)")
    let missing = try ChildProcess.run("/usr/bin/env", ["VIGIL_CONFIG=\(root)/nosuch.yaml", vigil, "verify"], in: elsewhere.path)
    #expect(missing.status == 2 && missing.standardError.contains("nosuch.yaml"), "\(missing.standardError)")
  }

  @Test func replayShowsWhatARuleEditWouldChange() throws {
    let daemon = try RunningDaemon(rules: DaemonEndToEndTests.rules)
    _ = try daemon.exchange([Self.report("P-1"), Self.report("P-2", weapons: "tank")])
    expectCleanStop(daemon)
    // The edit: barrel bombs now also catch tanks, and the catch-all rule is gone.
    try Self.file(
      daemon, "Rules/weapons.yaml",
      """
      - rule: weapons.barrel_bomb
        desc: Barrel bombs or tanks.
        condition: weapons in (barrel_bomb, tank)
        output: "heavy weapons in %location.place"
        priority: critical
      """)
    let run = try Self.offline(daemon, ["replay"])
    #expect(run.status == 0, "\(run.standardError)")
    let lines = run.standardOutput.split(separator: "\n").map(String.init)
    #expect(lines.contains("weapons.any_attack   -2 would be removed  P-1, P-2"))
    #expect(lines.contains("weapons.barrel_bomb  +1 would be added    P-2"))
    #expect(lines.last?.contains("replayed 2 reports from var/lib/vigil/reports.jsonl") == true)
    #expect(lines.last?.hasSuffix("1 alert added, 2 removed, 2 rules affected") == true)
  }
}
