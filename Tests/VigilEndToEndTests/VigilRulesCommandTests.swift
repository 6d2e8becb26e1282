import Foundation
import Testing
import VigilTestSupport

/// The real `vigil rules lint|test` on rule directories made for each test.
@Suite("vigil rules lint and test", .onThreadsOfTheirOwn)
struct VigilRulesCommandTests {
  static let good = """
    - list: un_agencies
      items: [OCHA, WFP]
    - rule: access.denied
      desc: A UN request was denied.
      condition: type = access and access.requested_by in (un_agencies) and access.status = denied
      output: "%access.requested_by denied"
      priority: high
      examples:
        match: [{type: access, access: {requested_by: WFP, status: denied}}]
        no_match: [{type: access, access: {requested_by: WFP, status: approved}}]
    """

  func directory(_ files: [String: String]) throws -> TemporaryDirectory {
    let directory = try TemporaryDirectory()
    try FileManager.default.createDirectory(atPath: directory.path + "/R", withIntermediateDirectories: false)
    for (name, text) in files {
      try text.write(toFile: directory.path + "/R/" + name, atomically: true, encoding: .utf8)
    }
    return directory
  }

  @Test func aGoodSetPassesBoth() throws {
    let directory = try directory(["access.yaml": Self.good, "README.md": "not a rule file", ".hidden.yaml": "{"])
    let lint = try Vigil.run(["rules", "lint", "R"], in: directory.path)
    #expect(lint.status == 0)
    #expect(lint.standardOutput.hasPrefix("ok: 1 rule (1 enabled) in 1 file; revision sha256:"))
    let test = try Vigil.run(["rules", "test", "R"], in: directory.path)
    #expect(test.status == 0)
    #expect(test.standardOutput.contains("ok: 1 rule (1 enabled) in 1 file; all 2 examples pass; revision sha256:"))
  }

  /// One directory given twice (here once with a trailing slash) is named, not taken for
  /// every rule in it defined twice "at" one place.
  @Test func aDirectoryGivenTwiceIsNamed() throws {
    let directory = try directory(["access.yaml": Self.good])
    let lint = try Vigil.run(["rules", "lint", "R", "R/"], in: directory.path)
    #expect(lint.status == 1)
    // A problem of the set: printed as the others are, with the summary, in JSON too.
    #expect(
      lint.standardOutput == "the rules directory R/ is given twice (also as R)\n"
        + "rejected: 1 error; vigild would not start with it, and a running vigild would keep its old rules\n",
      "\(lint.standardOutput)\(lint.standardError)")
    let json = try Vigil.run(["rules", "lint", "--json", "R", "R/"], in: directory.path)
    #expect(json.status == 1)
    let lines = json.standardOutput.split(separator: "\n")
    #expect(lines.count == 2 && lines[0].contains(#""severity":"error""#) && lines[0].contains("given twice"), "\(lines)")
    #expect(lines.last == #"{"ok":false,"errors":1,"failed_examples":0,"files":0}"#, "\(lines)")
  }

  @Test func lintPrintsEveryErrorWithItsPlaceAndExitsOne() throws {
    let broken =
      Self.good.replacingOccurrences(of: "and access.status = denied", with: "and access.status = refused")
      + "\n- macro: m\n  condition: type =\n"
    let directory = try directory(["access.yaml": broken, "other.yaml": "- list: l\n  items: [a]\n"])
    let lint = try Vigil.run(["rules", "lint", "R"], in: directory.path)
    #expect(lint.status == 1)
    let lines = lint.standardOutput.split(separator: "\n").map(String.init)
    #expect(lines.count == 3)
    #expect(lines[0].hasPrefix("R/access.yaml:5:89: rule access.denied: 'refused' is not a value of access.status"))
    #expect(lines[1] == "R/access.yaml:12:20: macro m: expected a value after '=', got the end of the condition")
    #expect(lines[2] == "rejected: 2 errors in 1 of 2 files; vigild would not start with it, and a running vigild would keep its old rules")
  }

  /// Warnings are worth seeing while errors are mended too.
  @Test func aRejectedSetStillShowsItsWarnings() throws {
    let both = Self.good.replacingOccurrences(of: "denied\"", with: "denied %access.request_id\"")
      + "\n- macro: m\n  condition: type =\n"
    let directory = try directory(["access.yaml": both])
    let lint = try Vigil.run(["rules", "lint", "R"], in: directory.path)
    #expect(lint.status == 1)
    let lines = lint.standardOutput.split(separator: "\n").map(String.init)
    #expect(lines.count == 3)
    #expect(lines[0].hasPrefix("R/access.yaml:12:20: macro m:"))
    #expect(lines[1].hasPrefix("R/access.yaml:9:") && lines[1].contains("warning: rule access.denied: example match[0]"))
  }

  @Test func testReportsFailingExamples() throws {
    let failing = Self.good.replacingOccurrences(of: "status: approved", with: "status: denied")
    let directory = try directory(["access.yaml": failing])
    // Both run the examples, as the daemon does at every load.
    for command in ["lint", "test"] {
      let run = try Vigil.run(["rules", command, "R"], in: directory.path)
      #expect(run.status == 1, "\(command)")
      #expect(
        run.standardOutput.contains(
          "R/access.yaml:10:16: rule access.denied: example no_match[0] matches, but should not match"), "\(command)")
      #expect(run.standardOutput.contains("rejected: 1 example failed in 1 file"), "\(command)")
    }
  }

  @Test func jsonGivesOneObjectPerLine() throws {
    let directory = try directory([
      "access.yaml": Self.good.replacingOccurrences(of: "denied\"", with: "denied %access.request_id\"")
    ])
    let lint = try Vigil.run(["rules", "lint", "--json", "R"], in: directory.path)
    #expect(lint.status == 0)
    let lines = lint.standardOutput.split(separator: "\n")
    #expect(lines.count == 2)
    for line in lines {
      #expect((try? JSONSerialization.jsonObject(with: Data(line.utf8))) is [String: Any])
    }
    let warning = try #require(try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
    let summary = try #require(try JSONSerialization.jsonObject(with: Data(lines[1].utf8)) as? [String: Any])
    #expect(summary["examples"] as? Int == 2)
    #expect(warning["severity"] as? String == "warning")
    #expect(warning["line"] as? Int == 9)
    #expect((warning["message"] as? String)?.contains("shows <none> for %access.request_id") == true)
  }

  @Test func withoutDirectoriesTheConfigurationsAreUsed() throws {
    let directory = try directory(["access.yaml": Self.good])
    try "rules:\n  paths: [R]\n".write(toFile: directory.path + "/v.yaml", atomically: true, encoding: .utf8)
    let lint = try Vigil.run(["rules", "lint", "--config", "v.yaml"], in: directory.path)
    #expect(lint.status == 0)
    #expect(lint.standardOutput.hasPrefix("ok: 1 rule"))
  }

  /// The configured set is held to what vigild checks at start, the enabled sources' and
  /// sinks' settings too: lint said "ok" for a configuration vigild refused.
  @Test func theConfiguredSetsPluginSettingsAreChecked() throws {
    let directory = try directory(["access.yaml": Self.good])
    try "rules:\n  paths: [R]\nplugins:\n  webhook: {}\n  spool: {folder: ''}\n".write(
      toFile: directory.path + "/v.yaml", atomically: true, encoding: .utf8)
    let lint = try Vigil.run(["rules", "lint", "--config", "v.yaml"], in: directory.path)
    #expect(lint.status == 1)
    #expect(
      lint.standardOutput.hasPrefix(
        "plugins.spool: folder is required: the spool folder to watch (vigild would not start on it)\n"
          + "plugins.webhook: url is required"), "\(lint.standardOutput)")
    // Every problem of a plugin's settings, not its first alone.
    #expect(lint.standardOutput.contains("\nplugins.webhook: secret_file is required"), "\(lint.standardOutput)")
    // The rules are fine: a reload would take them, which the summary does not deny.
    #expect(
      lint.standardOutput.hasSuffix(
        "rejected: 3 errors in the configuration; vigild would not start on it (the rules load: a running vigild's "
          + "reload would take them)\n"), "\(lint.standardOutput)")
    let daemon = try Vigild.run(["--config", "v.yaml", "--http", "off"], in: directory.path)
    #expect(daemon.status == 1, "the daemon refuses it too")
    // Given directories, lint checks the rules alone.
    #expect(try Vigil.run(["rules", "lint", "--config", "v.yaml", "R"], in: directory.path).status == 0)
  }

  @Test func pluginsAreEnabledByTheConfiguration() throws {
    let rules = """
      - designation: isil
        names: [Daesh, داعش]
      - rule: designated.perpetrator
        desc: A designated group acted.
        condition: designated(perpetrator)
        output: "%perpetrator.name"
        priority: high
        examples:
          match: [{type: attack, perpetrator: {name: لداعش}}]
      """
    let directory = try directory(["groups.yaml": rules])
    let enabled = try Vigil.run(["rules", "test", "R"], in: directory.path)
    #expect(enabled.status == 0)
    try "plugins: {}\n".write(toFile: directory.path + "/none.yaml", atomically: true, encoding: .utf8)
    let disabled = try Vigil.run(["rules", "lint", "--config", "none.yaml", "R"], in: directory.path)
    #expect(disabled.status == 1)
    #expect(
      disabled.standardOutput.contains(
        "R/groups.yaml:1:3: `designation` items come from the designations plugin, which the configuration does not "
          + "enable (a configuration that names plugins enables those it names only: add `designations: {}` under `plugins`)"),
      "\(disabled.standardOutput)")
    #expect(
      disabled.standardOutput.contains(
        "designated(…) comes from the designations plugin, which the configuration does not enable (add "
          + "`designations: {}` under `plugins`)"), "\(disabled.standardOutput)")
  }

  /// A rule file whose name is not UTF-8 (Latin-1 "règles.yaml") cannot be left out
  /// without a word: the set is refused, naming it — with the errors of the other files
  /// and of its own, all in one round (audit 28: it hid them until it was renamed).
  @Test func aRuleFileWhoseNameIsNotUTF8IsNamedNotSkipped() throws {
    let broken = "- rule: a.b\n  desc: x\n  condition: location.palce = x\n  output: x\n  priority: info\n"
    let directory = try directory(["good.yaml": Self.good, "other.yaml": broken.replacingOccurrences(of: "a.b", with: "a.c")])
    let name: [UInt8] = Array((directory.path + "/R/r").utf8) + [0xE8] + Array("gles.yaml".utf8) + [0]
    let descriptor = name.withUnsafeBufferPointer { bytes in
      bytes.baseAddress!.withMemoryRebound(to: CChar.self, capacity: bytes.count) { open($0, O_WRONLY | O_CREAT, 0o644) }
    }
    try #require(descriptor >= 0)
    _ = Array(broken.utf8).withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
    close(descriptor)
    let lint = try Vigil.run(["rules", "lint", "R"], in: directory.path)
    #expect(lint.status == 1, "\(lint.standardOutput)\(lint.standardError)")
    #expect(
      lint.standardOutput.contains("gles.yaml:1:1: the rule file's name is not valid UTF-8")
        && lint.standardOutput.hasSuffix("a running vigild would keep its old rules\n"),
      "\(lint.standardOutput)\(lint.standardError)")
    // Its own mistake and the other file's, in the same round.
    #expect(lint.standardOutput.contains("gles.yaml:3:14: rule a.b: unknown field location.palce"), "\(lint.standardOutput)")
    #expect(lint.standardOutput.contains("other.yaml:3:14: rule a.c: unknown field location.palce"), "\(lint.standardOutput)")
  }

  @Test func misuseAndUnreadableDirectoriesExitTwo() throws {
    let directory = try directory([:])
    let missing = try Vigil.run(["rules", "lint", "nowhere"], in: directory.path)
    #expect(missing.status == 2)
    #expect(missing.standardError == "vigil: cannot read the rules directory nowhere: no such directory\n")
    let misuse = try Vigil.run(["rules", "lint", "--frobnicate"], in: directory.path)
    #expect(misuse.status == 2)
  }
}
