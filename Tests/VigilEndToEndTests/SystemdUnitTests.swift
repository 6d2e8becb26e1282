import Foundation
import Testing
import VigilTestSupport

/// The shipped systemd unit (Config/vigild.service), checked without a running systemd:
/// `systemd-analyze verify` and `security --offline`, the writable paths against the
/// daemon's own flags, and every system call the real daemon makes — traced with strace
/// through a working session — against the unit's system-call filter. (CI installs
/// `systemd` and `strace` when missing; see .ci/run.)
@Suite("The systemd unit's hardening")
struct SystemdUnitTests {
  static let unitPath = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("Config/vigild.service").path

  /// The unit's settings, by key, in order (a key may repeat).
  static func settings() throws -> [(key: String, value: String)] {
    let text = try String(contentsOfFile: unitPath, encoding: .utf8)
      .replacingOccurrences(of: "\\\n", with: " ")
    return text.split(separator: "\n").compactMap { line in
      guard !line.hasPrefix("#"), !line.hasPrefix("["), let equals = line.firstIndex(of: "=") else { return nil }
      return (String(line[..<equals]), String(line[line.index(after: equals)...]).trimmingCharacters(in: .whitespaces))
    }
  }

  static func values(_ key: String) throws -> [String] {
    try settings().filter { $0.key == key }.map(\.value)
  }

  /// The unit with ExecStart pointing at the vigild built for these tests.
  static func unitForThisBuild(in directory: TemporaryDirectory) throws -> String {
    let vigild = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
      .appendingPathComponent("vigild").path
    let text = try String(contentsOfFile: unitPath, encoding: .utf8)
      .replacingOccurrences(of: "/usr/local/bin/vigild", with: vigild)
    let path = directory.path + "/vigild.service"
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    return path
  }

  @Test func systemdAcceptsTheUnitAndRatesItsExposureLow() throws {
    let directory = try TemporaryDirectory()
    let unit = try Self.unitForThisBuild(in: directory)
    let verify = try ChildProcess.run("/usr/bin/systemd-analyze", ["verify", unit])
    #expect(verify.status == 0, "\(verify.standardError)")
    #expect(verify.standardError.isEmpty, "\(verify.standardError)")

    let security = try ChildProcess.run(
      "/usr/bin/systemd-analyze", ["security", "--offline=yes", "--no-pager", unit])
    let overall = try #require(
      security.standardOutput.split(separator: "\n").first { $0.contains("Overall exposure level") },
      "\(security.standardOutput)\(security.standardError)")
    // "→ Overall exposure level for vigild.service: 0.5 SAFE": 0 is locked down, 10 open.
    let score = try #require(Double(overall.split(separator: ":").last?.split(separator: " ").first ?? ""))
    #expect(score <= 2.0, "\(overall)")
  }

  @Test func theDaemonMayWriteOnlyItsStateItsLogsAndItsSocket() throws {
    #expect(try Self.values("NoNewPrivileges") == ["yes"])
    #expect(try Self.values("ProtectSystem") == ["strict"])
    #expect(try Self.values("PrivateTmp") == ["yes"])
    #expect(try Self.values("CapabilityBoundingSet") == [""])
    #expect(try Self.values("RestrictAddressFamilies") == ["AF_UNIX"])
    let writable = Set(try Self.values("ReadWritePaths").flatMap { $0.split(separator: " ").map(String.init) })
    // The directories the daemon is told to write in, from its command line.
    let command = try #require(try Self.values("ExecStart").first).split(separator: " ").map(String.init)
    func flag(_ name: String) throws -> String {
      let index = try #require(command.firstIndex(of: name), "ExecStart has no \(name)")
      return command[index + 1]
    }
    let used: Set<String> = [
      try flag("--state-dir"),
      URL(fileURLWithPath: try flag("--alert-log")).deletingLastPathComponent().path,
      URL(fileURLWithPath: try flag("--socket")).deletingLastPathComponent().path,
    ]
    #expect(writable == used)
    // systemd creates them for the daemon's user: state, logs, runtime.
    #expect(try Self.values("StateDirectory") == ["vigil"])
    #expect(try Self.values("LogsDirectory") == ["vigil"])
    #expect(try Self.values("RuntimeDirectory") == ["vigil"])
  }

  /// Every syscall group `systemd-analyze syscall-filter` knows, expanded to names.
  static func syscallGroups() throws -> [String: Set<String>] {
    let listing = try ChildProcess.run("/usr/bin/systemd-analyze", ["syscall-filter", "--no-pager"])
    var members: [String: [String]] = [:]
    var group = ""
    for line in listing.standardOutput.split(separator: "\n") {
      if line.hasPrefix("@") {
        group = String(line)
      } else {
        let entry = line.trimmingCharacters(in: .whitespaces)
        if !group.isEmpty, !entry.isEmpty, !entry.hasPrefix("#") { members[group, default: []].append(entry) }
      }
    }
    func expand(_ name: String, _ seen: inout Set<String>) -> Set<String> {
      guard seen.insert(name).inserted else { return [] }
      var names: Set<String> = []
      for member in members[name] ?? [] {
        names.formUnion(member.hasPrefix("@") ? expand(member, &seen) : [member])
      }
      return names
    }
    return Dictionary(uniqueKeysWithValues: members.keys.map { name in
      var seen: Set<String> = []
      return (name, expand(name, &seen))
    })
  }

  /// What the unit's SystemCallFilter lines allow: the first is an allow list (with
  /// @default, which systemd always adds), each `~` line takes its groups away.
  static func allowedSyscalls() throws -> Set<String> {
    let groups = try syscallGroups()
    func names(_ list: Substring) throws -> Set<String> {
      try list.split(separator: " ").reduce(into: Set<String>()) { names, item in
        let name = String(item)
        names.formUnion(name.hasPrefix("@") ? try #require(groups[name], "no group \(name)") : [name])
      }
    }
    var allowed = try #require(groups["@default"])
    for filter in try values("SystemCallFilter") {
      if filter.hasPrefix("~") {
        allowed.subtract(try names(filter.dropFirst()))
      } else {
        allowed.formUnion(try names(Substring(filter)))
      }
    }
    return allowed
  }

  @Test func everySystemCallOfAWorkingSessionPassesTheFilter() throws {
    let directory = try TemporaryDirectory()
    let trace = directory.path + "/trace"
    let daemon = try RunningDaemon(
      rules: DaemonEndToEndTests.rules, arguments: ["--config", "v.yaml"],
      directory: try {
        try "rules:\n  paths: [Rules]\n  poll_s: 0.2\nsocket:\n  mode: \"0600\"\n".write(
          toFile: directory.path + "/v.yaml", atomically: true, encoding: .utf8)
        return directory
      }(), wrapper: ["strace", "-f", "-qq", "-o", trace])
    // Reports, a check, the admin requests, a subscriber, a rule edit picked up by the
    // watcher, SIGHUP, then SIGTERM.
    let subscriber = try UnixSocketClient(path: daemon.socketPath)
    try subscriber.send(Array("{\"op\":\"subscribe\"}\n".utf8))
    #expect(subscriber.readLine(timeout: 20)?.contains("subscribe") == true)
    let answers = try daemon.exchange(
      (0..<20).map { DaemonEndToEndTests.report("S-\($0)") }
        + [#"{"op":"check","report":\#(DaemonEndToEndTests.report("C"))}"#, #"{"op":"status"}"#,
          #"{"op":"rules"}"#, #"{"op":"reload"}"#, #"{"op":"reopen"}"#, #"{"op":"ping"}"#, "not json"])
    #expect(answers.count == 27)
    try DaemonReloadTests.rule("extra.traced").write(
      toFile: directory.path + "/Rules/traced.yaml", atomically: true, encoding: .utf8)
    #expect(try eventually { try DaemonReloadTests.firing(daemon).contains("extra.traced") })
    func lastReload() throws -> String? {
      (try daemon.exchange(#"{"op":"status"}"#)["last_reload"] as? [String: Any])?["at"] as? String
    }
    let before = try lastReload()
    Thread.sleep(forTimeInterval: 0.01)
    kill(daemon.daemonID, SIGHUP)
    #expect(try eventually { try lastReload() != before })
    expectCleanStop(daemon)

    let used = try String(contentsOfFile: trace, encoding: .utf8).split(separator: "\n").reduce(into: Set<String>()) {
      names, line in
      // "1234 openat(AT_FDCWD, ...) = 3", or "1234 <... read resumed>..." (no new call).
      let call = line.drop { $0 != " " }.drop { $0 == " " }
      guard let open = call.firstIndex(of: "("), !call.hasPrefix("<"), !call.hasPrefix("+++"), !call.hasPrefix("---")
      else { return }
      names.insert(String(call[..<open]))
    }
    #expect(used.isSuperset(of: ["epoll_wait", "inotify_add_watch", "fsync", "accept4"]), "\(used.sorted())")
    let refused = used.subtracting(try Self.allowedSyscalls())
    #expect(refused.isEmpty, "vigild calls what the unit's SystemCallFilter refuses: \(refused.sorted())")
  }
}
