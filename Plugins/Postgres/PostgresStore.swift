import Foundation
import NIOConcurrencyHelpers
import NIOCore
import PostgresNIO
import VigilCore

/// Where the postgres sink's records go: one connection, opened at the first batch and
/// again after any failure, each batch in a transaction of its own. Vigil calls it from the
/// sink's thread; PostgresNIO is asynchronous, so each call waits for its task
/// (`BlockingTask`). Redelivery is harmless: rows are keyed by (node, seq) and (node, id).
final class PostgresStore: AlertDestination, Sendable {
  let settings: PostgresSettings
  let node: String
  private let connector: PostgresConnector
  private let connection = NIOLockedValueBox<PostgresConnection?>(nil)
  /// Whether the owner has prepared the schema in this run: it connects once, not at every
  /// new connection (a lost connection, a database restart), so a site may change or drop
  /// the owner's password once the schema is made. A query that finds the schema or a
  /// table gone clears it: the next connection prepares again.
  private let schemaPrepared = NIOLockedValueBox(false)
  /// Why the owner was passed over at start (it could not connect, the schema being
  /// current): said with a failure that only the owner could mend.
  private let ownerPassedOver = NIOLockedValueBox<String?>(nil)
  private let task = BlockingTask()
  /// The connection a run is using (the writer's, or the owner's while it migrates), until
  /// the store lets it go: the server closing it meanwhile ends the run at once.
  private let inUse = NIOLockedValueBox<PostgresConnection?>(nil)

  init(settings: PostgresSettings, node: String) {
    self.settings = settings
    self.node = node
    connector = PostgresConnector(settings: settings)
  }

  var takesReports: Bool { settings.reports }

  func deliver(_ alerts: [RecordedAlert]) throws {
    let conflicts = try withConnection { connection in
      try await self.inTransaction(on: connection) {
        try await self.storeAlerts(alerts, on: connection)
      }
    }
    guard conflicts.isEmpty else {
      throw RefusedRecords(
        conflicts.map {
          RefusedRecords.Refusal(
            seq: $0.seq,
            reason: "PostgreSQL holds node \(node) seq \($0.seq) with hash \($0.stored.prefix(16))…, "
              + "this log's record has hash \($0.offered.prefix(16))…",
            conflict: true)
        })
    }
  }

  func deliver(reports: [JournalledReport]) throws {
    let conflicts = try withConnection { connection in
      try await self.inTransaction(on: connection) {
        try await self.storeReports(reports, on: connection)
      }
    }
    guard conflicts.isEmpty else {
      throw ConflictingReports(
        conflicts.map {
          ConflictingReports.Conflict(
            reportID: $0.id,
            reason: "PostgreSQL holds node \(node) report \($0.id) received at \($0.stored) with other content "
              + "than this journal's, received at \($0.offered)")
        })
    }
  }

  /// Closes the connection: a query under way fails at once, and its batch comes again at
  /// the next start.
  func stop() {
    task.cancel()
    if let open = connection.withLockedValue({ $0 }) {
      letGo(open)
      let _: EventLoopFuture<Void> = open.close()
    }
  }

  // MARK: Connecting

  /// Runs `body` on the open connection (connecting, and migrating, first if there is
  /// none); a failure closes the connection, so the next batch starts afresh.
  @discardableResult
  private func withConnection<T: Sendable>(
    _ body: @escaping @Sendable (PostgresConnection) async throws -> T
  ) throws -> T {
    do {
      return try task.run(timeout: settings.timeout) {
        let open = try await self.openConnection()
        do {
          return try await body(open)
        } catch {
          self.connection.withLockedValue { $0 = nil }
          // What the owner made or granted is gone (a table or the schema dropped, the
          // function, the writer's rights — a restore without privileges): the next
          // connection has the owner make it again. Not the writer's own staging table.
          let gone = Self.ownersWorkIsGone(error)
          if gone { self.schemaPrepared.withLockedValue { $0 = false } }
          self.letGo(open)
          try? await open.close()
          // When the owner was passed over for not connecting, that is what to fix.
          let owner = gone ? self.ownerPassedOver.withLockedValue { $0 }.map { "; the owner, who would make it again, \($0)" } : nil
          throw PostgresSinkError(
            "PostgreSQL at \(self.settings.place) (\(self.settings.database)) as \(self.settings.writer.user): \(PostgresConnector.describe(error))\(owner ?? "")")
        }
      }
    } catch let timedOut as BlockingTask.TimedOut {
      // The connection is in an unknown state: the next batch starts on a new one.
      let abandoned = connection.withLockedValue { open in
        defer { open = nil }
        return open
      }
      if let abandoned {
        letGo(abandoned)
        let _: EventLoopFuture<Void> = abandoned.close()
      }
      throw PostgresSinkError("PostgreSQL at \(settings.place) (\(settings.database)) as \(settings.writer.user): \(timedOut)")
    }
  }

  private func openConnection() async throws -> PostgresConnection {
    if let open = connection.withLockedValue({ $0 }), !open.isClosed { return open }
    try await prepareSchema()
    let open = try await connector.connect(as: settings.writer, track: track)
    var step = "version"
    var schemaThere = false
    do {
      if settings.owner == nil {
        // The writer migrates itself if it must (and may), and makes again what is gone
        // once a run and after a query found something gone; if it may not, it says why.
        let version = try await PostgresMigration.version(on: open)
        step = "migrate"
        if version < PostgresSchema.latestVersion || !schemaPrepared.withLockedValue({ $0 }) {
          // Whether what it may not make is the schema, or something of it that is gone.
          schemaThere = await PostgresMigration.schemaExists(on: open)
          try await PostgresMigration.migrate(on: open, grantingTo: nil)
          schemaPrepared.withLockedValue { $0 = true }
        }
      }
      // Only COPY stages its rows; the multi-row INSERT needs no temporary table (nor TEMP).
      step = "stage"
      if settings.writeMethod == .copy {
        for statement in PostgresSchema.stagingTables {
          try await open.query(PostgresQuery(unsafeSQL: statement), logger: PostgresConnector.quiet)
        }
      }
    } catch {
      letGo(open)
      try? await open.close()
      var reason = PostgresConnector.describe(error)
      if PostgresConnector.sqlState(error) == "42501" {
        if step == "stage" {
          reason = "it may not create the temporary tables write: copy fills (\(reason)); "
            + "GRANT TEMP ON DATABASE \(settings.database) TO \(settings.writer.user), or use write: insert"
        } else if step == "version" {
          // The schema is there (else there is nothing to be refused), its rights are not.
          reason = "it has no rights on the vigil schema (\(reason)); grant them (docs/postgres.md, \"Two roles\"), "
            + "or give the sink an owner (owner: {user: …}), which grants them at its start"
        } else if settings.owner == nil, schemaThere {
          // Migrated once, and something a migration made is gone since (vigil.schema_version
          // dropped, say): only an owner makes it again (audit 47).
          reason = "the vigil schema is there but something its migration made is gone (vigil.schema_version, a "
            + "table or a function), and it may not make it again (\(reason)); give the sink an owner "
            + "(owner: {user: …}), or start a node that has one once (docs/postgres.md, \"Two roles\")"
        } else if settings.owner == nil {
          reason = "it may not create the vigil schema (\(reason)); give the sink an owner "
            + "(owner: {user: …}), or start a node that has one once (docs/postgres.md, \"Two roles\")"
        }
      }
      throw PostgresSinkError("PostgreSQL at \(settings.place) as \(settings.writer.user): \(reason)")
    }
    connection.withLockedValue { $0 = open }
    return open
  }

  /// Follows a connection a run uses: the server ending the session (pg_terminate_backend,
  /// a crash, a restart) while a query waits fails the run at once. PostgresNIO 1.33 may
  /// leave such a query (or a COPY) waiting, and the sink was held, silent, for all of
  /// timeout_s. Nil: the connection was let go.
  @Sendable private func track(_ open: PostgresConnection?, role: String) {
    inUse.withLockedValue { $0 = open }
    guard let open else { return }
    let place = "PostgreSQL at \(settings.place) (\(settings.database)) as \(role)"
    open.closeFuture.whenComplete { [weak open] _ in
      guard let open, self.inUse.withLockedValue({ $0 === open }) else { return }
      self.inUse.withLockedValue { $0 = nil }
      self.connection.withLockedValue { if $0 === open { $0 = nil } }
      self.task.abandon(with: PostgresSinkError("\(place): the server closed the connection"))
    }
  }

  /// Before a close of the store's own: no run is ended for it.
  private func letGo(_ open: PostgresConnection) {
    inUse.withLockedValue { if $0 === open { $0 = nil } }
  }

  /// Whether a failure says the schema, a table, the function or the writer's rights the
  /// owner made or granted are gone: undefined_table on a `vigil.` relation,
  /// invalid_schema_name, undefined_function, insufficient_privilege.
  static func ownersWorkIsGone(_ error: any Error) -> Bool {
    switch PostgresConnector.sqlState(error) {
    case "3F000", "42883", "42501": return true
    case "42P01": return PostgresConnector.describe(error).contains("\"vigil.")
    default: return false
    }
  }

  /// With an owner configured, once a run: connects as the owner, migrates if need be and
  /// grants the writer its rights, then lets go.
  private func prepareSchema() async throws {
    guard let owner = settings.owner, !schemaPrepared.withLockedValue({ $0 }) else { return }
    let open: PostgresConnection
    do {
      open = try await connector.connect(as: owner, track: track)
    } catch {
      // The owner cannot connect (its password changed or its login taken away, as
      // docs/postgres.md allows once the schema is made): with the schema at this build's
      // version, the writer goes on alone; a query that finds the owner's work gone asks
      // for the owner again.
      if await schemaIsCurrentForTheWriter() {
        schemaPrepared.withLockedValue { $0 = true }
        ownerPassedOver.withLockedValue { $0 = "cannot connect: \(PostgresConnector.describe(error))" }
        return
      }
      throw error
    }
    do {
      try await PostgresMigration.migrate(
        on: open, grantingTo: owner.user == settings.writer.user ? nil : settings.writer.user)
      schemaPrepared.withLockedValue { $0 = true }
      ownerPassedOver.withLockedValue { $0 = nil }
      letGo(open)
      try? await open.close()
    } catch {
      letGo(open)
      try? await open.close()
      throw PostgresSinkError(
        "PostgreSQL at \(settings.place) as the owner \(owner.user): \(PostgresConnector.describe(error))")
    }
  }

  /// Whether the writer finds the schema at this build's version.
  private func schemaIsCurrentForTheWriter() async -> Bool {
    guard let open = try? await connector.connect(as: settings.writer) else { return false }
    let version = try? await PostgresMigration.version(on: open)
    try? await open.close()
    return (version ?? 0) >= PostgresSchema.latestVersion
  }

  private func inTransaction<T: Sendable>(
    on connection: PostgresConnection, _ body: () async throws -> T
  ) async throws -> T {
    try await connection.query("BEGIN", logger: PostgresConnector.quiet)
    do {
      let result = try await body()
      try await connection.query("COMMIT", logger: PostgresConnector.quiet)
      return result
    } catch {
      _ = try? await connection.query("ROLLBACK", logger: PostgresConnector.quiet)
      throw error
    }
  }

  // MARK: Writing

  struct Conflict: Sendable {
    let seq: UInt64
    let stored: String
    let offered: String
  }

  private func storeAlerts(_ alerts: [RecordedAlert], on connection: PostgresConnection) async throws -> [Conflict] {
    let query: PostgresQuery
    switch settings.writeMethod {
    case .copy:
      try await connection.copyFrom(
        table: "vigil_incoming_alerts", columns: ["node", "seq", "line"], logger: PostgresConnector.quiet
      ) { writer in
        var buffer = ByteBuffer()
        for alert in alerts {
          CopyText.appendRow([node, String(alert.seq), alert.line], to: &buffer)
        }
        try await writer.write(buffer)
      }
      query = PostgresQuery(unsafeSQL: PostgresSchema.storeAlerts(from: "vigil_incoming_alerts"))
    case .insert:
      var bindings = PostgresBindings(capacity: alerts.count * 3)
      var rows: [String] = []
      for (index, alert) in alerts.enumerated() {
        bindings.append(node)
        bindings.append(Int64(alert.seq))
        bindings.append(alert.line)
        rows.append("($\(index * 3 + 1), $\(index * 3 + 2)::bigint, $\(index * 3 + 3))")
      }
      let source = "(VALUES \(rows.joined(separator: ","))) AS offered (node, seq, line)"
      query = PostgresQuery(unsafeSQL: PostgresSchema.storeAlerts(from: source), binds: bindings)
    }
    var conflicts: [Conflict] = []
    var unseen: [Int64: String] = [:]
    let rows = try await connection.query(query, logger: PostgresConnector.quiet)
    for try await (seq, stored, offered) in rows.decode((Int64, String?, String?).self) {
      if let stored {
        conflicts.append(Conflict(seq: UInt64(seq), stored: stored, offered: offered ?? "(none)"))
      } else {
        unseen[seq] = offered ?? "(none)"
      }
    }
    // Stored meanwhile by another transaction (a daemon under the same name): read now, in
    // a statement that sees it, and a conflict unless it is the same record.
    if !unseen.isEmpty {
      let check = PostgresQuery(
        unsafeSQL: PostgresSchema.storedHashes, binds: try Self.bindings(node, Array(unseen.keys)))
      for try await (seq, stored) in try await connection.query(check, logger: PostgresConnector.quiet).decode(
        (Int64, String).self)
      where unseen[seq] != stored {
        conflicts.append(Conflict(seq: UInt64(seq), stored: stored, offered: unseen[seq] ?? "(none)"))
      }
    }
    return conflicts.sorted { $0.seq < $1.seq }
  }

  /// `$1` a node, `$2` an array.
  private static func bindings<Element: PostgresArrayEncodable>(_ node: String, _ values: [Element]) throws
    -> PostgresBindings
  {
    var bindings = PostgresBindings(capacity: 2)
    bindings.append(node)
    try bindings.append(values)
    return bindings
  }

  struct ReportConflict: Sendable {
    let id: String
    let stored: String
    let offered: String
  }

  private func storeReports(
    _ reports: [JournalledReport], on connection: PostgresConnection
  ) async throws -> [ReportConflict] {
    let query: PostgresQuery
    switch settings.writeMethod {
    case .copy:
      try await connection.copyFrom(
        table: "vigil_incoming_reports", columns: ["node", "line", "json"], logger: PostgresConnector.quiet
      ) { writer in
        var buffer = ByteBuffer()
        for report in reports {
          CopyText.appendRow([node, report.line, PostgresReadableJSON.replacingUnreadableNumbers(in: report.line) ?? ""], to: &buffer)
        }
        try await writer.write(buffer)
      }
      query = PostgresQuery(unsafeSQL: PostgresSchema.storeReports(from: "vigil_incoming_reports"))
    case .insert:
      var bindings = PostgresBindings(capacity: reports.count * 3)
      var rows: [String] = []
      for (index, report) in reports.enumerated() {
        bindings.append(node)
        bindings.append(report.line)
        bindings.append(PostgresReadableJSON.replacingUnreadableNumbers(in: report.line) ?? "")
        rows.append("($\(index * 3 + 1), $\(index * 3 + 2), $\(index * 3 + 3))")
      }
      let source = "(VALUES \(rows.joined(separator: ","))) AS offered (node, line, json)"
      query = PostgresQuery(unsafeSQL: PostgresSchema.storeReports(from: source), binds: bindings)
    }
    var conflicts: [ReportConflict] = []
    var unseen: [String: (received: String, report: String)] = [:]
    let rows = try await connection.query(query, logger: PostgresConnector.quiet)
    for try await (id, stored, offered, report) in rows.decode((String, String?, String?, String).self) {
      if let stored {
        conflicts.append(ReportConflict(id: id, stored: stored, offered: offered ?? "(none)"))
      } else {
        unseen[id] = (offered ?? "(none)", report)
      }
    }
    // Stored meanwhile by another transaction: read now, as for alerts.
    if !unseen.isEmpty {
      let check = PostgresQuery(
        unsafeSQL: PostgresSchema.storedReports, binds: try Self.bindings(node, Array(unseen.keys)))
      for try await (id, stored, report) in try await connection.query(check, logger: PostgresConnector.quiet).decode(
        (String, String, String).self)
      where unseen[id]?.report != report {
        conflicts.append(ReportConflict(id: id, stored: stored, offered: unseen[id]?.received ?? "(none)"))
      }
    }
    return conflicts
  }
}

/// COPY's text format: columns split by tabs, rows by newlines, and a backslash, tab,
/// newline or carriage return inside a value escaped with a backslash.
enum CopyText {
  static func appendRow(_ values: [String], to buffer: inout ByteBuffer) {
    for (index, value) in values.enumerated() {
      if index > 0 { buffer.writeInteger(UInt8(ascii: "\t")) }
      for byte in value.utf8 {
        switch byte {
        case UInt8(ascii: "\\"): buffer.writeStaticString("\\\\")
        case UInt8(ascii: "\t"): buffer.writeStaticString("\\t")
        case UInt8(ascii: "\n"): buffer.writeStaticString("\\n")
        case UInt8(ascii: "\r"): buffer.writeStaticString("\\r")
        default: buffer.writeInteger(byte)
        }
      }
    }
    buffer.writeInteger(UInt8(ascii: "\n"))
  }
}
