import Foundation
import Testing
import VigilServer
import VigilTestSupport

@Suite("Config/vigild.yaml: every key, every refusal with its key path")
struct ConfigurationLoaderTests {
  static let plugins = ["designations", "places"]

  func load(_ yaml: String) throws(ConfigurationErrors) -> DaemonConfiguration {
    try ConfigurationLoader.load(
      yaml: yaml, file: "vigild.yaml", knownPlugins: Self.plugins, withoutSettings: ["places"], enabledByDefault: Self.plugins)
  }

  /// The built-in defaults, with the plugins on by default.
  static var defaults: DaemonConfiguration {
    var configuration = DaemonConfiguration()
    configuration.plugins = plugins.map { .init(name: $0) }
    return configuration
  }

  func errors(_ yaml: String) -> [String] {
    do {
      _ = try load(yaml)
      return []
    } catch {
      return error.errors.map(\.description)
    }
  }

  @Test func theShippedFileHoldsTheBuiltInDefaults() throws {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent()
    let text = try String(contentsOf: root.appendingPathComponent("Config/vigild.yaml"), encoding: .utf8)
    #expect(try load(text) == Self.defaults)
  }

  @Test func anEmptyFileMeansTheDefaults() throws {
    #expect(try load("") == Self.defaults)
    #expect(try load("# only a comment\n") == Self.defaults)
    #expect(try load("socket:\nrules:\n") == Self.defaults)
  }

  @Test func everyKeyIsRead() throws {
    let configuration = try load(
      """
      socket:
        path: /run/vigil/vigil.sock
        mode: 0600
        group: vigil
        admin_uids: [1000, 1001]
        admin_gids: [27]
        threads: 3
      rules:
        paths: [/etc/vigil/rules, /etc/vigil/local]
        watch: false
        poll_s: 0.5
      state_dir: /var/lib/vigil
      alerts:
        path: /var/log/vigil/alerts.jsonl
        rotate_bytes: 104_857_600
        keep: 10
      durability: none
      limits:
        max_line_bytes: 65536
        max_connections: 16
        max_pending_bytes: 1048576
        idle_line_s: 5
      http:
        listen: "[::1]:9000"
        token_file: /etc/vigil/console.token
        index_limit: 5000
      plugins:
        designations:
          extra_names: [Daesh]
      """)
    var expected = DaemonConfiguration()
    expected.socket.path = "/run/vigil/vigil.sock"
    expected.socket.mode = 0o600
    expected.socket.group = "vigil"
    expected.socket.adminUIDs = [1000, 1001]
    expected.socket.adminGIDs = [27]
    expected.socket.threads = 3
    expected.rules.paths = ["/etc/vigil/rules", "/etc/vigil/local"]
    expected.rules.watch = false
    expected.rules.pollSeconds = 0.5
    expected.stateDirectory = "/var/lib/vigil"
    expected.alerts.path = "/var/log/vigil/alerts.jsonl"
    expected.alerts.rotateBytes = 104_857_600
    expected.alerts.keep = 10
    expected.durability = .none
    expected.limits.maxLineBytes = 65536
    expected.limits.maxConnections = 16
    expected.limits.maxPendingBytes = 1_048_576
    expected.limits.idleLineSeconds = 5
    expected.http.listen = HTTPAddress(host: "::1", port: 9000)
    expected.http.tokenFile = "/etc/vigil/console.token"
    expected.http.indexLimit = 5000
    expected.plugins = [
      .init(name: "designations", settings: .mapping([.init(key: "extra_names", value: .sequence([.scalar("Daesh")]))]))
    ]
    #expect(configuration == expected)
  }

  @Test(arguments: [
    ("\"0660\"", 0o660), ("0660", 0o660), ("0600", 0o600), ("'0o640'", 0o640), ("660", 0o660), ("0", 0),
  ])
  func socketModesAreOctal(text: String, mode: Int) throws {
    #expect(try load("socket:\n  mode: \(text)\n").socket.mode == UInt32(mode))
  }

  @Test func connectionThreadsFromZeroToTheMost() throws {
    #expect(try load("socket:\n  threads: 0\n").socket.threads == 0)
    #expect(try load("socket:\n  threads: 256\n").socket.threads == 256)
    #expect(throws: ConfigurationErrors.self) { try load("socket:\n  threads: 257\n") }
  }

  @Test func theConsoleCanBeTurnedOffOrMoved() throws {
    #expect(try load("http:\n  listen: off\n").http.listen == nil)
    #expect(try load("http:\n  listen: 0.0.0.0:80\n").http.listen == HTTPAddress(host: "0.0.0.0", port: 80))
    #expect(try load("http:\n  token_file: \"\"\n").http.tokenFile == "")
  }

  @Test(arguments: [
    ("127.0.0.1:8470", "127.0.0.1:8470", true), ("[::1]:1", "[::1]:1", true), ("localhost:80", "localhost:80", true),
    ("0.0.0.0:8470", "0.0.0.0:8470", false), ("192.0.2.4:443", "192.0.2.4:443", false),
    ("127.1.2.3:9", "127.1.2.3:9", true), ("127.example:9", "127.example:9", false),
    // Every form the system reads as loopback, as the Host check takes them.
    ("127.1:9", "127.1:9", true), ("LOCALHOST:9", "LOCALHOST:9", true), ("localhost.:9", "localhost.:9", false),
    ("[::ffff:127.0.0.1]:9", "[::ffff:127.0.0.1]:9", true), ("[::ffff:10.0.0.1]:9", "[::ffff:10.0.0.1]:9", false),
    ("128.1:9", "128.1:9", false),
  ])
  func consoleAddressesAndWhetherTheyAreLoopback(text: String, shown: String, loopback: Bool) throws {
    let address = try #require(try HTTPAddress.parse(text).get())
    #expect(address.description == shown)
    #expect(address.isLoopback == loopback)
  }

  @Test(arguments: [
    ("8470", "expected host:port (or off), got 8470"), (":8470", "expected a host before the port, got :8470"),
    ("127.0.0.1:", "expected a port from 1 to 65535, got nothing"),
    ("127.0.0.1:70000", "expected a port from 1 to 65535, got 70000"),
    ("::1:8470", "expected host:port (or off), got ::1:8470"), ("[::1]8470", "expected [IPv6 address]:port, got [::1]8470"),
  ])
  func aWrongConsoleAddressSaysWhatIsWrong(text: String, message: String) throws {
    #expect(throws: HTTPAddress.Problem.self) { try HTTPAddress.parse(text).get() }
    if case .failure(let problem) = HTTPAddress.parse(text) { #expect(problem.description == message) }
    #expect(throws: ConfigurationErrors.self) { try load("http:\n  listen: \"\(text)\"\n") }
  }

  @Test func yamlGuessesDoNotChangeStrings() throws {
    // YAML 1.1 would read these as a boolean and a number.
    let configuration = try load("socket:\n  group: no\nstate_dir: 0755\n")
    #expect(configuration.socket.group == "no")
    #expect(configuration.stateDirectory == "0755")
  }

  @Test func pluginsCanBeChosenAndEmptied() throws {
    #expect(try load("plugins:\n  places:\n").plugins == [.init(name: "places")])
    #expect(try load("plugins: {}\n").plugins == [])
  }

  /// A plugin's setting left empty keeps its default, as a core key does: it is not given
  /// to the plugin at all (which would read `~` or nothing as the value).
  @Test func aPluginSettingLeftEmptyKeepsItsDefault() throws {
    let configuration = try load("plugins:\n  designations:\n    a: 1\n    b: ~\n    c:\n    d: null\n    e: '~'\n    f: {g: ~}\n")
    #expect(
      configuration.plugins == [
        .init(
          name: "designations",
          settings: .mapping([.init(key: "a", value: .scalar("1")), .init(key: "e", value: .scalar("~")), .init(key: "f", value: .mapping([.init(key: "g", value: .scalar("~"))]))]))
      ])
  }

  static let refusals: [(String, [String])] = [
    (
      "sockets:\n  path: x\n",
      ["vigild.yaml:1:1: sockets: unknown key (known: node, socket, rules, state_dir, alerts, durability, limits, http, plugins)"]
    ),
    (
      "socket:\n  pathh: x\n",
      ["vigild.yaml:2:3: socket.pathh: unknown key (known: path, mode, group, admin_uids, admin_gids, threads)"]
    ),
    ("socket: /tmp/s\n", [#"vigild.yaml:1:9: socket: expected a mapping, got "/tmp/s""#]),
    (
      "socket:\n  mode: rw-rw----\n",
      [#"vigild.yaml:2:9: socket.mode: expected an octal file mode from 0000 to 0777 such as "0660", got "rw-rw----""#]
    ),
    (
      "socket:\n  mode: 0888\n",
      [#"vigild.yaml:2:9: socket.mode: expected an octal file mode from 0000 to 0777 such as "0660", got "0888""#]
    ),
    (
      "socket:\n  mode: 4755\n",
      [#"vigild.yaml:2:9: socket.mode: expected an octal file mode from 0000 to 0777 such as "0660", got "4755""#]
    ),
    (
      "socket:\n  admin_uids: [0, -1, x]\n",
      [
        #"vigild.yaml:2:19: socket.admin_uids[1]: expected a numeric id from 0 to 4294967294, got "-1""#,
        #"vigild.yaml:2:23: socket.admin_uids[2]: expected a numeric id from 0 to 4294967294, got "x""#,
      ]
    ),
    (
      "socket:\n  admin_gids: 27\n", [#"vigild.yaml:2:15: socket.admin_gids: expected a list of numeric ids, got "27""#]
    ),
    ("socket:\n  path: [a, b]\n", ["vigild.yaml:2:9: socket.path: expected a string, got a list"]),
    (
      "socket:\n  threads: -1\n",
      [#"vigild.yaml:2:12: socket.threads: expected a whole number of at least 0, got "-1""#]
    ),
    ("socket:\n  threads: 1000\n", ["vigild.yaml:2:12: socket.threads: expected at most 256 threads, got \"1000\""]),
    ("socket:\n  path: ''\n", ["vigild.yaml:2:9: socket.path: expected a non-empty string"]),
    ("rules:\n  paths: Rules\n", [#"vigild.yaml:2:10: rules.paths: expected a list of directories, got "Rules""#]),
    ("rules:\n  paths: []\n", ["vigild.yaml:2:10: rules.paths: expected at least one rules directory"]),
    ("rules:\n  paths: [Rules, {a: 1}]\n", ["vigild.yaml:2:18: rules.paths[1]: expected a string, got a mapping"]),
    ("rules:\n  watch: sometimes\n", [#"vigild.yaml:2:10: rules.watch: expected true or false, got "sometimes""#]),
    (
      "rules:\n  poll_s: 0\n",
      [#"vigild.yaml:2:11: rules.poll_s: expected a number of seconds greater than 0 and at most 31536000 (a year), got "0""#]
    ),
    (
      "rules:\n  poll_s: two\n",
      [#"vigild.yaml:2:11: rules.poll_s: expected a number of seconds greater than 0 and at most 31536000 (a year), got "two""#]
    ),
    ("alerts:\n  keep: 0\n", [#"vigild.yaml:2:9: alerts.keep: expected a whole number of at least 1, got "0""#]),
    // Past the bound, the daemon ran out of memory listing the kept files' names.
    (
      "alerts:\n  keep: 9223372036854775807\n",
      [#"vigild.yaml:2:9: alerts.keep: expected at most 1000 rotated files, got "9223372036854775807""#]
    ),
    (
      "alerts:\n  rotate_bytes: -5\n",
      [#"vigild.yaml:2:17: alerts.rotate_bytes: expected a whole number of at least 0, got "-5""#]
    ),
    ("durability: always\n", [#"vigild.yaml:1:13: durability: expected one of (batch, none), got "always""#]),
    // Past what a whole number holds: said to be too large, not too small (audit 26).
    (
      "limits:\n  max_line_bytes: 99999999999999999999999\n",
      [#"vigild.yaml:2:19: limits.max_line_bytes: expected a whole number of at least 1, got "99999999999999999999999", which is too large"#]
    ),
    (
      "limits:\n  max_line_bytes: 1MiB\n",
      [#"vigild.yaml:2:19: limits.max_line_bytes: expected a whole number of at least 1, got "1MiB""#]
    ),
    (
      "limits:\n  max_connections: 0\n",
      [#"vigild.yaml:2:20: limits.max_connections: expected a whole number of at least 1, got "0""#]
    ),
    (
      "limits:\n  idle_line_s: 99999999999999999999\n",
      [#"vigild.yaml:2:16: limits.idle_line_s: expected a number of seconds greater than 0 and at most 31536000 (a year), got "99999999999999999999""#]
    ),
    (
      "http:\n  idle_s: 0.0001\n",
      [#"vigild.yaml:2:11: http.idle_s: expected a number of seconds from 1 to 86400, got "0.0001""#]
    ),
    (
      "http:\n  max_connections: 0\n",
      [#"vigild.yaml:2:20: http.max_connections: expected a whole number of at least 1, got "0""#]
    ),
    (
      "limits:\n  idle_line_s: -1\n",
      [#"vigild.yaml:2:16: limits.idle_line_s: expected a number of seconds greater than 0 and at most 31536000 (a year), got "-1""#]
    ),
    (
      "plugins:\n  designation: {}\n",
      ["vigild.yaml:2:3: plugins.designation: unknown key (known: designations, places)"]
    ),
    (
      "plugins:\n  designations: {}\n  places: {foo: 1}\n",
      ["vigild.yaml:3:12: plugins.places.foo: unknown setting: the places plugin takes none (enable it with {})"]
    ),
    (
      "plugins:\n  places: [a]\n",
      ["vigild.yaml:2:11: plugins.places: expected a mapping of the plugin's settings, got a list"]
    ),
    (
      "socket:\n  path: a\n  path: b\n",
      [#"vigild.yaml:2:3: invalid YAML: the mapping that starts here repeats the key "path""#]
    ),
    ("- socket\n", ["vigild.yaml:1:1: expected a mapping, got a list"]),
    ("socket:\n  path: [unclosed\n", []),  // a YAML syntax error: checked below
    // Every problem is reported, not only the first.
    (
      "durability: x\nlimits:\n  max_connections: none\nextra: 1\n",
      [
        #"vigild.yaml:1:13: durability: expected one of (batch, none), got "x""#,
        #"vigild.yaml:3:20: limits.max_connections: expected a whole number of at least 1, got "none""#,
        "vigild.yaml:4:1: extra: unknown key (known: node, socket, rules, state_dir, alerts, durability, limits, http, plugins)",
      ]
    ),
  ]

  @Test(arguments: refusals)
  func refusal(yaml: String, expected: [String]) {
    let found = errors(yaml)
    if expected.isEmpty {
      #expect(found.count == 1)
      #expect(found.first?.hasPrefix("vigild.yaml:") == true)
      #expect(found.first?.contains("invalid YAML") == true)
    } else {
      #expect(found == expected)
    }
  }

  @Test func syntaxErrorsCarryTheirPosition() throws {
    let found = errors("socket:\n  path: x\n mode: 1\n")
    #expect(found.count == 1)
    #expect(found.first?.hasPrefix("vigild.yaml:3:") == true, "\(found)")
  }

  /// `--config /dev/null` is the built-in defaults (a file empty and writable by all, which
  /// no write changes), and a named pipe is read as it streams: neither has a size to read by.
  @Test func theConfigurationIsReadAsAStream() throws {
    var source = ConfigurationSource()
    source.explicitPath = "/dev/null"
    let empty = try source.load(knownPlugins: Self.plugins, enabledByDefault: Self.plugins)
    #expect(empty.socket.path == Self.defaults.socket.path && empty.alerts.path == Self.defaults.alerts.path)
    #expect(RulesDirectoryCheck.worldWritable("/dev/null", what: "the configuration", key: nil) == nil)

    let directory = try TemporaryDirectory()
    let pipe = directory.path + "/v.fifo"
    #expect(mkfifo(pipe, 0o600) == 0)
    let writer = Thread {
      let handle = FileHandle(forWritingAtPath: pipe)
      handle?.write(Data("socket:\n  path: /tmp/from-a-pipe.sock\n".utf8))
      try? handle?.close()
    }
    writer.start()
    source.explicitPath = pipe
    #expect(try source.load(knownPlugins: Self.plugins, enabledByDefault: Self.plugins).socket.path == "/tmp/from-a-pipe.sock")

    let notText = directory.path + "/v.yaml"
    try Data("node: a".utf8 + [0xFF] + Data("\n".utf8)).write(to: URL(fileURLWithPath: notText))
    source.explicitPath = notText
    #expect {
      try source.load(knownPlugins: Self.plugins, enabledByDefault: Self.plugins)
    } throws: { error in
      "\(error)" == "cannot read the configuration \(notText): not UTF-8 text (the byte at offset 7, line 1 column 8, is not)"
    }
    // A byte order mark, as Windows' Notepad saves: YAML allows it, and the keys load.
    try Data([0xEF, 0xBB, 0xBF] + Array("durability: none\nnode: bom\n".utf8)).write(to: URL(fileURLWithPath: notText))
    #expect(try source.load(knownPlugins: Self.plugins, enabledByDefault: Self.plugins).node == "bom")
    // A real U+FFFD (three bytes, valid UTF-8) before the bad byte is not the bad byte.
    try Data("# \u{FFFD}\nnode: a".utf8 + [0xC3] + Data("\n".utf8)).write(to: URL(fileURLWithPath: notText))
    #expect {
      try source.load(knownPlugins: Self.plugins, enabledByDefault: Self.plugins)
    } throws: { error in
      "\(error)" == "cannot read the configuration \(notText): not UTF-8 text (the byte at offset 13, line 2 column 8, is not)"
    }
  }
}
