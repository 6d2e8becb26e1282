import Foundation
import NIOCore
import Testing
import VigilCore
import VigilTestSupport

@testable import VigilPlugins

/// The postgres sink's settings without a database: the defaults, where it connects, and
/// each refusal as the one sentence vigild stops with. A real server is in
/// Tests/VigilEndToEndTests/PostgresSinkTests.swift and PostgresConnectionTests.swift.
@Suite("The postgres sink: settings")
struct PostgresSettingsTests {
  /// A settings mapping of scalars, and `owner` as given.
  static func settings(_ pairs: [(String, String)], owner: ConfigurationValue? = nil) -> ConfigurationValue {
    var members = pairs.map { ConfigurationValue.Member(key: $0.0, value: .scalar($0.1)) }
    if let owner { members.append(.init(key: "owner", value: owner)) }
    return .mapping(members)
  }

  static func mapping(_ pairs: [(String, String)]) -> ConfigurationValue {
    .mapping(pairs.map { .init(key: $0.0, value: .scalar($0.1)) })
  }

  /// A directory with `password` (holding "secret\n"), `ca.pem` (a self-signed CA's
  /// certificate, made with openssl for these tests) and `broken.pem` (its first line only).
  static func files() throws -> TemporaryDirectory {
    let directory = try TemporaryDirectory()
    try "secret\n".write(toFile: directory.path + "/password", atomically: true, encoding: .utf8)
    try Self.certificate.write(toFile: directory.path + "/ca.pem", atomically: true, encoding: .utf8)
    try "-----BEGIN CERTIFICATE-----\n".write(toFile: directory.path + "/broken.pem", atomically: true, encoding: .utf8)
    return directory
  }

  static let certificate = """
    -----BEGIN CERTIFICATE-----
    MIIBiDCCAS2gAwIBAgIUA3v1ounbqo0w7OIl0h9/yTysCiwwCgYIKoZIzj0EAwIw
    GDEWMBQGA1UEAwwNdmlnaWwtdGVzdC1jYTAgFw0yNjEyMDUxNTA3MTVaGA8yMTI2
    MTExMTE1MDcxNVowGDEWMBQGA1UEAwwNdmlnaWwtdGVzdC1jYTBZMBMGByqGSM49
    AgEGCCqGSM49AwEHA0IABHHrRkmI9f6insHcV7PswuD0DYN0/6//TzmkMwdHpIa+
    rPD/GJlhwXu3h8dEoqG42+QEGr1FqiVS94dujFNBla2jUzBRMB0GA1UdDgQWBBSW
    NHeJ9Me/sD80WeD9LsFKL7+QUjAfBgNVHSMEGDAWgBSWNHeJ9Me/sD80WeD9LsFK
    L7+QUjAPBgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0kAMEYCIQCU4lmPsQfL
    iRLeMR3lpbLI5CVT1aIN/IMaNn6ZWLKTPQIhAIXpGGGkM3prn4gF4/BeRm1q3cNB
    WGYYZdJw/3hxUgjN
    -----END CERTIFICATE-----
    """


  static func problem(_ settings: ConfigurationValue) -> String? {
    do {
      _ = try PostgresSettings(settings)
      return nil
    } catch {
      return error.description
    }
  }

  @Test func withOnlyAUserItIsDebiansLocalSocketAndTheDatabaseOfTheUsersName() throws {
    let settings = try PostgresSettings(Self.settings([("user", "vigil_writer")]))
    #expect(settings.socketFile == "/var/run/postgresql/.s.PGSQL.5432")
    #expect(settings.database == "vigil_writer")
    #expect(settings.writer == .init(user: "vigil_writer", passwordFile: nil, passwordVariable: nil))
    #expect(settings.owner == nil)
    #expect(settings.tls == .prefer)
    #expect(settings.tlsCAFile == nil)
    #expect(settings.reports == false)
    #expect(settings.connectTimeout == 10)
    #expect(settings.timeout == 60)
    #expect(settings.writeMethod == .insert)
    #expect(settings.place == "/var/run/postgresql/.s.PGSQL.5432")
  }

  @Test func aPortWithoutHostOrSocketNamesTheDefaultDirectorysSocketForIt() throws {
    let settings = try PostgresSettings(Self.settings([("user", "vigil"), ("port", "5433")]))
    #expect(settings.socketFile == "/var/run/postgresql/.s.PGSQL.5433")
  }

  @Test func aSocketDirectoryHoldsTheSocketOfThePortAndAnythingElseIsTheSocketItself() throws {
    let directory = try TemporaryDirectory()
    let inDirectory = try PostgresSettings(Self.settings([("user", "vigil"), ("socket", directory.path)]))
    #expect(inDirectory.socketFile == directory.path + "/.s.PGSQL.5432")
    let withPort = try PostgresSettings(
      Self.settings([("user", "vigil"), ("socket", directory.path), ("port", "6543")]))
    #expect(withPort.socketFile == directory.path + "/.s.PGSQL.6543")
    // A path that is not a directory (the socket file, there or not yet) is taken as it is.
    let file = directory.path + "/.s.PGSQL.7777"
    let socketFile = try PostgresSettings(Self.settings([("user", "vigil"), ("socket", file), ("port", "6543")]))
    #expect(socketFile.socketFile == file)
    #expect(socketFile.place == file)
    let other = directory.path + "/pg.sock"
    #expect(FileManager.default.createFile(atPath: other, contents: Data()))
    #expect(try PostgresSettings(Self.settings([("user", "vigil"), ("socket", other)])).socketFile == other)
    // A folder not made yet (the server's, at boot) is told at each connection: once made,
    // its socket is the one connected to.
    let later = directory.path + "/later"
    let waiting = try PostgresSettings(Self.settings([("user", "vigil"), ("socket", later), ("port", "6543")]))
    #expect(waiting.socketFile == later + "/.s.PGSQL.6543")
    try FileManager.default.createDirectory(atPath: later, withIntermediateDirectories: false)
    #expect(waiting.socketFile == later + "/.s.PGSQL.6543")
    #expect(waiting.place == later + "/.s.PGSQL.6543")
  }

  @Test func aHostIsTCPOnTheGivenPortOr5432() throws {
    let given = try PostgresSettings(
      Self.settings([("host", "db.mission.example"), ("port", "6543"), ("user", "vigil_writer"), ("database", "vigil")])
    )
    #expect(given.endpoint == .tcp(host: "db.mission.example", port: 6543))
    #expect(given.database == "vigil")
    #expect(given.place == "db.mission.example:6543")
    let standard = try PostgresSettings(Self.settings([("host", "127.0.0.1"), ("user", "vigil_writer")]))
    #expect(standard.endpoint == .tcp(host: "127.0.0.1", port: 5432))
    #expect(try PostgresSettings(Self.settings([("host", "::1"), ("user", "v")])).endpoint == .tcp(host: "::1", port: 5432))
    // libpq's spellings that can never be a host: refused at start, not failed for good.
    #expect(
      Self.problem(Self.settings([("host", "/tmp/pgs"), ("user", "v")]))
        == "host /tmp/pgs is a path: a Unix socket (or its folder) is given as socket")
    #expect(
      Self.problem(Self.settings([("host", "localhost:19201"), ("user", "v")]))
        == "host localhost:19201 holds a port: give the host alone and port: 19201")
    #expect(Self.problem(Self.settings([("host", "db.example:"), ("user", "v")])) == "host db.example: holds a port: give the host alone")
    #expect(
      Self.problem(Self.settings([("host", "[::1]:5432"), ("user", "v")]))
        == "host [::1]:5432: give an IPv6 address without brackets (host: ::1), and its port as port")
    #expect(Self.problem(Self.settings([("host", "fe80::1"), ("user", "v")])) == nil)
    // A host refused is not taken for the default socket by the checks after it: TLS
    // asked for is no mistake of its own then.
    var said: [String] = []
    do {
      _ = try PostgresSettings(
        Self.settings([("host", "db.example"), ("socket", "/tmp/x"), ("user", "v"), ("tls", "verify-full")]))
    } catch {
      said = error.all.map(\.description)
    }
    #expect(said == ["give host (TCP) or socket (a Unix socket), not both"], "\(said)")
  }

  @Test func everyOtherSettingAsWritten() throws {
    let directory = try Self.files()
    let settings = try PostgresSettings(
      Self.settings(
        [
          ("host", "localhost"), ("user", "vigil_writer"), ("password_file", directory.path + "/password"),
          ("tls", "verify-full"), ("tls_ca_file", directory.path + "/ca.pem"), ("reports", "yes"),
          ("connect_timeout_s", "2.5"), ("timeout_s", "600"), ("write", "insert"),
        ],
        owner: Self.mapping([("user", "vigil_owner"), ("password_env", "VIGIL_OWNER_PASSWORD")])))
    #expect(
      settings.writer == .init(user: "vigil_writer", passwordFile: directory.path + "/password", passwordVariable: nil))
    #expect(settings.owner == .init(user: "vigil_owner", passwordFile: nil, passwordVariable: "VIGIL_OWNER_PASSWORD"))
    #expect(settings.tls == .verifyFull)
    #expect(settings.tlsCAFile == directory.path + "/ca.pem")
    #expect(settings.reports == true)
    #expect(settings.connectTimeout == 2.5)
    #expect(settings.timeout == 600)
    #expect(settings.writeMethod == .insert)
  }

  @Test(arguments: [("true", true), ("yes", true), ("on", true), ("false", false), ("no", false), ("off", false)])
  func reportsTakesTheWordsOfYes(_ word: String, _ expected: Bool) throws {
    #expect(try PostgresSettings(Self.settings([("user", "vigil"), ("reports", word)])).reports == expected)
  }

  @Test(arguments: PostgresSettings.TLSMode.allCases)
  func tlsTakesLibpqsWords(_ mode: PostgresSettings.TLSMode) throws {
    #expect(try PostgresSettings(Self.settings([("host", "db"), ("user", "vigil"), ("tls", mode.rawValue)])).tls == mode)
  }

  @Test func thePasswordFileIsReadWithoutItsLineEnd() throws {
    let directory = try Self.files()
    let settings = try PostgresSettings(
      Self.settings([("user", "vigil"), ("password_file", directory.path + "/password")]))
    #expect(try settings.writer.password() == "secret")
    try "secret\r\n".write(toFile: directory.path + "/crlf", atomically: true, encoding: .utf8)
    let crlf = try PostgresSettings(Self.settings([("user", "vigil"), ("password_file", directory.path + "/crlf")]))
    // "\r\n" is one Character in Swift: the trim must take it whole.
    #expect(try crlf.writer.password() == "secret")
    #expect(try PostgresSettings(Self.settings([("user", "vigil")])).writer.password() == nil)
    let unset = try PostgresSettings(
      Self.settings([("user", "vigil"), ("password_env", "VIGIL_TEST_NO_SUCH_VARIABLE")]))
    #expect(throws: (any Error).self) { try unset.writer.password() }
  }

  /// Each wrong setting and the exact sentence it stops vigild with. `FILES` stands for the
  /// directory of `files()`.
  static let wrongSettings: [(settings: ConfigurationValue, says: String)] = [
    (.scalar("vigil"), "the settings must be a mapping with at least user (and host or socket, database)"),
    (settings([("host", "db.example")]), "user is required: the PostgreSQL role to connect as"),
    (
      settings([("user", "vigil"), ("host", "db.example"), ("socket", "/var/run/postgresql")]),
      "give host (TCP) or socket (a Unix socket), not both"
    ),
    (settings([("user", "vigil"), ("port", "0")]), "port must be a TCP port from 1 to 65535, got 0"),
    (settings([("user", "vigil"), ("port", "65536")]), "port must be a TCP port from 1 to 65535, got 65536"),
    (settings([("user", "vigil"), ("port", "pg")]), "port must be a TCP port from 1 to 65535, got pg"),
    (
      settings([("user", "vigil"), ("hostname", "db.example")]),
      "unknown setting hostname (known: host, port, socket, database, user, password_file, password_env, owner, "
        + "tls, tls_ca_file, reports, connect_timeout_s, timeout_s, write, and min_priority, rules, tags)"
    ),
    (settings([("user", "vigil"), ("host", "")]), "host is empty; give it a value or leave it out"),
    (.mapping([.init(key: "user", value: .sequence([.scalar("vigil")]))]), "user must be a single value, not a list or a mapping"),
    (
      settings([("user", "vigil"), ("password_file", "FILES/password"), ("password_env", "PGPASSWORD")]),
      "give password_file or password_env, not both"
    ),
    (settings([("user", "vigil"), ("password_file", "FILES/missing")]), "password_file FILES/missing cannot be read (no such file)"),
    (settings([("user", "vigil"), ("password_file", "FILES")]), "password_file FILES cannot be read (it is a directory)"),
    (
      settings([("user", "vigil")], owner: .scalar("vigil_owner")),
      "owner must be a mapping: {user: vigil_owner, password_file: /path}"
    ),
    (
      settings([("user", "vigil")], owner: mapping([("password_file", "FILES/password")])),
      "owner.user is required: the PostgreSQL role to connect as"
    ),
    (
      settings([("user", "vigil")], owner: mapping([("user", "vigil_owner"), ("password", "secret")])),
      "owner takes user, password_file and password_env (non-empty strings); got password"
    ),
    (
      settings(
        [("user", "vigil")],
        owner: mapping([("user", "vigil_owner"), ("password_file", "FILES/password"), ("password_env", "PGPASSWORD")])),
      "give owner.password_file or owner.password_env, not both"
    ),
    (
      settings([("user", "vigil")], owner: mapping([("user", "vigil_owner"), ("password_file", "FILES/missing")])),
      "owner.password_file FILES/missing cannot be read (no such file)"
    ),
    (
      settings([("user", "vigil")], owner: mapping([("user", "vigil-owner")])),
      "owner.user must be a plain role name (lower-case letters, digits, _ and $, not first a digit), got vigil-owner"
    ),
    (
      settings([("user", "vigil"), ("tls", "verify-ca")]),
      "tls must be one of disable, prefer, require, verify-full, got verify-ca"
    ),
    (
      settings([("host", "db"), ("user", "vigil"), ("tls_ca_file", "FILES/missing.pem")]),
      "tls_ca_file FILES/missing.pem cannot be read (no such file)"
    ),
    (
      settings([("host", "db"), ("user", "vigil"), ("tls", "verify-full"), ("tls_ca_file", "FILES/password")]),
      "tls_ca_file FILES/password holds no PEM certificate that can be read (-----BEGIN CERTIFICATE----- … -----END CERTIFICATE-----, base64 between)"
    ),
    (
      settings([("host", "db"), ("user", "vigil"), ("tls", "verify-full"), ("tls_ca_file", "FILES/broken.pem")]),
      "tls_ca_file FILES/broken.pem holds no PEM certificate that can be read (-----BEGIN CERTIFICATE----- … -----END CERTIFICATE-----, base64 between)"
    ),
    (
      settings([("host", "db"), ("user", "vigil"), ("tls", "disable"), ("tls_ca_file", "FILES/ca.pem")]),
      "tls_ca_file is given with tls: disable, which uses no TLS; choose one"
    ),
    (
      settings([("socket", "/tmp"), ("user", "vigil"), ("tls", "verify-full")]),
      "tls: verify-full asks for TLS, which a Unix socket does not carry; connect by host for TLS, or leave it out"
    ),
    // A CA file alone over the default socket: blamed on itself, not on a `tls: prefer`
    // never written (audit 29).
    (
      settings([("user", "vigil"), ("tls_ca_file", "FILES/ca.pem")]),
      "tls_ca_file asks for TLS, which a Unix socket does not carry; connect by host for TLS, or leave it out"
    ),
    (
      settings([("socket", "/tmp"), ("user", "vigil"), ("tls", "require"), ("tls_ca_file", "FILES/ca.pem")]),
      "tls: require and tls_ca_file ask for TLS, which a Unix socket does not carry; connect by host for TLS, or leave them out"
    ),
    (settings([("user", "vigil"), ("reports", "maybe")]), "reports must be true or false, got maybe"),
    (
      settings([("user", "vigil"), ("connect_timeout_s", "0")]),
      "connect_timeout_s must be a number of seconds above 0 and at most 300, got 0"
    ),
    (
      settings([("user", "vigil"), ("connect_timeout_s", "301")]),
      "connect_timeout_s must be a number of seconds above 0 and at most 300, got 301"
    ),
    (
      settings([("user", "vigil"), ("connect_timeout_s", "ten")]),
      "connect_timeout_s must be a number of seconds above 0 and at most 300, got ten"
    ),
    (
      settings([("user", "vigil"), ("timeout_s", "0")]),
      "timeout_s must be a number of seconds above 0 and at most 3600, got 0"
    ),
    (
      settings([("user", "vigil"), ("timeout_s", "3601")]),
      "timeout_s must be a number of seconds above 0 and at most 3600, got 3601"
    ),
    (settings([("user", "vigil"), ("write", "upsert")]), "write must be copy or insert, got upsert"),
    (
      settings([("user", "vigil-writer")]),
      "user must be a plain role name (lower-case letters, digits, _ and $, not first a digit), got vigil-writer"
    ),
    (
      settings([("user", "1vigil")]),
      "user must be a plain role name (lower-case letters, digits, _ and $, not first a digit), got 1vigil"
    ),
    (
      settings([("user", "vigil; DROP ROLE x")]),
      "user must be a plain role name (lower-case letters, digits, _ and $, not first a digit), got vigil; DROP ROLE x"
    ),
    (
      settings([("user", String(repeating: "v", count: 64))]),
      "user must be a plain role name (lower-case letters, digits, _ and $, not first a digit), got "
        + String(repeating: "v", count: 64)
    ),
  ]

  @Test(arguments: wrongSettings.indices)
  func aWrongSettingIsOneExactSentence(_ index: Int) throws {
    let directory = try Self.files()
    let (settings, says) = Self.wrongSettings[index]
    let problem = Self.problem(Self.substituting(directory.path, in: settings))
    #expect(problem == says.replacingOccurrences(of: "FILES", with: directory.path))
  }

  /// Several wrong settings are all said at once (files this user cannot read last).
  @Test func everyWrongSettingIsSaidAtOnce() throws {
    let settings = Self.settings([
      ("host", "localhost"), ("user", "vigil_writer"), ("password_file", "/nonexistent/a"), ("connect_timeout_s", "0"),
      ("timeout_s", "99999"), ("write", "bogus"), ("colour", "red"),
    ])
    var said: [String] = []
    do {
      _ = try PostgresSettings(settings)
    } catch {
      said = error.all.map(\.description)
    }
    #expect(
      said == [
        "unknown setting colour (known: \(PostgresSettings.keys.joined(separator: ", ")), and min_priority, rules, tags)",
        "password_file /nonexistent/a cannot be read (no such file)",
        "connect_timeout_s must be a number of seconds above 0 and at most 300, got 0",
        "timeout_s must be a number of seconds above 0 and at most 3600, got 99999",
        "write must be copy or insert, got bogus",
      ], "\(said)")
  }

  static func substituting(_ path: String, in value: ConfigurationValue) -> ConfigurationValue {
    switch value {
    case .scalar(let text): .scalar(text.replacingOccurrences(of: "FILES", with: path))
    case .sequence(let items): .sequence(items.map { substituting(path, in: $0) })
    case .mapping(let members): .mapping(members.map { .init(key: $0.key, value: substituting(path, in: $0.value)) })
    }
  }

  @Test(arguments: ["vigil_writer", "_vigil", "vigil$2", String(repeating: "v", count: 63)])
  func aPlainRoleNameIsTaken(_ name: String) {
    #expect(PostgresSettings.isRoleName(name))
  }

  /// PostgreSQL folds an unquoted name to lower case: a grant to `Vigil_Writer` would go to
  /// `vigil_writer`.
  @Test(arguments: ["Vigil_Writer", "VIGIL", String(repeating: "v", count: 64), "vigil-writer", "é"])
  func aNameThatIsNotPlainIsRefused(_ name: String) {
    #expect(!PostgresSettings.isRoleName(name))
  }

  // MARK: COPY's text format

  static func copyRow(_ values: [String]) -> String {
    var buffer = ByteBuffer()
    CopyText.appendRow(values, to: &buffer)
    return String(buffer: buffer)
  }

  @Test(arguments: [
    ("plain", "plain"),
    (#"a\b"#, #"a\\b"#),
    ("a\tb", #"a\tb"#),
    ("a\nb", #"a\nb"#),
    ("a\rb", #"a\rb"#),
    ("\\\t\n\r", #"\\\t\n\r"#),
    (#"{"message":"\"quoted\" \\n"}"#, #"{"message":"\\"quoted\\" \\\\n"}"#),
    ("باب السلامة ¶7", "باب السلامة ¶7"),
    ("", ""),
  ])
  func aCopyValueEscapesBackslashTabNewlineAndReturn(_ value: String, _ written: String) {
    #expect(Self.copyRow([value]) == written + "\n")
  }

  @Test func aCopyRowSplitsItsColumnsWithTabs() {
    #expect(Self.copyRow(["field-1", "7", "{\"a\":\"x\ty\"}"]) == "field-1\t7\t{\"a\":\"x\\ty\"}\n")
  }
}
