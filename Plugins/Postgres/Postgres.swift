import Foundation
import NIOCore
import VigilCore

/// The postgres sink (Plugins/Postgres/README.md, docs/postgres.md): every alert record —
/// Vigil's own included, so a node's chain can be verified from its rows — and, if asked,
/// every report, into a PostgreSQL database that many daemons share, keyed by node.
public struct Postgres: AlertSink {
  public let name = "postgres"

  public init() {}

  public var takesVigilRecords: Bool { true }

  public func destination(settings: ConfigurationValue, node: String) throws(PluginSettingsError) -> any AlertDestination {
    PostgresStore(settings: try PostgresSettings(settings), node: node)
  }

  /// Reads a node's alert lines back, in `seq` order, for `vigil verify --sink postgres`:
  /// hands each to `take`, which returns false to stop. Throws one sentence if the database
  /// cannot be read.
  public static func readAlertLines(
    settings given: ConfigurationValue, node: String, _ take: @escaping @Sendable (UInt64, String) -> Bool
  ) throws {
    let settings: PostgresSettings
    do {
      settings = try PostgresSettings(given)
    } catch {
      throw PostgresSinkError("plugins.postgres: \(error)")
    }
    let connector = PostgresConnector(settings: settings)
    try BlockingTask().run {
      let connection = try await connector.connect(as: settings.writer)
      do {
        let rows = try await connection.query(
          "SELECT seq, line FROM vigil.alerts WHERE node = \(node) ORDER BY seq", logger: PostgresConnector.quiet)
        for try await (seq, line) in rows.decode((Int64, String).self) {
          if !take(UInt64(seq), line) { break }
        }
        try? await connection.close()
      } catch {
        try? await connection.close()
        throw PostgresSinkError("cannot read vigil.alerts at \(settings.place): \(PostgresConnector.describe(error))")
      }
    }
  }
}
