/// The postgres sink's tables (docs/postgres.md, "The tables"), as numbered migrations, and
/// the statements that store a batch. Everything lives in the schema `vigil`; the version
/// reached is in `vigil.schema_version`, and a migration runs under an advisory lock so
/// several daemons starting at once migrate once.
enum PostgresSchema {
  /// The advisory lock the migrations hold: "vigil" in ASCII.
  static let migrationLock: Int64 = 0x76_69_67_69_6c

  /// Migration N is `migrations[N - 1]`; each runs in a transaction of its own. Never edit
  /// one that has shipped: add the next.
  static let migrations: [[String]] = [
    [
      // A timestamp a report or record gave, or NULL where PostgreSQL cannot read it: a
      // row is never refused over a time it cannot index.
      """
      CREATE FUNCTION vigil.timestamp_or_null(text) RETURNS timestamptz
        LANGUAGE plpgsql STABLE AS $$
        BEGIN RETURN $1::timestamptz; EXCEPTION WHEN others THEN RETURN NULL; END $$
      """,
      """
      CREATE TABLE vigil.alerts (
        node text NOT NULL,
        seq bigint NOT NULL,
        time timestamptz NOT NULL,
        rule text NOT NULL,
        priority text NOT NULL,
        report_id text,
        occurred_at timestamptz,
        message text NOT NULL,
        basis text[] NOT NULL,
        tags text[] NOT NULL,
        ruleset text NOT NULL,
        prev text NOT NULL,
        hash text NOT NULL,
        record jsonb NOT NULL,
        line text NOT NULL,
        stored_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (node, seq)
      )
      """,
      "CREATE INDEX alerts_by_rule ON vigil.alerts (rule, time)",
      "CREATE INDEX alerts_by_time ON vigil.alerts (time)",
      "CREATE INDEX alerts_by_report ON vigil.alerts (report_id)",
      """
      CREATE TABLE vigil.reports (
        node text NOT NULL,
        id text NOT NULL,
        received_at timestamptz NOT NULL,
        occurred_at timestamptz,
        type text NOT NULL,
        governorate text,
        report jsonb NOT NULL,
        line text NOT NULL,
        stored_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (node, id)
      )
      """,
      "CREATE INDEX reports_by_id ON vigil.reports (id)",
      "CREATE INDEX reports_by_governorate ON vigil.reports (governorate, occurred_at)",
    ]
  ]

  static var latestVersion: Int { migrations.count }

  /// What a schema at the latest version must hold, each object with the statement that
  /// made it: a query finding one gone (a table dropped, the function, a restore that left
  /// some out) has the owner make it again, as its migration did — `schema_version` alone
  /// would say there is nothing to do. Read from the migrations' CREATE statements (every
  /// migration so far only creates): `to_regprocedure` or `to_regclass` of the name each
  /// creates, NULL when it is gone.
  static let objects: [(lookup: String, create: String)] = migrations.flatMap { $0 }.compactMap { statement in
    let words = statement.split(whereSeparator: \.isWhitespace)
    guard words.count > 2, words[0] == "CREATE" else { return nil }
    switch words[1] {
    case "FUNCTION":
      // `vigil.timestamp_or_null(text)`: the name with its argument types.
      guard let close = statement.firstIndex(of: ")") else { return nil }
      let signature = statement[statement.index(statement.startIndex, offsetBy: "CREATE FUNCTION ".count)...close]
      return ("to_regprocedure('\(signature)')", statement)
    case "TABLE": return ("to_regclass('\(words[2])')", statement)
    case "INDEX": return ("to_regclass('vigil.\(words[2])')", statement)
    default: return nil
    }
  }

  /// What the writing role may do, once the owner has migrated: add rows and read them,
  /// nothing else (no UPDATE, no DELETE, no DDL).
  static func grants(to role: String) -> [String] {
    [
      "GRANT USAGE ON SCHEMA vigil TO \(role)",
      "GRANT SELECT, INSERT ON vigil.alerts, vigil.reports TO \(role)",
      "GRANT SELECT ON vigil.schema_version TO \(role)",
      "GRANT EXECUTE ON FUNCTION vigil.timestamp_or_null(text) TO \(role)",
    ]
  }

  /// The staging tables COPY fills, one per connection, emptied at each commit.
  static let stagingTables = [
    "CREATE TEMP TABLE IF NOT EXISTS vigil_incoming_alerts (node text, seq bigint, line text) ON COMMIT DELETE ROWS",
    "CREATE TEMP TABLE IF NOT EXISTS vigil_incoming_reports (node text, line text, json text) ON COMMIT DELETE ROWS",
  ]

  /// The JSON of a line for `jsonb`, which has no room for U+0000: its escape `\u0000`
  /// becomes `\ufffd` there (the exact line, in `line`, keeps it). Not the text `\u0000`
  /// written in a report (the line's `\\u0000`): each escaped backslash is set aside as
  /// U+0001 first — which a JSON line cannot hold raw — and put back after.
  static func json(_ column: String) -> String {
    #"replace(replace(replace(\#(column), '\\', E'\x01'), '\u0000', '\ufffd'), E'\x01', '\\')::jsonb"#
  }

  /// Stores the alert records of `source` — a relation of (node, seq, line) — that are not
  /// stored yet, and gives back (seq, stored hash, offered hash) for each record whose
  /// (node, seq) is stored already with another hash — a conflict — or by a transaction
  /// this statement could not see (the stored hash NULL: `storedHashes` reads it). A
  /// redelivered record (same hash) is no row at all.
  static func storeAlerts(from source: String) -> String {
    """
    WITH incoming AS (
      SELECT node, seq, line, \(json("line")) AS record FROM \(source)
    ), stored AS (
      INSERT INTO vigil.alerts (node, seq, time, rule, priority, report_id, occurred_at, message, basis, tags,
                                ruleset, prev, hash, record, line)
      SELECT node, seq, (record->>'time')::timestamptz, record->>'rule', record->>'priority', record->>'report_id',
             vigil.timestamp_or_null(record->>'occurred_at'), record->>'message',
             ARRAY(SELECT jsonb_array_elements_text(record->'basis')),
             ARRAY(SELECT jsonb_array_elements_text(record->'tags')),
             record->>'ruleset', record->>'prev', record->>'hash', record, line
      FROM incoming
      ON CONFLICT (node, seq) DO NOTHING
      RETURNING seq
    )
    SELECT incoming.seq, alerts.hash, incoming.record->>'hash'
    FROM incoming LEFT JOIN vigil.alerts alerts ON alerts.node = incoming.node AND alerts.seq = incoming.seq
    WHERE incoming.seq NOT IN (SELECT seq FROM stored)
      AND alerts.hash IS DISTINCT FROM incoming.record->>'hash'
    """
  }

  /// Stores the journal lines of `source` — a relation of (node, line) — whose (node, id)
  /// is not stored yet, and gives back (id, stored receipt time, offered receipt time,
  /// offered report as `jsonb` text) for each whose (node, id) is stored already with
  /// another report, or with columns the report does not give (a row planted with the
  /// report and a forged governorate, date or type), or, offered again with its receipt
  /// time, with another line (the line rewritten, the `jsonb` left) — a conflict — or by a transaction this
  /// statement could not see (the
  /// stored receipt time NULL: `storedReports` reads it). A redelivered report (the same
  /// report, whenever it was received) is no row at all.
  ///
  /// `source`'s `json` is the line as `jsonb` can read it when it is not (empty when it is:
  /// `PostgresReadableJSON`).
  static func storeReports(from source: String) -> String {
    """
    WITH read AS (
      SELECT node, line, \(json("coalesce(nullif(json, ''), line)")) AS entry FROM \(source)
    ), incoming AS (
      -- A member given as null is absent, as Vigil reads a report: the same report written
      -- with "narrative":null and without it is one row, not a conflict between nodes.
      SELECT node, line, entry, jsonb_strip_nulls(entry->'report') AS report FROM read
    ), stored AS (
      INSERT INTO vigil.reports (node, id, received_at, occurred_at, type, governorate, report, line)
      SELECT node, entry->'report'->>'id', (entry->>'received_at')::timestamptz,
             vigil.timestamp_or_null(entry->'report'->>'occurred_at'), entry->'report'->>'type',
             \(governorate("entry")), report, line
      FROM incoming
      ON CONFLICT (node, id) DO NOTHING
      RETURNING id
    )
    SELECT incoming.entry->'report'->>'id', reports.received_at::text, incoming.entry->>'received_at',
           incoming.report::text
    FROM incoming LEFT JOIN vigil.reports reports
      ON reports.node = incoming.node AND reports.id = incoming.entry->'report'->>'id'
    WHERE incoming.entry->'report'->>'id' NOT IN (SELECT id FROM stored)
      AND (jsonb_strip_nulls(reports.report) IS DISTINCT FROM incoming.report
        OR reports.occurred_at IS DISTINCT FROM vigil.timestamp_or_null(incoming.entry->'report'->>'occurred_at')
        OR reports.type IS DISTINCT FROM incoming.entry->'report'->>'type'
        -- the same journal line offered again (its receipt time), its stored line rewritten
        OR (reports.received_at = (incoming.entry->>'received_at')::timestamptz AND reports.line IS DISTINCT FROM incoming.line)
        OR (reports.governorate IS DISTINCT FROM \(governorate("incoming.entry"))
          -- a row stored whole before the limit (it fitted the index compressed)
          AND reports.governorate IS DISTINCT FROM incoming.entry->'report'->'location'->>'governorate'))
    """
  }

  /// The longest governorate the column takes, in bytes: its index holds at most 2,704
  /// bytes a row, and a longer one (a report may give 4,096 characters) failed the batch,
  /// every time. A longer one is NULL in the column (the report's `jsonb` and its line
  /// hold it whole).
  static let longestGovernorate = 2000

  static func governorate(_ entry: String) -> String {
    let value = "\(entry)->'report'->'location'->>'governorate'"
    return "CASE WHEN octet_length(\(value)) <= \(longestGovernorate) THEN \(value) END"
  }

  /// The stored hash of each of `node`'s alerts by seq ($1 the node, $2 the seqs): a row
  /// the store statement could not see, committed by another transaction while it waited
  /// (`ON CONFLICT` waits for it, but the statement's own reading was made before), read in
  /// a statement of its own, which sees it.
  static let storedHashes = "SELECT seq, hash FROM vigil.alerts WHERE node = $1 AND seq = ANY($2)"

  /// The same for reports ($1 the node, $2 the ids): each stored report's receipt time
  /// and its `jsonb` as text (which PostgreSQL writes one way for one value, so it is
  /// compared as text with the offered report's).
  static let storedReports =
    "SELECT id, received_at::text, jsonb_strip_nulls(report)::text FROM vigil.reports WHERE node = $1 AND id = ANY($2)"
}
