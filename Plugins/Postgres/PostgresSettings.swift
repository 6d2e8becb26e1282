import Foundation
import NIOSSL
import VigilCore

/// The postgres sink's settings (Plugins/Postgres/README.md), checked at start: where the
/// database is, who the sink is there, how it writes.
///
/// ```yaml
/// plugins:
///   postgres:
///     host: db.mission.example          # or socket: /var/run/postgresql
///     database: vigil
///     user: vigil_writer
///     password_file: /etc/vigil/postgres-writer.password
///     owner: {user: vigil_owner, password_file: /etc/vigil/postgres-owner.password}
///     reports: true
/// ```
public struct PostgresSettings: Sendable, Equatable {
  public enum Endpoint: Sendable, Equatable {
    case tcp(host: String, port: Int)
    /// A Unix socket: `path` as given, a folder that holds `.s.PGSQL.<port>` or the socket
    /// file itself, told apart at each connection (`socketFile`).
    case unixSocket(path: String, port: Int)
  }

  /// libpq's `sslmode`, the four that mean something here.
  public enum TLSMode: String, Sendable, Equatable, CaseIterable {
    /// Plain text.
    case disable
    /// TLS when the server offers it, its certificate not checked (libpq's default).
    case prefer
    /// TLS or no connection, the certificate not checked unless `tls_ca_file` is given.
    case require
    /// TLS, the certificate checked against `tls_ca_file` (or the system's roots) and the
    /// host name against the certificate.
    case verifyFull = "verify-full"
  }

  /// A role and where its password comes from.
  public struct Credentials: Sendable, Equatable {
    public var user: String
    /// Read at each connection, so a rotated password is picked up without a restart.
    public var passwordFile: String?
    /// The name of an environment variable holding the password.
    public var passwordVariable: String?

    /// The password now, or nil for none (trust or peer authentication).
    func password() throws -> String? {
      if let passwordFile {
        let text: String
        switch SettingsFile.read(passwordFile) {
        case .failure(let problem):
          throw PostgresSinkError("cannot read the password file \(passwordFile) for user \(user): \(problem.reason)")
        case .success(let bytes):
          guard let read = String(validating: bytes, as: UTF8.self) else {
            throw PostgresSinkError("the password file \(passwordFile) for user \(user) is not UTF-8 text")
          }
          text = read
        }
        return String(text.trimmingSuffix(while: \.isNewline))
      }
      if let passwordVariable {
        guard let value = ProcessInfo.processInfo.environment[passwordVariable] else {
          throw PostgresSinkError("the environment has no \(passwordVariable) (the password of user \(user))")
        }
        return value
      }
      return nil
    }
  }

  /// How a batch goes in: one multi-row INSERT (the default: bench/run-postgres-writes
  /// found it about a tenth faster, and a quarter lighter on PostgreSQL, than COPY into a
  /// staging table), or that COPY.
  public enum WriteMethod: String, Sendable, Equatable, CaseIterable {
    case copy, insert
  }

  public var endpoint: Endpoint
  public var database: String
  public var writer: Credentials
  /// Who creates and migrates the schema, when the writer may not.
  public var owner: Credentials?
  public var tls: TLSMode
  public var tlsCAFile: String?
  /// Whether every report goes too (table `vigil.reports`).
  public var reports: Bool
  public var connectTimeout: Double
  /// How long a batch (connecting included) may take before it is abandoned and retried
  /// on a new connection.
  public var timeout: Double
  public var writeMethod: WriteMethod

  static let keys = [
    "host", "port", "socket", "database", "user", "password_file", "password_env", "owner", "tls", "tls_ca_file",
    "reports", "connect_timeout_s", "timeout_s", "write",
  ]

  public init(_ settings: ConfigurationValue) throws(PluginSettingsError) {
    guard case .mapping(let members) = settings else {
      throw PluginSettingsError("the settings must be a mapping with at least user (and host or socket, database)")
    }
    // Every problem is said at once: each setting is read on its own, and one that is
    // wrong leaves its default for the checks after it.
    var problems: [PluginSettingsError] = []
    func attempt<T>(_ fallback: T, _ read: () throws(PluginSettingsError) -> T) -> T {
      do throws(PluginSettingsError) { return try read() } catch {
        problems.append(error)
        return fallback
      }
    }
    var values: [String: ConfigurationValue] = [:]
    for member in members {
      guard Self.keys.contains(member.key) else {
        problems.append(
          PluginSettingsError(
            "unknown setting \(member.key) (known: \(Self.keys.joined(separator: ", ")), and min_priority, rules, tags)"))
        continue
      }
      values[member.key] = member.value
    }
    func text(_ key: String) throws(PluginSettingsError) -> String? {
      switch values[key] {
      case nil: return nil
      case .scalar(let text) where !text.isEmpty: return text
      case .scalar: throw PluginSettingsError("\(key) is empty; give it a value or leave it out")
      default: throw PluginSettingsError("\(key) must be a single value, not a list or a mapping")
      }
    }
    let port = attempt(5432) { () throws(PluginSettingsError) -> Int in
      guard let given = try text("port") else { return 5432 }
      guard let number = SettingNumber.whole(given), (1...65535).contains(number) else {
        throw PluginSettingsError("port must be a TCP port from 1 to 65535, got \(given)")
      }
      return number
    }
    // Nil when refused: the checks that read it (TLS over a socket) are then not made
    // against a default it never gave.
    let endpoint = attempt(Endpoint?.none) { () throws(PluginSettingsError) -> Endpoint? in
      switch (try text("host"), try text("socket")) {
      case (.some, .some):
        throw PluginSettingsError("give host (TCP) or socket (a Unix socket), not both")
      case (.some(let host), nil):
        // libpq's spellings that are no host name, which would fail at every connection.
        if host.hasPrefix("/") {
          throw PluginSettingsError("host \(host) is a path: a Unix socket (or its folder) is given as socket")
        }
        let parts = host.split(separator: ":", omittingEmptySubsequences: false)
        if parts.count == 2, let given = parts.last, given.allSatisfy(\.isASCII), given.allSatisfy(\.isNumber) {
          throw PluginSettingsError(
            "host \(host) holds a port: give the host alone\(given.isEmpty ? "" : " and port: \(given)")")
        }
        // An IPv6 address as a URL writes it (`[::1]`, `[::1]:5432`): the brackets are no
        // part of it.
        if host.hasPrefix("[") {
          throw PluginSettingsError("host \(host): give an IPv6 address without brackets (host: ::1), and its port as port")
        }
        return .tcp(host: host, port: port)
      case (nil, let socket):
        // libpq's habit: a directory holds .s.PGSQL.<port>. Debian's server puts it here.
        return .unixSocket(path: socket ?? "/var/run/postgresql", port: port)
      }
    }
    var fileProblems: [PluginSettingsError] = []
    let nobody = Credentials(user: "", passwordFile: nil, passwordVariable: nil)
    let writer = attempt(nobody) { () throws(PluginSettingsError) -> Credentials in
      try Self.credentials(
        user: try text("user"), passwordFile: try text("password_file"), passwordVariable: try text("password_env"),
        where: "", fileProblems: &fileProblems)
    }
    self.endpoint = endpoint ?? .unixSocket(path: "/var/run/postgresql", port: port)
    self.writer = writer
    database = attempt(writer.user) { () throws(PluginSettingsError) -> String in try text("database") ?? writer.user }
    owner = attempt(nil) { () throws(PluginSettingsError) -> Credentials? in
      switch values["owner"] {
      case nil: return nil
      case .mapping(let ownerMembers):
        var ownerValues: [String: String] = [:]
        for member in ownerMembers {
          guard ["user", "password_file", "password_env"].contains(member.key), case .scalar(let value) = member.value,
            !value.isEmpty
          else {
            throw PluginSettingsError("owner takes user, password_file and password_env (non-empty strings); got \(member.key)")
          }
          ownerValues[member.key] = value
        }
        return try Self.credentials(
          user: ownerValues["user"], passwordFile: ownerValues["password_file"],
          passwordVariable: ownerValues["password_env"], where: "owner.", fileProblems: &fileProblems)
      default:
        throw PluginSettingsError("owner must be a mapping: {user: vigil_owner, password_file: /path}")
      }
    }
    let mode = attempt(TLSMode.prefer) { () throws(PluginSettingsError) -> TLSMode in
      let tlsWord = try text("tls") ?? "prefer"
      guard let mode = TLSMode(rawValue: tlsWord) else {
        throw PluginSettingsError(
          "tls must be one of \(TLSMode.allCases.map(\.rawValue).joined(separator: ", ")), got \(tlsWord)")
      }
      return mode
    }
    tls = mode
    tlsCAFile = attempt(nil) { () throws(PluginSettingsError) -> String? in
      // A Unix socket carries no TLS: asking for it there is a slip, not a setting to
      // ignore. Said by what was written, so that it stands at that setting: a
      // `tls_ca_file` alone is not blamed on a `tls: prefer` the file never gave.
      if case .unixSocket? = endpoint, mode == .require || mode == .verifyFull || values["tls_ca_file"] != nil {
        let carried = "for TLS, which a Unix socket does not carry; connect by host for TLS"
        let message =
          switch (mode == .require || mode == .verifyFull, values["tls_ca_file"] != nil) {
          case (true, true): "tls: \(mode.rawValue) and tls_ca_file ask \(carried), or leave them out"
          case (true, false): "tls: \(mode.rawValue) asks \(carried), or leave it out"
          default: "tls_ca_file asks \(carried), or leave it out"
          }
        throw PluginSettingsError(message)
      }
      guard let tlsCAFile = try text("tls_ca_file") else { return nil }
      let contents = FileManager.default.contents(atPath: tlsCAFile)
      if contents == nil {
        try Self.held(.unreadable("tls_ca_file \(tlsCAFile) cannot be read", path: tlsCAFile), in: &fileProblems)
      }
      guard mode != .disable else {
        throw PluginSettingsError("tls_ca_file is given with tls: disable, which uses no TLS; choose one")
      }
      // Checked now, not at every connection: a file that holds no certificate, or one
      // that cannot be read as PEM, is a slip.
      if let contents {
        let certificates = try? NIOSSLCertificate.fromPEMBytes(Array(contents))
        guard let certificates, !certificates.isEmpty else {
          throw PluginSettingsError(
            "tls_ca_file \(tlsCAFile) holds no PEM certificate that can be read (-----BEGIN CERTIFICATE----- … "
              + "-----END CERTIFICATE-----, base64 between)")
        }
      }
      return tlsCAFile
    }
    reports = attempt(false) { () throws(PluginSettingsError) -> Bool in
      let reportsText = try text("reports")
      switch reportsText?.lowercased() {
      case nil, "false", "no", "off": return false
      case "true", "yes", "on": return true
      case .some: throw PluginSettingsError("reports must be true or false, got \(reportsText ?? "")")
      }
    }
    connectTimeout = attempt(10) { () throws(PluginSettingsError) -> Double in
      let connectText = try text("connect_timeout_s") ?? "10"
      guard let seconds = Double(connectText), seconds > 0, seconds <= 300 else {
        throw PluginSettingsError("connect_timeout_s must be a number of seconds above 0 and at most 300, got \(connectText)")
      }
      return seconds
    }
    timeout = attempt(60) { () throws(PluginSettingsError) -> Double in
      let batchTimeout = try text("timeout_s") ?? "60"
      guard let batchSeconds = Double(batchTimeout), batchSeconds > 0, batchSeconds <= 3600 else {
        throw PluginSettingsError("timeout_s must be a number of seconds above 0 and at most 3600, got \(batchTimeout)")
      }
      return batchSeconds
    }
    writeMethod = attempt(.insert) { () throws(PluginSettingsError) -> WriteMethod in
      let method = try text("write") ?? WriteMethod.insert.rawValue
      guard let writeMethod = WriteMethod(rawValue: method) else {
        throw PluginSettingsError("write must be copy or insert, got \(method)")
      }
      return writeMethod
    }
    // Files this user cannot read (vigild's may) after every other problem: `vigil rules
    // lint` warns of those alone and goes on.
    if let problem = PluginSettingsError.together(problems + fileProblems) { throw problem }
  }

  /// A file this user cannot read, but vigild's may, is said after every other problem
  /// (`vigil rules lint` warns of it and goes on); one that is not there is thrown now.
  private static func held(_ problem: PluginSettingsError, in fileProblems: inout [PluginSettingsError])
    throws(PluginSettingsError)
  {
    guard problem.isAboutAFile else { throw problem }
    fileProblems.append(problem)
  }

  private static func credentials(
    user: String?, passwordFile: String?, passwordVariable: String?, where prefix: String,
    fileProblems: inout [PluginSettingsError]
  ) throws(PluginSettingsError) -> Credentials {
    guard let user else { throw PluginSettingsError("\(prefix)user is required: the PostgreSQL role to connect as") }
    guard Self.isRoleName(user) else {
      throw PluginSettingsError(
        "\(prefix)user must be a plain role name (lower-case letters, digits, _ and $, not first a digit), got \(user)")
    }
    if passwordFile != nil, passwordVariable != nil {
      throw PluginSettingsError("give \(prefix)password_file or \(prefix)password_env, not both")
    }
    if let passwordFile, case .failure = SettingsFile.read(passwordFile) {
      try held(.unreadable("\(prefix)password_file \(passwordFile) cannot be read", path: passwordFile), in: &fileProblems)
    }
    return Credentials(user: user, passwordFile: passwordFile, passwordVariable: passwordVariable)
  }

  /// A role name that needs no quoting: the migration grants the writer by name, and
  /// PostgreSQL folds an unquoted name to lower case (so `Vigil_Writer` would be granted
  /// as `vigil_writer` and log in as another role).
  static func isRoleName(_ name: String) -> Bool {
    guard let first = name.unicodeScalars.first, name.utf8.count <= 63 else { return false }
    let letters = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyz_")
    let rest = letters.union(CharacterSet(charactersIn: "0123456789$"))
    return letters.contains(first) && name.unicodeScalars.allSatisfy { rest.contains($0) }
  }

  /// Where the sink connects, as its errors say it.
  var place: String {
    switch endpoint {
    case .tcp(let host, let port): "\(host):\(port)"
    case .unixSocket: socketFile ?? ""
    }
  }

  /// The socket file to connect to, as the file system is now: in the path given when it
  /// is a folder, the path itself when it is anything else. A path not there yet is a
  /// folder the server has not made yet (`/var/run/postgresql` at boot, made by its
  /// service), unless its name is a socket's own (`.s.PGSQL.5432`): told once at start, a
  /// folder made later was taken for the socket file, and the sink never reached it.
  public var socketFile: String? {
    guard case .unixSocket(let path, let port) = endpoint else { return nil }
    var isDirectory: ObjCBool = false
    if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
      return isDirectory.boolValue ? path + "/.s.PGSQL.\(port)" : path
    }
    return (path as NSString).lastPathComponent.hasPrefix(".s.PGSQL.") ? path : path + "/.s.PGSQL.\(port)"
  }
}

/// Something the postgres sink met, in one sentence (shown in `status` and the error log).
struct PostgresSinkError: Error, CustomStringConvertible {
  let description: String

  init(_ description: String) {
    self.description = description
  }
}

extension StringProtocol {
  fileprivate func trimmingSuffix(while predicate: (Character) -> Bool) -> SubSequence {
    var end = endIndex
    while end > startIndex, predicate(self[index(before: end)]) { end = index(before: end) }
    return self[..<end]
  }
}
