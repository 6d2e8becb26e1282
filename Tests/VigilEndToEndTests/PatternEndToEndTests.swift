import Foundation
import Testing
import VigilTestSupport

/// Patterns (docs/patterns.md) with the real daemon: counted across restarts and reloads,
/// never emitted twice, late reports said, `check` counting nothing, and the windows
/// rebuilt from the journal agreeing with what the daemon emitted live.
@Suite("Patterns with the real daemon: restarts, reloads, late reports, check, rebuild", .onThreadsOfTheirOwn)
struct PatternEndToEndTests {
  static let hospitalRule = """
    - rule: t.hospital
      desc: A hospital was attacked.
      condition: type = attack and target.type = hospital
      output: "Attack on a hospital in %{%location.governorate|an unknown governorate}"
      priority: high
    """

  static let pattern = """
    - pattern: t.repeated
      desc: Three attacks on hospitals in one governorate within 30 days.
      rules: [t.hospital]
      group_by: [location.governorate]
      count: 3
      window: 30d
      output: "%count attacks on hospitals in %group from %from to %to"
      priority: critical
      basis: ["UNSCR 2139 OP8"]
    """

  static let rules = ["t.yaml": hospitalRule + "\n" + pattern]

  static func attack(_ id: String, _ date: String, _ governorate: String = "Idlib") -> String {
    #"{"id":"\#(id)","type":"attack","occurred_at":"\#(date)T12:00:00Z","target":{"type":"hospital"},"location":{"governorate":"\#(governorate)"}}"#
  }

  static func object(_ line: String) -> [String: Any] {
    (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]) ?? [:]
  }

  static func alertRules(_ response: [String: Any]) -> [String] {
    ((response["alerts"] as? [[String: Any]]) ?? []).compactMap { $0["rule"] as? String }
  }

  /// The alert log's records.
  static func records(_ daemon: RunningDaemon) throws -> [[String: Any]] {
    let text = try String(contentsOfFile: daemon.directory.path + "/var/log/vigil/alerts.jsonl", encoding: .utf8)
    return text.split(separator: "\n").map { object(String($0)) }
  }

  @Test func aPatternSpansARestartAndIsNeverEmittedTwice() throws {
    var daemon = try RunningDaemon(rules: Self.rules)
    let directory = daemon.directory
    let first = try daemon.exchange([Self.attack("a", "2016-04-01"), Self.attack("b", "2016-04-02")]).map(Self.object)
    #expect(first.map(Self.alertRules) == [["t.hospital"], ["t.hospital"]])
    // The start's record counts the patterns with the rules, and says so.
    let loaded = try #require(try Self.records(daemon).first { $0["rule"] as? String == "vigil.ruleset_loaded" })
    #expect(
      (loaded["message"] as? String)?.hasSuffix("1 rule enabled of 1, 1 pattern enabled of 1; 1 added, 0 removed, 0 changed; patterns: 1 added, 0 removed, 0 changed")
        == true, "\(loaded)")
    expectCleanStop(daemon)

    daemon = try RunningDaemon(rules: Self.rules, directory: directory)
    let completing = try daemon.exchange(Self.attack("c", "2016-04-03"))
    #expect(Self.alertRules(completing) == ["t.hospital", "t.repeated"])
    let records = try Self.records(daemon)
    let record = try #require(records.last)
    #expect(record["rule"] as? String == "t.repeated" && record["report_id"] as? String == "c")
    #expect(record["message"] as? String == "3 attacks on hospitals in Idlib from 2016-04-01T12:00:00Z to 2016-04-03T12:00:00Z")
    let facts = try #require(record["pattern"] as? [String: Any])
    #expect(facts["reports"] as? [String] == ["a", "b", "c"])
    #expect(facts["group"] as? [String: String] == ["location.governorate": "Idlib"])
    // The seqs of the three alerts that make it, across the restart.
    let hospitalSeqs = records.filter { $0["rule"] as? String == "t.hospital" }.compactMap { $0["seq"] as? Int }
    #expect(facts["seqs"] as? [Int] == hospitalSeqs)
    #expect(completing["alerts"].flatMap { ($0 as? [[String: Any]])?.last?["seq"] as? Int } == record["seq"] as? Int)

    // Killed, not stopped: the windows come back from the journal, and the pattern, which
    // is in the alert log, is not emitted again by the next report of its window.
    daemon.stop(signal: SIGKILL)
    daemon = try RunningDaemon(rules: Self.rules, directory: directory)
    let status = try daemon.exchange(#"{"op":"status"}"#)
    let patterns = try #require(status["patterns"] as? [String: Any])
    #expect(patterns["rebuilt_from"] as? Int == 3 && patterns["groups"] as? Int == 1 && patterns["enabled"] as? Int == 1)
    #expect(Self.alertRules(try daemon.exchange(Self.attack("d", "2016-04-04"))) == ["t.hospital"])
    // The completing report sent again is a duplicate, and its answer names the pattern's seq.
    let again = try daemon.exchange(Self.attack("c", "2016-04-03"))
    #expect(again["duplicate"] as? Bool == true)
    #expect((again["alerts"] as? [[String: Any]])?.compactMap { $0["seq"] as? Int }.last == record["seq"] as? Int)
    // A full window after the pattern's last report, it fires again.
    let later = try daemon.exchange(
      [Self.attack("e", "2016-05-03"), Self.attack("f", "2016-05-04"), Self.attack("g", "2016-05-05")]
    ).map(Self.object)
    #expect(later.map(Self.alertRules) == [["t.hospital"], ["t.hospital"], ["t.hospital", "t.repeated"]])
    #expect(try Self.records(daemon).filter { $0["rule"] as? String == "t.repeated" }.count == 2)
    let verify = try Vigil.run(["verify", "var/log/vigil/alerts.jsonl"], in: directory.path)
    #expect(verify.status == 0 && verify.standardOutput.contains("chain intact"), "\(verify.standardOutput)")
    expectCleanStop(daemon)
  }

  /// A crash between the journal's sync and the alert log's (simulated as in
  /// DaemonEndToEndTests: `alerts.head` as before the commits, their records cut) lost
  /// a pattern's record with its reports' alerts: the next start writes them as a commit
  /// would — the pattern's record right after its report's alerts, its `seqs` naming the
  /// alerts written again — and the pattern is not emitted twice.
  @Test func aPatternRecordACrashCutIsWrittenAtTheNextStart() throws {
    var daemon = try RunningDaemon(rules: Self.rules)
    let directory = daemon.directory
    let headPath = directory.path + "/var/lib/vigil/alerts.head"
    let logPath = directory.path + "/var/log/vigil/alerts.jsonl"
    let headBefore = try Data(contentsOf: URL(fileURLWithPath: headPath))
    let live = try daemon.exchange([
      Self.attack("a", "2016-04-01"), Self.attack("b", "2016-04-02"), Self.attack("c", "2016-04-03"),
      Self.attack("d", "2016-04-03", "Aleppo"),
    ])
    #expect(Self.alertRules(Self.object(live[2])) == ["t.hospital", "t.repeated"])
    let emitted = try #require(try Self.records(daemon).first { $0["rule"] as? String == "t.repeated" })
    expectCleanStop(daemon)
    // Only the start's record reached the disk.
    let firstLine = try #require(try String(contentsOfFile: logPath, encoding: .utf8).split(separator: "\n").first)
    try (firstLine + "\n").write(toFile: logPath, atomically: true, encoding: .utf8)
    try headBefore.write(to: URL(fileURLWithPath: headPath))

    daemon = try RunningDaemon(rules: Self.rules, directory: directory)
    #expect(
      daemon.log().contains("wrote 4 alerts and 1 pattern record of 4 journalled reports that a crash had cut"),
      "\(daemon.log())")
    let records = try Self.records(daemon)
    #expect(
      records.map { "\($0["rule"] as? String ?? "") \($0["report_id"] as? String ?? "-")" } == [
        "vigil.ruleset_loaded -", "t.hospital a", "t.hospital b", "t.hospital c", "t.repeated c", "t.hospital d",
        "vigil.ruleset_loaded -",
      ])
    let record = records[4]
    #expect(record["message"] as? String == emitted["message"] as? String)
    #expect(record["time"] as? String == emitted["time"] as? String)
    let facts = try #require(record["pattern"] as? [String: Any])
    #expect(facts["seqs"] as? [Int] == [2, 3, 4] && facts["reports"] as? [String] == ["a", "b", "c"])
    #expect(facts["from"] as? String == "2016-04-01T12:00:00Z" && facts["count"] as? Int == 3)
    // Its report's alerts are one run again: a duplicate's answer names the pattern's too.
    let again = try daemon.exchange(Self.attack("c", "2016-04-03"))
    #expect(again["duplicate"] as? Bool == true)
    #expect((again["alerts"] as? [[String: Any]])?.compactMap { $0["seq"] as? Int } == [4, 5], "\(again)")
    // Held back like one emitted live: the next report of the window fires the rule alone.
    #expect(Self.alertRules(try daemon.exchange(Self.attack("e", "2016-04-04"))) == ["t.hospital"])
    let verify = try Vigil.run(["verify", "var/log/vigil/alerts.jsonl"], in: directory.path)
    #expect(verify.status == 0, "\(verify.standardOutput)")
    expectCleanStop(daemon)
    daemon = try RunningDaemon(rules: Self.rules, directory: directory)
    #expect(!daemon.log().contains("a crash had cut"), "\(daemon.log())")
    let replay = try Vigil.run(["replay"], in: directory.path)
    #expect(replay.standardOutput.contains("patterns: 0 added, 0 removed"), "\(replay.standardOutput)")
    expectCleanStop(daemon)
  }

  @Test func aReloadBringsPatternsThatCountTheReportsBeforeIt() throws {
    let daemon = try RunningDaemon(rules: ["t.yaml": Self.hospitalRule])
    _ = try daemon.exchange([Self.attack("a", "2016-04-01"), Self.attack("b", "2016-04-02", "Aleppo")])
    _ = try daemon.exchange([Self.attack("c", "2016-04-03")])
    try (Self.hospitalRule + "\n" + Self.pattern).write(
      toFile: daemon.directory.path + "/Rules/t.yaml", atomically: true, encoding: .utf8)
    let reload = try daemon.exchange(#"{"op":"reload"}"#)
    #expect(reload["reloaded"] as? Bool == true)
    let status = try daemon.exchange(#"{"op":"status"}"#)
    let patterns = try #require(status["patterns"] as? [String: Any])
    #expect(patterns["enabled"] as? Int == 1 && patterns["rebuilt_from"] as? Int == 3)
    // A reload does not emit what the old reports would have completed; the next report
    // counts with them.
    let completing = try daemon.exchange(Self.attack("d", "2016-04-04"))
    #expect(Self.alertRules(completing) == ["t.hospital", "t.repeated"])
    let record = try #require(try Self.records(daemon).last)
    #expect((record["pattern"] as? [String: Any])?["reports"] as? [String] == ["a", "c", "d"])
    // Its record counted the pattern apart from the rules, and so does the one that takes it away.
    try Self.hospitalRule.write(toFile: daemon.directory.path + "/Rules/t.yaml", atomically: true, encoding: .utf8)
    #expect(try daemon.exchange(#"{"op":"reload"}"#)["reloaded"] as? Bool == true)
    let loaded = try Self.records(daemon).filter { $0["rule"] as? String == "vigil.ruleset_loaded" }
      .compactMap { $0["message"] as? String }
    #expect(loaded.count == 3, "\(loaded)")
    #expect(loaded.dropFirst().first?.hasSuffix("; 0 added, 0 removed, 0 changed; patterns: 1 added, 0 removed, 0 changed") == true, "\(loaded)")
    #expect(loaded.last?.hasSuffix("1 rule enabled of 1; 0 added, 0 removed, 0 changed; patterns: 0 added, 1 removed, 0 changed") == true, "\(loaded)")
    expectCleanStop(daemon)
  }

  /// The windows are rebuilt from every journal kept, not only the one being written: after
  /// the journal is moved aside (logrotate's way, then `reopen`), a reload and a restart
  /// still count its reports. And the alert log's rotated files are read however many
  /// there are (logrotate keeps more than `alerts.keep`): a duplicate's answer names its
  /// alerts, a pattern's record their seqs.
  @Test func theWindowsAndTheIndexReadEveryRotatedFile() throws {
    var daemon = try RunningDaemon(rules: Self.rules)
    let directory = daemon.directory
    let journal = directory.path + "/var/lib/vigil/reports.jsonl"
    let log = directory.path + "/var/log/vigil/alerts.jsonl"
    let first = try daemon.exchange([Self.attack("a", "2016-04-01"), Self.attack("b", "2016-04-02")]).map(Self.object)
    let seqs = first.compactMap { ($0["alerts"] as? [[String: Any]])?.first?["seq"] as? Int }
    #expect(seqs.count == 2)
    try FileManager.default.moveItem(atPath: journal, toPath: journal + ".1")
    // Seven rotations of the alert log (alerts.keep is 5): a's and b's alerts end in .7.
    for _ in 1...7 {
      for number in stride(from: 6, through: 1, by: -1) where FileManager.default.fileExists(atPath: "\(log).\(number)") {
        try FileManager.default.moveItem(atPath: "\(log).\(number)", toPath: "\(log).\(number + 1)")
      }
      try FileManager.default.moveItem(atPath: log, toPath: log + ".1")
      #expect(try daemon.exchange(#"{"op":"reopen"}"#)["op"] as? String == "reopen")
    }
    #expect(FileManager.default.fileExists(atPath: log + ".7"))
    // A reload that changes what the pattern counts by rebuilds the windows: from both journals.
    try (Self.hospitalRule.replacingOccurrences(of: "Attack on a hospital", with: "A hospital attacked") + "\n"
      + Self.pattern).write(toFile: directory.path + "/Rules/t.yaml", atomically: true, encoding: .utf8)
    #expect(try daemon.exchange(#"{"op":"reload"}"#)["reloaded"] as? Bool == true)
    let patterns = try #require(try daemon.exchange(#"{"op":"status"}"#)["patterns"] as? [String: Any])
    #expect(patterns["rebuilt_from"] as? Int == 2 && patterns["groups"] as? Int == 1, "\(patterns)")
    let completing = try daemon.exchange(Self.attack("c", "2016-04-03"))
    #expect(Self.alertRules(completing) == ["t.hospital", "t.repeated"], "\(completing)")
    let record = try #require(try Self.records(daemon).last)
    let facts = try #require(record["pattern"] as? [String: Any])
    #expect(facts["reports"] as? [String] == ["a", "b", "c"])
    let cSeq = try #require((completing["alerts"] as? [[String: Any]])?.first?["seq"] as? Int)
    #expect(facts["seqs"] as? [Int] == seqs + [cSeq], "\(facts)")
    expectCleanStop(daemon)

    // After a restart: the windows again from both journals, and a's alerts found in .7.
    daemon = try RunningDaemon(rules: Self.rules, directory: directory)
    let restarted = try #require(try daemon.exchange(#"{"op":"status"}"#)["patterns"] as? [String: Any])
    #expect(restarted["rebuilt_from"] as? Int == 3 && restarted["groups"] as? Int == 1, "\(restarted)")
    let again = try daemon.exchange(Self.attack("a", "2016-04-01"))
    #expect(again["duplicate"] as? Bool == true)
    #expect((again["alerts"] as? [[String: Any]])?.compactMap { $0["seq"] as? Int } == [seqs[0]], "\(again)")
    // The pattern is in the log: the next report of its window does not emit it again.
    #expect(Self.alertRules(try daemon.exchange(Self.attack("d", "2016-04-04"))) == ["t.hospital"])
    // `vigil replay` counts as the rebuild does, the rotated journal first: the set in force
    // all along adds and removes no pattern.
    let replay = try Vigil.run(["replay"], in: directory.path)
    #expect(replay.standardOutput.contains("patterns: 0 added, 0 removed"), "\(replay.standardOutput)")
    expectCleanStop(daemon)
  }

  /// A copy of the journal beside it (a backup named as logrotate names a rotated file, or
  /// logrotate's `copy`) is not read as more reports: counted twice, they completed the
  /// pattern during the rebuild, and the real third report then fired nothing.
  @Test func aCopyOfTheJournalCountsNothingTwice() throws {
    var daemon = try RunningDaemon(rules: Self.rules)
    let directory = daemon.directory
    let journal = directory.path + "/var/lib/vigil/reports.jsonl"
    _ = try daemon.exchange([Self.attack("a", "2016-04-01"), Self.attack("b", "2016-04-02")])
    expectCleanStop(daemon)
    try FileManager.default.copyItem(atPath: journal, toPath: journal + "-20260101")
    daemon = try RunningDaemon(rules: Self.rules, directory: directory)
    let patterns = try #require(try daemon.exchange(#"{"op":"status"}"#)["patterns"] as? [String: Any])
    #expect(patterns["rebuilt_from"] as? Int == 2, "\(patterns)")
    #expect(Self.alertRules(try daemon.exchange(Self.attack("c", "2016-04-03"))) == ["t.hospital", "t.repeated"])
    expectCleanStop(daemon)
  }

  /// A reload that changes only rules no pattern counts keeps the windows as they are (no
  /// journal read); one that changes what a pattern counts by rebuilds them.
  @Test func aReloadKeepsTheWindowsUnlessWhatThePatternsCountByChanged() throws {
    let daemon = try RunningDaemon(rules: Self.rules)
    let rules = daemon.directory.path + "/Rules/"
    _ = try daemon.exchange([Self.attack("a", "2016-04-01"), Self.attack("b", "2016-04-02")])
    func patternStatus() throws -> [String: Any] {
      try #require(try daemon.exchange(#"{"op":"status"}"#)["patterns"] as? [String: Any])
    }
    func reload() throws {
      let reload = try daemon.exchange(#"{"op":"reload"}"#)
      #expect(reload["reloaded"] as? Bool == true, "\(reload)")
    }
    // An unrelated rule, in a file of its own: nothing is rebuilt (rebuilt_from stays the
    // start's 0), and the window goes on.
    try """
      - rule: t.unrelated
        desc: Any detention.
        condition: type = detention
        output: "a detention"
        priority: low
      """.write(toFile: rules + "u.yaml", atomically: true, encoding: .utf8)
    try reload()
    #expect(try patternStatus()["rebuilt_from"] as? Int == 0)
    #expect(try patternStatus()["groups"] as? Int == 1)
    let completing = try daemon.exchange(Self.attack("c", "2016-04-03"))
    #expect(Self.alertRules(completing) == ["t.hospital", "t.repeated"])
    #expect((try Self.records(daemon).last?["pattern"] as? [String: Any])?["reports"] as? [String] == ["a", "b", "c"])
    // The counted rule changed (a different output counts as a change, to be safe): the
    // windows are rebuilt from the three journalled reports, and the pattern already in
    // the alert log is not emitted again.
    try (Self.hospitalRule.replacingOccurrences(of: "Attack on a hospital", with: "A hospital attacked") + "\n"
      + Self.pattern).write(toFile: rules + "t.yaml", atomically: true, encoding: .utf8)
    try reload()
    #expect(try patternStatus()["rebuilt_from"] as? Int == 3)
    #expect(Self.alertRules(try daemon.exchange(Self.attack("d", "2016-04-04"))) == ["t.hospital"])
    expectCleanStop(daemon)
  }

  @Test func aReportLaterThanTheHorizonIsRecordedSaidAndNotCounted() throws {
    let directory = try TemporaryDirectory()
    try """
      rules: {paths: [Rules], lateness_horizon_days: 10}
      http: {listen: "off"}
      """.write(toFile: directory.path + "/vigild.yaml", atomically: true, encoding: .utf8)
    let daemon = try RunningDaemon(rules: Self.rules, arguments: ["--config", "vigild.yaml"], directory: directory)
    let answers = try daemon.exchange([
      Self.attack("a", "2016-04-29"), Self.attack("b", "2016-04-28"), Self.attack("late", "2016-04-10"),
    ]).map(Self.object)
    let late = answers[2]
    #expect(late["ok"] as? Bool == true && Self.alertRules(late) == ["t.hospital"])
    let warnings = late["warnings"] as? [String] ?? []
    #expect(warnings.contains { $0.contains("more than 10 days") && $0.contains("does not count toward patterns") }, "\(warnings)")
    #expect((answers[0]["warnings"] as? [String])?.isEmpty == true)
    // `check` warns too, and counts nothing.
    let checked = try daemon.exchange(#"{"op":"check","report":\#(Self.attack("late2", "2016-04-11"))}"#)
    // A check records nothing: its warning says what submitting the report would do.
    #expect(
      (checked["warnings"] as? [String] ?? []).contains {
        $0.contains("submitted, the report would be recorded") && $0.contains("would not count toward patterns")
      }, "\(checked)")
    let patterns = try #require(try daemon.exchange(#"{"op":"status"}"#)["patterns"] as? [String: Any])
    #expect(patterns["late"] as? Int == 1 && patterns["horizon_days"] as? Int == 10)
    // The late report did not count: a third in the window is still needed.
    #expect(Self.alertRules(try daemon.exchange(Self.attack("c", "2016-04-27"))) == ["t.hospital", "t.repeated"])
    expectCleanStop(daemon)
  }

  @Test func checkSaysWhatAReportWouldCompleteAndCountsNothing() throws {
    let daemon = try RunningDaemon(rules: Self.rules)
    _ = try daemon.exchange([Self.attack("a", "2016-04-01"), Self.attack("b", "2016-04-02")])
    let check = try daemon.exchange(#"{"op":"check","report":\#(Self.attack("c", "2016-04-03"))}"#)
    let alerts = try #require(check["alerts"] as? [[String: Any]])
    #expect(alerts.compactMap { $0["rule"] as? String } == ["t.hospital", "t.repeated"])
    #expect(alerts.allSatisfy { $0["seq"] == nil }, "a check records nothing, so no alert has a seq")
    #expect(alerts.last?["message"] as? String == "3 attacks on hospitals in Idlib from 2016-04-01T12:00:00Z to 2016-04-03T12:00:00Z")
    // Twice: the first check changed no window.
    let twice = try daemon.exchange(#"{"op":"check","report":\#(Self.attack("c", "2016-04-03"))}"#)
    #expect(Self.alertRules(twice) == ["t.hospital", "t.repeated"])
    #expect(Self.alertRules(try daemon.exchange(Self.attack("c", "2016-04-03"))) == ["t.hospital", "t.repeated"])
    expectCleanStop(daemon)
  }

  /// A `check` pipelined after `submit`s on one connection counts them, as the order of
  /// the requests says, though they are still being committed when it is read.
  @Test func aCheckSeesTheSubmitsSentBeforeItOnItsConnection() throws {
    let daemon = try RunningDaemon(rules: Self.rules)
    for round in 0..<5 {
      let place = "Gov\(round)"
      let answers = try daemon.exchange([
        Self.attack("p\(round)a", "2016-04-01", place), Self.attack("p\(round)b", "2016-04-02", place),
        #"{"op":"check","report":\#(Self.attack("p\(round)c", "2016-04-03", place))}"#,
      ])
      try #require(answers.count == 3)
      #expect(Self.alertRules(Self.object(answers[2])) == ["t.hospital", "t.repeated"], "round \(round): \(answers[2])")
    }
    expectCleanStop(daemon)
  }

  /// A recorded report checked again is not counted twice: submitting it would count
  /// nothing (a duplicate), so `check` says no pattern, where counting it again with the
  /// one already held would make three of two.
  @Test func checkingARecordedReportAgainDoesNotCountItTwice() throws {
    let daemon = try RunningDaemon(rules: Self.rules)
    _ = try daemon.exchange([Self.attack("a", "2016-04-01"), Self.attack("b", "2016-04-02")])
    let again = try daemon.exchange(#"{"op":"check","report":\#(Self.attack("b", "2016-04-02"))}"#)
    #expect(Self.alertRules(again) == ["t.hospital"], "\(again)")
    // Another content under the same id (an id_conflict if submitted) is not counted either.
    let conflict = try daemon.exchange(#"{"op":"check","report":\#(Self.attack("b", "2016-04-03"))}"#)
    #expect(Self.alertRules(conflict) == ["t.hospital"], "\(conflict)")
    // Nor in another group, where it would make the third: its id is recorded already.
    _ = try daemon.exchange([Self.attack("h1", "2016-04-01", "Homs"), Self.attack("h2", "2016-04-02", "Homs")])
    let elsewhere = try daemon.exchange(#"{"op":"check","report":\#(Self.attack("b", "2016-04-03", "Homs"))}"#)
    #expect(Self.alertRules(elsewhere) == ["t.hospital"], "\(elsewhere)")
    let resubmitted = try daemon.exchange(Self.attack("b", "2016-04-02"))
    #expect(resubmitted["duplicate"] as? Bool == true && (resubmitted["alerts"] as? [Any])?.count == 1, "\(resubmitted)")
    // A new report still completes the pattern, in a check as in a submit.
    #expect(Self.alertRules(try daemon.exchange(#"{"op":"check","report":\#(Self.attack("c", "2016-04-03"))}"#)) == ["t.hospital", "t.repeated"])
    expectCleanStop(daemon)
  }

  /// A pattern record whose reports the journal read does not all hold (a `--journal` of
  /// part of them, a rotated journal compressed) is not compared: the replay has not seen
  /// what made it, so it is neither "removed" nor lost from the count (audit 25).
  @Test func replayLeavesOutPatternRecordsOfReportsItDidNotRead() throws {
    let daemon = try RunningDaemon(rules: Self.rules)
    _ = try daemon.exchange([
      Self.attack("a", "2016-04-01"), Self.attack("b", "2016-04-02"), Self.attack("c", "2016-04-03"),
    ])
    #expect(try Self.records(daemon).contains { $0["pattern"] != nil })
    expectCleanStop(daemon)
    let journal = try String(contentsOfFile: daemon.directory.path + "/var/lib/vigil/reports.jsonl", encoding: .utf8)
    let first = journal.split(separator: "\n")[0] + "\n"
    try first.write(toFile: daemon.directory.path + "/part.jsonl", atomically: true, encoding: .utf8)
    let part = try Vigil.run(["replay", "--json", "--journal", "part.jsonl"], in: daemon.directory.path)
    #expect(part.status == 0, "\(part.standardError)")
    let summary = Self.object(String(part.standardOutput.split(separator: "\n").last ?? ""))
    #expect(summary["reports"] as? Int == 1 && summary["removed"] as? Int == 0, "\(part.standardOutput)")
    #expect(summary["patterns_removed"] as? Int == 0 && summary["patterns_not_compared"] as? Int == 1, "\(part.standardOutput)")
    let text = try Vigil.run(["replay", "--journal", "part.jsonl"], in: daemon.directory.path)
    #expect(!text.standardOutput.contains("would be removed"), "\(text.standardOutput)")
    #expect(text.standardOutput.contains("patterns: 0 added, 0 removed (1 recorded not compared"), "\(text.standardOutput)")
    // The whole journal compares it, and finds it unchanged.
    let whole = Self.object(String(try Vigil.run(["replay", "--json"], in: daemon.directory.path).standardOutput.split(separator: "\n").last ?? ""))
    #expect(whole["patterns_removed"] as? Int == 0 && whole["patterns_not_compared"] as? Int == 0, "\(whole)")
  }

  /// 100,000 generated reports (the benchmark's workload) through the shipped rules; then
  /// `vigil replay`, which counts the journal from nothing as a rebuild does, must find the
  /// very patterns the daemon emitted live, no more and no fewer.
  @Test(.timeLimit(.minutes(10))) func rebuildingFromTheJournalGivesThePatternsEmittedLive() throws {
    let generator = try #require(
      SharedData.folder.map { $0 + "/../tools/gen_reports.py" }, "\(SharedData.missing("../tools/gen_reports.py"))")
    // Under the sanitizers (scripts/sanitize) the daemon runs many times slower: a fifth.
    let count = ProcessInfo.processInfo.environment["VIGIL_SANITIZER"] == nil ? 100_000 : 20_000
    let generated = try ChildProcess.run("/usr/bin/python3", [generator, String(count), "18"])
    #expect(generated.status == 0)
    let reports = generated.standardOutput.split(separator: "\n").map(String.init)
    #expect(reports.count == count)
    let daemon = try RunningDaemon(rules: TerritorialControlReplayTests.shippedRules(), arguments: ["--durability", "none"])
    var answered = 0
    for start in stride(from: 0, to: reports.count, by: 10_000) {
      answered += try daemon.exchange(Array(reports[start..<min(start + 10_000, reports.count)])).count
    }
    #expect(answered == count)
    let records = try Self.records(daemon)
    let emitted = records.filter { $0["pattern"] != nil }
    #expect(emitted.count >= count / 1000, "\(emitted.count) patterns emitted live")
    let status = try daemon.exchange(#"{"op":"status"}"#)
    expectCleanStop(daemon)

    let replay = try Vigil.run(["replay", "--json"], in: daemon.directory.path)
    #expect(replay.status == 0, "\(replay.standardError)")
    let summary = Self.object(String(replay.standardOutput.split(separator: "\n").last ?? ""))
    #expect(summary["reports"] as? Int == count)
    #expect(summary["patterns_added"] as? Int == 0 && summary["patterns_removed"] as? Int == 0, "\(replay.standardOutput.suffix(2000))")
    // And a restart rebuilds the same windows: as many groups as the daemon held.
    // It rebuilds the duplicate index and the windows from the whole journal before it
    // listens: on a loaded machine, in a debug build, that takes more than the usual 30 s.
    let restarted = try RunningDaemon(
      rules: TerritorialControlReplayTests.shippedRules(), directory: daemon.directory, readyWithin: 600)
    let rebuilt = try restarted.exchange(#"{"op":"status"}"#)
    let before = try #require(status["patterns"] as? [String: Any])
    let after = try #require(rebuilt["patterns"] as? [String: Any])
    #expect(after["rebuilt_from"] as? Int == count)
    #expect(after["groups"] as? Int == before["groups"] as? Int && after["newest"] as? String == before["newest"] as? String)
    expectCleanStop(restarted)
  }
}
