import Foundation
import Testing
import VigilTestSupport

/// How the postgres sink reaches its database, against a real PostgreSQL of the tests'
/// own (PostgresServer): a password over TCP, read from a file at each connection; TLS
/// with the server's certificate checked, or refused; a writer that may not create the
/// schema until the owner has. Whatever goes wrong, vigild starts, answers reports, and
/// says why in the sink's `last_error`; once it is put right, the sink catches up.
@Suite("vigild end to end: how the postgres sink connects", .onThreadsOfTheirOwn)
struct PostgresConnectionTests {
  static let ownerPassword = ["VIGIL_TEST_OWNER_PASSWORD": "secret"]

  /// A daemon named `node` whose postgres sink has `settings` (YAML lines under
  /// `plugins.postgres`, without their indentation).
  static func daemon(
    node: String = "field-1", settings: [String], in directory: TemporaryDirectory,
    environment: [String: String] = [:]
  ) throws -> RunningDaemon {
    let config = "node: \(node)\nplugins:\n  postgres:\n" + settings.map { "    " + $0 + "\n" }.joined()
    try config.write(toFile: directory.path + "/v.yaml", atomically: true, encoding: .utf8)
    return try RunningDaemon(
      rules: PostgresSinkTests.rules, arguments: ["--config", "v.yaml"], directory: directory,
      environment: environment)
  }

  /// Settings for TCP as `vigil_writer`, its password in `passwordFile`, the owner's in
  /// the environment.
  static func overTCP(
    host: String = "127.0.0.1", _ server: PostgresServer, passwordFile: String, tls: [String]
  ) -> [String] {
    [
      "host: \(host)", "port: \(server.port)", "database: vigil", "user: vigil_writer",
      "password_file: \(passwordFile)", "owner: {user: vigil_owner, password_env: VIGIL_TEST_OWNER_PASSWORD}",
    ] + tls
  }

  /// Submits `count` reports and expects each accepted: the daemon answers whatever the
  /// sink meets.
  static func submit(_ count: Int, prefix: String, to daemon: RunningDaemon) throws {
    let answers = try daemon.exchange((0..<count).map { PostgresSinkTests.report("\(prefix)-\($0)", $0) })
    #expect(
      answers.count == count && answers.allSatisfy { $0.contains(#""duplicate":false"#) }, "\(answers.first ?? "")")
  }

  static func lastError(_ daemon: RunningDaemon) throws -> String {
    try PostgresSinkTests.sinkStatus(daemon)["last_error"] as? String ?? ""
  }

  /// Whether every record of the daemon's log is a row of `node`, and the sink says so.
  static func caughtUp(_ daemon: RunningDaemon, _ server: PostgresServer, node: String = "field-1") throws -> Bool {
    let logged = try PostgresSinkTests.loggedRecords(in: daemon.directory.path)
    let status = try PostgresSinkTests.sinkStatus(daemon)
    return (status["lag"] as? Int) == 0 && status["last_error"] is NSNull
      && (try? PostgresSinkTests.storedLines(server, node: node)) == logged
  }

  static func writePassword(_ password: String, to path: String) throws {
    try (password + "\n").write(toFile: path, atomically: true, encoding: .utf8)
  }

  // MARK: Passwords over TCP

  @Test func aPasswordFileAndAnOwnerPasswordFromTheEnvironmentOverTCP() throws {
    let server = try PostgresServer()
    try server.createVigilDatabase()
    let directory = try TemporaryDirectory()
    let passwordFile = directory.path + "/writer.password"
    try Self.writePassword("secret", to: passwordFile)
    let daemon = try Self.daemon(
      settings: Self.overTCP(server, passwordFile: passwordFile, tls: ["tls: disable"]), in: directory,
      environment: Self.ownerPassword)
    try Self.submit(12, prefix: "TCP", to: daemon)
    #expect(
      try eventually(within: 60) { try Self.caughtUp(daemon, server) },
      "\((try? PostgresSinkTests.sinkStatus(daemon)) ?? [:])")
    // The writer's session is the sink's, over TCP and in plain text as asked.
    let session = try server.sql(
      """
      SELECT host(client_addr), ssl FROM pg_stat_activity JOIN pg_stat_ssl USING (pid)
      WHERE usename = 'vigil_writer' AND datname = 'vigil'
      """)
    #expect(session == "127.0.0.1|f")
    expectCleanStop(daemon)
  }

  @Test func aWrongPasswordIsShownInStatusAndAFixedFileIsReadAtTheNextConnection() throws {
    let server = try PostgresServer()
    try server.createVigilDatabase()
    let directory = try TemporaryDirectory()
    let passwordFile = directory.path + "/writer.password"
    try Self.writePassword("not the secret", to: passwordFile)
    let daemon = try Self.daemon(
      settings: Self.overTCP(server, passwordFile: passwordFile, tls: ["tls: disable"]), in: directory,
      environment: Self.ownerPassword)
    try Self.submit(8, prefix: "PW", to: daemon)
    #expect(
      try eventually(within: 60) { try Self.lastError(daemon).contains("password authentication failed") },
      "\((try? Self.lastError(daemon)) ?? "")")
    let error = try Self.lastError(daemon)
    #expect(error.contains("vigil_writer"), "\(error)")
    #expect(error.contains("127.0.0.1:\(server.port)"), "\(error)")
    #expect(!error.contains("not the secret"), "a password is never shown: \(error)")
    #expect(try server.sql("SELECT count(*) FROM vigil.alerts", database: "vigil") == "0")

    // No restart: the connector reads the file again at its next attempt.
    try Self.writePassword("secret", to: passwordFile)
    #expect(
      try eventually(within: 60) { try Self.caughtUp(daemon, server) },
      "\((try? PostgresSinkTests.sinkStatus(daemon)) ?? [:])")
    #expect(try PostgresSinkTests.storedLines(server, node: "field-1").count == 1 + 8 + 3)
    expectCleanStop(daemon)
  }

  // MARK: TLS

  /// Makes a self-signed certificate for localhost and 127.0.0.1 in the server's folder,
  /// owned by the server's user as PostgreSQL demands of its key, and turns TLS on; the
  /// certificate's path.
  static func enableTLS(on server: PostgresServer) throws -> String {
    let certificate = server.directory + "/server.crt"
    let key = server.directory + "/server.key"
    let openssl = try ChildProcess.run(
      "/usr/bin/openssl",
      [
        "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
        "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", key, "-out", certificate,
      ])
    try #require(openssl.status == 0, "\(openssl.standardError)")
    #expect(chmod(key, 0o600) == 0)
    if getuid() == 0 {
      let postgres = try #require(getpwnam("postgres"), "no user postgres")
      for file in [certificate, key] {
        #expect(chown(file, postgres.pointee.pw_uid, postgres.pointee.pw_gid) == 0)
      }
    }
    // ALTER SYSTEM runs outside a transaction: one statement per call.
    try server.sql("ALTER SYSTEM SET ssl_cert_file = '\(certificate)'")
    try server.sql("ALTER SYSTEM SET ssl_key_file = '\(key)'")
    try server.sql("ALTER SYSTEM SET ssl = on")
    try server.sql("SELECT pg_reload_conf()")
    #expect(try eventually { try server.sql("SHOW ssl") == "on" })
    return certificate
  }

  @Test func verifyFullChecksTheServersCertificateAgainstTheGivenCA() throws {
    let server = try PostgresServer()
    try server.createVigilDatabase()
    let certificate = try Self.enableTLS(on: server)
    let directory = try TemporaryDirectory()
    let passwordFile = directory.path + "/writer.password"
    try Self.writePassword("secret", to: passwordFile)
    let daemon = try Self.daemon(
      settings: Self.overTCP(
        host: "localhost", server, passwordFile: passwordFile,
        tls: ["tls: verify-full", "tls_ca_file: \(certificate)"]),
      in: directory, environment: Self.ownerPassword)
    try Self.submit(6, prefix: "TLS", to: daemon)
    #expect(
      try eventually(within: 60) { try Self.caughtUp(daemon, server) },
      "\((try? PostgresSinkTests.sinkStatus(daemon)) ?? [:])")
    // The sink's connection stays open between batches: it is there to look at.
    let session = try server.sql(
      """
      SELECT bool_and(ssl), count(*) > 0 FROM pg_stat_ssl JOIN pg_stat_activity USING (pid)
      WHERE usename = 'vigil_writer' AND datname = 'vigil'
      """)
    #expect(session == "t|t")
    expectCleanStop(daemon)

    // Without tls_ca_file the system's roots are used, and they know nothing of this
    // self-signed certificate: no connection, and status says why.
    let unverified = try TemporaryDirectory()
    try Self.writePassword("secret", to: unverified.path + "/writer.password")
    let refused = try Self.daemon(
      node: "field-2",
      settings: Self.overTCP(
        host: "localhost", server, passwordFile: unverified.path + "/writer.password", tls: ["tls: verify-full"]),
      in: unverified, environment: Self.ownerPassword)
    try Self.submit(2, prefix: "UNVERIFIED", to: refused)
    #expect(
      try eventually(within: 60) { try Self.lastError(refused).contains("could not be verified against tls_ca_file") },
      "\((try? Self.lastError(refused)) ?? "")")
    #expect(try server.sql("SELECT count(*) FROM vigil.alerts WHERE node = 'field-2'", database: "vigil") == "0")
    expectCleanStop(refused)
  }

  @Test func requireRefusesAServerWithoutTLS() throws {
    let server = try PostgresServer()
    try server.createVigilDatabase()
    #expect(try server.sql("SHOW ssl") == "off")
    let directory = try TemporaryDirectory()
    let passwordFile = directory.path + "/writer.password"
    try Self.writePassword("secret", to: passwordFile)
    let daemon = try Self.daemon(
      settings: Self.overTCP(server, passwordFile: passwordFile, tls: ["tls: require"]), in: directory,
      environment: Self.ownerPassword)
    try Self.submit(2, prefix: "PLAIN", to: daemon)
    #expect(
      try eventually(within: 60) { try Self.lastError(daemon).contains("the server does not offer TLS") },
      "\((try? Self.lastError(daemon)) ?? "")")
    // Nothing went in plain text: not even the owner's migration.
    #expect(try server.sql("SELECT count(*) FROM pg_namespace WHERE nspname = 'vigil'", database: "vigil") == "0")
    expectCleanStop(daemon)
  }

  // MARK: Roles

  @Test func aWriterWithoutOwnerWaitsForTheOwnersMigrationAndThenCatchesUp() throws {
    let server = try PostgresServer()
    try server.createVigilDatabase()
    let overSocket = [
      "socket: \(server.socketDirectory)", "port: \(server.port)", "database: vigil", "user: vigil_writer",
    ]
    let writerDirectory = try TemporaryDirectory()
    let writer = try Self.daemon(node: "field-1", settings: overSocket, in: writerDirectory)
    try Self.submit(10, prefix: "W", to: writer)
    #expect(
      try eventually(within: 60) { try Self.lastError(writer).contains("permission denied") },
      "\((try? Self.lastError(writer)) ?? "")")
    let error = try Self.lastError(writer)
    #expect(error.contains("vigil_writer"), "\(error)")
    #expect(error.contains("SQLSTATE 42501"), "\(error)")

    // One node with the owner migrates, grants the writer its rights, and stores its own.
    let ownerDirectory = try TemporaryDirectory()
    let owner = try Self.daemon(
      node: "field-2", settings: overSocket + ["owner: {user: vigil_owner}"], in: ownerDirectory)
    #expect(
      try eventually(within: 60) { try Self.caughtUp(owner, server, node: "field-2") },
      "\((try? PostgresSinkTests.sinkStatus(owner)) ?? [:])")
    expectCleanStop(owner)
    #expect(try server.sql("SELECT max(version) FROM vigil.schema_version", database: "vigil") == "1")

    #expect(
      try eventually(within: 60) { try Self.caughtUp(writer, server, node: "field-1") },
      "\((try? PostgresSinkTests.sinkStatus(writer)) ?? [:])")
    #expect(try PostgresSinkTests.storedLines(server, node: "field-1").count == 1 + 10 + 4)
    expectCleanStop(writer)
  }
}
