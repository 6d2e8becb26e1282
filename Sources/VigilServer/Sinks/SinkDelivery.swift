import Foundation
import NIOConcurrencyHelpers
import VigilCore

/// Delivers the alert log to one sink, on a thread of its own: reads the records after the
/// sink's cursor from the alert log itself (never from memory), hands them over in batches
/// in `seq` order, and moves the cursor — kept durably in `<state_dir>/sinks/<name>.cursor`
/// — only once a batch is delivered (at-least-once). A failed batch is retried with
/// back-off; records no kept file holds any more are said loudly, never skipped silently.
/// Ingestion never waits for a sink: the writer only tells it how far the log goes. A
/// sink that takes reports has a second cursor, over the journal
/// (`<name>.reports.cursor`), and gets each batch of reports before the alerts they raised.
/// Records the destination refuses for good are parked (`<name>.parked`) and delivery goes
/// on; a conflict among them also raises a `vigil.sink_conflict` record.
public final class SinkDelivery: @unchecked Sendable {
  public let name: String
  private let destination: any AlertDestination
  private let takesVigilRecords: Bool
  private let filter: SinkOptions
  private let parked: ParkedRecords
  /// `<name>.resend`: what `vigil sinks resend` asked for and the sink has not done yet, so
  /// that a stop in between does not forget it.
  private let resendRequest: ResendRequest
  /// Orders the writes of `resendRequest`.
  private let resendFileLock = NSLock()
  /// Writes a `vigil.sink_conflict` record (its message); set once the daemon runs.
  private let raise = NIOLockedValueBox<(@Sendable (String) -> Void)?>(nil)
  private let cursorPath: String
  private let log: DaemonEventLog
  private let state: NIOLockedValueBox<State>
  private let wake = NSCondition()
  private let reader: NIOLockedValueBox<AlertLogReader>
  private let reportCursorPath: String
  /// Over the journal, for a sink that takes reports.
  private let journalReader: NIOLockedValueBox<JournalReader>?
  /// The journal the reports come from, and how many of its rotated files are kept.
  private let journalPath: String?
  private let journalKeep: Int
  /// The most records (or journal lines) a batch holds.
  static let batchLimit = 500
  /// Full batches in a row that must go through before a shrunk batch doubles again.
  static let successesBeforeGrowing = 4
  static let longestBackoff = 30.0

  struct State {
    var cursor: UInt64 {
      didSet { if cursor != oldValue { movedSinceStart = true } }
    }
    /// Whether the cursor has moved since the start (a sink that has not delivered yet
    /// holds nothing back: vigild's start is not held up by it).
    var movedSinceStart = false
    /// The last `seq` the writer has made durable.
    var logged: UInt64
    var delivered = 0
    var failures = 0
    var lastError: String?
    /// Failures since the sink last delivered: an outage, logged at its first failure.
    var failuresSinceDelivering = 0
    /// Since when the batch being delivered has been with the sink.
    var deliveringSince: Date?
    /// Records lost to it because no kept file held them when it came to them.
    var missed: [AlertLogReader.Gap] = []
    var stopping = false
    /// How many records the next batch may hold: halved by each failed delivery (a slow
    /// link on which 500 records cannot go within a sink's timeout would otherwise fail the
    /// same batch for ever), doubled again after `successesBeforeGrowing` full batches in
    /// a row went through, up to `batchLimit`.
    var batchSize = SinkDelivery.batchLimit
    var fullBatchesSinceResize = 0
    /// Whether its thread runs.
    var running = false
    /// A new sink (no cursor yet): it starts at the oldest record kept, with nothing missed.
    var fresh = false
    /// How far the writer has made the journal durable.
    var journalled: JournalMark
    var reportsDelivered = 0
    var reportPosition: JournalReader.Position?
    /// Journal files (by inode) that went before the sink had read them to their end.
    var reportFilesLost: [UInt64] = []
    var parked = 0
    var conflicts = 0
    var lastConflict: String?
    /// What `vigil sinks resend` asked for: every parked record (nil inside) or these seqs.
    var resend: Set<UInt64>??
    /// How many times it was asked: a request that comes while a resend is under way is
    /// not taken as done by it.
    var resendAsked = 0
    /// For a sink that takes reports: how far the alert log went when the journal went to
    /// each mark (the writer tells both at once), oldest first, until the reports reach it;
    /// and the last alert whose reports have all been delivered. Alerts go no further, so a
    /// report is stored before the alerts it raised, in a catch-up too.
    var awaitingReports: [(journal: JournalMark, seq: UInt64)] = []
    var alertsCovered: UInt64 = 0
  }

  /// - Parameters:
  ///   - logged: the last `seq` in the alert log now.
  ///   - journal: the journal's path, and how far it goes now.
  public init(
    name: String, destination: any AlertDestination, takesVigilRecords: Bool, filter: SinkOptions = .everything,
    stateDirectory: String, alertLog: String, keep: Int, logged: UInt64, journal: (path: String, mark: JournalMark),
    log: @escaping DaemonEventLog
  ) throws(PluginSettingsError) {
    self.name = name
    self.destination = destination
    self.takesVigilRecords = takesVigilRecords
    self.filter = filter
    self.log = log
    let directory = stateDirectory + "/sinks"
    do {
      try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    } catch {
      throw PluginSettingsError("cannot create \(directory) for the sinks' cursors: \(error.localizedDescription)")
    }
    cursorPath = directory + "/\(name).cursor"
    ReplacedFile.removeLeftovers(
      beside: ["cursor", "reports.cursor", "parked", "resend"].map { directory + "/\(name).\($0)" })
    parked = ParkedRecords(path: directory + "/\(name).parked")
    let parkedCount = parked.load().count
    resendRequest = ResendRequest(path: directory + "/\(name).resend")
    // No file: a new sink. A file that is not a seq (damaged by hand or by the disk) is
    // refused as the report cursor is: taken for a new sink, it would send every kept
    // record again, unsaid.
    var saved: UInt64?
    if let bytes = try Self.cursorFile(cursorPath, what: "every kept record") {
      let text = String(decoding: bytes, as: UTF8.self)
      guard let seq = UInt64(text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
        throw PluginSettingsError(
          "\(cursorPath) is not a seq (a decimal number and a newline): \(Self.shown(text)); remove it to deliver "
            + "every kept record again")
      }
      saved = seq
    }
    // A cursor past the log: records it was given were cut back (a failed commit, or a
    // crash with durability none) and their seqs will be used again.
    if let saved, saved > logged {
      log("sink \(name): its cursor \(saved) is past the alert log's last record \(logged); delivering from \(logged + 1)")
    }
    reportCursorPath = directory + "/\(name).reports.cursor"
    var reportPosition: JournalReader.Position?
    if destination.takesReports {
      // A new sink starts at the oldest journal file kept.
      let text = try Self.cursorFile(reportCursorPath, what: "every report").map { String(decoding: $0, as: UTF8.self) } ?? "0 0"
      guard let position = JournalReader.Position(text: text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
        throw PluginSettingsError(
          "\(reportCursorPath) is not `inode offset head`: \(Self.shown(text)); remove it to deliver every report again")
      }
      reportPosition = position
      journalReader = NIOLockedValueBox(JournalReader(path: journal.path, keep: keep, position: position))
      journalPath = journal.path
      journalKeep = keep
    } else {
      journalReader = nil
      journalPath = nil
      journalKeep = keep
    }
    var initial = State(
      cursor: min(saved ?? 0, logged), logged: logged, fresh: saved == nil, journalled: journal.mark,
      reportPosition: reportPosition, parked: parkedCount)
    initial.alertsCovered = initial.cursor
    // A resend asked for before a stop and not done yet: it is done now.
    initial.resend = resendRequest.load()
    if destination.takesReports { initial.awaitingReports = [(journal.mark, logged)] }
    state = NIOLockedValueBox(initial)
    reader = NIOLockedValueBox(AlertLogReader(path: alertLog, keep: keep))
  }

  /// Gives the sink the means to write a `vigil.sink_conflict` record (its message) to the
  /// alert log; before it is given, a conflict is only logged and counted.
  public func raiseConflicts(with raise: @escaping @Sendable (String) -> Void) {
    self.raise.withLockedValue { $0 = raise }
  }

  /// Starts delivering, on the sink's own thread.
  public func start() {
    state.withLockedValue { $0.running = true }
    let thread = Thread { [self] in
      run()
      wake.lock()
      state.withLockedValue { $0.running = false }
      wake.broadcast()
      wake.unlock()
    }
    thread.name = "vigild sink \(name)"
    thread.start()
  }

  /// The writer made records up to `seq` durable, and the journal up to `journal`.
  public func logged(upTo seq: UInt64, journal: JournalMark) {
    wake.lock()
    let news = state.withLockedValue { state in
      let news = seq > state.logged || (journalReader != nil && journal != state.journalled)
      state.logged = max(state.logged, seq)
      state.journalled = journal
      if journalReader != nil, news {
        state.awaitingReports.append((journal, state.logged))
        // Bounded: dropping the oldest marks only holds their alerts until a later one is reached.
        if state.awaitingReports.count > Self.marksKept { state.awaitingReports.removeFirst() }
      }
      return news
    }
    if news { wake.signal() }
    wake.unlock()
  }

  /// How long `stop` waits for the delivery in hand.
  static let stopSeconds = 5.0

  /// Tells the destination to give up what it has under way, and waits (up to
  /// `stopSeconds`) for the sink's thread to finish the batch in hand and save its cursor;
  /// whether it did. One that does not is left to the process's exit: its batch comes
  /// again at the next start.
  @discardableResult
  public func stop() -> Bool {
    wake.lock()
    state.withLockedValue { $0.stopping = true }
    wake.broadcast()
    wake.unlock()
    destination.stop()
    let deadline = Date().addingTimeInterval(Self.stopSeconds)
    wake.lock()
    defer { wake.unlock() }
    while state.withLockedValue({ $0.running }) {
      guard wake.wait(until: deadline) else { return !state.withLockedValue { $0.running } }
    }
    return true
  }

  private func run() {
    var backoff = 0.1
    while !state.withLockedValue({ $0.stopping }) {
      let (bound, journalled) = state.withLockedValue { ($0.logged, $0.journalled) }
      do {
        // A batch of reports, then a batch of alerts, as far as the reports delivered
        // cover (`alertsWhoseReportsWent`): a report reaches the sink before its alerts.
        let resent = try resendParked()
        let reportsMoved = try deliverReports(upTo: journalled)
        let alertsMoved = try deliverAlerts(upTo: journalReader == nil ? bound : alertsWhoseReportsWent())
        backoff = 0.1
        // Delivering again only once a round went through whole: reports delivered while
        // alerts still fail are no recovery. (A round with nothing to deliver has nothing
        // failing either: what failed before would have been tried again in it.)
        noteSuccess()
        if !resent && !reportsMoved && !alertsMoved { waitForRecords(after: bound, journal: journalled) }
      } catch {
        // A delivery cut short because vigild is stopping (a request given up, an exec
        // command killed) is no failure to retry: the batch comes again at the next start.
        if state.withLockedValue({ $0.stopping }) {
          log("sink \(name): the delivery in hand was given up as vigild stops (\(error)); it is made again at the next start")
          break
        }
        // Part of a batch went: the destination is taking records, and the wait is shortened.
        var cause = error
        // (Halved, not reset: a destination that takes one request and fails the next is not
        // asked again every 0.1 s.)
        if let partly = error as? PartlyDelivered {
          // (Unless what failed was the cursor itself: then the same records go again and
          // again, a chat flooded with one alert 8 times a second while the disk is full.)
          if !(partly.cause is CursorNotKept) { backoff = max(0.1, backoff / 4) }
          cause = partly.cause
        } else if !(cause is RetryLater) && !(cause is CursorNotKept) {
          // Nothing of it went, and the destination named no wait: perhaps the batch was
          // too much for it (a timeout on a slow link). The next is half as big.
          shrinkBatch()
        }
        if let wait = cause as? RetryLater {
          let honoured = min(wait.seconds, Self.longestRetryAfter)
          // `status` says the wait Vigil keeps, not only the receiver's: an hour asked for
          // is 300 s here.
          note(failure: wait.seconds > honoured ? "\(wait); waiting \(Int(honoured)) s, the longest honoured" : "\(wait)")
          pause(max(backoff, honoured))
        } else {
          note(failure: "\(cause)")
          pause(backoff)
        }
        backoff = min(backoff * 2, Self.longestBackoff)
      }
    }
  }

  /// Halves the next batches, down to one record. Not for a destination that takes the
  /// records in parts of its own (the webhook's request): its parts are no bigger for a
  /// bigger read, and a smaller read would change a failed request's records, which must
  /// come again as they were, under the same key (a read of `batch` log records holds
  /// fewer than `batch` records a filter takes).
  private func shrinkBatch() {
    guard destination.recordsPerDelivery == nil else { return }
    state.withLockedValue { state in
      state.batchSize = max(1, state.batchSize / 2)
      state.fullBatchesSinceResize = 0
    }
  }

  /// How many records the next batch may hold.
  private func nextBatchSize() -> Int { state.withLockedValue { $0.batchSize } }

  /// A batch of `count` records went: a full one counts towards growing a shrunk size again.
  private func noteBatchWent(count: Int) {
    state.withLockedValue { state in
      guard state.batchSize < Self.batchLimit, count >= state.batchSize else { return }
      state.fullBatchesSinceResize += 1
      if state.fullBatchesSinceResize >= Self.successesBeforeGrowing {
        state.batchSize = min(Self.batchLimit, state.batchSize * 2)
        state.fullBatchesSinceResize = 0
      }
    }
  }

  /// The longest `Retry-After` honoured: a destination asking for more is asked again then.
  static let longestRetryAfter = 300.0

  /// A round of deliveries went through: the last error is cleared, and a recovery said in
  /// the log.
  private func noteSuccess() {
    let recovered = state.withLockedValue { state in
      defer {
        state.lastError = nil
        state.failuresSinceDelivering = 0
      }
      return state.failuresSinceDelivering > 0 ? state.failures : nil
    }
    if let recovered { log("sink \(name): delivering again (\(recovered) failed deliveries so far)") }
  }

  /// Logs the first failure of each outage, every hundredth of a long one, and any whose
  /// reason is not the one before.
  private func note(failure reason: String) {
    let (failures, logged) = state.withLockedValue { state in
      state.failures += 1
      state.failuresSinceDelivering += 1
      state.deliveringSince = nil
      defer { state.lastError = reason }
      let logged =
        state.failuresSinceDelivering == 1 || state.failuresSinceDelivering.isMultiple(of: 100)
        || state.lastError != reason
      return (state.failures, logged)
    }
    if logged {
      log(.warning("sink \(name): delivery failed (\(failures) so far), retrying: \(reason)"))
    }
  }

  /// Hands `records` to the destination; those it refuses for good are parked. Throws what
  /// must have the batch retried.
  /// How many of them the destination took.
  private func deliver(_ records: [RecordedAlert]) throws -> Int {
    do {
      try destination.deliver(records)
      return records.count
    } catch let refused as RefusedRecords {
      let parking = entries(for: refused, from: records)
      try park(parking)
      return records.count - parking.count
    }
  }

  /// The parked entries for what `refused` names among `records`.
  private func entries(for refused: RefusedRecords, from records: [RecordedAlert]) -> [ParkedRecords.Entry] {
    let lines = Dictionary(records.map { ($0.seq, $0.line) }, uniquingKeysWith: { first, _ in first })
    let now = UTCTime.format(millisecondsSinceEpoch: WallClock.nowMilliseconds())
    return refused.refusals.compactMap { refusal in
      lines[refusal.seq].map {
        ParkedRecords.Entry(seq: refusal.seq, parkedAt: now, conflict: refusal.conflict, reason: refusal.reason, record: $0)
      }
    }
  }

  private func park(_ entries: [ParkedRecords.Entry]) throws {
    guard !entries.isEmpty else { return }
    // A record parked already (the same seq and line), refused again as it was delivered
    // again (its cursor removed to rebuild the destination), stays one entry, and raises
    // no second conflict record.
    let already = Set(parked.load().map { "\($0.seq) \($0.record)" })
    let entries = entries.filter { entry in
      guard already.contains("\(entry.seq) \(entry.record)") else { return true }
      log("sink \(name): seq \(entry.seq) refused again and parked already: \(entry.reason)")
      return false
    }
    guard !entries.isEmpty else { return }
    try parked.append(entries)
    state.withLockedValue { $0.parked += entries.count }
    for entry in entries {
      if entry.conflict {
        let message = "sink \(name): seq \(entry.seq) conflicts with what the destination holds: \(entry.reason)"
        log(.error("ERROR " + message + " — one of the two copies was rewritten; the record is parked (vigil sinks parked)"))
        state.withLockedValue {
          $0.conflicts += 1
          $0.lastConflict = message
        }
        // A conflict record that conflicts in turn (a node whose log was wiped, replaying
        // old seqs) is parked and logged, but raises no third record.
        if !entry.record.contains(#""rule":"vigil.sink_conflict""#) { raise.withLockedValue { $0 }?(message) }
      } else {
        log(
          .warning(
            "sink \(name): seq \(entry.seq) refused for good and parked (vigil sinks parked, vigil sinks resend): "
              + entry.reason))
      }
    }
  }

  /// A report the destination holds with other content: an error in the log, counted in
  /// `status`, and a `vigil.sink_conflict` record.
  private func noteConflict(report conflict: ConflictingReports.Conflict) {
    let message =
      "sink \(name): report \(conflict.reportID) conflicts with what the destination holds: \(conflict.reason)"
    log(.error("ERROR " + message + " — the stored report stands; one of the two was rewritten, or the id came again"))
    state.withLockedValue {
      $0.conflicts += 1
      $0.lastConflict = message
    }
    raise.withLockedValue { $0 }?(message)
  }

  /// Asks for parked records to be offered again: all of them (`seqs` nil) or these; how
  /// many are parked now. The sink's thread sends them at its next round.
  public func requestResend(_ seqs: [UInt64]?) -> Int {
    wake.lock()
    let (count, asked, generation) = state.withLockedValue { state in
      switch (state.resend, seqs) {
      case (.some(.some(let asked)), .some(let more)): state.resend = .some(asked.union(more))
      case (.none, .some(let more)): state.resend = .some(Set(more))
      default: state.resend = .some(nil)
      }
      state.resendAsked += 1
      return (state.parked, state.resend, state.resendAsked)
    }
    wake.signal()
    wake.unlock()
    // Kept on disk outside the locks every commit takes (a sync may be slow), the last
    // request's last: a stop before the sink's next round does not forget it.
    if let asked {
      resendFileLock.lock()
      defer { resendFileLock.unlock() }
      if state.withLockedValue({ $0.resendAsked == generation && $0.resend != nil }) {
        do { try resendRequest.save(asked) } catch {
          log(.warning("sink \(name): \(error); the resend asked for is done at this run's next round but would not outlive a stop"))
        }
      }
    }
    return count
  }

  /// The seqs parked now.
  public var parkedSeqs: Set<UInt64> { Set(parked.load().map(\.seq)) }

  /// The parked records, as lines of `<name>.parked`.
  public var parkedLines: [String] { parked.load().map(\.line) }

  /// Offers the parked records `vigil sinks resend` asked for again; whether there were any.
  private func resendParked() throws -> Bool {
    guard let (asked, askedTimes) = state.withLockedValue({ state in state.resend.map { ($0, state.resendAsked) } })
    else { return false }
    let all = parked.load()
    let isChosen = { (entry: ParkedRecords.Entry) in asked.map { $0.contains(entry.seq) } ?? true }
    // In seq order, as a delivery is made: the parked file is in the order records were
    // parked (one refused again goes to its end), and `PartlyDelivered` names a seq up to
    // which every record offered went.
    let chosen = all.filter(isChosen).sorted { $0.seq < $1.seq }
    var kept = all.filter { !isChosen($0) }
    if !chosen.isEmpty {
      let records = chosen.map { RecordedAlert(seq: $0.seq, line: $0.record) }
      var again: [ParkedRecords.Entry] = []
      do {
        try destination.deliver(records)
      } catch let refused as RefusedRecords {
        again = entries(for: refused, from: records)
      } catch let partly as PartlyDelivered {
        // Those up to `through` are done with; the rest stay parked, and the resend asked.
        let refusedAgain = entries(for: RefusedRecords(partly.refusals), from: records)
        let done = Set(chosen.filter { $0.seq <= partly.through }.map(\.seq))
        try parked.replace(with: all.filter { !done.contains($0.seq) } + refusedAgain)
        let went = done.count - refusedAgain.count
        log("sink \(name): parked records sent again: \(went) taken, \(refusedAgain.count) refused again, the rest to follow")
        logRefusedAgain(refusedAgain)
        state.withLockedValue {
          $0.delivered += went
          $0.parked = all.count - done.count + refusedAgain.count
          // Asked still: the chosen records not answered yet (not those refused again now),
          // unless more was asked meanwhile.
          if $0.resendAsked == askedTimes { $0.resend = .some(Set(chosen.map(\.seq)).subtracting(done)) }
        }
        throw partly
      }
      kept += again
      log("sink \(name): parked records sent again: \(chosen.count - again.count) taken, \(again.count) refused again")
      logRefusedAgain(again)
      state.withLockedValue { $0.delivered += chosen.count - again.count }
    }
    try parked.replace(with: kept)
    let done = state.withLockedValue {
      $0.parked = kept.count
      // Done, unless more was asked meanwhile: that is done at the next round.
      guard $0.resendAsked == askedTimes else { return false }
      $0.resend = nil
      return true
    }
    if done {
      resendFileLock.lock()
      if state.withLockedValue({ $0.resendAsked == askedTimes }) { resendRequest.remove() }
      resendFileLock.unlock()
    }
    return !chosen.isEmpty
  }

  /// Says why each record a resend offered was refused again (the reason may not be the one
  /// it was parked for): the first `refusalsLogged` one by one, the rest counted, since
  /// `vigil sinks parked` lists every one with its reason.
  private func logRefusedAgain(_ entries: [ParkedRecords.Entry]) {
    for entry in entries.prefix(Self.refusalsLogged) {
      log(
        .warning(
          "sink \(name): seq \(entry.seq) refused again and kept parked\(entry.conflict ? " (a conflict)" : ""): \(entry.reason)"))
    }
    if entries.count > Self.refusalsLogged {
      log(.warning("sink \(name): \(entries.count - Self.refusalsLogged) more refused again (vigil sinks parked lists each with its reason)"))
    }
  }

  static let refusalsLogged = 10

  /// Delivers the next batch of alert records up to `bound`; whether there was one.
  private func deliverAlerts(upTo bound: UInt64) throws -> Bool {
    let cursor = state.withLockedValue { $0.cursor }
    let start = reader.withLockedValue { $0.position }
    let limit = nextBatchSize()
    let (records, gap) = try reader.withLockedValue { try $0.read(after: cursor, upTo: bound, limit: limit) }
    let fresh = state.withLockedValue { state in
      defer { if !records.isEmpty { state.fresh = false } }
      return state.fresh
    }
    if let gap, !fresh, state.withLockedValue({ !$0.missed.contains { $0.from <= gap.from && gap.to <= $0.to } }) {
      log(
        .warning(
          "sink \(name): alerts \(gap.from)–\(gap.to) are in no file the alert log keeps any more; "
            + "they cannot be delivered to it (see docs/plugins.md, \"Sinks\")"))
      state.withLockedValue { $0.missed = AlertLogReader.Gap.merging(gap, into: $0.missed) }
    }
    guard let last = records.last else { return false }
    let wanted = records.filter {
      (takesVigilRecords || !$0.line.contains(#","rule":"vigil."#)) && filter.selects($0.line)
    }
    // In parts of the size the destination asks for, the cursor moving past each: the last
    // part (or none, when nothing was wanted) takes it to the batch's end.
    let size = max(1, destination.recordsPerDelivery ?? max(1, wanted.count))
    let parts = stride(from: 0, to: wanted.count, by: size).map { wanted[$0..<min($0 + size, wanted.count)] }
    var part: ArraySlice<RecordedAlert> = []
    var partsWent = 0
    do {
      for next in parts {
        part = next
        state.withLockedValue { $0.deliveringSince = Date() }
        let taken = try deliver(Array(next))
        partsWent += 1
        let through = partsWent == parts.count ? last.seq : next.last!.seq
        try saveCursor("\(through)", to: cursorPath)
        state.withLockedValue {
          $0.cursor = through
          $0.delivered += taken
          $0.deliveringSince = nil
        }
        if partsWent < parts.count, state.withLockedValue({ $0.stopping }) {
          reader.withLockedValue { $0.position = start }
          return true
        }
      }
      if parts.isEmpty {
        try saveCursor("\(last.seq)", to: cursorPath)
        state.withLockedValue { $0.cursor = last.seq }
      }
    } catch let partly as PartlyDelivered {
      // The records up to `through` went (those refused among them are parked): the
      // cursor moves there, and the rest comes again next time.
      reader.withLockedValue { $0.position = start }
      let parking = entries(for: RefusedRecords(partly.refusals), from: Array(part))
      try park(parking)
      try saveCursor("\(partly.through)", to: cursorPath)
      let went = part.filter { $0.seq <= partly.through }.count - parking.count
      state.withLockedValue {
        $0.cursor = partly.through
        $0.delivered += went
        $0.deliveringSince = nil
      }
      throw partly
    } catch {
      // The same records again next time, from the part that failed.
      reader.withLockedValue { $0.position = start }
      // Parts before it went: the destination is taking records.
      if partsWent > 0 { throw PartlyDelivered(through: state.withLockedValue { $0.cursor }, refusals: [], cause: error) }
      throw error
    }
    noteBatchWent(count: records.count)
    return true
  }

  static let marksKept = 4096

  /// The last alert whose reports have all been delivered: the marks the journal reader
  /// has passed — in the writer's file, up to its offset; a mark in a file older than one
  /// a later mark names, once the reader is in that later file.
  private func alertsWhoseReportsWent() -> UInt64 {
    guard let position = journalReader?.withLockedValue({ $0.position }) else { return 0 }
    return state.withLockedValue { state in
      let marks = state.awaitingReports
      var passed = marks.lastIndex { $0.journal.inode == position.inode && Int64(position.offset) >= $0.journal.size }
      if let inReadersFile = marks.firstIndex(where: { $0.journal.inode == position.inode }), inReadersFile > 0 {
        passed = max(passed ?? -1, inReadersFile - 1)
      }
      if let passed, passed >= 0 {
        state.alertsCovered = max(state.alertsCovered, marks[passed].seq)
        state.awaitingReports.removeFirst(passed + 1)
      }
      return state.alertsCovered
    }
  }

  /// Delivers the next batch of journalled reports up to `durable`, for a sink that takes
  /// them; whether there was one.
  private func deliverReports(upTo durable: JournalMark) throws -> Bool {
    guard let journalReader else { return false }
    let start = journalReader.withLockedValue { $0.position }
    let limit = nextBatchSize()
    let (lines, lost) = try journalReader.withLockedValue { try $0.read(upTo: durable, limit: limit) }
    if let lost, state.withLockedValue({ !$0.reportFilesLost.contains(lost) }) {
      log(
        .warning(
          "sink \(name): the journal file it was reading (inode \(lost)) is no longer kept; what it held past "
            + "offset \(start.offset) could not be delivered; going on from the oldest journal file kept "
            + "(see docs/plugins.md, \"Reports for sinks\")"))
      state.withLockedValue { $0.reportFilesLost.append(lost) }
    }
    let end = journalReader.withLockedValue { $0.position }
    guard !lines.isEmpty else {
      // Nothing new, but a lost file's restart point is kept.
      if end != start { try? saveCursor(end.text, to: reportCursorPath) }
      return false
    }
    do {
      state.withLockedValue { $0.deliveringSince = Date() }
      do {
        try destination.deliver(reports: lines.map(JournalledReport.init(line:)))
      } catch let conflicting as ConflictingReports {
        // The batch went; what the destination holds under these ids stands.
        for conflict in conflicting.conflicts { noteConflict(report: conflict) }
      }
      try saveCursor(end.text, to: reportCursorPath)
    } catch {
      journalReader.withLockedValue { $0.position = start }
      throw error
    }
    state.withLockedValue {
      $0.reportsDelivered += lines.count
      $0.reportPosition = end
      $0.deliveringSince = nil
    }
    noteBatchWent(count: lines.count)
    return true
  }

  /// Waits until the writer tells of records past `bound` or a journal past `journal`
  /// (what the last reads were allowed to see), or a second — a poll, for what a read could
  /// not reach yet (an external rotation under way) without spinning.
  private func waitForRecords(after bound: UInt64, journal: JournalMark) {
    wake.lock()
    if !state.withLockedValue({ $0.stopping || $0.logged > bound || $0.journalled != journal }) {
      _ = wake.wait(until: Date().addingTimeInterval(1))
    }
    wake.unlock()
  }

  /// Waits out a back-off: the whole of it, however often the writer signals new records
  /// meanwhile (bench/run-cluster saw a hundred retries a second against a stopped
  /// database while one node ingested), unless vigild starts stopping.
  private func pause(_ seconds: Double) {
    let deadline = Date().addingTimeInterval(seconds)
    wake.lock()
    while !state.withLockedValue({ $0.stopping }), Date() < deadline {
      _ = wake.wait(until: deadline)
    }
    wake.unlock()
  }

  /// Written to a new file, synced, and renamed over the old: a crash leaves one or the other.
  /// A cursor file's bytes; nil when there is none (a new sink). One that is there but
  /// cannot be read (another user's, a folder in its place) stops the start, as a damaged
  /// one does: taken for a new sink's, it would send `what` again.
  static func cursorFile(_ path: String, what: String) throws(PluginSettingsError) -> [UInt8]? {
    var status = stat()
    guard lstat(path, &status) == 0 || errno != ENOENT else { return nil }
    let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
    guard descriptor >= 0 else {
      throw PluginSettingsError("\(path) cannot be read: \(String(cString: strerror(errno))); make it vigild's, or remove it to deliver \(what) again")
    }
    defer { close(descriptor) }
    guard fstat(descriptor, &status) == 0, status.st_mode & S_IFMT == S_IFREG else {
      throw PluginSettingsError("\(path) is not a file; remove it to deliver \(what) again")
    }
    do {
      return [UInt8](try FileHandle(fileDescriptor: descriptor, closeOnDealloc: false).readToEnd() ?? Data())
    } catch {
      throw PluginSettingsError("\(path) cannot be read: \(error.localizedDescription); remove it to deliver \(what) again")
    }
  }

  /// A damaged cursor's text as one line of the log shows it: its first 40 characters,
  /// quoted, with its line breaks and other controls escaped.
  static func shown(_ text: String) -> String {
    let cut = text.count > 40 ? String(text.prefix(40)) + "…" : text
    return JSONText.string(cut)
  }

  private func saveCursor(_ cursor: String, to cursorPath: String) throws {
    do {
      try ReplacedFile.replace(cursorPath, with: "\(cursor)\n", keeping: "the cursor")
    } catch {
      throw CursorNotKept(cause: error)
    }
  }

  /// A cursor that could not be written (a full disk, a folder in its place): Vigil's own
  /// fault, not the destination's. The batch comes again, after the back-off as it grows —
  /// not sooner because its records went (they go again, the cursor not moved), and not
  /// smaller, since its size is not the cause.
  struct CursorNotKept: Error, CustomStringConvertible {
    let cause: any Error
    var description: String { "\(cause)" }
  }

  /// `max_lag`, if set: the lag at which the writer holds new reports back.
  public var maxLag: UInt64? { filter.maxLag }

  /// How long a batch may be with the destination before the sink counts as stuck rather
  /// than slow, and no longer holds reports back.
  static let stuckAfterSeconds = 10.0

  /// Why a sink `max_lag` or more behind holds nothing back, for `status`.
  public enum NotHolding: String, Sendable {
    case failing = "its deliveries fail"
    case stuck = "its batch has been with it over 10 s"
    case notYetDelivered = "it has not delivered since vigild started"
    case stopping = "vigild is stopping"
  }

  /// Whether the writer holds new reports back for this sink (`holding`), or why not
  /// although it is `max_lag` or more behind; (false, nil) when it is under `max_lag` or
  /// has none. It holds while that far behind and delivering: its last round went
  /// through, it has delivered since the start, and the batch in hand (if any) has been
  /// with the destination under `stuckAfterSeconds`. A sink that fails or hangs (its
  /// database down) holds nothing: it lags, as a sink without `max_lag` does, and an
  /// outage of the store never stops ingestion (docs/plugins.md, "How far a sink may fall
  /// behind"). A sink idle between batches, caught up, holds as soon as a burst puts it
  /// that far behind.
  public var holdState: (holding: Bool, notHolding: NotHolding?) {
    guard let maxLag = filter.maxLag else { return (false, nil) }
    return state.withLockedValue { state in
      guard state.logged >= state.cursor + maxLag else { return (false, nil) }
      if state.stopping { return (false, .stopping) }
      if state.failuresSinceDelivering > 0 { return (false, .failing) }
      if !state.movedSinceStart { return (false, .notYetDelivered) }
      if let since = state.deliveringSince, Date().timeIntervalSince(since) >= Self.stuckAfterSeconds { return (false, .stuck) }
      return (true, nil)
    }
  }

  /// Whether the writer holds new reports back for this sink now (`holdState`).
  public var holdsReports: Bool { holdState.holding }

  /// The sink's line in `status`.
  public var statusJSON: String {
    // The report lag across journal files, found outside the state's lock (it reads the
    // files' sizes).
    let (position, journalled) = state.withLockedValue { ($0.reportPosition, $0.journalled) }
    let reportLag = position.flatMap { position -> Int? in
      guard let journalPath, position.inode != journalled.inode else { return nil }
      return JournalReader.lagBytes(path: journalPath, keep: journalKeep, from: position, upTo: journalled)
    }
    let (holding, notHolding) = holdState
    return state.withLockedValue { state in
      let missed = state.missed.map { "[\($0.from),\($0.to)]" }.joined(separator: ",")
      let since = state.deliveringSince.map { String(format: "%.1f", Date().timeIntervalSince($0)) } ?? "null"
      return "{\"name\":\(JSONText.string(name)),\"cursor\":\(state.cursor),"
        + "\"lag\":\(state.logged > state.cursor ? state.logged - state.cursor : 0),"
        + "\"max_lag\":\(filter.maxLag.map(String.init) ?? "null"),\"holding\":\(holding),"
        + "\"not_holding\":\(notHolding.map { JSONText.string($0.rawValue) } ?? "null"),\"delivered\":\(state.delivered),"
        + "\"failures\":\(state.failures),\"last_error\":\(state.lastError.map(JSONText.string) ?? "null"),"
        + "\"delivering_for_s\":\(since),\"batch\":\(state.batchSize),\"missed\":[\(missed)],\"parked\":\(state.parked),"
        + "\"conflicts\":\(state.conflicts),\"last_conflict\":\(state.lastConflict.map(JSONText.string) ?? "null"),"
        + "\"reports\":\(reportsJSON(state, lagAcrossFiles: reportLag))}"
    }
  }

  /// The report cursor's part of `status`: null for a sink that takes no reports.
  /// `lagAcrossFiles`: the bytes behind when the sink reads an older journal file than the
  /// writer's.
  private func reportsJSON(_ state: State, lagAcrossFiles: Int?) -> String {
    guard let position = state.reportPosition else { return "null" }
    let lost = state.reportFilesLost.map(String.init).joined(separator: ",")
    // Bytes of the journal the writer has made durable and the sink has not had: in the
    // same file, or through the kept files from the sink's to the writer's. A new sink
    // before any journal line: nothing behind.
    let lag =
      position.inode == state.journalled.inode ? "\(max(0, Int(state.journalled.size) - position.offset))"
      : position.inode == nil && state.journalled.size == 0 ? "0" : lagAcrossFiles.map(String.init) ?? "null"
    return "{\"delivered\":\(state.reportsDelivered),\"inode\":\(position.inode ?? 0),"
      + "\"offset\":\(position.offset),\"lag_bytes\":\(lag),\"lost_files\":[\(lost)]}"
  }
}
