import Foundation
import Testing
import VigilTestSupport

/// Sinks with the real daemon, through the shipped `exec` sink and a shell script standing
/// in for a destination that is down, hangs, or works: every alert reaches it at least
/// once, across a SIGKILL and rotations, and ingestion never waits for it.
@Suite("vigild end to end: sink delivery under faults", .onThreadsOfTheirOwn)
struct SinkEndToEndTests {
  /// A daemon in `directory` whose exec sink runs `script` (as /bin/sh).
  static func daemon(
    in directory: TemporaryDirectory, script: String, timeout: Int = 5, maxLag: Int? = nil
  ) throws -> RunningDaemon {
    try script.write(toFile: directory.path + "/sink.sh", atomically: true, encoding: .utf8)
    let config = """
      alerts:
        rotate_bytes: 6000
        keep: 20
      plugins:
        exec:
          command: [/bin/sh, \(directory.path)/sink.sh]
          timeout_s: \(timeout)\(maxLag.map { "\n    max_lag: \($0)" } ?? "")
      """
    try config.write(toFile: directory.path + "/v.yaml", atomically: true, encoding: .utf8)
    return try RunningDaemon(
      rules: DaemonEndToEndTests.rules, arguments: ["--config", "v.yaml"], directory: directory)
  }

  /// The end of a failing command's standard error is cut at 300 bytes: a cut inside a
  /// character (Arabic takes two) leaves that character out, rather than a U+FFFD the
  /// command never wrote.
  @Test func aCommandsArabicErrorIsCutBetweenCharacters() throws {
    let directory = try TemporaryDirectory()
    let daemon = try Self.daemon(
      in: directory, script: "cat > /dev/null; python3 -c 'import sys; sys.stderr.write(\"ع\" * 200 + \"x\")'; exit 1")
    _ = try daemon.exchange([DaemonEndToEndTests.report("AR-1")])
    #expect(try eventually(within: 30) { (try Self.sinkStatus(daemon)["last_error"] as? String)?.contains("ع") == true })
    let lastError = try Self.sinkStatus(daemon)["last_error"] as? String ?? ""
    #expect(!lastError.contains("\u{FFFD}") && lastError.hasSuffix(": " + String(repeating: "ع", count: 149) + "x"), "\(lastError)")
    expectCleanStop(daemon)
  }

  /// Alerts rotated away while the destination was down: once it is back, the sink goes on
  /// from the oldest record kept, with no new report to wake it, and says which it missed
  /// (it waited, its cursor before the gap, until a report came or vigild restarted).
  @Test func aSinkGoesOnPastAlertsRotatedAwayWhileItWasDown() throws {
    let directory = try TemporaryDirectory()
    try """
      [ -e \(directory.path)/down ] && { echo down >&2; exit 1; }
      cat >> \(directory.path)/out.jsonl
      """.write(toFile: directory.path + "/sink.sh", atomically: true, encoding: .utf8)
    try """
      alerts:
        rotate_bytes: 6000
        keep: 2
      plugins:
        exec:
          command: [/bin/sh, \(directory.path)/sink.sh]
          timeout_s: 5
      """.write(toFile: directory.path + "/v.yaml", atomically: true, encoding: .utf8)
    let daemon = try RunningDaemon(rules: DaemonEndToEndTests.rules, arguments: ["--config", "v.yaml"], directory: directory)
    _ = try daemon.exchange((0..<5).map { DaemonEndToEndTests.report("UP-\($0)") })
    #expect(try eventually { try Self.sinkStatus(daemon)["lag"] as? Int == 0 })
    FileManager.default.createFile(atPath: directory.path + "/down", contents: nil)
    for round in 0..<6 {
      _ = try daemon.exchange((0..<40).map { DaemonEndToEndTests.report("DOWN-\(round)-\($0)") })
      Thread.sleep(forTimeInterval: 0.3)
    }
    let kept = try Self.loggedAlerts(in: directory.path)
    try FileManager.default.removeItem(atPath: directory.path + "/down")
    #expect(
      try eventually(within: 60) { try Self.sinkStatus(daemon)["lag"] as? Int == 0 }, "\((try? Self.sinkStatus(daemon)) ?? [:])")
    let delivered = try String(contentsOfFile: directory.path + "/out.jsonl", encoding: .utf8).split(separator: "\n").compactMap {
      Self.seq(of: $0)
    }
    #expect(Set(kept.keys).isSubset(of: Set(delivered)), "kept alerts not delivered: \(Set(kept.keys).subtracting(delivered).sorted())")
    // The missed range reaches the oldest kept record.
    let missed = (try Self.sinkStatus(daemon)["missed"] as? [[Int]]) ?? []
    let oldestKept = kept.keys.min() ?? 0
    #expect(missed.contains { $0.count == 2 && $0[1] + 1 >= oldestKept }, "\(missed), oldest kept \(oldestKept)")
    expectCleanStop(daemon)
  }

  static func sinkStatus(_ daemon: RunningDaemon) throws -> [String: Any] {
    ((try daemon.exchange(#"{"op":"status"}"#)["sinks"] as? [[String: Any]]) ?? []).first ?? [:]
  }

  /// Every alert line of the log and its rotated files, by seq, Vigil's own records left
  /// out. A rotation may rename the files between listing and reading them (it can follow
  /// the last answer), so they are read until two readings agree.
  static func loggedAlerts(in directory: String) throws -> [Int: String] {
    var last = try readLoggedAlerts(in: directory)
    for _ in 0..<50 {
      Thread.sleep(forTimeInterval: 0.05)
      let again = try readLoggedAlerts(in: directory)
      if again == last { return again }
      last = again
    }
    return last
  }

  private static func readLoggedAlerts(in directory: String) throws -> [Int: String] {
    let folder = directory + "/var/log/vigil"
    var lines: [Int: String] = [:]
    for name in try FileManager.default.contentsOfDirectory(atPath: folder) where name.hasPrefix("alerts.jsonl") {
      // Renamed away since the listing: the next reading sees it under its new name.
      guard let text = try? String(contentsOfFile: folder + "/" + name, encoding: .utf8) else { continue }
      for line in text.split(separator: "\n") {
        guard !line.contains(#""rule":"vigil."#), let seq = Self.seq(of: line) else { continue }
        lines[seq] = String(line)
      }
    }
    return lines
  }

  /// What the script received, by seq, and how many lines in all (redeliveries included).
  static func delivered(in directory: String) -> (bySeq: [Int: String], count: Int) {
    let text = (try? String(contentsOfFile: directory + "/delivered.jsonl", encoding: .utf8)) ?? ""
    let lines = text.split(separator: "\n")
    var bySeq: [Int: String] = [:]
    for line in lines { if let seq = Self.seq(of: line) { bySeq[seq] = String(line) } }
    return (bySeq, lines.count)
  }

  static func seq(of line: Substring) -> Int? {
    guard line.hasPrefix(#"{"seq":"#) else { return nil }
    return Int(line.dropFirst(7).prefix { $0.isNumber })
  }

  @Test func aSinkThatIsDownCatchesUpAfterASIGKILLAndRotations() throws {
    let directory = try TemporaryDirectory()
    let script = """
      [ -e \(directory.path)/down ] && { echo "the store is down" >&2; exit 1; }
      cat >> \(directory.path)/delivered.jsonl
      """
    FileManager.default.createFile(atPath: directory.path + "/down", contents: nil)
    let first = try Self.daemon(in: directory, script: script)
    // In six commits, so the log rotates between them.
    for batch in 0..<6 {
      let answers = try first.exchange((0..<5).map { DaemonEndToEndTests.report("DOWN-\(batch)-\($0)") })
      #expect(answers.count == 5 && answers.allSatisfy { $0.contains(#""ok":true"#) })
    }
    #expect(
      try eventually {
        let sink = try Self.sinkStatus(first)
        return (sink["failures"] as? Int ?? 0) >= 2 && (sink["last_error"] as? String)?.contains("the store is down") == true
      })
    #expect(try Self.sinkStatus(first)["lag"] as? Int ?? 0 >= 60)
    let rotated = try FileManager.default.contentsOfDirectory(atPath: directory.path + "/var/log/vigil")
    #expect(rotated.contains("alerts.jsonl.2"), "the log rotated while the sink lagged: \(rotated)")
    first.stop(signal: SIGKILL)

    try FileManager.default.removeItem(atPath: directory.path + "/down")
    let second = try Self.daemon(in: directory, script: script)
    _ = try second.exchange((0..<5).map { DaemonEndToEndTests.report("UP-\($0)") })
    let logged = try Self.loggedAlerts(in: directory.path)
    #expect(logged.count == 70)
    #expect(eventually { Self.delivered(in: directory.path).bySeq.count == logged.count })
    let delivered = Self.delivered(in: directory.path)
    #expect(delivered.bySeq == logged, "each alert delivered as logged, keyed by seq")
    #expect(delivered.count >= logged.count)
    #expect(try eventually { try Self.sinkStatus(second)["lag"] as? Int == 0 })
    expectCleanStop(second)
  }

  @Test func aHungSinkNeverHoldsUpIngestion() throws {
    let directory = try TemporaryDirectory()
    let script = """
      [ -e \(directory.path)/hang ] && exec sleep 60
      cat >> \(directory.path)/delivered.jsonl
      """
    FileManager.default.createFile(atPath: directory.path + "/hang", contents: nil)
    let daemon = try Self.daemon(in: directory, script: script, timeout: 1)
    // Every report is answered while the sink hangs.
    let answers = try daemon.exchange((0..<300).map { DaemonEndToEndTests.report("HUNG-\($0)") })
    #expect(answers.count == 300 && answers.allSatisfy { $0.contains(#""duplicate":false"#) })
    #expect(
      try eventually {
        (try Self.sinkStatus(daemon)["last_error"] as? String)?.contains("ran past timeout_s") == true
      })
    try FileManager.default.removeItem(atPath: directory.path + "/hang")
    #expect(eventually(within: 60) { Self.delivered(in: directory.path).bySeq.count == 600 })
    #expect(Self.delivered(in: directory.path).bySeq == (try Self.loggedAlerts(in: directory.path)))
    expectCleanStop(daemon)
  }

  /// Whether the process `pid` is gone: no such process, or a zombie no one has reaped yet
  /// (an orphan's reaper may be slow, or, in a container, never come).
  static func isGone(_ pid: pid_t) -> Bool {
    guard kill(pid, 0) == 0 else { return true }
    let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
    guard let close = stat.lastIndex(of: ")") else { return true }
    return stat[close...].dropFirst().drop { $0 == " " }.first == "Z"
  }

  /// The pids a script appended to `file`, one a line.
  static func pids(in file: String) -> [pid_t] {
    ((try? String(contentsOfFile: file, encoding: .utf8)) ?? "").split(separator: "\n").compactMap { pid_t($0) }
  }

  /// The command starts with no signal blocked and none ignored — the two glibc keeps for
  /// its threads (32, 33) included, which posix_spawn left ignored (audit 29) — whatever
  /// vigild does with them.
  @Test func aCommandStartsWithEverySignalAtItsDefault() throws {
    let directory = try TemporaryDirectory()
    let daemon = try Self.daemon(in: directory, script: "grep -E '^Sig(Blk|Ign)' /proc/self/status > \(directory.path)/signals; cat > /dev/null")
    _ = try daemon.exchange([DaemonEndToEndTests.report("SIG-1")])
    #expect(eventually { ((try? String(contentsOfFile: directory.path + "/signals", encoding: .utf8)) ?? "").contains("SigIgn") })
    let said = (try? String(contentsOfFile: directory.path + "/signals", encoding: .utf8)) ?? ""
    #expect(said.contains("SigBlk:\t0000000000000000") && said.contains("SigIgn:\t0000000000000000"), "\(said)")
    expectCleanStop(daemon)
  }

  @Test func aCommandsChildrenAreKilledWithItAtTheTimeout() throws {
    let directory = try TemporaryDirectory()
    // While `hang` exists: a child of the script's that outlives it, unless killed, and
    // tells its pid (each run's appended).
    let script = """
      if [ -e \(directory.path)/hang ]; then
        printf 'stuck on DNS\\033[2J\\000\\nfor ops.example\\n' >&2
        sh -c 'echo $$ >> \(directory.path)/child.pids; exec sleep 600' &
        wait
        exit 1
      fi
      cat >> \(directory.path)/delivered.jsonl
      """
    _ = FileManager.default.createFile(atPath: directory.path + "/hang", contents: nil)
    let daemon = try Self.daemon(in: directory, script: script, timeout: 1)
    for batch in 0..<3 {
      _ = try daemon.exchange((0..<5).map { DaemonEndToEndTests.report("KIDS-\(batch)-\($0)") })
    }
    #expect(
      try eventually(within: 30) {
        (try Self.sinkStatus(daemon)["last_error"] as? String)?.contains("ran past timeout_s") == true
      })
    // What it said before it hung, on one line, a terminal's escape and the NUL replaced;
    // and `vigil status` shows no control byte of it either.
    let lastError = try #require(try Self.sinkStatus(daemon)["last_error"] as? String)
    #expect(lastError.hasSuffix("and was killed: stuck on DNS\u{FFFD}[2J\u{FFFD} for ops.example"), "\(lastError)")
    let status = try VigilClientCommandTests.vigil(daemon, ["status"])
    #expect(status.status == 0 && status.standardOutput.contains("last error: ") && status.standardOutput.contains("stuck on DNS"), "\(status.standardOutput)")
    #expect(!status.standardOutput.unicodeScalars.contains { $0.value < 0x20 && $0 != "\n" }, "\(status.standardOutput.debugDescription)")
    let childPids = directory.path + "/child.pids"
    #expect(eventually(within: 30) { !Self.pids(in: childPids).isEmpty }, "the script started its child")
    // The first run's child: it went with the script when the group was killed.
    let first = try #require(Self.pids(in: childPids).first)
    #expect(eventually(within: 30) { Self.isGone(first) }, "the child \(first) of a command killed at its timeout")

    try FileManager.default.removeItem(atPath: directory.path + "/hang")
    let logged = try Self.loggedAlerts(in: directory.path)
    #expect(logged.count == 30)
    #expect(eventually(within: 60) { Self.delivered(in: directory.path).bySeq.count == logged.count })
    #expect(Self.delivered(in: directory.path).bySeq == logged)
    // And every child any run started: none is left.
    let all = Self.pids(in: childPids)
    #expect(eventually(within: 30) { all.allSatisfy(Self.isGone) }, "children left: \(all.filter { !Self.isGone($0) })")
    expectCleanStop(daemon)
  }

  @Test func aSinkThatFailsItsFirstDeliveriesCatchesUp() throws {
    let directory = try TemporaryDirectory()
    // Counts its runs; the first three fail.
    let script = """
      runs=$(( $(cat \(directory.path)/runs 2>/dev/null || echo 0) + 1 ))
      echo $runs > \(directory.path)/runs
      [ $runs -le 3 ] && { echo "failing run $runs" >&2; exit 1; }
      cat >> \(directory.path)/delivered.jsonl
      """
    let daemon = try Self.daemon(in: directory, script: script)
    for batch in 0..<6 {
      let answers = try daemon.exchange((0..<5).map { DaemonEndToEndTests.report("FAIL-\(batch)-\($0)") })
      #expect(answers.count == 5 && answers.allSatisfy { $0.contains(#""ok":true"#) })
    }
    let logged = try Self.loggedAlerts(in: directory.path)
    #expect(logged.count == 60)
    #expect(eventually(within: 60) { Self.delivered(in: directory.path).bySeq.count == logged.count })
    #expect(Self.delivered(in: directory.path).bySeq == logged, "each alert delivered as logged, keyed by seq")
    #expect(try eventually(within: 30) { try Self.sinkStatus(daemon)["lag"] as? Int == 0 })
    let sink = try Self.sinkStatus(daemon)
    #expect(sink["failures"] as? Int ?? 0 >= 3, "\(sink)")
    expectCleanStop(daemon)
    // The first failure is logged, with the end of what the command said.
    #expect(daemon.log().contains("exited with status 1: failing run 1"), "\(daemon.log().suffix(4000))")
  }

  /// A cursor that cannot be written (a full disk; here a folder in its place) is Vigil's
  /// fault, not the destination's: the batch that went comes again after the back-off as
  /// it doubles, not every 0.1 s (a chat flooded with one alert 8 times a second while the
  /// disk stayed full, audit 29). Once the cursor can be written, delivery goes on.
  @Test func aCursorThatCannotBeKeptBacksOffAsAFailureDoes() throws {
    let directory = try TemporaryDirectory()
    let script = """
      date +%s.%N >> \(directory.path)/runs
      cat >> \(directory.path)/delivered.jsonl
      """
    let daemon = try Self.daemon(in: directory, script: script)
    let cursor = directory.path + "/var/lib/vigil/sinks/exec.cursor"
    _ = unlink(cursor)
    #expect(mkdir(cursor, 0o700) == 0)
    _ = try daemon.exchange([DaemonEndToEndTests.report("CUR-1")])
    let runs = { () -> [Double] in
      ((try? String(contentsOfFile: directory.path + "/runs", encoding: .utf8)) ?? "").split(separator: "\n").compactMap { Double($0) }
    }
    #expect(eventually(within: 60) { runs().count >= 6 }, "\(runs())")
    // The pauses double from 0.1 s: the one before the sixth run is at least 1.6 s — a
    // lower bound, which a loaded machine can only lengthen.
    let times = runs()
    #expect(times.count >= 6 && times[5] - times[4] >= 1.0, "gaps: \(zip(times.dropFirst(), times).map { $0 - $1 })")
    #expect(try (Self.sinkStatus(daemon)["last_error"] as? String)?.contains("cannot keep the cursor") == true)
    #expect(rmdir(cursor) == 0)
    #expect(try eventually(within: 60) { try Self.sinkStatus(daemon)["lag"] as? Int == 0 })
    expectCleanStop(daemon)
  }

  /// A damaged cursor stops vigild at start, saying so, as a damaged report cursor does:
  /// taken for a new sink's, it sent every kept record again, unsaid (audit 29). The
  /// message is one line, the damaged text quoted.
  @Test func aDamagedCursorStopsTheStartSayingSo() throws {
    let directory = try TemporaryDirectory()
    let daemon = try Self.daemon(in: directory, script: "cat > /dev/null")
    _ = try daemon.exchange([DaemonEndToEndTests.report("DC-1")])
    #expect(try eventually(within: 60) { try Self.sinkStatus(daemon)["lag"] as? Int == 0 })
    expectCleanStop(daemon)
    let cursor = directory.path + "/var/lib/vigil/sinks/exec.cursor"
    try "garbage\nmore\n".write(toFile: cursor, atomically: true, encoding: .utf8)
    let run = try Vigild.run(["--socket", "s2.sock", "--rules", "Rules", "--config", "v.yaml", "--http", "off"], in: directory.path)
    #expect(run.status == 1, "\(run.standardError)")
    let said = run.standardError.split(separator: "\n").filter { $0.contains("exec.cursor") }
    #expect(
      said.count == 1 && said[0].contains(#"exec.cursor is not a seq (a decimal number and a newline): "garbage\nmore\n"; remove it to deliver every kept record again"#),
      "\(run.standardError)")
    // A folder in its place is as much a cursor that cannot be read (review 30).
    try FileManager.default.removeItem(atPath: cursor)
    #expect(mkdir(cursor, 0o700) == 0)
    let folder = try Vigild.run(["--socket", "s2.sock", "--rules", "Rules", "--config", "v.yaml", "--http", "off"], in: directory.path)
    #expect(folder.status == 1, "\(folder.standardError)")
    #expect(folder.standardError.contains("exec.cursor is not a file; remove it to deliver every kept record again"), "\(folder.standardError)")
  }

  @Test func aSlowSinkCatchesUp() throws {
    let directory = try TemporaryDirectory()
    let script = """
      sleep 0.5
      cat >> \(directory.path)/delivered.jsonl
      """
    // A timeout the slowness is far from, even on a loaded machine.
    let daemon = try Self.daemon(in: directory, script: script, timeout: 120)
    for batch in 0..<6 {
      let answers = try daemon.exchange((0..<5).map { DaemonEndToEndTests.report("SLOW-\(batch)-\($0)") })
      #expect(answers.count == 5 && answers.allSatisfy { $0.contains(#""ok":true"#) })
    }
    let logged = try Self.loggedAlerts(in: directory.path)
    #expect(logged.count == 60)
    #expect(eventually(within: 60) { Self.delivered(in: directory.path).bySeq.count == logged.count })
    #expect(Self.delivered(in: directory.path).bySeq == logged, "each alert delivered as logged, keyed by seq")
    #expect(try eventually(within: 30) { try Self.sinkStatus(daemon)["lag"] as? Int == 0 })
    #expect(try Self.sinkStatus(daemon)["failures"] as? Int == 0)
    expectCleanStop(daemon)
  }

  /// A sink with `max_lag` that is that far behind, and delivering, holds new reports back
  /// until it is under it again: reports sent one after another are each answered only
  /// once the sink is under its max_lag, so when the last answer comes the sink is at
  /// most max_lag and that report's two alerts behind — where without it a sink taking
  /// 0.3 s a batch would be most of the 200 alerts behind. Every alert still arrives.
  @Test func aSinkAtItsMaxLagHoldsNewReportsBack() throws {
    let directory = try TemporaryDirectory()
    let script = """
      sleep 0.3
      cat >> \(directory.path)/delivered.jsonl
      """
    let daemon = try Self.daemon(in: directory, script: script, timeout: 120, maxLag: 10)
    for index in 0..<100 {
      let answer = try daemon.exchange(DaemonEndToEndTests.report("HELD-\(index)"))
      #expect(answer["ok"] as? Bool == true)
    }
    let status = try Self.sinkStatus(daemon)
    #expect(status["max_lag"] as? Int == 10)
    let lag = status["lag"] as? Int ?? .max
    #expect(lag <= 10 + 1, "the sink was \(lag) behind as the last report was answered, its max_lag 10")
    let logged = try Self.loggedAlerts(in: directory.path)
    #expect(logged.count == 200)
    #expect(eventually(within: 60) { Self.delivered(in: directory.path).bySeq.count == logged.count })
    #expect(Self.delivered(in: directory.path).bySeq == logged)
    #expect(try eventually(within: 30) { try Self.sinkStatus(daemon)["holding"] as? Bool == false })
    expectCleanStop(daemon)
  }

  /// A daemon whose sink (`max_lag: 10`) takes a minute over each batch once the file
  /// `slow` exists, after it has delivered `count` reports (two alerts each) named `prefix`.
  static func sinkSlowedOnDemand(
    delivering count: Int, as prefix: String
  ) throws -> (directory: TemporaryDirectory, daemon: RunningDaemon, slow: String) {
    let directory = try TemporaryDirectory()
    let slow = directory.path + "/slow"
    let script = """
      [ -e \(slow) ] && sleep 60
      cat >> \(directory.path)/delivered.jsonl
      """
    let daemon = try Self.daemon(in: directory, script: script, timeout: 120, maxLag: 10)
    _ = try daemon.exchange((0..<count).map { DaemonEndToEndTests.report("\(prefix)-\($0)") })
    #expect(eventually { Self.delivered(in: directory.path).bySeq.count == 2 * count })
    return (directory, daemon, slow)
  }

  /// A reload whose rule set changed commits through a hold: its `vigil.ruleset_loaded`
  /// record, which the reload (a SIGHUP's too, and the stop behind it) waits for, and the
  /// reports waiting with it. Here the sink takes a minute over a batch, so the hold would
  /// otherwise last until its cursor had stood still for 10 s — and then `holding` would
  /// read false.
  @Test func aReloadCommitsThroughAHold() throws {
    let (directory, daemon, slow) = try Self.sinkSlowedOnDemand(delivering: 3, as: "FIRST")
    FileManager.default.createFile(atPath: slow, contents: nil)
    _ = try daemon.exchange((0..<10).map { DaemonEndToEndTests.report("BEHIND-\($0)") })
    #expect(try eventually { try Self.sinkStatus(daemon)["holding"] as? Bool == true })
    // A report sent now waits.
    let held = try UnixSocketClient(path: daemon.socketPath)
    try held.send(Array((DaemonEndToEndTests.report("HELD") + "\n").utf8))
    let rules = directory.path + "/Rules/weapons.yaml"
    try (try String(contentsOfFile: rules, encoding: .utf8) + """

      - rule: weapons.mortar
        desc: Mortars.
        condition: weapons = mortar
        output: "mortars in %location.place"
        priority: high
      """).write(toFile: rules, atomically: true, encoding: .utf8)
    let reload = try daemon.exchange(#"{"op":"reload"}"#)
    #expect(reload["reloaded"] as? Bool == true, "\(reload)")
    #expect(try Self.sinkStatus(daemon)["holding"] as? Bool == true, "the reload came before the hold ended")
    #expect(held.readLine()?.contains(#""report_id":"HELD","duplicate":false"#) == true, "the waiting report went with it")
    try FileManager.default.removeItem(atPath: slow)
    expectCleanStop(daemon)
  }

  /// A sink idle for a while, caught up, holds as soon as a burst puts it `max_lag` behind
  /// and it takes its batch: idle is not stuck (audit 56: a burst after 10 idle seconds
  /// went through unbounded, the sink 14,520 records behind).
  @Test func anIdleSinkHoldsAsSoonAsABurstPutsItBehind() throws {
    let (_, daemon, slow) = try Self.sinkSlowedOnDemand(delivering: 2, as: "EARLY")
    // Idle past the 10 s a batch may take before the sink counts as stuck.
    Thread.sleep(forTimeInterval: 11)
    FileManager.default.createFile(atPath: slow, contents: nil)
    _ = try daemon.exchange((0..<6).map { DaemonEndToEndTests.report("BURST-\($0)") })
    #expect(try eventually(within: 8) { try Self.sinkStatus(daemon)["holding"] as? Bool == true }, "\((try? Self.sinkStatus(daemon)) ?? [:])")
    try FileManager.default.removeItem(atPath: slow)
    expectCleanStop(daemon)
  }

  /// A sink with `max_lag` that fails (its destination down) holds nothing: ingestion goes
  /// on and the sink lags, as one without max_lag does.
  @Test func aFailingSinkWithAMaxLagHoldsNothingBack() throws {
    let directory = try TemporaryDirectory()
    let daemon = try Self.daemon(in: directory, script: "exit 1", maxLag: 10)
    #expect(try daemon.exchange(DaemonEndToEndTests.report("DOWN-first"))["ok"] as? Bool == true)
    #expect(try eventually { (try Self.sinkStatus(daemon)["failures"] as? Int ?? 0) > 0 })
    // Past its max_lag at once: behind, but failing, so holding nothing.
    let answers = try daemon.exchange((0..<10).map { DaemonEndToEndTests.report("DOWN-at-once-\($0)") })
    #expect(answers.count == 10 && answers.allSatisfy { $0.contains(#""duplicate":false"#) })
    let past = try Self.sinkStatus(daemon)
    #expect((past["lag"] as? Int ?? 0) >= 20 && past["holding"] as? Bool == false, "\(past)")
    // One after another: held, each would wait for a sink that never delivers.
    for index in 0..<100 {
      #expect(try daemon.exchange(DaemonEndToEndTests.report("DOWN-\(index)"))["ok"] as? Bool == true)
    }
    let status = try Self.sinkStatus(daemon)
    #expect(status["holding"] as? Bool == false && status["not_holding"] as? String == "its deliveries fail", "\(status)")
    #expect((status["lag"] as? Int ?? 0) >= 200, "the sink lags past its max_lag: \(status)")
    expectCleanStop(daemon)
  }

  /// A command running when vigild stops is killed with its group, and vigild still stops
  /// cleanly; the batch comes again at the next start.
  @Test func aCommandRunningAtTheStopIsKilledAndItsBatchComesAgain() throws {
    let directory = try TemporaryDirectory()
    let script = """
      [ -e \(directory.path)/hang ] && { echo $$ >> \(directory.path)/command.pids; exec sleep 600; }
      cat >> \(directory.path)/delivered.jsonl
      """
    FileManager.default.createFile(atPath: directory.path + "/hang", contents: nil)
    let first = try Self.daemon(in: directory, script: script, timeout: 3600)
    _ = try first.exchange((0..<5).map { DaemonEndToEndTests.report("STOP-\($0)") })
    let pids = directory.path + "/command.pids"
    #expect(eventually(within: 30) { !Self.pids(in: pids).isEmpty }, "the command started")
    let command = try #require(Self.pids(in: pids).first)
    expectCleanStop(first)
    #expect(eventually(within: 30) { Self.isGone(command) }, "the command \(command) outlived vigild's stop")

    try FileManager.default.removeItem(atPath: directory.path + "/hang")
    let second = try Self.daemon(in: directory, script: script, timeout: 60)
    let logged = try Self.loggedAlerts(in: directory.path)
    #expect(logged.count == 10)
    #expect(eventually(within: 60) { Self.delivered(in: directory.path).bySeq == logged })
    expectCleanStop(second)
  }
}
