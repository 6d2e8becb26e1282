import Foundation
import Logging
import NIOCore
import NIOSSL
import PostgresNIO

/// Opens connections as the settings say (endpoint, role, password, TLS) and says what
/// went wrong in words an operator can act on: PostgresNIO's own errors hide the server's
/// message unless asked.
struct PostgresConnector: Sendable {
  let settings: PostgresSettings
  /// PostgresNIO logs nothing a sink's operator needs; what matters comes back as errors.
  static let quiet = Logger(label: "vigil.postgres", factory: { _ in SwiftLogNoOpLogHandler() })

  /// A connection as `credentials`, its session in UTC (dates without a time are read as
  /// midnight UTC).
  /// A session as `credentials`; `bounded`, its statements end at `timeout_s` on the server
  /// too, as the sink's own work does on the client (`vigil verify`'s one long reading of a
  /// node's rows is not bounded).
  /// `track` is told of the connection as soon as it is open (the session's settings are
  /// queries that may wait too), and of nil before a close of the connector's own.
  func connect(
    as credentials: PostgresSettings.Credentials, bounded: Bool = true,
    track: (@Sendable (PostgresConnection?, _ role: String) -> Void)? = nil
  ) async throws -> PostgresConnection {
    let password = try credentials.password()
    var configuration: PostgresConnection.Configuration
    switch settings.endpoint {
    case .tcp(let host, let port):
      configuration = .init(
        host: host, port: port, username: credentials.user, password: password, database: settings.database,
        tls: try tls())
    case .unixSocket:
      configuration = .init(
        unixSocketPath: settings.socketFile ?? "", username: credentials.user, password: password,
        database: settings.database)
    }
    configuration.options.connectTimeout = .milliseconds(Int64(settings.connectTimeout * 1000))
    let connection: PostgresConnection
    do {
      connection = try await PostgresConnection.connect(
        configuration: configuration, id: Int.random(in: 1...Int.max), logger: Self.quiet)
    } catch {
      throw PostgresSinkError(
        "cannot connect to PostgreSQL at \(settings.place) as \(credentials.user): \(Self.describe(error))")
    }
    track?(connection, credentials.user)
    // The server gives up a statement when the sink does (`timeout_s`): one blocked on a
    // lock otherwise went on waiting after the sink closed its connection, and each
    // timeout left one more session behind, until `max_connections` ran out.
    let milliseconds = max(1, Int((settings.timeout * 1000).rounded()))
    do {
      try await connection.query("SET TIME ZONE 'UTC'", logger: Self.quiet)
      if bounded {
        try await connection.query(
          PostgresQuery(unsafeSQL: "SET statement_timeout = \(milliseconds)"), logger: Self.quiet)
        try await connection.query(
          PostgresQuery(unsafeSQL: "SET idle_in_transaction_session_timeout = \(milliseconds)"), logger: Self.quiet)
      }
    } catch {
      track?(nil, credentials.user)
      try? await connection.close()
      throw PostgresSinkError(
        "PostgreSQL at \(settings.place) as \(credentials.user) refused the session's settings: \(Self.describe(error))")
    }
    return connection
  }

  private func tls() throws -> PostgresConnection.Configuration.TLS {
    guard settings.tls != .disable else { return .disable }
    var configuration = TLSConfiguration.makeClientConfiguration()
    if let caFile = settings.tlsCAFile {
      configuration.trustRoots = .file(caFile)
    }
    switch settings.tls {
    case .verifyFull: configuration.certificateVerification = .fullVerification
    case .require where settings.tlsCAFile != nil: configuration.certificateVerification = .noHostnameVerification
    default: configuration.certificateVerification = .none
    }
    let context: NIOSSLContext
    do {
      context = try NIOSSLContext(configuration: configuration)
    } catch {
      throw PostgresSinkError("cannot set up TLS for PostgreSQL (tls_ca_file?): \(error)")
    }
    return settings.tls == .prefer ? .prefer(context) : .require(context)
  }

  /// The server's own message where there is one (with its SQLSTATE), else what failed.
  static func describe(_ error: any Error) -> String {
    if let sinkError = error as? PostgresSinkError { return sinkError.description }
    guard let error = error as? PSQLError else { return "\(error)" }
    if let server = error.serverInfo, let message = server[.message] {
      var text = message
      if let detail = server[.detail] { text += " (\(detail))" }
      if let state = server[.sqlState] { text += " [SQLSTATE \(state)]" }
      return text
    }
    let underlying = error.underlying.map { "\($0)" } ?? ""
    if underlying.contains("failedToValidateHostname") {
      return "the server's TLS certificate does not name the host it was reached at (tls: verify-full checks that "
        + "the certificate's names include host; an IP address must be among its IP names)"
    }
    if underlying.contains("CERTIFICATE_VERIFY_FAILED") {
      return "the server's TLS certificate could not be verified against tls_ca_file (or the system's roots) "
        + "(CERTIFICATE_VERIFY_FAILED)"
    }
    switch error.code {
    case .connectionError:
      return error.underlying.map(Self.describeConnectionFailure) ?? "the connection failed"
    case .serverClosedConnection, .uncleanShutdown:
      return "the server closed the connection"
    case .sslUnsupported:
      return "the server does not offer TLS (tls: require or verify-full asks for it)"
    case .failedToAddSSLHandler:
      return "TLS could not start: \(error.underlying.map { "\($0)" } ?? "no reason given")"
    case .authMechanismRequiresPassword:
      return "the server asks for a password and none is configured (password_file or password_env)"
    case .clientClosedConnection:
      // PostgresNIO says this of a connection the server ended while a query was being
      // sent, too (pg_terminate_backend during a session's settings), not only of vigild's
      // own close at a stop.
      return "the connection was closed (by the server, or as vigild stops)"
    default:
      return "\(error.code)" + (error.underlying.map { ": \($0)" } ?? "")
    }
  }

  /// Why a connection could not be made, as the system says it (`Connection refused`,
  /// `No such file or directory`), without SwiftNIO's call names around it.
  static func describeConnectionFailure(_ error: any Error) -> String {
    if let io = error as? IOError { return String(cString: strerror(io.errnoCode)) }
    if let failures = error as? NIOConnectionError, let first = failures.connectionErrors.first {
      return describeConnectionFailure(first.error)
    }
    return "\(error)"
  }

  /// The server's SQLSTATE, if the error came from it.
  static func sqlState(_ error: any Error) -> String? {
    (error as? PSQLError)?.serverInfo?[.sqlState]
  }
}
