import PostgresNIO

/// Brings the database's `vigil` schema to the version this build writes
/// (`PostgresSchema.migrations`), once however many daemons start together: each takes the
/// advisory lock, reads the version, and runs only what is still missing, each migration in
/// a transaction of its own with its row in `vigil.schema_version`.
enum PostgresMigration {
  /// The version the schema is at: 0 when there is none yet.
  static func version(on connection: PostgresConnection) async throws -> Int {
    do {
      let rows = try await connection.query(
        "SELECT coalesce(max(version), 0)::bigint FROM vigil.schema_version", logger: PostgresConnector.quiet)
      for try await version in rows.decode(Int64.self) { return Int(version) }
      return 0
    } catch where ["42P01", "3F000"].contains(PostgresConnector.sqlState(error)) {
      // undefined_table, invalid_schema_name: never migrated.
      return 0
    }
  }

  /// Whether the schema `vigil` exists (whatever it holds); false when that cannot be told.
  static func schemaExists(on connection: PostgresConnection) async -> Bool {
    guard
      let rows = try? await connection.query(
        "SELECT to_regnamespace('vigil') IS NOT NULL", logger: PostgresConnector.quiet)
    else { return false }
    do {
      for try await exists in rows.decode(Bool.self) { return exists }
    } catch {
      return false
    }
    return false
  }

  /// Migrates under the advisory lock; when `writer` names another role, grants it what
  /// the sink needs (docs/postgres.md, "Two roles"). Throws with the server's reason (a
  /// role that may not create the schema, say).
  static func migrate(on connection: PostgresConnection, grantingTo writer: String?) async throws {
    let log = PostgresConnector.quiet
    try await connection.query("SELECT pg_advisory_lock(\(PostgresSchema.migrationLock))", logger: log)
    do {
      try await migrateHoldingTheLock(on: connection)
      if let writer {
        for grant in PostgresSchema.grants(to: writer) {
          try await connection.query(PostgresQuery(unsafeSQL: grant), logger: log)
        }
      }
    } catch {
      _ = try? await connection.query("SELECT pg_advisory_unlock(\(PostgresSchema.migrationLock))", logger: log)
      throw error
    }
    try await connection.query("SELECT pg_advisory_unlock(\(PostgresSchema.migrationLock))", logger: log)
  }

  /// At the latest version: makes again, as its migration made it, each object that is
  /// gone (`PostgresSchema.objects`), in one transaction; nothing when all are there.
  private static func remakeWhatIsGone(on connection: PostgresConnection) async throws {
    let log = PostgresConnector.quiet
    var missing: [String] = []
    for object in PostgresSchema.objects {
      let rows = try await connection.query(PostgresQuery(unsafeSQL: "SELECT \(object.lookup) IS NULL"), logger: log)
      for try await gone in rows.decode(Bool.self) where gone { missing.append(object.create) }
    }
    guard !missing.isEmpty else { return }
    try await connection.query("BEGIN", logger: log)
    do {
      for statement in missing { try await connection.query(PostgresQuery(unsafeSQL: statement), logger: log) }
      try await connection.query("COMMIT", logger: log)
    } catch {
      _ = try? await connection.query("ROLLBACK", logger: log)
      throw PostgresSinkError("making again what the vigil schema lacks failed: \(PostgresConnector.describe(error))")
    }
  }

  private static let versionTable = """
    CREATE TABLE IF NOT EXISTS vigil.schema_version (
      version integer PRIMARY KEY,
      applied_at timestamptz NOT NULL DEFAULT now(),
      applied_by text NOT NULL DEFAULT current_user
    )
    """

  /// Whether the tables migration 1 makes are there (`vigil.alerts`, `vigil.reports`).
  private static func firstMigrationsTablesAreThere(on connection: PostgresConnection) async throws -> Bool {
    let rows = try await connection.query(
      "SELECT to_regclass('vigil.alerts') IS NOT NULL AND to_regclass('vigil.reports') IS NOT NULL",
      logger: PostgresConnector.quiet)
    for try await there in rows.decode(Bool.self) { return there }
    return false
  }

  private static func migrateHoldingTheLock(on connection: PostgresConnection) async throws {
    let log = PostgresConnector.quiet
    // Another node may have migrated while this one waited for the lock.
    var current = try await version(on: connection)
    if current == 0, try await firstMigrationsTablesAreThere(on: connection) {
      // The version table lost (dropped, or left out of a restore) while the schema is
      // there: migration 1 again would fail on its objects, for good. Taken as version 1,
      // its row written again; what version 1 lacks is made again below.
      try await connection.query(PostgresQuery(unsafeSQL: Self.versionTable), logger: log)
      try await connection.query(
        "INSERT INTO vigil.schema_version (version) VALUES (1) ON CONFLICT (version) DO NOTHING", logger: log)
      current = 1
    }
    guard current < PostgresSchema.latestVersion else {
      try await remakeWhatIsGone(on: connection)
      return
    }
    if current == 0 {
      try await connection.query("CREATE SCHEMA IF NOT EXISTS vigil", logger: log)
      try await connection.query(PostgresQuery(unsafeSQL: Self.versionTable), logger: log)
    }
    while current < PostgresSchema.latestVersion {
      let next = current + 1
      try await connection.query("BEGIN", logger: log)
      do {
        for statement in PostgresSchema.migrations[next - 1] {
          try await connection.query(PostgresQuery(unsafeSQL: statement), logger: log)
        }
        try await connection.query("INSERT INTO vigil.schema_version (version) VALUES (\(next))", logger: log)
        try await connection.query("COMMIT", logger: log)
      } catch {
        _ = try? await connection.query("ROLLBACK", logger: log)
        throw PostgresSinkError("migration \(next) of the vigil schema failed: \(PostgresConnector.describe(error))")
      }
      current = next
    }
  }
}
