import Foundation
import Testing
import VigilTestSupport

/// The shipped systemd unit (Config/vigild.service), checked without a running systemd:
/// `systemd-analyze verify` and `security --offline`, the writable paths against the
/// daemon's own flags, and every system call the real daemon makes — traced with strace
/// through a working session — against the unit's system-call filter. (`systemd` and
/// `strace` are installed by scripts/install-test-tools, which the suite runs when one is
/// missing.)
@Suite("The systemd unit's hardening", .onThreadsOfTheirOwn)
struct SystemdUnitTests {
  init() {
    let needed = ["/usr/bin/systemd-analyze", "/usr/bin/strace"]
    if !needed.allSatisfy(FileManager.default.isExecutableFile(atPath:)) { _ = TestTools.install() }
  }

  static let unitPath = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("Config/vigild.service").path
  /// The drop-in a site adds for a sink that reaches a host over the network.
  static let networkDropInPath = URL(fileURLWithPath: unitPath).deletingLastPathComponent()
    .appendingPathComponent("vigild.service.d/network-sinks.conf.example").path
  /// The drop-in a site adds for a console that other machines reach.
  static let consoleDropInPath = URL(fileURLWithPath: unitPath).deletingLastPathComponent()
    .appendingPathComponent("vigild.service.d/console-network.conf.example").path

  /// The unit's settings (or a drop-in's), by key, in order (a key may repeat).
  static func settings(of path: String = unitPath) throws -> [(key: String, value: String)] {
    let text = try String(contentsOfFile: path, encoding: .utf8)
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

  /// The unit for this build with the network drop-in where systemd looks for the
  /// drop-ins of a unit given by path: `<unit>.d/*.conf`.
  static func unitWithNetworkDropIn(in directory: TemporaryDirectory) throws -> String {
    try unitWithDropIn(networkDropInPath, in: directory)
  }

  static func unitWithDropIn(_ path: String, in directory: TemporaryDirectory) throws -> String {
    let unit = try unitForThisBuild(in: directory)
    try FileManager.default.createDirectory(atPath: unit + ".d", withIntermediateDirectories: true)
    let name = URL(fileURLWithPath: path).lastPathComponent.replacingOccurrences(of: ".example", with: "")
    try FileManager.default.copyItem(atPath: path, toPath: unit + ".d/" + name)
    return unit
  }

  /// `systemd-analyze verify`'s complaints: none, and exit status 0.
  static func expectVerified(_ unit: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let verify = try ChildProcess.run("/usr/bin/systemd-analyze", ["verify", unit])
    #expect(verify.status == 0, "\(verify.standardError)", sourceLocation: sourceLocation)
    #expect(verify.standardError.isEmpty, "\(verify.standardError)", sourceLocation: sourceLocation)
  }

  /// `systemd-analyze security --offline`: the overall exposure (0 is locked down, 10
  /// open) and the lines of its table.
  static func exposure(_ unit: String) throws -> (score: Double, lines: [Substring]) {
    let security = try ChildProcess.run(
      "/usr/bin/systemd-analyze", ["security", "--offline=yes", "--no-pager", unit])
    let lines = security.standardOutput.split(separator: "\n")
    let overall = try #require(
      lines.first { $0.contains("Overall exposure level") }, "\(security.standardOutput)\(security.standardError)")
    // "→ Overall exposure level for vigild.service: 0.5 SAFE".
    let score = try #require(Double(overall.split(separator: ":").last?.split(separator: " ").first ?? ""))
    return (score, lines)
  }

  @Test func systemdAcceptsTheUnitAndRatesItsExposureLow() throws {
    let directory = try TemporaryDirectory()
    let unit = try Self.unitForThisBuild(in: directory)
    try Self.expectVerified(unit)
    let (score, _) = try Self.exposure(unit)
    #expect(score <= 2.0, "overall exposure \(score)")
  }

  @Test func theUnitAloneOpensLoopbackOnlyForTheConsole() throws {
    // The console listens on the host's loopback: the host's network namespace, IP
    // sockets, and every address refused but loopback.
    #expect(try Self.values("PrivateNetwork") == ["no"])
    #expect(try Self.values("RestrictAddressFamilies") == ["AF_UNIX AF_INET AF_INET6"])
    #expect(try Self.values("IPAddressDeny") == ["any"])
    #expect(try Self.values("IPAddressAllow") == ["localhost"])
  }

  @Test(arguments: [networkDropInPath, consoleDropInPath])
  func aNetworkDropInOpensIPToTheAddressesItListsAndNothingElse(_ path: String) throws {
    // It adds allowed addresses and changes nothing else: each an address or a prefix
    // (no `any`, no `localhost`).
    let dropIn = try Self.settings(of: path)
    #expect(Set(dropIn.map(\.key)) == ["IPAddressAllow"])
    let allowed = dropIn.filter { $0.key == "IPAddressAllow" }.flatMap { $0.value.split(separator: " ") }
    #expect(!allowed.isEmpty)
    for entry in allowed {
      let parts = entry.split(separator: "/", maxSplits: 1)
      var address = in6_addr()
      let isAddress =
        inet_pton(AF_INET, String(parts[0]), &address) == 1 || inet_pton(AF_INET6, String(parts[0]), &address) == 1
      #expect(isAddress && (parts.count == 1 || Int(parts[1]).map { $0 >= 8 } == true), "\(entry)")
    }
    let directory = try TemporaryDirectory()
    let unit = try Self.unitWithDropIn(path, in: directory)
    try Self.expectVerified(unit)
    let (score, _) = try Self.exposure(unit)
    #expect(score <= 2.0, "overall exposure \(score)")
  }

  @Test func theNetworkDropInKeepsTheRestOfTheHardening() throws {
    let directory = try TemporaryDirectory()
    let unit = try Self.unitWithNetworkDropIn(in: directory)
    try Self.expectVerified(unit)
    let (score, lines) = try Self.exposure(unit)
    #expect(score <= 2.0, "overall exposure \(score)")
    func mark(_ setting: String) -> Substring? {
      lines.first { $0.dropFirst(2).hasPrefix(setting) }?.prefix(1)
    }
    // Read with the unit (it is what opens the host's network), and nothing more opened.
    #expect(mark("PrivateNetwork=") == "✗")
    #expect(mark("RestrictAddressFamilies=~AF_(INET|INET6)") == "✗")
    for family in ["AF_PACKET", "AF_NETLINK", "…"] {
      #expect(mark("RestrictAddressFamilies=~" + family) == "✓", "\(family)")
    }
  }

  @Test func theDaemonMayWriteOnlyItsStateItsLogsAndItsSocket() throws {
    #expect(try Self.values("NoNewPrivileges") == ["yes"])
    #expect(try Self.values("ProtectSystem") == ["strict"])
    #expect(try Self.values("PrivateTmp") == ["yes"])
    #expect(try Self.values("CapabilityBoundingSet") == [""])
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
    // The console on, as shipped (on a port of its own: tests run side by side); the socket
    // given the daemon's own group, as a site names the unit's `Group=` (no chown, which the
    // filter refuses, is needed for it).
    let port = freeTCPPort()
    let group = String(cString: try #require(getgrgid(getgid())).pointee.gr_name)
    let daemon = try RunningDaemon(
      rules: DaemonEndToEndTests.rules, arguments: ["--config", "v.yaml"],
      directory: try {
        try "rules:\n  paths: [Rules]\n  poll_s: 0.2\nsocket:\n  mode: \"0660\"\n  group: \(group)\nhttp:\n  listen: \"127.0.0.1:\(port)\"\n"
          .write(toFile: directory.path + "/v.yaml", atomically: true, encoding: .utf8)
        return directory
      }(), wrapper: ["strace", "-f", "-qq", "-o", trace])
    // Reports, a check, the admin requests, a subscriber, the console's pages and API, a
    // rule edit picked up by the watcher, SIGHUP, then SIGTERM.
    let subscriber = try UnixSocketClient(path: daemon.socketPath)
    try subscriber.send(Array("{\"op\":\"subscribe\"}\n".utf8))
    #expect(subscriber.readLine(timeout: 20)?.contains("subscribe") == true)
    let answers = try daemon.exchange(
      (0..<20).map { DaemonEndToEndTests.report("S-\($0)") }
        + [#"{"op":"check","report":\#(DaemonEndToEndTests.report("C"))}"#, #"{"op":"status"}"#,
          #"{"op":"rules"}"#, #"{"op":"reload"}"#, #"{"op":"reopen"}"#, #"{"op":"ping"}"#, "not json"])
    #expect(answers.count == 27)
    let console = HTTPTestClient(port: port)
    // The console starts listening after the socket does.
    #expect(eventually(within: 60) { (try? console.request(path: "/api/status")) != nil })
    for path in ["/", "/api/alerts", "/api/status", "/metrics"] {
      #expect(try console.request(path: path).status == 200, "GET \(path)")
    }
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

    let used = try Self.calls(in: trace)
    #expect(used.isSuperset(of: ["epoll_wait", "inotify_add_watch", "fsync", "accept4"]), "\(used.sorted())")
    let refused = used.subtracting(try Self.allowedSyscalls())
    #expect(refused.isEmpty, "vigild calls what the unit's SystemCallFilter refuses: \(refused.sorted())")
  }

  /// The system calls a trace of `strace -f -o` shows.
  static func calls(in trace: String) throws -> Set<String> {
    try String(contentsOfFile: trace, encoding: .utf8).split(separator: "\n").reduce(into: Set<String>()) {
      names, line in
      // "1234 openat(AT_FDCWD, ...) = 3", or "1234 <... read resumed>..." (no new call).
      let call = line.drop { $0 != " " }.drop { $0 == " " }
      guard let open = call.firstIndex(of: "("), !call.hasPrefix("<"), !call.hasPrefix("+++"), !call.hasPrefix("---")
      else { return }
      names.insert(String(call[..<open]))
    }
  }

  /// What the network drop-in is for: the postgres sink over TCP with TLS, and the
  /// webhook sink, traced as above. The drop-in leaves the system-call filter as it is, so
  /// what these TCP clients call must pass the unit's.
  @Test func everySystemCallOfTheNetworkSinksPassesTheFilter() throws {
    let server = try PostgresServer()
    try server.createVigilDatabase()
    let certificate = try PostgresConnectionTests.enableTLS(on: server)
    let receiver = try WebhookReceiver(unavailable: 0)
    let directory = try TemporaryDirectory()
    try "secret\n".write(toFile: directory.path + "/writer.password", atomically: true, encoding: .utf8)
    try "It is a secret\n".write(toFile: directory.path + "/webhook.secret", atomically: true, encoding: .utf8)
    let config = """
      node: traced
      plugins:
        postgres:
          host: localhost
          port: \(server.port)
          database: vigil
          user: vigil_writer
          password_file: \(directory.path)/writer.password
          owner: {user: vigil_owner, password_env: VIGIL_TEST_OWNER_PASSWORD}
          tls: verify-full
          tls_ca_file: \(certificate)
          reports: true
        webhook:
          url: \(receiver.url)
          secret_file: \(directory.path)/webhook.secret

      """
    try config.write(toFile: directory.path + "/v.yaml", atomically: true, encoding: .utf8)
    let trace = directory.path + "/trace"
    let daemon = try RunningDaemon(
      rules: DaemonEndToEndTests.rules, arguments: ["--config", "v.yaml"], directory: directory,
      environment: PostgresConnectionTests.ownerPassword, wrapper: ["strace", "-f", "-qq", "-o", trace])
    let answers = try daemon.exchange((0..<6).map { PostgresSinkTests.report("NET-\($0)", $0) })
    #expect(answers.count == 6)
    #expect(
      try eventually(within: 60) {
        let sinks = (try daemon.exchange(#"{"op":"status"}"#)["sinks"] as? [[String: Any]]) ?? []
        return sinks.count == 2 && sinks.allSatisfy { ($0["lag"] as? Int) == 0 && $0["last_error"] is NSNull }
      }, "\((try? daemon.exchange(#"{"op":"status"}"#)["sinks"]) ?? "")")
    #expect(try server.sql("SELECT count(*) > 0 FROM vigil.alerts", database: "vigil") == "t")
    #expect(!receiver.requests.isEmpty)
    expectCleanStop(daemon)

    let used = try Self.calls(in: trace)
    #expect(used.isSuperset(of: ["socket", "connect", "getsockopt"]), "\(used.sorted())")
    let traced = try String(contentsOfFile: trace, encoding: .utf8)
    #expect(traced.contains("socket(AF_INET"), "a TCP connection was traced")
    let refused = used.subtracting(try Self.allowedSyscalls())
    #expect(refused.isEmpty, "the network sinks call what the unit's SystemCallFilter refuses: \(refused.sorted())")
  }
}
