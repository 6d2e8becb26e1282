import Foundation

/// A real PostgreSQL server of the tests' own: a cluster made by `initdb` in a temporary
/// folder, listening on a private Unix socket there and on a loopback port, stopped and
/// removed at the end. PostgreSQL refuses to run as root, so when the tests run as root
/// the cluster is made and run as the `postgres` user (Debian's package creates it).
/// Local connections are trusted; TCP ones need a password (scram-sha-256).
public final class PostgresServer: @unchecked Sendable {
  public let directory: String
  public let socketDirectory: String
  public let port: Int
  private let binaries: String
  private var dataDirectory: String { directory + "/data" }

  /// Where Debian puts the server's programs: the newest version installed.
  public static var binaryDirectory: String? {
    let root = "/usr/lib/postgresql"
    let versions = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).compactMap(Int.init).sorted()
    return versions.last.map { "\(root)/\($0)/bin" }.flatMap {
      FileManager.default.isExecutableFile(atPath: $0 + "/postgres") ? $0 : nil
    }
  }

  public struct Failure: Error, CustomStringConvertible {
    public let description: String
  }

  /// Makes and starts a cluster.
  public init() throws {
    let installFailure = Self.binaryDirectory == nil ? TestTools.install() : nil
    guard let binaries = Self.binaryDirectory else {
      throw Failure(
        description: "PostgreSQL is not installed, and scripts/install-test-tools did not install it: \(installFailure ?? "")")
    }
    self.binaries = binaries
    var template = Array("/tmp/vpg-XXXXXX".utf8CString)
    guard let created = mkdtemp(&template) else { throw Failure(description: "cannot make a temporary folder") }
    directory = String(cString: created)
    socketDirectory = directory
    port = try Self.freePort()
    if getuid() == 0 {
      _ = try Self.command(["/bin/chown", "postgres:postgres", directory])
    }
    try runAsServerUser([
      binaries + "/initdb", "-D", dataDirectory, "-U", "postgres", "--auth-local=trust", "--auth-host=scram-sha-256",
      "-E", "UTF8", "--no-locale", "--no-sync",
    ])
    try start()
  }

  deinit {
    try? stop()
    try? FileManager.default.removeItem(atPath: directory)
  }

  /// Starts the server (again) and waits until it takes connections.
  public func start() throws {
    let options =
      "-k \(socketDirectory) -p \(port) -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off "
      + "-c full_page_writes=off -c max_connections=50"
    try runAsServerUser([
      binaries + "/pg_ctl", "-D", dataDirectory, "-l", directory + "/server.log", "-o", options, "-w", "-t", "60",
      "start",
    ])
  }

  /// Stops the server: `fast` ends every session at once (what a database outage is to
  /// its clients).
  public func stop() throws {
    try runAsServerUser([binaries + "/pg_ctl", "-D", dataDirectory, "-m", "fast", "-w", "-t", "60", "stop"])
  }

  /// Runs SQL with psql as the superuser (or `user`) on `database`; its output, unaligned,
  /// tuples only, `|` between columns.
  @discardableResult
  public func sql(_ statements: String, database: String = "postgres", user: String = "postgres") throws -> String {
    try Self.command([
      binaries + "/psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-A", "-t", "-h", socketDirectory, "-p", "\(port)",
      "-U", user, "-d", database, "-c", statements,
    ])
  }

  /// A database with the two roles docs/postgres.md describes: `vigil_owner`, which owns
  /// the database and migrates, and `vigil_writer`, which may only log in (the owner's
  /// migration grants it the rest). Both with `password` for TCP.
  public func createVigilDatabase(_ name: String = "vigil", password: String = "secret") throws {
    try sql(
      """
      CREATE ROLE vigil_owner LOGIN PASSWORD '\(password)';
      CREATE ROLE vigil_writer LOGIN PASSWORD '\(password)';
      """)
    try sql("CREATE DATABASE \(name) OWNER vigil_owner")
    // PostgreSQL 15 no longer lets every role create in the public schema; the writer
    // needs nothing there, only TEMP (which PUBLIC has) for COPY's staging tables.
    try sql("REVOKE CREATE ON DATABASE \(name) FROM PUBLIC", database: name)
  }

  private func runAsServerUser(_ arguments: [String]) throws {
    if getuid() == 0 {
      _ = try Self.command(["/usr/sbin/runuser", "-u", "postgres", "--"] + arguments, in: directory)
    } else {
      _ = try Self.command(arguments, in: directory)
    }
  }

  /// Runs a program to its end; its output (standard output and error together). Not
  /// with Foundation's Process: `pg_ctl start` leaves the server running with whatever
  /// descriptors it inherited, and Process waits for one of its own to close before it
  /// reaps the child — so every descriptor past standard error is closed in the child.
  @discardableResult
  static func command(_ arguments: [String], in folder: String? = nil) throws -> String {
    let outputPath = NSTemporaryDirectory() + "vpg-output-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    defer { unlink(outputPath) }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    posix_spawn_file_actions_adddup2(&actions, 1, 2)
    guard Self.closeFrom(&actions, 3) == 0 else { throw Failure(description: "posix_spawn_file_actions_addclosefrom_np failed") }
    if let folder { _ = Self.changeDirectory(&actions, folder) }
    var argv = arguments.map { strdup($0) } + [nil]
    defer { argv.forEach { free($0) } }
    var pid: pid_t = 0
    let spawned = posix_spawn(&pid, arguments[0], &actions, nil, &argv, environ)
    guard spawned == 0 else { throw Failure(description: "cannot run \(arguments[0]): error \(spawned)") }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    let text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
    let exited = status & 0x7f == 0
    let code = (status >> 8) & 0xff
    guard exited && code == 0 else {
      throw Failure(
        description: "\(arguments.joined(separator: " ")) \(exited ? "exited \(code)" : "was killed by signal \(status & 0x7f)"): \(text)")
    }
    return text.trimmingCharacters(in: .whitespacesAndNewlines)
  }

  // glibc's (2.34 and later) spawn actions that Swift's Glibc module does not show.
  private typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
  private typealias ChangeDirectory = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32
  private static let closeFrom = unsafeBitCast(dlsym(nil, "posix_spawn_file_actions_addclosefrom_np")!, to: CloseFrom.self)
  private static let changeDirectory = unsafeBitCast(dlsym(nil, "posix_spawn_file_actions_addchdir_np")!, to: ChangeDirectory.self)

  /// A loopback port nothing listens on now.
  static func freePort() throws -> Int {
    let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard descriptor >= 0 else { throw Failure(description: "socket: errno \(errno)") }
    defer { close(descriptor) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
        bind(descriptor, pointer, length) == 0 && getsockname(descriptor, pointer, &length) == 0
      }
    }
    guard bound else { throw Failure(description: "bind: errno \(errno)") }
    return Int(UInt16(bigEndian: address.sin_port))
  }
}
