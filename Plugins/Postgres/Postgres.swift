import Foundation
import NIOCore
import PostgresNIO
import VigilCore

/// The postgres sink (Plugins/Postgres/README.md, docs/postgres.md): every alert record —
/// Vigil's own included, so a node's chain can be verified from its rows — and, if asked,
/// every report, into a PostgreSQL database that many daemons share, keyed by node.
public struct Postgres: StoredRecordsSink {
  public let name = "postgres"

  public init() {}

  public var takesVigilRecords: Bool { true }

  public func destination(settings: ConfigurationValue, node: String) throws(PluginSettingsError) -> any AlertDestination {
    PostgresStore(settings: try PostgresSettings(settings), node: node)
  }

  public func readStoredRecords(
    settings: ConfigurationValue, node: String, _ take: @escaping @Sendable (StoredRecord) -> Bool
  ) throws {
    try Self.readAlertRows(settings: settings, node: node) { row in
      take(StoredRecord(seq: row.seq, key: String(row.seqColumn), line: row.line, disagreement: row.disagreement()))
    }
  }

  /// Reads a node's rows back, in `seq` order, for `vigil verify --sink postgres`: hands
  /// each to `take`, which returns false to stop. Throws one sentence if the database
  /// cannot be read.
  public static func readAlertRows(
    settings given: ConfigurationValue, node: String, _ take: @escaping @Sendable (PostgresStoredAlert) -> Bool
  ) throws {
    let settings: PostgresSettings
    do {
      settings = try PostgresSettings(given)
    } catch {
      throw PostgresSinkError("plugins.postgres: \(error)")
    }
    let connector = PostgresConnector(settings: settings)
    try BlockingTask().run {
      let connection = try await connector.connect(as: settings.writer, bounded: false)
      do {
        let rows = try await connection.query(
          PostgresQuery(unsafeSQL: PostgresStoredAlert.query, binds: Self.binds(node)), logger: PostgresConnector.quiet)
        for try await columns in rows.decode(PostgresStoredAlert.Columns.self) {
          if !take(PostgresStoredAlert(columns)) { break }
        }
        try? await connection.close()
      } catch {
        try? await connection.close()
        throw PostgresSinkError("cannot read vigil.alerts at \(settings.place): \(PostgresConnector.describe(error))")
      }
    }
  }

  private static func binds(_ node: String) -> PostgresBindings {
    var binds = PostgresBindings()
    binds.append(node)
    return binds
  }
}
