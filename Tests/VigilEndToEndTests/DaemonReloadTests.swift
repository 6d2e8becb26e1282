import Foundation
import NIOConcurrencyHelpers
import Testing
import VigilTestSupport

/// Editing rules while the real `vigild` runs (docs/rules.md, "Reloading"): inotify, polling,
/// symlinks, SIGHUP, and a storm of edits under load.
@Suite("vigild end to end: rule files edited while it runs", .onThreadsOfTheirOwn)
struct DaemonReloadTests {
  static let rules = DaemonEndToEndTests.rules

  static func rule(_ id: String, condition: String = "type = attack", priority: String = "medium") -> String {
    "- rule: \(id)\n  desc: A test rule.\n  condition: \(condition)\n  output: \"\(id) fired\"\n  priority: \(priority)\n"
  }

  /// The rule ids a `check` of an attack report gives now.
  static func firing(_ daemon: RunningDaemon) throws -> Set<String> {
    let answer = try daemon.exchange(#"{"op":"check","report":\#(DaemonEndToEndTests.report("W"))}"#)
    return Set(((answer["alerts"] as? [[String: Any]]) ?? []).compactMap { $0["rule"] as? String })
  }

  static func write(_ text: String, to path: String) throws {
    // In place: open, truncate, write (as `echo > file` and many editors do).
    let handle = try #require(FileHandle(forWritingAtPath: path) ?? {
      _ = FileManager.default.createFile(atPath: path, contents: nil)
      return FileHandle(forWritingAtPath: path)
    }())
    try handle.truncate(atOffset: 0)
    try handle.write(contentsOf: Data(text.utf8))
    try handle.close()
  }

  static func json(_ line: String) -> [String: Any] {
    (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]) ?? [:]
  }

  static func alertLog(_ daemon: RunningDaemon) throws -> [[String: Any]] {
    try alertLog(in: daemon.directory.path)
  }

  /// The alert log of a daemon started in `directory` with the default paths.
  static func alertLog(in directory: String) throws -> [[String: Any]] {
    let text = try String(contentsOfFile: directory + "/var/log/vigil/alerts.jsonl", encoding: .utf8)
    return text.split(separator: "\n").compactMap {
      try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
    }
  }

  /// A rule set's warnings reach vigild's log when it loads the set, at a reload as at the
  /// start: the slow regular expression's above all (`vigil rules lint` alone showed it).
  @Test func aRuleSetsWarningsAreLoggedWhenItLoads() throws {
    let slow = Self.rule("slow.regex", condition: "target.name matches '(a+)+b'")
    let daemon = try RunningDaemon(rules: Self.rules.merging(["slow.yaml": slow]) { $1 })
    #expect(daemon.log().contains("on start: warning: "), "\(daemon.log())")
    #expect(daemon.log().contains("rule slow.regex: the regular expression repeats a group"), "\(daemon.log())")
    try Self.rule("slow.other", condition: "target.name matches '(b+)+c'").write(
      toFile: daemon.directory.path + "/Rules/other.yaml", atomically: true, encoding: .utf8)
    #expect(eventually { daemon.log().contains("rule slow.other: the regular expression repeats a group") }, "\(daemon.log())")
    expectCleanStop(daemon)
  }

  /// The file defining a list removed, a rule of another file compares its name as text:
  /// the set loads, as RULES.md has it, and its warning is said where the author and the
  /// analysts look — the reload's answer, `status`, and the `vigil.ruleset_loaded` record —
  /// not only in vigild's own log (audit 53).
  @Test func aSetLoadedWithWarningsSaysThemInTheRecordStatusAndTheReload() throws {
    let list = "- list: places_x\n  items: [Q1, Q3]\n"
    let user = Self.rule("t.listed", condition: "type = attack and location.place in (places_x)")
    let directory = try TemporaryDirectory()
    let daemon = try RunningDaemon(
      rules: Self.rules.merging(["ab_list.yaml": list, "zz_user.yaml": user]) { $1 }, directory: directory)
    try FileManager.default.removeItem(atPath: directory.path + "/Rules/ab_list.yaml")
    let reload = try Vigil.run(["reload", "--socket", daemon.socketPath], in: directory.path)
    #expect(reload.status == 0, "\(reload)")
    let warning = "Rules/zz_user.yaml:3:51: rule t.listed: 'places_x' names no list, so it is compared as text"
    #expect(reload.standardOutput.contains("warning: " + warning), "\(reload.standardOutput)")
    let status = try daemon.exchange(#"{"op":"status"}"#)
    let warnings = ((status["last_reload"] as? [String: Any])?["warnings"] as? [[String: Any]]) ?? []
    #expect(warnings.count == 1 && (warnings.first?["message"] as? String)?.contains("'places_x' names no list") == true, "\(status)")
    let said = try Vigil.run(["status", "--socket", daemon.socketPath], in: directory.path)
    #expect(said.standardOutput.contains("1 warning:") && said.standardOutput.contains(warning), "\(said.standardOutput)")
    let loaded = try Self.alertLog(daemon).filter { $0["rule"] as? String == "vigil.ruleset_loaded" }
    #expect((loaded.last?["message"] as? String)?.contains("; 1 warning: " + warning) == true, "\(loaded.last ?? [:])")
    // The first record, of a set without warnings, says none.
    #expect((loaded.first?["message"] as? String)?.contains("warning") == false)
    expectCleanStop(daemon)
  }

  @Test func aNewFileTakesEffectAndDeletingItRemovesItsRules() throws {
    let daemon = try RunningDaemon(rules: Self.rules)
    let path = daemon.directory.path + "/Rules/new.yaml"
    try Self.rule("extra.new").write(toFile: path, atomically: true, encoding: .utf8)
    #expect(try eventually { try Self.firing(daemon).contains("extra.new") })
    let loaded = try Self.alertLog(daemon).filter { $0["rule"] as? String == "vigil.ruleset_loaded" }
    #expect(loaded.count == 2)
    #expect((loaded.last?["message"] as? String)?.contains("1 added, 0 removed, 0 changed") == true)
    try FileManager.default.removeItem(atPath: path)
    #expect(try eventually { try !Self.firing(daemon).contains("extra.new") })
    #expect(try Self.firing(daemon) == ["weapons.barrel_bomb", "weapons.any_attack"])
    expectCleanStop(daemon)
  }

  /// A rule counts as changed when what it says changed (its condition, say), not when
  /// an edit above it moved it down the file.
  @Test func theLoadedRecordCountsRulesWhoseConditionChangedNotThoseThatMoved() throws {
    let daemon = try RunningDaemon(rules: Self.rules)
    let path = daemon.directory.path + "/Rules/count.yaml"
    try Self.write(Self.rule("count.a") + Self.rule("count.b"), to: path)
    #expect(try eventually { try Self.firing(daemon).contains("count.b") })
    // Renamed into place: written in place, a reload on a loaded machine could read it
    // half written and count against that (the CI once saw "2 added").
    try (Self.rule("count.new") + Self.rule("count.a") + Self.rule("count.b", condition: "type = access")).write(
      toFile: path, atomically: true, encoding: .utf8)
    #expect(try eventually { try Self.firing(daemon).contains("count.new") })
    let loaded = try Self.alertLog(daemon).filter { $0["rule"] as? String == "vigil.ruleset_loaded" }
    #expect((loaded.last?["message"] as? String)?.contains("1 added, 0 removed, 1 changed") == true, "\(loaded.last ?? [:])")
    expectCleanStop(daemon)
  }

  /// At start too (RULES.md), the record counts against the set in force before: the
  /// one the run before loaded last; at the very first start, every rule is added.
  @Test func theStartsRecordCountsAgainstTheSetTheRunBeforeLoaded() throws {
    let first = try RunningDaemon(rules: Self.rules)
    let path = first.directory.path + "/Rules/count.yaml"
    try Self.write(Self.rule("count.a") + Self.rule("count.b"), to: path)
    #expect(try eventually { try Self.firing(first).contains("count.b") })
    expectCleanStop(first)
    try Self.write(Self.rule("count.a", condition: "type = access") + Self.rule("count.c"), to: path)
    let second = try RunningDaemon(rules: Self.rules, directory: first.directory)
    let loaded = try Self.alertLog(second).filter { $0["rule"] as? String == "vigil.ruleset_loaded" }
    #expect((loaded.first?["message"] as? String)?.hasSuffix("; 2 added, 0 removed, 0 changed") == true, "\(loaded.first ?? [:])")
    #expect((loaded.last?["message"] as? String)?.hasSuffix("; 1 added, 1 removed, 1 changed") == true, "\(loaded.last ?? [:])")
    expectCleanStop(second)
    let third = try RunningDaemon(rules: Self.rules, directory: first.directory)
    let again = try Self.alertLog(third).filter { $0["rule"] as? String == "vigil.ruleset_loaded" }
    #expect((again.last?["message"] as? String)?.hasSuffix("; 0 added, 0 removed, 0 changed") == true, "\(again.last ?? [:])")
    expectCleanStop(third)
  }

  /// A rules directory that vanished: a rejection without files to name it, recorded once
  /// however often it is retried, with no place made up for it.
  @Test func aMissingRulesDirectoryIsRejectedOnce() throws {
    let daemon = try RunningDaemon(rules: Self.rules)
    let rules = daemon.directory.path + "/Rules"
    #expect(rename(rules, rules + ".gone") == 0)
    for _ in 0..<3 {
      let answer = try daemon.exchange(#"{"op":"reload"}"#)
      let error = try #require((answer["errors"] as? [[String: Any]])?.first)
      #expect(answer["reloaded"] as? Bool == false)
      #expect((error["message"] as? String)?.hasPrefix("cannot read the rules directory Rules") == true)
      #expect(error["file"] as? String == "Rules")
    }
    let rejected = try Self.alertLog(daemon).filter { $0["rule"] as? String == "vigil.ruleset_rejected" }
    #expect(rejected.count == 1)
    #expect((rejected.first?["message"] as? String)?.hasSuffix("stays in force: cannot read the rules directory Rules: no such directory") == true, "\(rejected)")
    expectCleanStop(daemon)
  }

  /// A file that is no rule file, changed in a rules directory (a README, an alert log
  /// kept beside the rules), reloads nothing: status's last reload stays where it was. A
  /// rule file's change after it is taken as ever.
  @Test func otherFilesInARulesDirectoryReloadNothing() throws {
    let daemon = try RunningDaemon(rules: Self.rules)
    let before = try #require((try daemon.exchange(#"{"op":"status"}"#)["last_reload"] as? [String: Any])?["at"] as? String)
    let readme = daemon.directory.path + "/Rules/README.txt"
    for round in 0..<5 {
      try Self.write("notes, round \(round)\n", to: readme)
      Thread.sleep(forTimeInterval: 0.3)
    }
    // Past the watcher's quiet period (0.2 s) and its longest delay (1 s) twice over.
    Thread.sleep(forTimeInterval: 2.5)
    let after = (try daemon.exchange(#"{"op":"status"}"#)["last_reload"] as? [String: Any])?["at"] as? String
    #expect(after == before, "a README's edits reloaded the rules")
    try Self.write(Self.rule("other.one"), to: daemon.directory.path + "/Rules/other.yaml")
    #expect(try eventually { try Self.firing(daemon).contains("other.one") })
    expectCleanStop(daemon)
  }

  /// Every rule file gone at once (a volume not mounted, a copy that empties the directory
  /// first) is rejected, and the set in force stays; a file put back is taken. A start on
  /// an empty directory says in the log that no report will raise an alert.
  @Test func everyRuleFileGoneIsRejectedAndAnEmptyStartIsWarned() throws {
    let daemon = try RunningDaemon(rules: Self.rules)
    let rules = daemon.directory.path + "/Rules"
    let names = try FileManager.default.contentsOfDirectory(atPath: rules)
    try FileManager.default.createDirectory(atPath: daemon.directory.path + "/aside", withIntermediateDirectories: false)
    for name in names { #expect(rename(rules + "/" + name, daemon.directory.path + "/aside/" + name) == 0) }
    let answer = try daemon.exchange(#"{"op":"reload"}"#)
    #expect(answer["reloaded"] as? Bool == false, "\(answer)")
    let message = ((answer["errors"] as? [[String: Any]])?.first?["message"] as? String) ?? ""
    #expect(message.hasPrefix("the rules directories (Rules) hold no rule file any more"), "\(answer)")
    // An error of the whole set: no file, no line, as documented (protocol.md, reload).
    let place = (answer["errors"] as? [[String: Any]])?.first
    #expect(place?["file"] as? String == "" && place?["line"] as? Int == 0 && place?["column"] as? Int == 0, "\(answer)")
    #expect(try eventually { try !Self.firing(daemon).isEmpty })
    let rejected = try Self.alertLog(daemon).filter { $0["rule"] as? String == "vigil.ruleset_rejected" }
    #expect(rejected.count == 1)
    for name in names { #expect(rename(daemon.directory.path + "/aside/" + name, rules + "/" + name) == 0) }
    #expect(
      try eventually {
        ((try daemon.exchange(#"{"op":"status"}"#)["last_reload"] as? [String: Any])?["ok"] as? Bool) == true
      })
    expectCleanStop(daemon)

    let empty = try TemporaryDirectory()
    try FileManager.default.createDirectory(atPath: empty.path + "/Rules", withIntermediateDirectories: false)
    let started = try Vigild.run(["--socket", "v.sock", "--rules", "Rules", "--http", "off"], in: empty.path)
    #expect(started.status == 0, "\(started.standardError)")
    #expect(
      started.standardError.contains("warning vigild: [vigild] the rules directories (Rules) hold no rule file"),
      "\(started.standardError)")
  }

  @Test func aBrokenEditKeepsTheOldRuleUntilItIsFixed() throws {
    let daemon = try RunningDaemon(rules: Self.rules)
    let path = daemon.directory.path + "/Rules/edit.yaml"
    try Self.write(Self.rule("edit.one"), to: path)
    #expect(try eventually { try Self.firing(daemon).contains("edit.one") })

    // Broken in place: line 3, column 35 is where the operand is missing.
    try Self.write(Self.rule("edit.one", condition: "type = attack and"), to: path)
    #expect(
      try eventually {
        let status = try daemon.exchange(#"{"op":"status"}"#)
        return (status["last_reload"] as? [String: Any])?["ok"] as? Bool == false
      })
    #expect(try Self.firing(daemon).contains("edit.one"))
    let status = try daemon.exchange(#"{"op":"status"}"#)
    let errors = try #require((status["last_reload"] as? [String: Any])?["errors"] as? [[String: Any]])
    #expect(errors.first?["file"] as? String == "Rules/edit.yaml")
    #expect(errors.first?["line"] as? Int == 3)
    let rejected = try Self.alertLog(daemon).filter { $0["rule"] as? String == "vigil.ruleset_rejected" }
    #expect(rejected.count == 1)
    #expect((rejected.first?["message"] as? String)?.contains("Rules/edit.yaml:3:") == true)

    // Fixed in place.
    try Self.write(Self.rule("edit.one", priority: "high"), to: path)
    #expect(
      try eventually {
        let status = try daemon.exchange(#"{"op":"status"}"#)
        return (status["last_reload"] as? [String: Any])?["ok"] as? Bool == true
      })
    // Broken, then fixed, by writing a temporary file and renaming it over the old one.
    try Self.rule("edit.two", condition: "type = atack").write(toFile: path, atomically: true, encoding: .utf8)
    #expect(
      try eventually {
        try Self.alertLog(daemon).filter { $0["rule"] as? String == "vigil.ruleset_rejected" }.count == 2
      })
    try Self.rule("edit.two").write(toFile: path, atomically: true, encoding: .utf8)
    #expect(try eventually { try Self.firing(daemon).contains("edit.two") })
    #expect(try !Self.firing(daemon).contains("edit.one"))
    expectCleanStop(daemon)
    #expect(daemon.log().contains("rule set rejected on a change in the rule files"))
    // One line per event: each error on its own line, with the time, the level and what it
    // is an error of.
    #expect(isOneLinePerEvent(daemon.log()), "\(daemon.log().suffix(3000))")
    #expect(daemon.log().contains("rule set rejected on a change in the rule files: Rules/"))
  }

  /// A rule file written in place with a pause between two writes is loaded once its
  /// writer closes it, not half-written: what came first was a valid set without the
  /// second rule, which went out of force and back unsaid.
  @Test func aFileWrittenInPlaceIsLoadedWhenItsWriterClosesIt() throws {
    let daemon = try RunningDaemon(rules: Self.rules)
    let path = daemon.directory.path + "/Rules/two.yaml"
    try Self.write(Self.rule("two.one") + Self.rule("two.two"), to: path)
    #expect(try eventually { try Self.firing(daemon).isSuperset(of: ["two.one", "two.two"]) })
    let before = try Self.alertLog(daemon).count { $0["rule"] as? String == "vigil.ruleset_loaded" }
    // The same file again, its rules with another priority, written in two parts a second
    // apart (past the debounce's 200 ms and its one second at most), then closed.
    let handle = try #require(FileHandle(forWritingAtPath: path))
    try handle.truncate(atOffset: 0)
    try handle.write(contentsOf: Data(Self.rule("two.one", priority: "high").utf8))
    usleep(1_200_000)
    try handle.write(contentsOf: Data(Self.rule("two.two", priority: "high").utf8))
    try handle.close()
    #expect(
      try eventually {
        try Self.alertLog(daemon).count { $0["rule"] as? String == "vigil.ruleset_loaded" } > before
      })
    usleep(500_000)
    let loaded = try Self.alertLog(daemon).filter { $0["rule"] as? String == "vigil.ruleset_loaded" }.dropFirst(before)
    #expect(loaded.count == 1, "\(loaded.map { $0["message"] ?? "" })")
    #expect((loaded.first?["message"] as? String)?.contains("0 added, 0 removed, 2 changed") == true, "\(loaded.map { $0["message"] ?? "" })")
    expectCleanStop(daemon)
  }

  /// A rules directory in a folder any user may write (and rename it in), without the
  /// sticky bit, is refused as one any user may write is; put right, the rules load again
  /// without another edit (a change of mode is a change).
  @Test func aRulesDirectoryInAFolderAnyUserMayWriteIsRefusedUntilPutRight() throws {
    let daemon = try RunningDaemon(rules: Self.rules)
    let folder = daemon.directory.path
    #expect(chmod(folder, 0o777) == 0)
    #expect(kill(daemon.process.processIdentifier, SIGHUP) == 0)
    #expect(
      try eventually {
        let status = try daemon.exchange(#"{"op":"status"}"#)
        let errors = ((status["last_reload"] as? [String: Any])?["errors"] as? [[String: Any]]) ?? []
        return errors.contains { ($0["message"] as? String)?.contains("may be written by any user (mode 777, without the sticky bit)") == true }
      })
    let start = try Vigild.run(["--socket", folder + "/second.sock", "--state-dir", folder + "/st2"], in: folder)
    #expect(start.status == 1 && start.standardError.contains("without the sticky bit"), "\(start.standardError)")
    // Sticky, as /tmp is: no one may rename another's entries there.
    #expect(chmod(folder, 0o1777) == 0)
    #expect(
      try eventually {
        let status = try daemon.exchange(#"{"op":"status"}"#)
        return (status["last_reload"] as? [String: Any])?["ok"] as? Bool == true
      }, "\((try? daemon.exchange(#"{"op":"status"}"#))?["last_reload"] ?? "")")
    #expect(chmod(folder, 0o700) == 0)
    expectCleanStop(daemon)
  }

  /// Putting the files back as they were after a rejected edit loads nothing (the set in
  /// force is that revision) but says so, and `status` is good again.
  @Test func restoringTheFilesAfterARejectedEditIsSaid() throws {
    let daemon = try RunningDaemon(rules: Self.rules)
    let path = daemon.directory.path + "/Rules/restore.yaml"
    try Self.write(Self.rule("restore.one"), to: path)
    #expect(try eventually { try Self.firing(daemon).contains("restore.one") })
    try Self.write(Self.rule("restore.one") + "broken: [\n", to: path)
    #expect(
      try eventually {
        let status = try daemon.exchange(#"{"op":"status"}"#)
        return (status["last_reload"] as? [String: Any])?["ok"] as? Bool == false
      })
    try Self.write(Self.rule("restore.one"), to: path)
    #expect(
      try eventually {
        let status = try daemon.exchange(#"{"op":"status"}"#)
        return (status["last_reload"] as? [String: Any])?["ok"] as? Bool == true
      })
    let loaded = try Self.alertLog(daemon).filter { $0["rule"] as? String == "vigil.ruleset_loaded" }
    let answer = try daemon.exchange(#"{"op":"reload"}"#)
    #expect(answer["reloaded"] as? Bool == true)
    // Neither put a second record of the same set in the alert log.
    #expect(try Self.alertLog(daemon).filter { $0["rule"] as? String == "vigil.ruleset_loaded" }.count == loaded.count)
    expectCleanStop(daemon)
    let log = daemon.log()
    #expect(log.contains("the rule files are back to the set in force on a change in the rule files (sha256:"), "\(log)")
    #expect(log.contains("the rule files are unchanged on the reload request: sha256:"), "\(log)")
  }

  /// Rules that would drop out of force without a word are refused instead, the set in
  /// force staying (audit 43): a rule file emptied (a save cut short), a symbolic link whose
  /// target is gone. A file that cannot be read is named in the error's `file`, as a
  /// program grouping errors by file expects (PROTOCOL.md: `file`, `line`, `column`).
  @Test func anEmptiedFileOrALinkToNothingIsRejectedAndTheRulesStay() throws {
    let daemon = try RunningDaemon(rules: Self.rules)
    let path = daemon.directory.path + "/Rules/keep.yaml"
    try Self.write(Self.rule("keep.one"), to: path)
    #expect(try eventually { try Self.firing(daemon).contains("keep.one") })
    func lastErrors() throws -> [[String: Any]]? {
      let status = try daemon.exchange(#"{"op":"status"}"#)
      let last = status["last_reload"] as? [String: Any]
      return last?["ok"] as? Bool == false ? last?["errors"] as? [[String: Any]] : nil
    }

    try Self.write("", to: path)
    #expect(try eventually { try lastErrors() != nil })
    var error = try #require(try lastErrors()?.first)
    #expect(error["file"] as? String == "Rules/keep.yaml")
    #expect((error["message"] as? String)?.hasPrefix("the file is empty (a save cut short?)") == true, "\(error)")
    #expect(try Self.firing(daemon).contains("keep.one"))
    try Self.write(Self.rule("keep.one"), to: path)
    #expect(try eventually { try lastErrors() == nil })

    // A link swapped for one to a file that is not there.
    let elsewhere = daemon.directory.path + "/elsewhere"
    try FileManager.default.createDirectory(atPath: elsewhere, withIntermediateDirectories: true)
    try Self.rule("linked.one").write(toFile: elsewhere + "/l.yaml", atomically: true, encoding: .utf8)
    let link = daemon.directory.path + "/Rules/l.yaml"
    try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: elsewhere + "/l.yaml")
    #expect(try eventually { try Self.firing(daemon).contains("linked.one") })
    try FileManager.default.createSymbolicLink(atPath: link + ".tmp", withDestinationPath: elsewhere + "/missing.yaml")
    #expect(rename(link + ".tmp", link) == 0)
    #expect(try eventually { try lastErrors() != nil })
    error = try #require(try lastErrors()?.first)
    #expect(error["file"] as? String == "Rules/l.yaml")
    #expect(
      error["message"] as? String
        == "cannot read the rule file Rules/l.yaml: it is a symbolic link to \(elsewhere)/missing.yaml, which does not exist")
    #expect(try Self.firing(daemon).contains("linked.one"))
    #expect(try Self.firing(daemon).contains("keep.one"))

    // The link mended, then its target deleted where it lives: refused at the next reload.
    try FileManager.default.createSymbolicLink(atPath: link + ".tmp", withDestinationPath: elsewhere + "/l.yaml")
    #expect(rename(link + ".tmp", link) == 0)
    #expect(try eventually { try lastErrors() == nil })
    try FileManager.default.removeItem(atPath: elsewhere + "/l.yaml")
    let answer = try daemon.exchange(#"{"op":"reload"}"#)
    #expect(answer["reloaded"] as? Bool == false)
    #expect((answer["errors"] as? [[String: Any]])?.first?["file"] as? String == "Rules/l.yaml", "\(answer)")
    #expect(try Self.firing(daemon).contains("linked.one"))
    try FileManager.default.removeItem(atPath: link)

    // A named pipe where a rule file should be.
    #expect(mkfifo(daemon.directory.path + "/Rules/pipe.yaml", 0o644) == 0)
    let piped = try daemon.exchange(#"{"op":"reload"}"#)
    let pipeError = try #require((piped["errors"] as? [[String: Any]])?.first)
    #expect(pipeError["file"] as? String == "Rules/pipe.yaml")
    #expect(pipeError["message"] as? String == "cannot read the rule file Rules/pipe.yaml: it is a named pipe, not a file")
    let rejected = try Self.alertLog(daemon).filter { $0["rule"] as? String == "vigil.ruleset_rejected" }
    #expect(rejected.count == 4, "\(rejected.map { $0["message"] ?? "" })")
    expectCleanStop(daemon)
  }

  @Test func symlinkedFilesAndSymlinkSwapsAreFollowed() throws {
    let daemon = try RunningDaemon(rules: Self.rules)
    let elsewhere = daemon.directory.path + "/elsewhere"
    try FileManager.default.createDirectory(atPath: elsewhere, withIntermediateDirectories: true)
    try Self.rule("linked.a").write(toFile: elsewhere + "/a.yaml", atomically: true, encoding: .utf8)
    try Self.rule("linked.b").write(toFile: elsewhere + "/b.yaml", atomically: true, encoding: .utf8)
    let link = daemon.directory.path + "/Rules/linked.yaml"
    try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: elsewhere + "/a.yaml")
    #expect(try eventually { try Self.firing(daemon).contains("linked.a") })

    // The target edited where it lives.
    try Self.write(Self.rule("linked.a2"), to: elsewhere + "/a.yaml")
    #expect(try eventually { try Self.firing(daemon).contains("linked.a2") })

    // The symlink swapped atomically for one to another file (as Kubernetes does).
    let swap = daemon.directory.path + "/Rules/.linked.tmp"
    try FileManager.default.createSymbolicLink(atPath: swap, withDestinationPath: elsewhere + "/b.yaml")
    #expect(rename(swap, link) == 0)
    #expect(try eventually { try Self.firing(daemon).contains("linked.b") })
    #expect(try !Self.firing(daemon).contains("linked.a2"))
    let stopped = daemon.stop()
    #expect(stopped == 0, "\(daemon.log().suffix(8000))")
  }

  @Test func aSwapOutsideTheWatchedDirectoriesIsCaughtByPolling() throws {
    // Kubernetes-style: Rules/k.yaml -> config/current/k.yaml, and `current` is a symlink
    // to a versioned directory, swapped for another. Nothing changes in a watched
    // directory (Rules/ or the old version's), so only the poll can see it.
    let daemon = try RunningDaemon(rules: Self.rules)
    let config = daemon.directory.path + "/config"
    for version in ["v1", "v2"] {
      try FileManager.default.createDirectory(atPath: config + "/" + version, withIntermediateDirectories: true)
      try Self.rule("kube.\(version)").write(toFile: config + "/\(version)/k.yaml", atomically: true, encoding: .utf8)
    }
    try FileManager.default.createSymbolicLink(atPath: config + "/current", withDestinationPath: "v1")
    try FileManager.default.createSymbolicLink(
      atPath: daemon.directory.path + "/Rules/k.yaml", withDestinationPath: config + "/current/k.yaml")
    #expect(try eventually { try Self.firing(daemon).contains("kube.v1") })
    try FileManager.default.createSymbolicLink(atPath: config + "/next", withDestinationPath: "v2")
    #expect(rename(config + "/next", config + "/current") == 0)
    #expect(try eventually { try Self.firing(daemon).contains("kube.v2") })
    expectCleanStop(daemon)
  }

  @Test func pluginItemsReloadWithTheSet() throws {
    let daemon = try RunningDaemon(rules: Self.rules)
    let path = daemon.directory.path + "/Rules/places.yaml"
    let rule = Self.rule("place.watched", condition: "place(location.place) = watched")
    try ("- place: watched\n  names: [Aleppo]\n" + rule).write(toFile: path, atomically: true, encoding: .utf8)
    #expect(try eventually { try daemon.exchange(#"{"op":"rules"}"#).description.contains("place.watched") })
    // The report's place is Darayya: not one of the names yet.
    #expect(try !Self.firing(daemon).contains("place.watched"))
    try ("- place: watched\n  names: [Aleppo, داريا, Darayya]\n" + rule).write(
      toFile: path, atomically: true, encoding: .utf8)
    #expect(try eventually { try Self.firing(daemon).contains("place.watched") })
    expectCleanStop(daemon)
  }

  @Test func withWatchingOffOnlySIGHUPAndReloadReload() throws {
    let directory = try TemporaryDirectory()
    try "rules:\n  watch: false\n".write(toFile: directory.path + "/v.yaml", atomically: true, encoding: .utf8)
    let daemon = try RunningDaemon(rules: Self.rules, arguments: ["--config", "v.yaml"], directory: directory)
    try Self.rule("hup.one").write(toFile: directory.path + "/Rules/hup.yaml", atomically: true, encoding: .utf8)
    #expect(try !Self.firing(daemon).contains("hup.one"))
    kill(daemon.process.processIdentifier, SIGHUP)
    #expect(try eventually { try Self.firing(daemon).contains("hup.one") })
    // Nothing watches the rules: no inotify descriptor (checked once SIGHUP is handled,
    // which is set up after the watcher would start) — rather than waiting a while and
    // seeing nothing, which proves nothing on a slow machine. A daemon that watches has
    // one, so the check can fail.
    #expect(!Self.watches(daemon.daemonID))
    let watching = try RunningDaemon(rules: Self.rules)
    #expect(eventually { Self.watches(watching.daemonID) })
    expectCleanStop(watching)
    expectCleanStop(daemon)
    #expect(daemon.log().contains("reloaded the rule set on SIGHUP"))
  }

  /// Whether the process has an inotify descriptor open: the rule watcher's (which also
  /// polls; a daemon that does not watch has neither).
  static func watches(_ pid: pid_t) -> Bool {
    let descriptors = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd")) ?? []
    return descriptors.contains {
      (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/fd/\($0)")) == "anon_inode:inotify"
    }
  }

  @Test func editorLeftoversChangeNothing() throws {
    let daemon = try RunningDaemon(rules: Self.rules)
    let rules = daemon.directory.path + "/Rules/"
    for name in [".weapons.yaml.swp", "weapons.yaml~", ".#weapons.yaml", "4913", "notes.txt"] {
      try "- rule: [broken".write(toFile: rules + name, atomically: false, encoding: .utf8)
    }
    // The sentinel: a real rule file written after them. Once it fires, the daemon has
    // reloaded with the leftovers in the directory, and they changed nothing.
    // Renamed into place, so that a reload under load never reads it half written.
    try Self.rule("sentinel.after_leftovers").write(toFile: rules + "sentinel.yaml", atomically: true, encoding: .utf8)
    #expect(try eventually { try Self.firing(daemon).contains("sentinel.after_leftovers") })
    let status = try daemon.exchange(#"{"op":"status"}"#)
    #expect((status["last_reload"] as? [String: Any])?["ok"] as? Bool == true)
    let records = try Self.alertLog(daemon)
    #expect(records.allSatisfy { $0["rule"] as? String == "vigil.ruleset_loaded" })
    // Whatever reloads the leftovers caused, the one that took the sentinel added it, and
    // none changed anything else.
    let messages = records.compactMap { $0["message"] as? String }
    #expect(messages.contains { $0.contains("1 added, 0 removed, 0 changed") }, "\(messages)")
    #expect(!messages.contains { $0.contains("removed") && !$0.contains("0 removed") }, "\(messages)")
    expectCleanStop(daemon)
  }

  @Test func aReloadStormUnderLoadLosesNoReportAndKeepsTheChain() throws {
    let directory = try TemporaryDirectory()
    try "durability: none\n".write(toFile: directory.path + "/v.yaml", atomically: true, encoding: .utf8)
    let daemon = try RunningDaemon(rules: Self.rules, arguments: ["--config", "v.yaml"], directory: directory)
    let path = directory.path + "/Rules/storm.yaml"
    let stop = NIOLockedValueBox(false)
    let editor = Thread {
      var round = 0
      while !stop.withLockedValue({ $0 }) {
        round += 1
        // Alternately two valid versions, in place, 20 times a second.
        try? Self.write(Self.rule("storm.rule", priority: round % 2 == 0 ? "low" : "high"), to: path)
        Thread.sleep(forTimeInterval: 0.05)
      }
    }
    editor.start()
    let client = try UnixSocketClient(path: daemon.socketPath)
    let count = 5000
    let directoryPath = directory.path
    let sender = Thread {
      let lines = (0..<count).map { DaemonEndToEndTests.report("STORM-\($0)") + "\n" }
      for chunk in stride(from: 0, to: count, by: 50) {
        if chunk == count / 2 {
          // Halfway, until the storm has made the daemon reload at least once: the reports
          // after it are checked by another set than those before, whatever the load.
          _ = eventually {
            ((try? Self.alertLog(in: directoryPath)) ?? []).count { $0["rule"] as? String == "vigil.ruleset_loaded" } >= 2
          }
        }
        try? client.send(Array(lines[chunk..<chunk + 50].joined().utf8))
        // Spread over a few seconds, so the reloads happen while reports are in flight.
        Thread.sleep(forTimeInterval: 0.03)
      }
      client.closeWriting()
    }
    sender.start()
    var answers: [String] = []
    while let line = client.readLine(timeout: 60) { answers.append(line) }
    stop.withLockedValue { $0 = true }
    #expect(answers.count == count)
    for (index, answer) in answers.enumerated() {
      #expect(answer.contains(#""report_id":"STORM-\#(index)","duplicate":false"#), "\(index): \(answer)")
    }
    Thread.sleep(forTimeInterval: 0.5)
    expectCleanStop(daemon)
    let records = try Self.alertLog(daemon)
    let reloads = records.filter { $0["rule"] as? String == "vigil.ruleset_loaded" }.count
    #expect(reloads >= 2)
    // The set changed while the reports came: they were answered under several revisions.
    let revisions = Set(answers.compactMap { (Self.json($0)["ruleset"] as? String) })
    #expect(revisions.count >= 2)
    // Every report was checked by exactly one whole set: the two weapons rules fire
    // always, the storm rule at most once.
    let byReport = Dictionary(grouping: records.compactMap { $0["report_id"] as? String }, by: { $0 })
    #expect(byReport.count == count)
    #expect(byReport.values.allSatisfy { $0.count == 2 || $0.count == 3 })
    let verified = try verifyChain(directory.path + "/var/log/vigil/alerts.jsonl")
    #expect(verified == "ok \(records.count)")
    // Read in order, the log names the set of every alert before the alert: its
    // `vigil.ruleset_loaded` record comes first, and times do not go back.
    var announced: Set<String> = []
    var lastTime = ""
    for record in records {
      let time = record["time"] as? String ?? ""
      #expect(time >= lastTime, "time went back at seq \(record["seq"] ?? "?")")
      lastTime = time
      let revision = record["ruleset"] as? String ?? ""
      if record["rule"] as? String == "vigil.ruleset_loaded" {
        announced.insert(revision)
      } else {
        #expect(announced.contains(revision), "seq \(record["seq"] ?? "?") of \(revision) before its set's loaded record")
      }
    }
  }
}
