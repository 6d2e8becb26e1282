import Foundation
import NIOConcurrencyHelpers
import NIOCore
import VigilCore

/// The request stage of the daemon (docs/protocol.md): it answers each request line a
/// connection hands it — a report is evaluated here and handed on to the writer
/// (`GroupCommit`); the other ops are answered here — and holds what the answers read: the
/// active rule set (swapped whole on reload, so a report is checked by exactly one set),
/// the counters, the reload history. `Daemon` is the running daemon that owns it.
public final class RequestResponder: Sendable {
  public static let version = "0.1.0"

  /// The rule set in force, replaced whole by a reload. A class: each report reads it, and
  /// a copy of the set's members retained and released each of them.
  final class ActiveRules: Sendable {
    let set: RuleSet
    let loadedAt: String

    init(set: RuleSet, loadedAt: String) {
      self.set = set
      self.loadedAt = loadedAt
    }
  }

  struct LastReload: Sendable {
    var ok = true
    var at: String
    var errors: [RuleError] = []
    /// The warnings of the set it loaded (a list name that names no list any more, after
    /// the file defining it went: audit 53), for `status` as for `vigil rules lint`.
    var warnings: [RuleError] = []
    /// The revision last rejected, so polling the same broken files records it once.
    var rejectedRevision: String?
  }

  /// What a request line gets: a response line, or (for `subscribe`) a stream.
  enum Reply {
    case line(EventLoopFuture<String>)
    /// A report to record: the connection hands its burst of them to the writer at once.
    case submit(Submission)
    case subscribe(AlertSelector)
    /// A response made once the connection's earlier responses are out, so it counts
    /// their effects (`status`, `rules`).
    case afterEarlier(@Sendable () -> String)
    /// A response that must see the connection's earlier reports counted (`check`, whose
    /// patterns count what was submitted before it): the connection hands the writer its
    /// burst, then makes it.
    case lineAfterReports(() -> EventLoopFuture<String>)
  }

  let configuration: DaemonConfiguration
  /// The plugins linked in, for loading the rule set again.
  let plugins: PluginRegistry
  let writer: GroupCommit
  let counters: Counters
  /// The enabled sinks' deliveries and sources' runners, for `status`.
  let sinks: [SinkDelivery]
  let sources: [SourceRunner]
  public let subscriptions: Subscriptions
  /// Whether the console is served (for `status`).
  public let console: ConsoleState
  /// The daemon's own log (standard error), one line per event.
  let log: DaemonEventLog
  private let rules: NIOLockedValueBox<ActiveRules>
  private let lastReload: NIOLockedValueBox<LastReload>
  /// The last loads and reloads, newest last (the console's health page).
  private let reloadHistory: NIOLockedValueBox<[ReloadOutcome]>
  static let reloadsKept = 20
  private let connections = NIOLockedValueBox(0)
  /// Called as a reload reads the rule files, whatever asked for it (the rule watcher
  /// notes the files as they were then: a change after a refused reload — a `chmod o-w` —
  /// is then a change to it, however soon it came).
  public let beforeReading = NIOLockedValueBox<(@Sendable () -> Void)?>(nil)
  private let startedAt = Date()
  private let adminUIDs: Set<UInt32>
  private let adminGIDs: Set<UInt32>
  /// Reloads run here, one at a time.
  private let reloadQueue = DispatchQueue(label: "vigild.reload")
  /// `parked` and `resend` are answered here, one at a time (`offTheConnections`).
  private let fileQueue = DispatchQueue(label: "vigild.parked-records")
  /// Sources' reports go through it to the writer while it still runs.
  private let sourceGate = SourceGate()

  init(
    configuration: DaemonConfiguration, plugins: PluginRegistry, ruleSet: RuleSet, writer: GroupCommit,
    counters: Counters, subscriptions: Subscriptions, sinks: [SinkDelivery] = [], sources: [SourceRunner] = [],
    log: @escaping DaemonEventLog
  ) {
    self.sources = sources
    self.configuration = configuration
    self.plugins = plugins
    self.sinks = sinks
    self.subscriptions = subscriptions
    self.console = ConsoleState(listen: configuration.http.listen)
    self.log = log
    self.writer = writer
    self.counters = counters
    let now = UTCTime.format(millisecondsSinceEpoch: WallClock.nowMilliseconds())
    rules = NIOLockedValueBox(ActiveRules(set: ruleSet, loadedAt: now))
    lastReload = NIOLockedValueBox(LastReload(at: now, warnings: ruleSet.warnings))
    reloadHistory = NIOLockedValueBox([
      ReloadOutcome(ok: true, at: now, trigger: "start", revision: ruleSet.revision, errors: [])
    ])
    counters.metrics.reload(ok: true)
    counters.metrics.ruleSetLoaded(revision: ruleSet.revision)
    adminUIDs = Set([getuid(), 0] + configuration.socket.adminUIDs)
    adminGIDs = Set(configuration.socket.adminGIDs)
  }

  var ruleSet: RuleSet { rules.withLockedValue { $0.set } }

  func connectionOpened() { connections.withLockedValue { $0 += 1 } }
  func connectionClosed() { connections.withLockedValue { $0 -= 1 } }
  var openConnections: Int { connections.withLockedValue { $0 } }

  /// The reply to one line, or nil for an empty line (which gets none).
  func respond(to line: ByteBuffer, peer: PeerCredentials?, on loop: EventLoop) -> Reply? {
    if line.readableBytesView.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { return nil }
    // Read where it lies in the connection's buffer; the parser makes the one copy.
    let request = line.withUnsafeReadableBytes { RequestParser.parse($0.assumingMemoryBound(to: UInt8.self)) }
    switch request {
    case .failure(let error):
      // Whether one may make the request comes before how it is written.
      if let op = error.administrativeOp, !isAdministrator(peer) { return .line(forbidden(op, on: loop)) }
      counters.refused(error.code)
      return .line(loop.makeSucceededFuture(Response.error(error)))
    case .success(let request):
      return reply(to: request, peer: peer, on: loop)
    }
  }

  /// A source's report, through the path of a report on the socket; waits for the verdict.
  func record(report given: [UInt8]) -> ReportVerdict {
    guard sourceGate.enter() else {
      counters.refused("shutting_down")
      return .refused(code: "shutting_down", message: "vigild is stopping; the report was not recorded")
    }
    defer { sourceGate.leave() }
    let limit = configuration.limits.maxLineBytes
    guard given.count <= limit else {
      counters.refused(.tooLarge)
      return .refused(code: "too_large", message: "the report is longer than \(limit) bytes (limits.max_line_bytes)")
    }
    // A report is one journal line: line breaks between its tokens (pretty-printed JSON)
    // become spaces; one inside a string stays, and is refused as JSON forbids.
    let bytes = Self.onOneLine(given)
    let response: String
    switch RequestParser.parse(bytes) {
    case .failure(let error):
      counters.refused(error.code)
      response = Response.error(error)
    case .success(.submit(let parsed, let json)):
      do {
        response = try writer.submit(submission(parsed, json: json)).wait()
      } catch {
        counters.refused(.internal)
        return .refused(code: "internal", message: "\(error)")
      }
    case .success:
      counters.refused(.invalidRequest)
      return .refused(code: "invalid_request", message: "a source gives reports, not requests with an op")
    }
    return Self.verdict(of: response)
  }

  /// Refuses sources' reports from now on, and waits until those under way are answered:
  /// then the writer can stop.
  func closeToSources() {
    sourceGate.close()
  }

  /// `json` with each line break outside its strings made a space.
  static func onOneLine(_ json: [UInt8]) -> [UInt8] {
    guard json.contains(where: { $0 == 0x0A || $0 == 0x0D }) else { return json }
    var bytes = json
    var inString = false
    var escaped = false
    for index in bytes.indices {
      let byte = bytes[index]
      if inString {
        if escaped {
          escaped = false
        } else if byte == UInt8(ascii: "\\") {
          escaped = true
        } else if byte == UInt8(ascii: "\"") {
          inString = false
        }
      } else if byte == UInt8(ascii: "\"") {
        inString = true
      } else if byte == 0x0A || byte == 0x0D {
        bytes[index] = UInt8(ascii: " ")
      }
    }
    return bytes
  }

  /// A response line as a verdict.
  static func verdict(of response: String) -> ReportVerdict {
    let object = (try? JSONSerialization.jsonObject(with: Data(response.utf8))) as? [String: Any] ?? [:]
    guard object["ok"] as? Bool == true else {
      let error = object["error"] as? [String: Any] ?? [:]
      return .refused(code: error["code"] as? String ?? "internal", message: error["message"] as? String ?? response)
    }
    let id = object["report_id"] as? String ?? ""
    if object["duplicate"] as? Bool == true { return .duplicate(reportID: id) }
    return .accepted(reportID: id, alerts: (object["alerts"] as? [Any])?.count ?? 0)
  }

  func tooLarge(on loop: EventLoop) -> EventLoopFuture<String> {
    counters.refused(.tooLarge)
    let limit = configuration.limits.maxLineBytes
    return loop.makeSucceededFuture(
      Response.error(RequestError(.tooLarge, "the line is longer than \(limit) bytes (limits.max_line_bytes)")))
  }

  /// What each request gets: a report goes to the writer with the connection's burst,
  /// `subscribe` becomes a stream, `status` and `rules` wait for the earlier answers, the
  /// rest are answered here.
  private func reply(to request: Request, peer: PeerCredentials?, on loop: EventLoop) -> Reply {
    switch request {
    case .submit(let parsed, let json):
      return .submit(submission(parsed, json: json))
    case .subscribe(let filter):
      return .subscribe(AlertSelector(filter))
    case .status:
      return .afterEarlier { self.status() }
    case .rules:
      return .afterEarlier { self.rulesList() }
    case .check(let parsed):
      return .lineAfterReports { self.check(parsed, on: loop) }
    case .ping:
      return .line(loop.makeSucceededFuture(Response.pong))
    case .reload:
      guard isAdministrator(peer) else { return .line(forbidden("reload", on: loop)) }
      return .line(reload(trigger: "the reload request").hop(to: loop))
    case .reopen:
      guard isAdministrator(peer) else { return .line(forbidden("reopen", on: loop)) }
      return .line(reopen(answering: true).hop(to: loop))
    case .parked(let name):
      return .line(offTheConnections(answeredOn: loop) { self.parked(sink: name) })
    case .resend(let name, let seqs):
      guard isAdministrator(peer) else { return .line(forbidden("resend", on: loop)) }
      return .line(offTheConnections(answeredOn: loop) { self.resend(sink: name, seqs: seqs) })
    }
  }

  /// Makes an answer on `fileQueue`: `parked` and `resend` read each sink's file of parked
  /// records, and on two cores one loop serves every connection, so a large file read there
  /// would hold up every client. The connection still answers in order.
  private func offTheConnections(answeredOn loop: EventLoop, _ answer: @escaping @Sendable () -> String)
    -> EventLoopFuture<String>
  {
    let promise = loop.makePromise(of: String.self)
    fileQueue.async { promise.succeed(answer()) }
    return promise.futureResult
  }

  /// Waits until the answers made off the connections' loops (`parked`, `resend`, a
  /// `reload` under way) are made: the daemon stops its loops only after this, and after a
  /// commit that follows them (a reload's answer comes from the writer's loop).
  func finishAnswersOffTheLoops() {
    fileQueue.sync {}
    reloadQueue.sync {}
  }

  /// `check`: the alerts and the patterns a report would give, recording nothing.
  private func check(_ parsed: ParsedReport, on loop: EventLoop) -> EventLoopFuture<String> {
    counters.checked()
    let set = ruleSet
    let matches = set.evaluate(parsed.report)
    let records = Self.alertRecords(for: parsed.report, matches: matches, set: set, time: now())
    let alerts = matches.map {
      Response.Alert(seq: nil, rule: $0.rule.id, priority: $0.rule.priority, message: $0.message)
    }
    let events = set.patternEvents(for: parsed.report, matches: matches)
    let completed =
      events.isEmpty
      ? loop.makeSucceededFuture((records: [AlertRecord](), lateWarning: String?.none))
      : writer.patternsCompleted(by: parsed.report, events: events, revision: set.revision, alerts: records)
        .hop(to: loop)
    return completed.map { patterns in
      Response.verdict(
        reportID: parsed.report.id, duplicate: nil, ruleset: set.revision,
        alerts: alerts
          + patterns.records.map {
            Response.Alert(seq: nil, rule: $0.rule, priority: $0.priority, message: $0.message)
          },
        // As `submit` would warn it: too late to count toward patterns.
        warnings: parsed.warnings + (patterns.lateWarning.map { [$0] } ?? []))
    }
  }

  /// `resend`: a sink's parked records offered again, all of them or those `seqs`.
  private func resend(sink name: String, seqs: [UInt64]?) -> String {
    guard let sink = sinks.first(where: { $0.name == name }) else { return unknownSink(name) }
    if let seqs {
      let parked = sink.parkedSeqs
      let strangers = seqs.filter { !parked.contains($0) }
      if !strangers.isEmpty {
        let listed = parked.sorted().prefix(20).map(String.init).joined(separator: ", ")
        counters.refused(.invalidRequest)
        return Response.error(
          RequestError(
            .invalidRequest,
            "sink \(name) has no parked record with seq \(strangers.map(String.init).joined(separator: ", ")) "
              + (parked.isEmpty ? "(it has none parked)" : "(parked: \(listed)\(parked.count > 20 ? ", …" : ""))")))
      }
    }
    let parked = sink.requestResend(seqs)
    return "{\"ok\":true,\"op\":\"resend\",\"sink\":\(JSONText.string(name)),\"parked\":\(parked)}\n"
  }

  /// The parked records of every sink, or of one: `{"ok":true,"parked":[{"sink":…,…}]}`.
  private func parked(sink name: String?) -> String {
    if let name, !sinks.contains(where: { $0.name == name }) { return unknownSink(name) }
    let lines = sinks.filter { name == nil || $0.name == name }.flatMap { sink in
      sink.parkedLines.map { "{\"sink\":\(JSONText.string(sink.name))," + $0.dropFirst() }
    }
    return "{\"ok\":true,\"op\":\"parked\",\"parked\":[\(lines.joined(separator: ","))]}\n"
  }

  private func unknownSink(_ name: String) -> String {
    counters.refused(.invalidRequest)
    let known = sinks.isEmpty ? "no sink is enabled" : "the sinks are " + sinks.map(\.name).joined(separator: ", ")
    return Response.error(
      RequestError(.invalidRequest, "no sink is named \(JSONText.string(String(name.prefix(40)))); \(known)"))
  }

  /// Writes a `vigil.sink_conflict` record: a sink's destination holds another record
  /// under the key of one it was given (docs/plugins.md, "Parked records").
  public func raiseSinkConflict(_ message: String) {
    let record = AlertRecord(
      time: now(), rule: "vigil.sink_conflict", priority: .high, reportID: nil, occurredAt: nil, message: message,
      basis: [], tags: ["vigil"], ruleset: ruleSet.revision)
    _ = writer.record([record])
  }

  /// A report checked and ready for the writer: its alerts, its id's digest.
  func submission(_ parsed: ParsedReport, json: ReportText) -> Submission {
    let active = rules.withLockedValue { $0 }
    let matches = active.set.evaluate(parsed.report)
    // Timed by the writer, with the report's `received_at`.
    let records = Self.alertRecords(for: parsed.report, matches: matches, set: active.set, time: "")
    // What the report is to the patterns is found here, on the connection's thread; the
    // writer only counts it.
    let counted = active.set.enabledPatternCount > 0
    let patternEvents = counted ? active.set.patternEvents(for: parsed.report, matches: matches) : []
    // What the console's index keeps of a report with alerts or pattern events (nothing
    // without the index). Its region is found here, on the connection's thread, not on the
    // writer's; the governorate's text is not kept as a `String`, since the region is known.
    var facts: ReportFacts?
    if let index = writer.consoleIndex, !records.isEmpty || !patternEvents.isEmpty {
      let place = parsed.report.governorateAndCoordinates
      var found = ReportFacts(governorate: nil, lat: place.lat, lon: place.lon, journal: nil)
      found.region = index.region(governorate: place.governorate, lat: place.lat, lon: place.lon)
      found.regionFound = true
      facts = found
    }
    return Submission(
      reportID: parsed.report.id, idDigest: ReportDigest.id(parsed.report.id), reportJSON: json,
      alerts: records, warnings: parsed.warnings, ruleset: active.set.revision, facts: facts,
      report: counted ? parsed.report : nil, patternEvents: patternEvents)
  }

  /// The alert records of a report's matches (also what start-up recovery writes again).
  static func alertRecords(for report: Report, matches: [RuleMatch], set: RuleSet, time: String) -> [AlertRecord] {
    guard !matches.isEmpty else { return [] }
    let occurredAt = report.occurredAt.text
    return matches.map { match in
      AlertRecord(
        time: time, rule: match.rule.id, priority: match.rule.priority, reportID: report.id,
        occurredAtText: occurredAt, messageText: match.messageText, basis: match.rule.basis,
        tags: match.rule.tags, ruleset: set.revision, ruleNumber: match.rule.number)
    }
  }

  private func isAdministrator(_ peer: PeerCredentials?) -> Bool {
    guard let peer else { return false }
    return adminUIDs.contains(peer.uid) || adminGIDs.contains(peer.gid)
  }

  private func forbidden(_ op: String, on loop: EventLoop) -> EventLoopFuture<String> {
    counters.refused(.forbidden)
    return loop.makeSucceededFuture(
      Response.error(
        RequestError(.forbidden, "\(op) is for the daemon's own user, root and socket.admin_uids/admin_gids")))
  }

  /// Reopens the alert log and the journal (after an external rotation). `answering`: for
  /// the `reopen` request, whose `storage` error is an error response, counted among the
  /// refused (SIGUSR1's is only logged).
  public func reopen(answering: Bool = false) -> EventLoopFuture<String> {
    writer.reopen().map {
      // SIGUSR1's outcome vigild logs itself; the request's is logged here.
      if answering { self.log("reopened the alert log and the journal on the reopen request") }
      return Response.reopened
    }.recover { error in
      if answering {
        self.counters.refused(.storage)
        self.log(.warning("reopen on request failed: \(error); reports are refused until it succeeds, which is tried again at each commit"))
      }
      return Response.error(RequestError(.storage, "cannot reopen the files: \(error)"))
    }
  }

  // MARK: Reload

  /// What the rules watcher names as the trigger of its reloads.
  public static let fileChangeTrigger = "a change in the rule files"

  /// Loads the rule files again and swaps the set in when it loads; records the outcome
  /// in the alert log and the daemon's log (docs/rules.md, "Reloading"). Every trigger — the
  /// `reload` request, SIGHUP, the file watcher — comes here; reloads run one at a time on
  /// their own queue, off the connections' threads. The future gives the `reload` response.
  public func reload(trigger: String) -> EventLoopFuture<String> {
    let promise = writer.loop.makePromise(of: String.self)
    reloadQueue.async {
      let outcome = self.reloadNow(trigger: trigger)
      promise.completeWith(outcome)
      // The next reload starts once this one's record is written.
      _ = try? outcome.wait()
    }
    return promise.futureResult
  }

  /// The inner future of a writer's task, once the task has run (waited for here: the set
  /// is put in force only after its patterns are).
  private static func flattened(_ outer: EventLoopFuture<EventLoopFuture<String>>, on loop: EventLoop) -> EventLoopFuture<String> {
    do {
      return try outer.wait()
    } catch {
      return loop.makeFailedFuture(error)
    }
  }

  private func reloadNow(trigger: String) -> EventLoopFuture<String> {
    let loop = writer.loop
    let sources: [RuleSource]
    beforeReading.withLockedValue { $0 }?()
    do {
      sources = try ConfiguredRuleSet.read(configuration.rules.paths)
    } catch {
      let failure = RuleError(SourcePosition(file: error.path, line: 0, column: 0), error.description)
      return reloadFailed([failure], revision: nil, trigger: trigger, on: loop)
    }
    let current = ruleSet
    // Every rule file gone at once is a volume not mounted, or a copy that emptied the
    // directory first, far more often than an intent: the set in force stays. (To run with
    // no rules, leave a rule file that defines none.)
    if sources.isEmpty, current.revision != RuleSetLoader.revision(of: []) {
      let failure = RuleError(
        SourcePosition(file: "", line: 0, column: 0),
        "the rules directories (\(configuration.rules.paths.joined(separator: ", "))) hold no rule file any more "
          + "(a volume not mounted, or a copy half made?); to run with no rules, leave a rule file that defines none")
      return reloadFailed([failure], revision: nil, trigger: trigger, on: loop)
    }
    let candidate = RuleSetLoader.revision(of: sources)
    if candidate == current.revision {
      // Nothing to load. Said when it follows a rejection (the files were put back) or was
      // asked for; a watched save of the same bytes passes quietly.
      if !lastReload.withLockedValue(\.ok) {
        log(
          DaemonEvent(
            .notice,
            "the rule files are back to the set in force on \(trigger) (\(current.revision)): "
              + "the rejected edit no longer applies"))
      } else if trigger != Self.fileChangeTrigger {
        log("the rule files are unchanged on \(trigger): \(current.revision) stays in force")
      }
      // Loaded nothing: not counted among the loads (`vigil_reloads_total`).
      noteReload(
        LastReload(ok: true, at: now(), errors: [], warnings: current.warnings, rejectedRevision: nil),
        revision: current.revision, trigger: trigger,
        loaded: false)
      return loop.makeSucceededFuture(reloaded(current))
    }
    switch ConfiguredRuleSet.load(sources, configuration: configuration, plugins: plugins) {
    case .failure(let errors):
      return reloadFailed(errors.errors, revision: candidate, trigger: trigger, on: loop)
    case .success(let set):
      // The record goes to the writer with the set's patterns, to be written first in the
      // next commit, and before the set is put in force: so every record of the new set —
      // its rules' alerts, its patterns' — follows the record that says it was loaded (and
      // is stamped after it).
      let record = Self.loadedRecord(set, previous: current.definitionDigests, time: now())
      let recorded: EventLoopFuture<String>
      if set.patternBasis == current.patternBasis {
        // Nothing the patterns count by changed (only rules they do not count): the
        // windows held go on with the new set, and the reload reads no journal.
        recorded = Self.flattened(writer.keepPatterns(for: set, announcing: record), on: loop)
      } else {
        // The patterns' windows for the new set, rebuilt from the journal here, off the
        // connections' and the writer's threads; the writer brings them up to date with
        // what it journalled meanwhile and puts them in force with the set.
        let marks = (try? writer.rebuildMarks().wait()) ?? PatternRebuild.Marks(journal: 0, logInode: 0, logSize: 0)
        let rebuilt = PatternRebuild.build(
          set: set, horizon: configuration.rules.latenessHorizon, rotatedJournals: marks.rotatedJournalPaths,
          journal: marks.journalPath(else: writer.journalPath), to: marks.journal,
          alertLogs: alertLogFilesOldestFirst)
        marks.closeRotatedJournals()
        recorded = Self.flattened(
          writer.installPatterns(
            set, windows: rebuilt.windows, marks: marks, rebuilt: (rebuilt.reports, rebuilt.seconds), announcing: record),
          on: loop)
      }
      rules.withLockedValue { $0 = ActiveRules(set: set, loadedAt: now()) }
      noteReload(
        LastReload(ok: true, at: now(), errors: [], warnings: set.warnings, rejectedRevision: nil), revision: set.revision,
        trigger: trigger)
      counters.metrics.ruleSetLoaded(revision: set.revision)
      log("reloaded the rule set on \(trigger): \(record.message)")
      for line in ConfiguredRuleSet.warningLines(of: set, on: trigger) { log(.warning(line)) }
      let written = LoadedDefinitions.write(
        set.definitionDigests, to: LoadedDefinitions.path(stateDirectory: configuration.stateDirectory)
      ) { self.log(.warning($0)) }
      definitionsOwed.withLockedValue { $0 = !written }
      return recorded.map { _ in self.reloaded(set) }
    }
  }

  /// Whether `ruleset.loaded` could not be written for the set in force.
  let definitionsOwed = NIOLockedValueBox(false)

  /// Writes `ruleset.loaded` for the set in force if its last write failed (a full disk):
  /// called as vigild stops, so that the next start counts against this set.
  public func keepDefinitionsIfOwed() {
    guard definitionsOwed.withLockedValue({ $0 }) else { return }
    let set = rules.withLockedValue { $0.set }
    if LoadedDefinitions.write(
      set.definitionDigests, to: LoadedDefinitions.path(stateDirectory: configuration.stateDirectory), log: { _ in })
    {
      definitionsOwed.withLockedValue { $0 = false }
      log("wrote the rule set's definitions for the next start's counts, which could not be written before")
    } else {
      log(.warning("still cannot write the rule set's definitions: the next start counts its changes against an older set"))
    }
  }

  /// Records a reload's outcome: for `status`, the console and the metrics.
  private func noteReload(_ outcome: LastReload, revision: String?, trigger: String, loaded: Bool = true) {
    lastReload.withLockedValue { $0 = outcome }
    if loaded { counters.metrics.reload(ok: outcome.ok) }
    reloadHistory.withLockedValue { history in
      history.append(
        ReloadOutcome(ok: outcome.ok, at: outcome.at, trigger: trigger, revision: revision, errors: outcome.errors))
      if history.count > Self.reloadsKept { history.removeFirst(history.count - Self.reloadsKept) }
    }
  }

  private func reloadFailed(_ errors: [RuleError], revision: String?, trigger: String, on loop: EventLoop)
    -> EventLoopFuture<String>
  {
    // One line per event (docs/vigild.md): each error on its own line, saying what it is.
    log(.warning("rule set rejected on \(trigger), the old one stays in force: \(errors.count) error(s)"))
    for error in errors { log(.warning("rule set rejected on \(trigger): \(error.description)")) }
    // The same candidate is recorded once; without files to name it (a directory that
    // cannot be read), its errors name it.
    let candidate = revision ?? "unreadable: " + errors.map(\.description).joined(separator: "; ")
    let alreadyRecorded = lastReload.withLockedValue { $0.rejectedRevision == candidate }
    noteReload(
      LastReload(ok: false, at: now(), errors: errors, rejectedRevision: candidate), revision: revision,
      trigger: trigger)
    let response =
      "{\"ok\":true,\"reloaded\":false,\"errors\":[\(errors.map(Self.errorJSON).joined(separator: ","))]}\n"
    guard !alreadyRecorded else { return loop.makeSucceededFuture(response) }
    let record = AlertRecord(
      time: now(), rule: "vigil.ruleset_rejected", priority: .high, reportID: nil, occurredAt: nil,
      message: "rule set rejected, the old one stays in force: " + errors.map(\.description).joined(separator: "; "),
      basis: [], tags: ["vigil"], ruleset: ruleSet.revision)
    return writer.record([record]).map { _ in response }
  }

  private func reloaded(_ set: RuleSet) -> String {
    "{\"ok\":true,\"reloaded\":true,\"ruleset\":\"\(set.revision)\",\"rules\":\(set.enabledRuleCount),"
      + "\"warnings\":[\(set.warnings.map(Self.errorJSON).joined(separator: ","))]}\n"
  }

  /// `vigil.ruleset_loaded`, counting the rules added, removed and changed, then the patterns.
  static func loadedRecord(_ set: RuleSet, previous: [String: String], time: String) -> AlertRecord {
    // "22 rules enabled of 22", "1 rule enabled of 1": the noun agrees with the total.
    func enabled(_ count: Int, of total: Int, _ noun: String) -> String {
      "\(count) \(noun)\(total == 1 ? "" : "s") enabled of \(total)"
    }
    var message = "rule set \(set.revision) loaded: \(enabled(set.enabledRuleCount, of: set.rules.count, "rule"))"
    if !set.patterns.isEmpty {
      message += ", \(enabled(set.enabledPatternCount, of: set.patterns.count, "pattern"))"
    }
    // Against the set in force before: the last one loaded, by this process or (at start,
    // from the state directory) the one before it; none at the very first start.
    let new = set.definitionDigests
    // A pattern's digest is marked (a state directory of an older build has it unmarked):
    // compared without the mark, so that the mark alone is no change.
    let mark = RuleSet.patternMark
    func unmarked(_ digest: String) -> Substring { digest.hasPrefix(mark) ? digest.dropFirst(mark.count) : digest[...] }
    // Rules and patterns share one namespace of ids; each is counted as what it is now, or
    // was when it went.
    func counts(patterns: Bool) -> String {
      let isWanted = { (digest: String) in digest.hasPrefix(mark) == patterns }
      let now = new.filter { isWanted($0.value) }
      let added = now.keys.filter { previous[$0] == nil }.count
      let removed = previous.filter { new[$0.key] == nil && isWanted($0.value) }.count
      let changed = now.keys.filter { id in previous[id].map { unmarked($0) != unmarked(now[id]!) } ?? false }.count
      return "\(added) added, \(removed) removed, \(changed) changed"
    }
    // The rules' counts first, as RULES.md has them; the patterns' after, when the set has
    // some or had some that went.
    message += "; " + counts(patterns: false)
    if !set.patterns.isEmpty || previous.contains(where: { new[$0.key] == nil && $0.value.hasPrefix(mark) }) {
      message += "; patterns: " + counts(patterns: true)
    }
    // Its warnings, in the log analysts read, not only in vigild's own (audit 53: a list's
    // file removed, its name became text in another file's rule, and only stderr said so).
    if let first = set.warnings.first {
      let count = set.warnings.count
      message += "; \(count) warning\(count == 1 ? "" : "s"): \(first.description)"
      if count > 1 { message += " (and \(count - 1) more: vigil rules lint)" }
    }
    return AlertRecord(
      time: time, rule: "vigil.ruleset_loaded", priority: .info, reportID: nil, occurredAt: nil, message: message,
      basis: [], tags: ["vigil"], ruleset: set.revision)
  }

  private func now() -> String { UTCTime.format(millisecondsSinceEpoch: WallClock.nowMilliseconds()) }

  // MARK: Status and rules

  // MARK: What the console reads

  /// What `status` answers, as its JSON object (with its newline).
  public func statusJSON() -> String { status() }
  /// The active rule set and when it was loaded.
  public var activeRuleSet: (set: RuleSet, loadedAt: String) {
    rules.withLockedValue { ($0.set, $0.loadedAt) }
  }
  /// The last loads and reloads, oldest first.
  public var reloads: [ReloadOutcome] { reloadHistory.withLockedValue { $0 } }
  /// The daemon's metrics; the gauges of state are set from `status` first.
  public var metrics: DaemonMetrics { counters.metrics }
  public var nodeName: String { configuration.node }
  /// The alert log's files that exist, oldest first.
  var alertLogFilesOldestFirst: [String] {
    alertLogFiles.reversed().filter { FileManager.default.fileExists(atPath: $0) }
  }

  /// The alert log's files that may be kept, newest first: the log, and every file rotated
  /// from it there is (`alerts.keep` of them by vigild's rotation, more by logrotate's).
  public var alertLogFiles: [String] {
    [configuration.alerts.path] + RotatedFiles.numberedNewestFirst(beside: configuration.alerts.path)
  }

  private func status() -> String {
    let active = rules.withLockedValue { $0 }
    let last = lastReload.withLockedValue { $0 }
    let counts = counters.snapshot
    let alerts = Priority.allCases.map { "\"\($0.rawValue)\":\(counts.alerts[$0.rank])" }.joined(separator: ",")
    let uptime = (Date().timeIntervalSince(startedAt) * 1000).rounded() / 1000
    let alertLog = URL(fileURLWithPath: writer.alertLogPath).standardizedFileURL.path
    return
      "{\"ok\":true,\"version\":\"\(Self.version)\",\"node\":\(JSONText.string(configuration.node)),\"uptime_s\":\(uptime),"
      + "\"ruleset\":{\"revision\":\"\(active.set.revision)\",\"rules\":\(active.set.enabledRuleCount),"
      + "\"loaded_at\":\"\(active.loadedAt)\"},"
      + "\"last_reload\":{\"ok\":\(last.ok),\"at\":\"\(last.at)\",\"errors\":[\(last.errors.map(Self.errorJSON).joined(separator: ","))],"
      + "\"warnings\":[\(last.warnings.map(Self.errorJSON).joined(separator: ","))]},"
      + "\"counters\":{\"accepted\":\(counts.accepted),\"refused\":\(counts.refused),\"duplicates\":\(counts.duplicates),"
      + "\"checked\":\(counts.checked),\"alerts\":{\(alerts)}},"
      + "\"storage\":{\"ok\":\(!counts.storageFailing),\"failures\":\(counts.storageFailures),\"last_error\":"
      + (counts.lastStorageError.map { "{\"at\":\"\($0.at)\",\"message\":\(JSONText.string($0.message))}" } ?? "null") + "},"
      + "\"connections\":\(connections.withLockedValue { $0 }),\"subscribers\":\(subscriptions.count),\"alert_log\":\(JSONText.string(alertLog)),"
      + "\"sinks\":[\(sinks.map(\.statusJSON).joined(separator: ","))],"
      + "\"sources\":[\(sources.map(\.statusJSON).joined(separator: ","))],\"console\":\(console.statusJSON),"
      + "\"patterns\":\(writer.patternStatus.withLockedValue { $0 }.json)}\n"
  }

  private func rulesList() -> String {
    let listed = ruleSet.rules.map { rule in
      "{\"id\":\(JSONText.string(rule.id)),\"priority\":\"\(rule.priority.rawValue)\","
        + "\"tags\":[\(rule.tags.map(JSONText.string).joined(separator: ","))],"
        + "\"basis\":[\(rule.basis.map(JSONText.string).joined(separator: ","))],\"enabled\":\(rule.enabled),"
        + "\"file\":\(JSONText.string(rule.position.file)),\"line\":\(rule.position.line)}"
    }
    // Patterns (docs/patterns.md) after the rules, as a member of their own: a client of
    // `rules` reads rules only from `rules`.
    let patterns = ruleSet.patterns.map { pattern in
      "{\"id\":\(JSONText.string(pattern.id)),\"priority\":\"\(pattern.priority.rawValue)\","
        + "\"tags\":[\(pattern.tags.map(JSONText.string).joined(separator: ","))],"
        + "\"basis\":[\(pattern.basis.map(JSONText.string).joined(separator: ","))],\"enabled\":\(pattern.enabled),"
        + "\"file\":\(JSONText.string(pattern.position.file)),\"line\":\(pattern.position.line),"
        + "\"form\":\"\(pattern.form.rawValue)\",\"threshold\":\(pattern.threshold),\"window\":\(JSONText.string(pattern.windowText)),"
        + "\"group_by\":[\(pattern.groupNames.map(JSONText.string).joined(separator: ","))]}"
    }
    return "{\"ok\":true,\"rules\":[\(listed.joined(separator: ","))],\"patterns\":[\(patterns.joined(separator: ","))]}\n"
  }

  static func errorJSON(_ error: RuleError) -> String {
    "{\"file\":\(JSONText.string(error.position.file)),\"line\":\(error.position.line),"
      + "\"column\":\(error.position.column),\"message\":\(JSONText.string(error.message))}"
  }
}


