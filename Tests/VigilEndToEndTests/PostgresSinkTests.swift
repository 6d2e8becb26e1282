import Foundation
import NIOConcurrencyHelpers
import Testing
import VigilTestSupport

/// The postgres sink against a real PostgreSQL made by the tests (PostgresServer): the
/// tables it creates, the rows it writes, the roles it works with, and — with three
/// daemons on one database, the database stopped mid-run and a node SIGKILLed — every
/// alert stored exactly once, every node's chain verifiable from its rows alone.
@Suite("vigild end to end: the postgres sink", .onThreadsOfTheirOwn)
struct PostgresSinkTests {
  static let rules = DaemonEndToEndTests.rules

  static let governorates = ["Idlib", "Aleppo", "Homs", "Rif Dimashq", "Daraa", "Hama"]

  /// A report raising one alert (`any_attack`) or two (a barrel bomb too).
  static func report(_ id: String, _ index: Int) -> String {
    let weapon = index % 3 == 0 ? "barrel_bomb" : "tank"
    let governorate = governorates[index % governorates.count]
    let day = 1 + index % 28
    return #"{"id":"\#(id)","occurred_at":"2016-03-\#(day < 10 ? "0" : "")\#(day)","type":"attack","weapons":["\#(weapon)"],"#
      + #""location":{"place":"Place \#(index % 17)","governorate":"\#(governorate)"}}"#
  }

  /// A daemon named `node` whose postgres sink writes to `server`'s `vigil` database as
  /// `vigil_writer`, migrating as `vigil_owner` (both over the private Unix socket).
  static func daemon(
    node: String, server: PostgresServer, in directory: TemporaryDirectory, extra: String = "", owner: Bool = true
  ) throws -> RunningDaemon {
    let config = """
      node: \(node)
      plugins:
        postgres:
          socket: \(server.socketDirectory)
          port: \(server.port)
          database: vigil
          user: vigil_writer
      \(owner ? "    owner: {user: vigil_owner}\n" : "")    reports: true
      \(extra)
      """
    try config.write(toFile: directory.path + "/v.yaml", atomically: true, encoding: .utf8)
    return try RunningDaemon(rules: rules, arguments: ["--config", "v.yaml"], directory: directory)
  }

  static func sinkStatus(_ daemon: RunningDaemon) throws -> [String: Any] {
    ((try daemon.exchange(#"{"op":"status"}"#)["sinks"] as? [[String: Any]]) ?? []).first ?? [:]
  }

  /// The alert log's lines (Vigil's records included: the sink takes them), by seq.
  static func loggedRecords(in directory: String) throws -> [Int: String] {
    let text = try String(contentsOfFile: directory + "/var/log/vigil/alerts.jsonl", encoding: .utf8)
    var lines: [Int: String] = [:]
    for line in text.split(separator: "\n") {
      if let seq = SinkEndToEndTests.seq(of: line) { lines[seq] = String(line) }
    }
    return lines
  }

  /// The rows of `node`, by seq, as their `line` column holds them.
  static func storedLines(_ server: PostgresServer, node: String) throws -> [Int: String] {
    let text = try server.sql("SELECT seq || ' ' || line FROM vigil.alerts WHERE node = '\(node)' ORDER BY seq", database: "vigil")
    var lines: [Int: String] = [:]
    for row in text.split(separator: "\n") {
      let space = row.firstIndex(of: " ")!
      lines[Int(row[..<space])!] = String(row[row.index(after: space)...])
    }
    return lines
  }

  @Test func alertsAndReportsLandInTheDocumentedTablesAndTheChainVerifiesFromTheRows() throws {
    let server = try PostgresServer()
    try server.createVigilDatabase()
    let directory = try TemporaryDirectory()
    let daemon = try Self.daemon(node: "field-1", server: server, in: directory)
    let answers = try daemon.exchange((0..<60).map { Self.report("PG-\($0)", $0) })
    #expect(answers.count == 60 && answers.allSatisfy { $0.contains(#""duplicate":false"#) }, "\(answers.first ?? "")")
    let logged = try Self.loggedRecords(in: directory.path)
    #expect(logged.count == 1 + 60 + 20, "the rule set's record, an attack each, 20 barrel bombs")
    #expect(
      // The sink creates its tables when it first connects, which may come after the answers.
      eventually(within: 60) { (try? Self.storedLines(server, node: "field-1"))?.count == logged.count },
      "\((try? Self.sinkStatus(daemon)) ?? [:])")
    #expect(try Self.storedLines(server, node: "field-1") == logged, "each record's exact line, keyed by seq")
    #expect(try eventually { (try Self.sinkStatus(daemon)["lag"] as? Int) == 0 })

    // The members as columns, the record as jsonb.
    let columns = try server.sql(
      """
      SELECT rule, priority, report_id, to_char(occurred_at, 'YYYY-MM-DD'), basis[1], record->>'message'
      FROM vigil.alerts WHERE node = 'field-1' AND seq = 2
      """, database: "vigil")
    #expect(columns == "weapons.barrel_bomb|critical|PG-0|2016-03-01|ISSG ¶7|barrel bombs in Place 0")
    // Reports, joined to their alerts by report id.
    #expect(try eventually { try server.sql("SELECT count(*) FROM vigil.reports", database: "vigil") == "60" })
    let joined = try server.sql(
      """
      SELECT r.governorate, r.type, count(*) FROM vigil.alerts a
      JOIN vigil.reports r ON r.node = a.node AND r.id = a.report_id
      WHERE a.rule = 'weapons.barrel_bomb' GROUP BY 1, 2 ORDER BY 1
      """, database: "vigil")
    #expect(joined == "Idlib|attack|10\nRif Dimashq|attack|10", "barrel bombs fall on every third report, so on Idlib and Rif Dimashq of the six")

    // The writer may add rows and read them, nothing else.
    let update = Result { try server.sql("UPDATE vigil.alerts SET message = 'x'", database: "vigil", user: "vigil_writer") }
    #expect(throws: (any Error).self) { try update.get() }
    #expect(try server.sql("SELECT max(version) FROM vigil.schema_version", database: "vigil") == "1")

    let verify = try Vigil.run(["verify", "--config", directory.path + "/v.yaml", "--sink", "postgres"])
    #expect(verify.status == 0, "\(verify.standardOutput)\(verify.standardError)")
    #expect(verify.standardOutput.hasPrefix("ok: \(logged.count) records of node field-1 in PostgreSQL, seq 1–\(logged.count), chain intact"))
    expectCleanStop(daemon)

    // A row edited in its columns alone (what the common questions read), its line intact:
    // the chain still holds, but verify names the row and the column.
    for (edit, undo, said) in [
      (
        "SET message = 'FORGED', record = jsonb_set(record, '{message}', '\"FORGED\"')",
        "SET message = line::jsonb->>'message', record = line::jsonb", "its message column says \"FORGED\""
      ),
      ("SET priority = 'bogus'", "SET priority = line::jsonb->>'priority'", "its priority column says \"bogus\""),
      // Moved away, the row is missing where it was: the chain says so first.
      ("SET seq = 100000", "SET seq = 5", "1 record deleted before it (after seq 4)"),
      ("SET time = time + interval '1 hour'", "SET time = (line::jsonb->>'time')::timestamptz", "its time column says"),
      ("SET basis = '{forged}'", "SET basis = ARRAY(SELECT jsonb_array_elements_text(line::jsonb->'basis'))", "its basis column says"),
      ("SET record = record - 'tags'", "SET record = line::jsonb", "its record column (jsonb) is not the record its line holds"),
      // Values no line gives, which stopped the reading of every row.
      ("SET time = 'infinity'", "SET time = (line::jsonb->>'time')::timestamptz", "its time column says \"infinity\""),
      (
        "SET time = '294270-01-01 00:00:00+00'", "SET time = (line::jsonb->>'time')::timestamptz",
        "its time column says \"294270-01-01"
      ),
      ("SET tags = '{NULL}'", "SET tags = ARRAY(SELECT jsonb_array_elements_text(line::jsonb->'tags'))", "its tags column says \"NULL\""),
    ] {
      _ = try server.sql("UPDATE vigil.alerts \(edit) WHERE node = 'field-1' AND seq = 5", database: "vigil")
      let altered = try Vigil.run(["verify", "--config", directory.path + "/v.yaml", "--sink", "postgres"])
      #expect(altered.status == 1, "\(edit): \(altered.standardOutput)")
      let place = edit.hasPrefix("SET seq") ? "seq 6: " : "seq 5 (its row): altered: "
      #expect(
        altered.standardOutput.hasPrefix("node field-1 in PostgreSQL: \(place)\(said)"),
        "\(edit): \(altered.standardOutput)")
      let back = edit.hasPrefix("SET seq") ? "seq = 100000" : "seq = 5"
      _ = try server.sql("UPDATE vigil.alerts \(undo) WHERE node = 'field-1' AND \(back)", database: "vigil")
      let restored = try Vigil.run(["verify", "--config", directory.path + "/v.yaml", "--sink", "postgres"])
      #expect(restored.status == 0, "after undoing \(edit): \(restored.standardOutput)")
    }
  }

  /// Whether `node`'s sink has everything: no alert lag, no report bytes behind, no error.
  static func caughtUp(_ daemon: RunningDaemon) -> Bool {
    guard let sink = try? sinkStatus(daemon), sink["lag"] as? Int == 0, sink["last_error"] is NSNull,
      let reports = sink["reports"] as? [String: Any], reports["lag_bytes"] as? Int == 0
    else { return false }
    return true
  }

  /// The owner is needed once a run: once it has made the schema, the sink reconnects after
  /// a database restart as the writer alone (a site may then take the owner's login away),
  /// and a restart of vigild finds the schema current and goes on as the writer.
  @Test func theOwnerConnectsOnceARunNotAtEveryReconnection() throws {
    let server = try PostgresServer()
    try server.createVigilDatabase()
    let directory = try TemporaryDirectory()
    let node = try Self.daemon(node: "o", server: server, in: directory)
    _ = try node.exchange((0..<20).map { Self.report("OWN-\($0)", $0) })
    #expect(eventually(within: 60) { Self.caughtUp(node) }, "\(node.log())")
    _ = try server.sql("ALTER ROLE vigil_owner NOLOGIN")
    try server.stop()
    try server.start()
    _ = try node.exchange((20..<40).map { Self.report("OWN-\($0)", $0) })
    #expect(eventually(within: 60) { Self.caughtUp(node) }, "\((try? Self.sinkStatus(node)) ?? [:])")
    #expect(try Self.storedLines(server, node: "o") == (try Self.loggedRecords(in: directory.path)))
    expectCleanStop(node)
    // Restarted while the owner still cannot log in: the schema is at this build's
    // version, so the writer goes on alone.
    let restarted = try Self.daemon(node: "o", server: server, in: directory)
    _ = try restarted.exchange((40..<60).map { Self.report("OWN-\($0)", $0) })
    #expect(eventually(within: 60) { Self.caughtUp(restarted) }, "\((try? Self.sinkStatus(restarted)) ?? [:])")
    #expect(try Self.storedLines(server, node: "o") == (try Self.loggedRecords(in: directory.path)))
    // A failure only the owner could mend says that the owner cannot connect.
    _ = try server.sql("REVOKE INSERT ON vigil.alerts FROM vigil_writer", database: "vigil")
    _ = try restarted.exchange([Self.report("OWN-60", 60)])
    #expect(
      try eventually {
        (try Self.sinkStatus(restarted)["last_error"] as? String)?.contains("the owner, who would make it again, cannot connect") == true
      }, "\((try? Self.sinkStatus(restarted)) ?? [:])")
    // Said with the role that was refused, as a failure to connect is.
    let refused = try Self.sinkStatus(restarted)["last_error"] as? String ?? ""
    #expect(refused.contains(" as vigil_writer: permission denied for table alerts"), "\(refused)")
    _ = try server.sql("GRANT INSERT ON vigil.alerts TO vigil_writer", database: "vigil")
    #expect(eventually(within: 60) { Self.caughtUp(restarted) }, "\((try? Self.sinkStatus(restarted)) ?? [:])")
    expectCleanStop(restarted)
  }

  /// A table or the function the owner made, dropped while the sink runs: the query that
  /// finds it gone has the owner make it again as its migration did (the schema's version
  /// said there was nothing to do, and the sink stayed stuck), and delivery goes on. A
  /// writer-only node whose writer made the schema does the same itself.
  @Test func aDroppedTableOrFunctionIsMadeAgain() throws {
    let server = try PostgresServer()
    try server.createVigilDatabase()
    for owner in [true, false] {
      let name = owner ? "remade" : "alone"
      if !owner { _ = try server.sql("DROP SCHEMA vigil CASCADE; GRANT CREATE ON DATABASE vigil TO vigil_writer", database: "vigil") }
      let directory = try TemporaryDirectory()
      let node = try Self.daemon(node: name, server: server, in: directory, owner: owner)
      _ = try node.exchange((0..<5).map { Self.report("\(name)-\($0)", $0) })
      #expect(eventually(within: 60) { Self.caughtUp(node) }, "\(node.log())")
      for (index, drop) in ["DROP TABLE vigil.reports", "DROP FUNCTION vigil.timestamp_or_null(text) CASCADE", "DROP INDEX vigil.alerts_by_rule"].enumerated() {
        _ = try server.sql(drop, database: "vigil")
        _ = try node.exchange([Self.report("\(name)-drop-\(index)", index)])
        #expect(eventually(within: 60) { Self.caughtUp(node) }, "\(drop): \((try? Self.sinkStatus(node)) ?? [:])")
      }
      let remade = try server.sql(
        "SELECT to_regclass('vigil.reports') IS NOT NULL AND to_regprocedure('vigil.timestamp_or_null(text)') IS NOT NULL", database: "vigil")
      #expect(remade.trimmingCharacters(in: .whitespacesAndNewlines) == "t", "\(remade)")
      let count = try server.sql("SELECT count(*) FROM vigil.reports WHERE node = '\(name)'", database: "vigil")
      // The reports after the drop are there (those before went with the table).
      #expect(count.trimmingCharacters(in: .whitespacesAndNewlines) == "3", "\(count)")
      expectCleanStop(node)
      guard owner else { continue }
      // The version table lost, the schema there: a node started after it takes the schema
      // for version 1 (migration 1 again failed on its objects, for good) and delivers.
      _ = try server.sql("DROP TABLE vigil.schema_version", database: "vigil")
      let again = try Self.daemon(node: name, server: server, in: directory, owner: owner)
      _ = try again.exchange([Self.report("\(name)-after-version", 9)])
      #expect(eventually(within: 60) { Self.caughtUp(again) }, "\((try? Self.sinkStatus(again)) ?? [:])")
      let version = try server.sql("SELECT max(version) FROM vigil.schema_version", database: "vigil")
      #expect(version.trimmingCharacters(in: .whitespacesAndNewlines) == "1", "\(version)")
      expectCleanStop(again)
    }
  }

  /// A writer alone on a migrated schema it was granted nothing on is told so, not that it
  /// may not create the schema (which is there); granted its rights, it delivers.
  @Test func aWriterWithoutRightsOnTheSchemaIsToldSo() throws {
    let server = try PostgresServer()
    try server.createVigilDatabase()
    let first = try TemporaryDirectory()
    let owner = try Self.daemon(node: "owned", server: server, in: first)
    #expect(eventually(within: 60) { Self.caughtUp(owner) }, "\(owner.log())")
    expectCleanStop(owner)
    _ = try server.sql("CREATE ROLE vigil_newcomer LOGIN")
    let directory = try TemporaryDirectory()
    try """
      node: newcomer
      plugins:
        postgres:
          socket: \(server.socketDirectory)
          port: \(server.port)
          database: vigil
          user: vigil_newcomer
      """.write(toFile: directory.path + "/v.yaml", atomically: true, encoding: .utf8)
    let node = try RunningDaemon(rules: Self.rules, arguments: ["--config", "v.yaml"], directory: directory)
    #expect(
      try eventually(within: 60) {
        (try Self.sinkStatus(node)["last_error"] as? String)?.contains("it has no rights on the vigil schema (permission denied for schema vigil") == true
      }, "\((try? Self.sinkStatus(node)) ?? [:])")
    for grant in ["GRANT USAGE ON SCHEMA vigil TO vigil_newcomer", "GRANT SELECT, INSERT ON vigil.alerts, vigil.reports TO vigil_newcomer",
                  "GRANT SELECT ON vigil.schema_version TO vigil_newcomer", "GRANT EXECUTE ON FUNCTION vigil.timestamp_or_null(text) TO vigil_newcomer"] {
      _ = try server.sql(grant, database: "vigil")
    }
    #expect(eventually(within: 60) { (try? Self.sinkStatus(node))?["lag"] as? Int == 0 }, "\((try? Self.sinkStatus(node)) ?? [:])")
    expectCleanStop(node)
  }

  /// docs/postgres.md's "Migrating by hand", run as written by the owning role: a node with
  /// the writer alone (no owner configured) delivers on the schema it makes.
  @Test func theSchemaMadeByHandAsTheDocsSayTakesAWriterOnlyNode() throws {
    let docs = try String(
      contentsOf: ImportAWSDTests.root.appendingPathComponent("docs/postgres.md"), encoding: .utf8)
    let section = try #require(docs.range(of: "### Migrating by hand"))
    let rest = docs[section.upperBound...]
    let open = try #require(rest.range(of: "```sql\n"))
    let close = try #require(rest[open.upperBound...].range(of: "```"))
    let script = String(rest[open.upperBound..<close.lowerBound])
    #expect(script.contains("CREATE TABLE vigil.alerts") && script.contains("GRANT EXECUTE"))

    let server = try PostgresServer()
    try server.createVigilDatabase()
    _ = try server.sql(script, database: "vigil", user: "vigil_owner")
    let directory = try TemporaryDirectory()
    let node = try Self.daemon(node: "by-hand", server: server, in: directory, owner: false)
    _ = try node.exchange((0..<10).map { Self.report("HAND-\($0)", $0) })
    #expect(eventually(within: 60) { Self.caughtUp(node) }, "\((try? Self.sinkStatus(node)) ?? [:])")
    #expect(try Self.storedLines(server, node: "by-hand") == (try Self.loggedRecords(in: directory.path)))
    // The writer migrated nothing: the schema and its version are the owner's.
    #expect(try server.sql("SELECT version, applied_by FROM vigil.schema_version", database: "vigil") == "1|vigil_owner")
    #expect(try server.sql("SELECT tableowner FROM pg_tables WHERE tablename = 'alerts'", database: "vigil") == "vigil_owner")
    expectCleanStop(node)
    // The version table lost since: the writer may not make it again, and says that is what
    // is gone, not that it may not create the schema, which is there (audit 47).
    _ = try server.sql("DROP TABLE vigil.schema_version", database: "vigil")
    let again = try Self.daemon(node: "by-hand", server: server, in: directory, owner: false)
    _ = try again.exchange([Self.report("HAND-AFTER", 11)])
    #expect(
      try eventually(within: 60) {
        (try Self.sinkStatus(again)["last_error"] as? String)?.contains(
          "the vigil schema is there but something its migration made is gone (vigil.schema_version, a table or a function), "
            + "and it may not make it again (permission denied for schema vigil") == true
      }, "\((try? Self.sinkStatus(again)) ?? [:])")
    expectCleanStop(again)
  }

  /// Three nodes on one database, a few thousand reports spread across them; the database
  /// down when they start and stopped again mid-run, one node SIGKILLed and restarted.
  /// Afterwards each node's rows are exactly its alert log, line for line, and each chain
  /// verifies from the rows alone.
  @Test func threeNodesOneDatabaseThroughAnOutageAndASIGKILLStoreEachRecordExactlyOnce() throws {
    let server = try PostgresServer()
    try server.createVigilDatabase()
    let names = ["a", "b", "c"]
    let directories = try names.map { _ in try TemporaryDirectory() }
    // The database is down when the nodes start: they start all the same, and say why
    // their sinks lag.
    try server.stop()
    var nodes = try zip(names, directories).map { try Self.daemon(node: $0, server: server, in: $1) }
    for node in nodes {
      #expect(
        try eventually {
          (try Self.sinkStatus(node)["last_error"] as? String)?.contains("cannot connect to PostgreSQL") == true
        })
    }
    try server.start()

    let rounds = 10
    let perRound = 100
    for round in 0..<rounds {
      // Each node takes its share of the round at the same time as the others.
      nonisolated(unsafe) let current = nodes  // each thread uses its own daemon only
      let answered = NIOLockedValueBox(0)
      DispatchQueue.concurrentPerform(iterations: names.count) { index in
        let lines = (0..<perRound).map { Self.report("\(names[index])-\(round)-\($0)", round * perRound + $0) }
        let answers = (try? current[index].exchange(lines)) ?? []
        answered.withLockedValue { $0 += answers.filter { $0.contains(#""duplicate":false"#) }.count }
      }
      #expect(answered.withLockedValue { $0 } == names.count * perRound, "round \(round)")
      if round == 3 { try server.stop() }  // the next rounds are ingested while it is down
      if round == 5 { try server.start() }
      if round == 6 {
        // Mid-delivery, most likely: b is killed, and started again on its files.
        nodes[1].stop(signal: SIGKILL)
        nodes[1] = try Self.daemon(node: "b", server: server, in: directories[1])
      }
    }
    for node in nodes { #expect(eventually(within: 120) { Self.caughtUp(node) }, "\(node.log())") }

    var total = 0
    for (index, name) in names.enumerated() {
      let logged = try Self.loggedRecords(in: directories[index].path)
      let stored = try Self.storedLines(server, node: name)
      #expect(stored == logged, "node \(name): \(stored.count) rows, \(logged.count) records logged")
      total += logged.count
      let verify = try Vigil.run(["verify", "--config", directories[index].path + "/v.yaml", "--sink", "postgres"])
      #expect(verify.standardOutput.hasPrefix("ok: \(logged.count) records of node \(name) in PostgreSQL"))
      let reports = try server.sql("SELECT count(*) FROM vigil.reports WHERE node = '\(name)'", database: "vigil")
      #expect(reports == "\(rounds * perRound)", "node \(name)'s reports, each once")
    }
    #expect(try server.sql("SELECT count(*) FROM vigil.alerts", database: "vigil") == "\(total)")
    for node in nodes { expectCleanStop(node) }
  }

  /// After an outage, reports are stored before the alerts they raised (alert batches
  /// overtook them when reports raised fewer than one alert each); a report row held
  /// with other content is a conflict, raised loudly, not kept silently; the text
  /// `\u0000` written in a report is text in the jsonb columns; and `verify --sink` names
  /// the row of a line that is no record.
  @Test func reportsComeFirstConflictsAreRaisedAndColumnsSayWhatTheLineSays() throws {
    let server = try PostgresServer()
    try server.createVigilDatabase()
    let directory = try TemporaryDirectory()
    try server.stop()
    let daemon = try Self.daemon(node: "field-3", server: server, in: directory)
    // One report in four raises an alert, the others none: a batch of 500 alerts reaches
    // far past a batch of 500 reports.
    _ = try daemon.exchange(
      (0..<2400).map { index in
        index % 4 == 0
          ? Self.report("ORDER-\(index)", 1)
          : #"{"id":"ORDER-\#(index)","occurred_at":"2016-03-01","type":"siege","location":{"place":"Madaya"}}"#
      })
    let literal = #"{"id":"NUL-1","occurred_at":"2016-03-02","type":"attack","weapons":["barrel_bomb"],"#
      + #""location":{"place":"Lit \\u0000 and \\\\ back","governorate":"Idlib"}}"#
    _ = try daemon.exchange([literal])
    try server.start()
    #expect(eventually(within: 120) { Self.caughtUp(daemon) }, "\((try? Self.sinkStatus(daemon)) ?? [:])")
    let early = try server.sql(
      """
      SELECT count(*) FROM vigil.alerts a JOIN vigil.reports r ON r.node = a.node AND r.id = a.report_id
      WHERE a.node = 'field-3' AND a.stored_at < r.stored_at
      """, database: "vigil")
    #expect(early == "0", "alerts stored before their reports")
    let message = try server.sql(
      "SELECT message FROM vigil.alerts WHERE report_id = 'NUL-1' AND rule = 'weapons.barrel_bomb'", database: "vigil")
    #expect(message == #"barrel bombs in Lit \u0000 and \\ back"#, "\(message)")
    #expect(
      try server.sql("SELECT report->'location'->>'place' FROM vigil.reports WHERE id = 'NUL-1'", database: "vigil")
        == #"Lit \u0000 and \\ back"#)

    // A report row forged under this node's name before the node sends its own.
    _ = try server.sql(
      """
      INSERT INTO vigil.reports (node, id, received_at, type, report, line)
      VALUES ('field-3', 'FORGED-1', now(), 'attack', '{"id":"FORGED-1","narrative":"forged"}', '{}')
      """, database: "vigil", user: "vigil_writer")
    _ = try daemon.exchange([Self.report("FORGED-1", 1)])
    #expect(try eventually(within: 60) { (try Self.sinkStatus(daemon)["conflicts"] as? Int ?? 0) >= 1 })
    let conflict = try Self.sinkStatus(daemon)["last_conflict"] as? String ?? ""
    #expect(conflict.contains("report FORGED-1 conflicts with what the destination holds"), "\(conflict)")
    #expect(try server.sql("SELECT report->>'narrative' FROM vigil.reports WHERE id = 'FORGED-1'", database: "vigil") == "forged")
    #expect(
      eventually(within: 60) {
        ((try? String(contentsOfFile: directory.path + "/var/log/vigil/alerts.jsonl", encoding: .utf8)) ?? "")
          .contains("report FORGED-1 conflicts")
      })
    #expect(eventually(within: 60) { Self.caughtUp(daemon) })
    // The very report planted, but with columns it does not give: a conflict too, not a
    // redelivery (the queries by governorate and week would count the forged columns).
    let conflictsBefore = try Self.sinkStatus(daemon)["conflicts"] as? Int ?? 0
    _ = try server.sql(
      """
      INSERT INTO vigil.reports (node, id, received_at, type, governorate, report, line)
      VALUES ('field-3', 'FORGED-2', now(), 'displacement', 'Forged', '\(Self.report("FORGED-2", 2))', '{}')
      """, database: "vigil", user: "vigil_writer")
    _ = try daemon.exchange([Self.report("FORGED-2", 2)])
    #expect(try eventually(within: 60) { (try Self.sinkStatus(daemon)["conflicts"] as? Int ?? 0) > conflictsBefore })
    #expect((try Self.sinkStatus(daemon)["last_conflict"] as? String ?? "").contains("report FORGED-2 conflicts"))
    #expect(eventually(within: 60) { Self.caughtUp(daemon) })

    // A row whose line is no record: named by its seq.
    _ = try server.sql(
      """
      INSERT INTO vigil.alerts (node, seq, time, rule, priority, message, basis, tags, ruleset, prev, hash, record, line)
      VALUES ('field-3', 999999, now(), 'x', 'low', 'x', '{}', '{}', 'x', 'x', 'x', '{}', '{}')
      """, database: "vigil", user: "vigil_writer")
    let verify = try Vigil.run(["verify", "--config", directory.path + "/v.yaml", "--sink", "postgres"])
    #expect(verify.status == 1)
    #expect(verify.standardOutput.contains("seq 999999 (its row): altered: not an alert record"), "\(verify.standardOutput)")
    // A copy of a row under a key of its own: named by that key, which is how it is found
    // in the table, and by the seq its line says.
    _ = try server.sql(
      """
      DELETE FROM vigil.alerts WHERE node = 'field-3' AND seq = 999999;
      INSERT INTO vigil.alerts (node, seq, time, rule, priority, message, basis, tags, ruleset, prev, hash, record, line)
      SELECT node, 999998, time, rule, priority, message, basis, tags, ruleset, prev, hash, record, line
      FROM vigil.alerts WHERE node = 'field-3' AND seq = 2
      """, database: "vigil")
    let copied = try Vigil.run(["verify", "--config", directory.path + "/v.yaml", "--sink", "postgres"])
    #expect(copied.status == 1)
    #expect(
      copied.standardOutput.contains("seq 999998 (its row, whose line says seq 2): out of order after seq "),
      "\(copied.standardOutput)")
    // A line with a byte after its hash is no record any more: named by its row's key,
    // as it named nothing; and a copy under a key no seq is, by that key as it is.
    _ = try server.sql(
      """
      DELETE FROM vigil.alerts WHERE node = 'field-3' AND seq = 999998;
      UPDATE vigil.alerts SET line = line || ' ' WHERE node = 'field-3' AND seq = 3
      """, database: "vigil")
    let spaced = try Vigil.run(["verify", "--config", directory.path + "/v.yaml", "--sink", "postgres"])
    #expect(spaced.standardOutput.contains("seq 3 (its row): altered: not an alert record"), "\(spaced.standardOutput)")
    _ = try server.sql(
      """
      UPDATE vigil.alerts SET line = rtrim(line) WHERE node = 'field-3' AND seq = 3;
      INSERT INTO vigil.alerts (node, seq, time, rule, priority, message, basis, tags, ruleset, prev, hash, record, line)
      SELECT node, -1, time, rule, priority, message, basis, tags, ruleset, prev, hash, record, line
      FROM vigil.alerts WHERE node = 'field-3' AND seq = 1
      """, database: "vigil")
    let negative = try Vigil.run(["verify", "--config", directory.path + "/v.yaml", "--sink", "postgres"])
    #expect(negative.standardOutput.contains("seq -1 (its row): altered: its seq column says -1, its line seq 1"), "\(negative.standardOutput)")
    expectCleanStop(daemon)
  }

  /// Rows another transaction holds uncommitted when the node stores the same keys (a
  /// second daemon under the same name): the node's INSERT waits for them, then finds the
  /// keys taken. Its records and its report are raised as conflicts, never counted as
  /// delivered while another copy stands, with either way of writing.
  /// A report may carry a number `numeric` cannot hold (under an unknown member or
  /// `extra`) and a governorate of 4,000 letters, longer than an index row: each failed its
  /// batch, every time, and the node's sink never moved again. The number is JSON null in
  /// the `jsonb`, the governorate NULL in its column, the line exact; what follows is stored.
  @Test(arguments: ["insert", "copy"]) func aValuePostgreSQLCannotHoldIsNullNotAStall(write: String) throws {
    let server = try PostgresServer()
    try server.createVigilDatabase()
    let directory = try TemporaryDirectory()
    let daemon = try Self.daemon(node: "odd", server: server, in: directory, extra: "    write: \(write)")
    let long = String(repeating: "Governorate", count: 364)
    _ = try daemon.exchange([
      #"{"id":"NUM-1","occurred_at":"2016-05-01","type":"attack","weapons":["barrel_bomb"],"zzz_num":1e-20000,"#
        + #""extra":{"zero":0.0e-16383,"fine":1.5e-3,"list":[12345e-16387,"1e-20000",2]}}"#,
      #"{"id":"LONG-1","occurred_at":"2016-05-02","type":"attack","weapons":["barrel_bomb"],"location":{"governorate":"\#(long)"}}"#,
      #"{"id":"NULL-1","occurred_at":"2016-05-03","type":"attack","narrative":null,"location":{"place":null,"governorate":"Homs"}}"#,
    ] + (0..<5).map { Self.report("AFTER-\($0)", $0) })
    #expect(eventually(within: 120) { Self.caughtUp(daemon) }, "\((try? Self.sinkStatus(daemon)) ?? [:])")
    #expect(try server.sql("SELECT count(*) FROM vigil.reports WHERE node = 'odd'", database: "vigil") == "8")
    // A member given as null is absent, as Vigil reads the report.
    #expect(
      try server.sql("SELECT report::text FROM vigil.reports WHERE id = 'NULL-1'", database: "vigil")
        == #"{"id": "NULL-1", "type": "attack", "location": {"governorate": "Homs"}, "occurred_at": "2016-05-03"}"#)
    #expect(
      try server.sql("SELECT report->'zzz_num', report->'extra' FROM vigil.reports WHERE id = 'NUM-1'", database: "vigil")
        == #"|{"fine": 0.0015, "list": [null, "1e-20000", 2]}"#)
    #expect(try server.sql("SELECT line LIKE '%1e-20000,%' FROM vigil.reports WHERE id = 'NUM-1'", database: "vigil") == "t")
    #expect(
      try server.sql(
        "SELECT governorate IS NULL, length(report->'location'->>'governorate') FROM vigil.reports WHERE id = 'LONG-1'",
        database: "vigil") == "t|4004")
    #expect(try server.sql("SELECT count(*) FROM vigil.alerts WHERE node = 'odd' AND report_id LIKE 'AFTER-%'", database: "vigil") != "0")
    // Sent again (a restart from cursors removed), they are the same reports: no conflict;
    // but one whose stored line was rewritten by hand, its `jsonb` left as it was, is one
    // (audit 53: nothing compared the line).
    expectCleanStop(daemon)
    _ = try server.sql(
      "UPDATE vigil.reports SET line = replace(line, '\"AFTER-3\"', '\"AFTER-3\" ') WHERE node = 'odd' AND id = 'AFTER-3'",
      database: "vigil")
    try FileManager.default.removeItem(atPath: directory.path + "/var/lib/vigil/sinks")
    let again = try Self.daemon(node: "odd", server: server, in: directory, extra: "    write: \(write)")
    #expect(eventually(within: 120) { Self.caughtUp(again) }, "\((try? Self.sinkStatus(again)) ?? [:])")
    #expect(try Self.sinkStatus(again)["conflicts"] as? Int == 1)
    #expect((try Self.sinkStatus(again)["last_conflict"] as? String ?? "").contains("report AFTER-3 conflicts"))
    expectCleanStop(again)
  }

  @Test(arguments: ["insert", "copy"]) func aConflictCommittedByAConcurrentTransactionIsRaised(write: String) throws {
    let server = try PostgresServer()
    try server.createVigilDatabase()
    let directory = try TemporaryDirectory()
    let daemon = try Self.daemon(node: "race", server: server, in: directory, extra: "    write: \(write)")
    _ = try daemon.exchange((0..<3).map { Self.report("CALM-\($0)", $0) })
    #expect(eventually(within: 60) { Self.caughtUp(daemon) })
    let next = (try Self.loggedRecords(in: directory.path).keys.max() ?? 0) + 1
    let planted = Thread {
      _ = try? server.sql(
        """
        BEGIN;
        INSERT INTO vigil.alerts (node, seq, time, rule, priority, report_id, occurred_at, message, basis, tags,
                                  ruleset, prev, hash, record, line)
          SELECT node, \(next), time, 'forged.rule', priority, report_id, occurred_at, message, basis, tags,
                 ruleset, prev, repeat('f', 64), record, line FROM vigil.alerts WHERE node = 'race' AND seq = 1;
        INSERT INTO vigil.reports (node, id, received_at, occurred_at, type, governorate, report, line)
          SELECT node, 'RACE-1', received_at, occurred_at, type, governorate, report, line
          FROM vigil.reports WHERE node = 'race' AND id = 'CALM-0';
        SELECT pg_sleep(4);
        COMMIT;
        """, database: "vigil")
    }
    planted.start()
    // Once the planting transaction holds its rows (it sleeps with them for 4 s).
    #expect(
      eventually(within: 30) {
        (try? server.sql(
          "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(4)%' AND state = 'active' AND pid <> pg_backend_pid()"
        )) == "1"
      })
    _ = try daemon.exchange([Self.report("RACE-1", 0)])
    #expect(try eventually(within: 60) { (try Self.sinkStatus(daemon)["conflicts"] as? Int ?? 0) >= 2 }, "\((try? Self.sinkStatus(daemon)) ?? [:])")
    let logged = try String(contentsOfFile: directory.path + "/var/log/vigil/alerts.jsonl", encoding: .utf8)
    #expect(logged.contains("report RACE-1 conflicts"), "the report's conflict is recorded")
    #expect(logged.contains("seq \(next) conflicts"), "the record's conflict is recorded")
    #expect(try server.sql("SELECT rule FROM vigil.alerts WHERE node = 'race' AND seq = \(next)", database: "vigil") == "forged.rule")
    let parked = try Vigil.run(["sinks", "parked", "--socket", daemon.socketPath])
    #expect(parked.standardOutput.contains("postgres #\(next) parked"), "\(parked.standardOutput)")
    expectCleanStop(daemon)
  }


  /// A batch that times out (`timeout_s`) is given up by the server too: a statement
  /// blocked on a lock went on waiting after the sink closed its connection, and each
  /// timeout left one more session behind. Once the lock goes, every record is stored.
  @Test func aTimedOutBatchLeavesNoSessionBehind() throws {
    let server = try PostgresServer()
    try server.createVigilDatabase()
    let directory = try TemporaryDirectory()
    let node = try Self.daemon(node: "t", server: server, in: directory, extra: "    timeout_s: 2")
    _ = try node.exchange([Self.report("LOCK-0", 0)])
    #expect(eventually(within: 60) { Self.caughtUp(node) }, "\(node.log())")
    let holder = Thread {
      _ = try? server.sql("BEGIN; LOCK TABLE vigil.alerts IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(25); COMMIT;", database: "vigil")
    }
    holder.start()
    #expect(
      eventually {
        (try? server.sql("SELECT count(*) FROM pg_locks WHERE mode = 'AccessExclusiveLock' AND granted", database: "vigil"))?
          .trimmingCharacters(in: .whitespacesAndNewlines) != "0"
      })
    _ = try node.exchange((1..<6).map { Self.report("LOCK-\($0)", $0) })
    #expect(try eventually(within: 60) { (try Self.sinkStatus(node)["failures"] as? Int ?? 0) >= 5 }, "\((try? Self.sinkStatus(node)) ?? [:])")
    let waiting = try server.sql(
      "SELECT count(*) FROM pg_stat_activity WHERE usename = 'vigil_writer' AND wait_event_type = 'Lock'", database: "vigil")
    #expect((Int(waiting.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 99) <= 2, "sessions left waiting: \(waiting)")
    #expect(eventually(within: 90) { Self.caughtUp(node) }, "\((try? Self.sinkStatus(node)) ?? [:])")
    #expect(try Self.storedLines(server, node: "t") == (try Self.loggedRecords(in: directory.path)))
    expectCleanStop(node)
  }

  /// The server ending the sink's sessions again and again while it delivers
  /// (pg_terminate_backend): each batch cut off fails then and goes again, and none waits
  /// out timeout_s (120 s here) on a query that would never answer — PostgresNIO 1.33 left
  /// one in a few such queries waiting, the sink silent meanwhile. Every record is stored
  /// once.
  @Test func sessionsEndedByTheServerMidBatchFailTheirBatches() throws {
    let server = try PostgresServer()
    try server.createVigilDatabase()
    let directory = try TemporaryDirectory()
    let node = try Self.daemon(node: "t", server: server, in: directory, extra: "    timeout_s: 120")
    for chunk in 0..<10 {
      _ = try node.exchange((0..<500).map { Self.report("END-\(chunk)-\($0)", $0) })
    }
    for _ in 0..<40 {
      _ = try? server.sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'vigil_writer'", database: "vigil")
      Thread.sleep(forTimeInterval: 0.15)
    }
    #expect(eventually(within: 300) { Self.caughtUp(node) }, "\((try? Self.sinkStatus(node)) ?? [:])")
    let failures = node.log().split(separator: "\n").filter { $0.contains("sink postgres: delivery failed") }
    #expect(!failures.isEmpty, "the sessions were ended while it delivered")
    #expect(!failures.contains { $0.contains("timeout_s") }, "\(failures.filter { $0.contains("timeout_s") })")
    // Each says the role it was met as, a session ended under a batch too.
    #expect(failures.allSatisfy { $0.contains("as vigil_writer") }, "\(failures.filter { !$0.contains("as vigil_writer") })")
    #expect(try Self.storedLines(server, node: "t") == (try Self.loggedRecords(in: directory.path)))
    expectCleanStop(node)
  }

  /// A node whose files were wiped starts again at seq 1 under the same name: PostgreSQL
  /// keeps the first copy, the sink refuses to overwrite it, parks the record, and says so
  /// in status, in the error log and with a `vigil.sink_conflict` record.
  @Test func aRewrittenRecordIsRefusedAndRaisedNotOverwritten() throws {
    let server = try PostgresServer()
    try server.createVigilDatabase()
    let directory = try TemporaryDirectory()
    let first = try Self.daemon(node: "field-2", server: server, in: directory)
    _ = try first.exchange((0..<10).map { Self.report("FIRST-\($0)", $0) })
    #expect(eventually(within: 60) { Self.caughtUp(first) })
    let before = try Self.storedLines(server, node: "field-2")
    expectCleanStop(first)

    try FileManager.default.removeItem(atPath: directory.path + "/var")
    let second = try Self.daemon(node: "field-2", server: server, in: directory)
    _ = try second.exchange((0..<3).map { Self.report("SECOND-\($0)", $0) })
    #expect(try eventually(within: 60) { (try Self.sinkStatus(second)["conflicts"] as? Int ?? 0) >= 5 })
    let sink = try Self.sinkStatus(second)
    #expect((sink["last_conflict"] as? String)?.contains("conflicts with what the destination holds") == true)
    #expect(try Self.storedLines(server, node: "field-2").filter { $0.key <= before.count } == before, "the first copies stay")
    let logged = try String(contentsOfFile: directory.path + "/var/log/vigil/alerts.jsonl", encoding: .utf8)
    #expect(logged.contains(#""rule":"vigil.sink_conflict","priority":"high""#))
    let parked = try Vigil.run(["sinks", "parked", "--socket", second.socketPath])
    #expect(parked.standardOutput.contains("postgres #1 parked"), "\(parked.standardOutput)\(parked.standardError)")
    let status = try Vigil.run(["status", "--socket", second.socketPath])
    #expect(status.standardOutput.contains("CONFLICTS, the last: sink postgres: seq"), "\(status.standardOutput)")
    #expect(second.stop() == 0)
    #expect(second.log().contains("ERROR sink postgres: seq 1 conflicts"))

    // Delivered again from the start (the cursor removed, as to rebuild the rows): each
    // conflicting record is refused again, and stays one parked entry, not one a delivery.
    let parkedBefore = try Self.parkedSeqs(in: directory)
    #expect(!parkedBefore.isEmpty)
    try FileManager.default.removeItem(atPath: directory.path + "/var/lib/vigil/sinks/postgres.cursor")
    let third = try RunningDaemon(rules: Self.rules, arguments: ["--config", "v.yaml"], directory: directory)
    #expect(try eventually(within: 60) { try Self.sinkStatus(third)["lag"] as? Int == 0 }, "\((try? Self.sinkStatus(third)) ?? [:])")
    let parkedAfter = try Self.parkedSeqs(in: directory)
    #expect(parkedAfter.count == Set(parkedAfter).count, "a record parked twice: \(parkedAfter)")
    #expect(Set(parkedBefore).isSubset(of: Set(parkedAfter)))
    expectCleanStop(third)
  }

  /// The seqs of the postgres sink's parked entries, in the order parked.
  static func parkedSeqs(in directory: TemporaryDirectory) throws -> [Int] {
    let text = try String(contentsOfFile: directory.path + "/var/lib/vigil/sinks/postgres.parked", encoding: .utf8)
    return text.split(separator: "\n").compactMap { SinkEndToEndTests.seq(of: $0) }
  }
}
