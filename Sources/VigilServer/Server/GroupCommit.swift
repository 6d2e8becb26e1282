import NIOConcurrencyHelpers
import NIOCore
import VigilCore

/// A report ready to be recorded: checked already, its alerts waiting for their `seq`.
final class Submission: Sendable {
  let reportID: String
  /// The digest of its id, as the duplicate index keys it (taken on the connection's
  /// thread).
  let idDigest: Digest128
  /// The journal's copy of the report: its JSON as received.
  let reportJSON: ReportText
  /// Its alerts, without their `time`: the writer stamps them with the commit's clock.
  let alerts: [AlertRecord]
  let warnings: [String]
  let ruleset: String
  /// What the console's index keeps of the report (when it has alerts and the index is on).
  let facts: ReportFacts?
  /// The report, and what it is to the patterns of the set that checked it.
  let report: Report?
  let patternEvents: [PatternEvent]

  // A class: a submission goes from the connection to the writer and back in bursts and
  // batches, and a struct's copies retained and released its fifteen references each time
  // (some 600 instructions a report, Callgrind).
  init(
    reportID: String, idDigest: Digest128, reportJSON: ReportText, alerts: [AlertRecord], warnings: [String],
    ruleset: String, facts: ReportFacts? = nil, report: Report? = nil, patternEvents: [PatternEvent] = []
  ) {
    self.reportID = reportID
    self.idDigest = idDigest
    self.reportJSON = reportJSON
    self.alerts = alerts
    self.warnings = warnings
    self.ruleset = ruleset
    self.facts = facts
    self.report = report
    self.patternEvents = patternEvents
  }
}

/// The one writer of the journal and the alert log (docs/alerts.md, "Durability and recovery"). It collects
/// the submissions of all connections that are ready, writes their journal lines and
/// alert lines, syncs both files once (with `durability: batch`), and only then answers
/// them: a group commit. It runs on its own event loop, so `seq`, the chain and the
/// duplicate index need no locks, and a slow `fsync` never blocks a connection.
final class GroupCommit: @unchecked Sendable {
  // Everything below is touched only on `loop`.
  let loop: EventLoop
  private let journal: Journal
  private let alertLog: AlertLog
  @exclusivity(unchecked) private var index: DuplicateIndex
  private let syncs: Bool
  private let rotation: (bytes: Int, keep: Int)
  private let counters: Counters
  /// Who hears of each record once it is durable: subscribers, and the sinks' deliveries
  /// (only how far the log goes: they read the records from it).
  private let subscriptions: Subscriptions
  private let sinks: [SinkDelivery]
  /// The sinks with `max_lag`: while one of them is that far behind and delivering, the
  /// writer commits nothing new (`flush`), and the connections, their requests in flight
  /// at their share, stop reading.
  private let limitingSinks: [SinkDelivery]
  /// Set once vigild stops: what waits is committed, whatever the sinks' lag.
  @exclusivity(unchecked) private var holdingEnded = false
  /// A look at the sinks' lag is scheduled while commits are held.
  @exclusivity(unchecked) private var holdCheckScheduled = false
  /// The console's index, fed each committed record before subscribers hear of it.
  let consoleIndex: AlertIndex?
  /// What waits for the next commit: each hand-over's submissions and system records, and
  /// the promise of their response lines.
  private struct Pending {
    let submissions: [Submission]
    let records: [AlertRecord]
    let promise: EventLoopPromise<ResponseLines>
    /// A subscriber, registered where it stands among the commit's records: it gets those
    /// after it (`subscribe`).
    var subscriber: (any AlertListener)? = nil
  }
  // Touched only on `loop`, one access at a time: no runtime exclusivity checks.
  @exclusivity(unchecked) private var pending: [Pending] = []
  @exclusivity(unchecked) private var flushScheduled = false
  /// Vigil's own records (a rule set loaded or rejected, a sink's conflict) of a commit that
  /// could not be written: they go first in the next one, never dropped (they say which
  /// rules were in force for the alerts that follow).
  @exclusivity(unchecked) private var owedRecords: [AlertRecord] = []
  /// Whether the last commit failed: `status` says so until one succeeds.
  @exclusivity(unchecked) private var storageFailing = false
  /// A `reopen` failed: the next commit tries it again before it writes.
  @exclusivity(unchecked) private var reopenOwed = false
  /// Commits that could not be written since the last that was.
  @exclusivity(unchecked) private var failuresInARow = 0
  /// The daemon's log, for what a commit cannot say in its answers (`alerts.head` unwritable).
  private let warn: @Sendable (String) -> Void
  /// The reports the commit being made has accepted so far, by id (kept between commits
  /// for its storage).
  @exclusivity(unchecked) private var acceptedIDs = BatchIDTable()
  /// The patterns counted, and what `status` shows of them.
  @exclusivity(unchecked) private var patterns: PatternCounting
  private let horizonDays: Int
  private var rebuild = (reports: 0, seconds: 0.0)
  let patternStatus: NIOLockedValueBox<PatternCounting.Status>

  init(
    loop: EventLoop, journal: Journal, alertLog: AlertLog, index: DuplicateIndex, syncs: Bool,
    rotation: (bytes: Int, keep: Int), counters: Counters, subscriptions: Subscriptions = Subscriptions(),
    sinks: [SinkDelivery] = [], consoleIndex: AlertIndex? = nil, patterns: PatternCounting? = nil,
    horizonDays: Int = 90, rebuilt: (reports: Int, seconds: Double) = (0, 0),
    warn: @escaping @Sendable (String) -> Void = { _ in }
  ) {
    self.warn = warn
    self.consoleIndex = consoleIndex
    let counting = patterns ?? PatternCounting(set: RuleSet.empty, windows: PatternWindows())
    self.patterns = counting
    self.horizonDays = horizonDays
    self.rebuild = rebuilt
    patternStatus = NIOLockedValueBox(
      counting.status(rebuiltFrom: rebuilt.reports, rebuildSeconds: rebuilt.seconds, horizonDays: horizonDays))
    self.subscriptions = subscriptions
    self.sinks = sinks
    limitingSinks = sinks.filter { $0.maxLag != nil }
    self.loop = loop
    self.journal = journal
    self.alertLog = alertLog
    self.index = index
    self.syncs = syncs
    self.rotation = rotation
    self.counters = counters
  }

  /// Reopens both files (after an external rotation); the future fails with the reason.
  func reopen() -> EventLoopFuture<Void> {
    loop.submit {
      do {
        try self.reopenFiles()
        self.reopenOwed = false
        // A failed reopen mended, no commit failing meanwhile: storage is ok again now,
        // not only after the next commit (audit 56: "FAILING: 0 commits not written").
        if self.storageFailing, self.failuresInARow == 0 {
          self.storageFailing = false
          self.counters.storageWritten()
        }
      } catch {
        // The files may have been moved away, or removed with their folder: what is written
        // to them now would not be at their paths. Every commit tries the reopen again
        // first, and refuses what it would record while it fails (`storage`), so that
        // nothing is acknowledged that is not at `alerts.path` and in the journal.
        self.reopenOwed = true
        self.storageFailing = true
        // Failing from now on, but no commit was lost: `failures` counts commits, as the
        // log's "written again, after N that could not be" does.
        self.counters.storageFailed(
          "\(error)", at: UTCTime.format(millisecondsSinceEpoch: WallClock.nowMilliseconds()), commit: false)
        throw error
      }
    }
  }

  private func reopenFiles() throws {
    try alertLog.reopen()
    if let problem = alertLog.takeGroupNotKept() { warn(problem) }
    // A journal moved aside stays readable (Journal.reopen). One cut in place, or the
    // moved files let go, no longer hold the lines the index points to: it starts again.
    defer { if journal.takeLinesGone() { index = DuplicateIndex() } }
    try journal.reopen()
    // Sinks taking reports move on to the new journal file once they finish the old.
    let mark = journal.mark
    for sink in sinks { sink.logged(upTo: alertLog.lastSeq, journal: mark) }
  }

  /// Records a report (or answers it as a duplicate or a conflict); the future gives the
  /// response line once what it acknowledges is durable.
  func submit(_ submission: Submission) -> EventLoopFuture<String> {
    submit([submission]).map { $0.string(0) }
  }

  /// Records several reports (a connection's burst: one hand-over, one answer); the future
  /// gives their response lines, in order, once what they acknowledge is durable.
  func submit(_ submissions: [Submission]) -> EventLoopFuture<ResponseLines> {
    enqueue(submissions, records: [])
  }

  /// Records rule-set records (`vigil.ruleset_loaded`, `vigil.ruleset_rejected`).
  func record(_ records: [AlertRecord]) -> EventLoopFuture<String> {
    enqueue([], records: records).map { _ in "" }
  }

  /// Registers a subscriber behind what was handed to the writer before: it is streamed
  /// every record written after those, in the same commit too. Done once it is registered.
  func subscribe(_ stream: any AlertListener) -> EventLoopFuture<Void> {
    let promise = loop.makePromise(of: ResponseLines.self)
    loop.execute {
      self.pending.append(Pending(submissions: [], records: [], promise: promise, subscriber: stream))
      if !self.flushScheduled {
        self.flushScheduled = true
        self.loop.execute { if self.flushScheduled { self.flush() } }
      }
    }
    return promise.futureResult.map { _ in () }
  }

  private func enqueue(_ submissions: [Submission], records: [AlertRecord]) -> EventLoopFuture<ResponseLines> {
    let promise = loop.makePromise(of: ResponseLines.self)
    loop.execute {
      self.pending.append(Pending(submissions: submissions, records: records, promise: promise))
      if !self.flushScheduled {
        self.flushScheduled = true
        // Let whatever else is ready join this commit (unless a `check` made it already).
        self.loop.execute { if self.flushScheduled { self.flush() } }
      }
    }
    return promise.futureResult
  }

  /// One submission's answer, rendered once the batch is durable and its first `seq` known.
  private enum Answer {
    /// Known already: a conflict, or a duplicate of a report recorded before this batch.
    case now(String)
    /// A new report: its records are `records[first..<first + count]`; `lateWarning`, the
    /// patterns' warning as it stood when the report was counted, goes after its own.
    case recorded(first: Int, count: Int, lateWarning: String?)
    /// A duplicate of a report accepted earlier in this batch, whose records those are.
    case repeated(first: Int, count: Int)
  }

  /// A new report of a batch: where it is among the batch's submissions, and where its
  /// records start among the batch's records and how many it has (its alerts, then the
  /// records of the patterns it completed). The submission itself is not copied.
  private struct Accepted {
    let group: Int
    let position: Int
    /// Its JSON, to compare a later report of this batch with the same id.
    let report: ReportText
    let first: Int
    let count: Int
    /// Where the duplicate index's lookup left off, for the insert once it is durable.
    let vacancy: CompactDigestTable.Vacancy?
  }

  /// Whether commits wait for a sink that is `max_lag` behind (`SinkDelivery.holdsReports`).
  /// Not while a record is owed (a reload's): the reload waits for it, and the stop, or a
  /// signal's reload, for the reload.
  private var heldForSinks: Bool {
    !limitingSinks.isEmpty && !holdingEnded && owedRecords.isEmpty && limitingSinks.contains { $0.holdsReports }
  }

  /// While commits are held, looks at the sinks' lag again every few milliseconds, and
  /// commits what waits once none holds it.
  private func checkHoldLater() {
    guard !holdCheckScheduled else { return }
    holdCheckScheduled = true
    loop.scheduleTask(in: .milliseconds(5)) {
      self.holdCheckScheduled = false
      guard !self.pending.isEmpty || !self.owedRecords.isEmpty, !self.flushScheduled else { return }
      self.flushScheduled = true
      self.flush()
    }
  }

  /// vigild stops: commits are held no longer, so every report read is answered.
  func endHolding() -> EventLoopFuture<Void> {
    loop.submit {
      self.holdingEnded = true
      if !self.pending.isEmpty || !self.owedRecords.isEmpty, !self.flushScheduled {
        self.flushScheduled = true
        self.flush()
      }
    }
  }

  /// Commits what waits. `mayHold`: unless a sink with `max_lag` is that far behind — then
  /// it all waits (everything, so that the log's order stays the order of hand-over: a rule
  /// set's record never goes before reports the set before it checked), and is looked at
  /// again shortly. A reload's patterns and a `check` commit what was handed over before
  /// them whatever the lag (`mayHold: false`): it was checked under the patterns in force.
  private func flush(mayHold: Bool = true) {
    flushScheduled = false
    if mayHold, heldForSinks {
      checkHoldLater()
      return
    }
    // A journal cut in place behind the daemon's back (logrotate's copytruncate, with or
    // without a reopen) no longer holds the lines the index points to: it starts again.
    if journal.takeLinesGone() { index = DuplicateIndex() }
    // A reopen that failed is tried again; while it fails, nothing is written (below).
    var reopenFailure: (any Error)?
    if reopenOwed {
      do {
        try reopenFiles()
        reopenOwed = false
      } catch {
        reopenFailure = error
      }
    }
    var batch = pending
    pending.removeAll(keepingCapacity: true)
    var journalEntries: [(receivedAt: String, report: ReportText)] = []
    var records: [AlertRecord] = []
    /// For each of the batch's groups, its submissions' answers, in order.
    var answers: [[Answer]] = []
    answers.reserveCapacity(batch.count)
    var accepted: [Accepted] = []
    acceptedIDs.reset(forUpTo: batch.reduce(0) { $0 + $1.submissions.count })
    let now = WallClock.nowMilliseconds()
    let receivedAt = UTCTime.format(millisecondsSinceEpoch: now)
    let firstSeq = alertLog.lastSeq + 1
    let clock = (text: receivedAt, milliseconds: now, firstSeq: firstSeq)
    // Owed records (a rule set's, a failed commit's) are written now: stamped now, as
    // every record is with its commit's clock, so that time never goes back in the log.
    let owedStamped = owedRecords.map { record in
      var stamped = record
      stamped.time = receivedAt
      return stamped
    }
    // A rule set's record goes before the first report that set checked, after those the
    // set before it checked: connections that read the old set just before the new one was
    // put in force hand their reports over after the record was owed, and in the same
    // commit. Their alerts came after it, and read as the new set's.
    // But not after a record of the new set: a report the old set checked is counted by
    // the new set's patterns, and one that may complete a pattern (it is an event of one)
    // has the record before it.
    var owedPlace: (group: Int, position: Int)?
    if let revision = owedStamped.last(where: { $0.rule == "vigil.ruleset_loaded" })?.ruleset {
      let set = patterns.set
      func announcedBefore(_ submission: Submission) -> Bool {
        if submission.ruleset == revision { return true }
        guard set.enabledPatternCount > 0, let report = submission.report else { return false }
        return !set.patternEvents(for: report, matches: set.evaluate(report)).isEmpty
      }
      search: for group in batch.indices {
        for position in batch[group].submissions.indices where announcedBefore(batch[group].submissions[position]) {
          owedPlace = (group, position)
          break search
        }
      }
      if owedPlace == nil, batch.contains(where: { !$0.submissions.isEmpty }) { owedPlace = (batch.count, 0) }
    }
    if owedPlace == nil { records += owedStamped }
    let owed = owedRecords
    owedRecords = []
    // Told once the owed records are written, or once this commit fails (they stay owed).
    let announced = owedAnnouncements
    owedAnnouncements = []
    defer { for promise in announced { promise.succeed("") } }
    // Subscribers, with how many of the commit's records come before them: registered once
    // the commit is written, or, when it fails, from the next record written.
    var subscribers: [(listener: any AlertListener, after: Int)] = []
    for group in batch.indices {
      if let subscriber = batch[group].subscriber { subscribers.append((subscriber, records.count)) }
      // Vigil's own records too are stamped with the commit's clock: written now.
      records += batch[group].records.map { record in
        var stamped = record
        stamped.time = receivedAt
        return stamped
      }
      var these: [Answer] = []
      // Through a buffer pointer: an array's element passed on is copied, every reference in it retained.
      batch[group].submissions.withUnsafeBufferPointer { submissions in
        these.reserveCapacity(submissions.count)
        for position in submissions.indices {
          if let place = owedPlace, place.group == group, place.position == position { records += owedStamped }
          these.append(
            answer(
              submissions[position], at: (group, position), &journalEntries, &records, &accepted, &acceptedIDs, clock))
        }
      }
      answers.append(these)
    }
    if let place = owedPlace, place.group == batch.count { records += owedStamped }
    var lines: [AlertLog.Written] = []
    let journalSize = journal.size
    let logMark = alertLog.mark
    var journalOffsets: [Int64] = []
    do {
      if let reopenFailure, !journalEntries.isEmpty || !records.isEmpty {
        throw GroupCommitReopenFailure(description: "the files could not be opened again at their paths: \(reopenFailure)")
      }
      // The journal first: a report is recorded before its alerts.
      if !journalEntries.isEmpty { journalOffsets = try journal.append(journalEntries) }
      if !records.isEmpty { lines = try alertLog.append(records) }
      if syncs {
        // The log's new blocks, allocated now, join the file system's transaction that the
        // journal's sync commits, so the log's own sync after it finds little left to do:
        // one commit where there were two (docs/benchmarks.md has the measurements).
        if !records.isEmpty, !journalEntries.isEmpty { alertLog.startWriteback() }
        if !journalEntries.isEmpty { try journal.sync() }
        if !records.isEmpty { try alertLog.sync(covering: journal.mark) }
      } else if !records.isEmpty {
        alertLog.noteHead(covering: journal.mark)
      }
    } catch {
      // Nothing of this batch is acknowledged, so nothing of it may stay: both files go
      // back to where they were (the journal may have been written when the log failed).
      journal.cutBack(to: journalSize)
      alertLog.cutBack(to: logMark)
      patterns.windows.rollBack()
      // Vigil's own records are owed to the log, not refused: the next commit writes them.
      owedRecords = owed + batch.flatMap(\.records)
      // Nothing was written: a subscriber gets every record from the next one on.
      for subscriber in subscribers { subscriptions.add(subscriber.listener, from: firstSeq) }
      counters.storageFailed("\(error)", at: receivedAt)
      // Said in the daemon's log at the first failure of a run, and when commits go
      // through again: intake has stopped meanwhile, which an operator must hear of.
      if failuresInARow == 0 {
        warn("a commit could not be written: \(error); its reports were refused (storage), and every report is until a commit goes through")
      }
      failuresInARow += 1
      storageFailing = true
      let refusal = Response.error(RequestError(.storage, "nothing was recorded: \(error); retry later"))
      for (group, these) in answers.enumerated() {
        var lines = ResponseLines(capacity: these.count)
        for answer in these {
          if case .now(let line) = answer {
            lines.append(line)
          } else {
            counters.refused(.storage)
            lines.append(refusal)
          }
        }
        batch[group].promise.succeed(lines)
      }
      return
    }
    patterns.windows.settle()
    for subscriber in subscribers { subscriptions.add(subscriber.listener, from: firstSeq + UInt64(subscriber.after)) }
    // Mended once the files are where they belong again: a commit that wrote nothing
    // while a reopen is still owed mends nothing.
    if storageFailing, !reopenOwed {
      storageFailing = false
      counters.storageWritten()
      if failuresInARow > 0 {
        warn("commits are written again, after \(failuresInARow) that could not be")
        failuresInARow = 0
      }
    }
    if alertLog.takeHeadReplaced() {
      warn(
        "alerts.head was removed or replaced while vigild ran: it is written anew at its path (records deleted "
          + "from the log's end in between could not be told)")
    }
    if let news = alertLog.takeHeadProblemNews() {
      warn(
        news.isEmpty
          ? "alerts.head is written again"
          : "\(news): the alert log is written, but records deleted from its end could not be told (vigil verify) "
            + "until it is")
    }
    if !accepted.isEmpty { notePatternStatus() }
    for (number, item) in accepted.enumerated() {
      index.recordNew(
        key: batch[item.group].submissions[item.position].idDigest,
        entry: .init(
          journalPlace: journal.place(ofOffset: journalOffsets[number]), firstSeq: firstSeq + UInt64(item.first),
          alertCount: UInt32(item.count)),
        at: item.vacancy)
    }
    counters.accepted(accepted.count)
    counters.alerts(records)
    if let consoleIndex, !records.isEmpty {
      feed(
        consoleIndex, batch: batch, records: records, lines: lines, accepted: accepted, journalOffsets: journalOffsets,
        logged: (alertLog.inode, logMark.size))
    }
    if !records.isEmpty { subscriptions.publish(records, lines: lines) }
    if !sinks.isEmpty, !records.isEmpty || !journalEntries.isEmpty {
      let mark = journal.mark
      for sink in sinks { sink.logged(upTo: alertLog.lastSeq, journal: mark) }
    }
    var scratch = JSONBytes(capacity: 1024)
    var replies: [(EventLoopPromise<ResponseLines>, ResponseLines)] = []
    replies.reserveCapacity(answers.count)
    for (group, these) in answers.enumerated() {
      var responses = ResponseLines(capacity: these.count)
      batch[group].submissions.withUnsafeBufferPointer { submissions in
        for position in these.indices {
          render(
            these[position], submissions[position], records: records, lines: lines, firstSeq: firstSeq,
            into: &responses, using: &scratch)
        }
      }
      replies.append((batch[group].promise, responses))
    }
    // The connections keep their submissions until answered, so what they made (reports,
    // texts, alerts) is freed on their threads, not here: freeing it on the writer cost it
    // a fifth of its time (perf), on memory another core had touched. So the writer lets go
    // of everything that refers to it first.
    batch = []
    journalEntries = []
    records = []
    accepted = []
    for (promise, lines) in replies { promise.succeed(lines) }
    // Rotation failing leaves the log where it is; it is tried again after the next commit,
    // and said once (again when the reason changes).
    do {
      try alertLog.rotate(ifAtLeast: rotation.bytes, keep: rotation.keep)
      if let problem = alertLog.takeGroupNotKept() { warn(problem) }
      if rotationFailure != nil {
        rotationFailure = nil
        warn("the alert log rotates again (alerts.rotate_bytes)")
      }
    } catch {
      if rotationFailure != error.description {
        rotationFailure = error.description
        warn(
          "\(error.description); the log is left where it is and grows past alerts.rotate_bytes (\(rotation.bytes)) "
            + "until a rotation after a later commit succeeds")
      }
    }
  }

  /// Why the last rotation failed, while it fails: said once.
  @exclusivity(unchecked) private var rotationFailure: String?

  /// The response line of one answer, once the batch's first `seq` is known.
  private func render(
    _ answer: Answer, _ submission: borrowing Submission, records: [AlertRecord], lines: [AlertLog.Written],
    firstSeq: UInt64, into responses: inout ResponseLines, using scratch: inout JSONBytes
  ) {
    switch answer {
    case .now(let line):
      responses.append(line)
    case .repeated(let first, let count):
      let seqs = (0..<count).map { firstSeq + UInt64(first + $0) }
      responses.append(using: &scratch) { out in
        Response.appendDuplicate(
          to: &out, reportID: submission.reportID, ruleset: submission.ruleset, seqs: seqs,
          warnings: submission.warnings)
      }
    case .recorded(let first, let count, let lateWarning):
      responses.append(using: &scratch) { out in
        Response.appendVerdict(
          to: &out, reportID: submission.reportID, ruleset: submission.ruleset, records: records, first: first,
          count: count, firstSeq: firstSeq, warnings: submission.warnings, lastWarning: lateWarning
        ) { position, out in
          // The message as its line holds it, escaped already.
          lines[position].line.withUnsafeBufferPointer { line in
            out.quoted(escaped: UnsafeBufferPointer(rebasing: line[lines[position].message]))
          }
        }
      }
    }
  }

  /// Hands the console's index the batch's records, each with its report's facts and where
  /// the report's line is (accepted reports are journalled in order, one line each).
  private func feed(
    _ consoleIndex: AlertIndex, batch: [Pending], records: [AlertRecord], lines: [AlertLog.Written],
    accepted: [Accepted], journalOffsets: [Int64], logged: (inode: UInt64, start: Int64)
  ) {
    var committed: [AlertIndex.Committed] = []
    committed.reserveCapacity(records.count)
    // The batch's lines follow one another from where the log ended before it.
    var at = logged.start
    func commit(upTo end: Int, facts: ReportFacts?) {
      for offset in committed.count..<end {
        let written = lines[offset]
        let position = JournalPosition(inode: logged.inode, offset: at)
        at += Int64(written.line.count)
        committed.append(
          AlertIndex.Committed(
            seq: written.seq, record: records[offset], lineBytes: written.line, report: facts, logged: position,
            message: written.message))
      }
    }
    // Each accepted report's records, in the order they were added, with its facts (made
    // once a report: a table of them by record copied each twice); others have none.
    let inode = journal.mark.inode
    for (position, item) in accepted.enumerated() where item.count > 0 {
      assert(item.first >= committed.count, "accepted reports' records are in order")
      commit(upTo: item.first, facts: nil)
      var found = batch[item.group].submissions[item.position].facts
      if position < journalOffsets.count {
        found?.journal = JournalPosition(inode: inode, offset: journalOffsets[position])
      }
      commit(upTo: item.first + item.count, facts: found)
    }
    commit(upTo: records.count, facts: nil)
    consoleIndex.add(committed)
  }

  /// Decides one submission: a conflict or a duplicate (of an earlier report, or of one in
  /// this batch) is answered now; a new report joins the batch's writes, with the records
  /// of the patterns it completes after its alerts.
  private func answer(
    _ submission: borrowing Submission, at place: (group: Int, position: Int),
    _ journalEntries: inout [(receivedAt: String, report: ReportText)], _ records: inout [AlertRecord],
    _ accepted: inout [Accepted], _ acceptedIDs: inout BatchIDTable,
    _ clock: (text: String, milliseconds: Int64, firstSeq: UInt64)
  ) -> Answer {
    if let position = acceptedIDs.position(of: submission.idDigest) {
      let earlier = accepted[position]
      // The second of two equal ids in one batch is a duplicate or a conflict of the first.
      guard ReportContent.same(earlier.report, submission.reportJSON) else { return conflict(submission) }
      counters.duplicate()
      return .repeated(first: earlier.first, count: earlier.count)
    }
    switch verdict(submission) {
    case .conflict:
      return conflict(submission)
    case .duplicate(let entry):
      counters.duplicate()
      return .now(
        Response.duplicate(
          reportID: submission.reportID, ruleset: submission.ruleset, seqs: entry.seqs, warnings: submission.warnings))
    case .unreadable(let failure):
      counters.refused(.storage)
      return .now(
        Response.error(
          RequestError(
            .storage,
            "a report with the id \(submission.reportID) was recorded, but its journal line cannot be read to "
              + "compare: \(failure); nothing was recorded")))
    case .new(let vacancy):
      journalEntries.append((clock.text, submission.reportJSON))
      let first = records.count
      // One clock reading per commit: the report's `received_at` is its alerts' `time`.
      for var alert in submission.alerts {
        alert.time = clock.text
        records.append(alert)
      }
      var lateWarning: String?
      if let report = submission.report {
        let counted = patterns.count(
          report: report, events: submission.patternEvents, evaluatedBy: submission.ruleset,
          alerts: submission.alerts, seqs: { clock.firstSeq + UInt64(first + $0) },
          receivedAt: clock.milliseconds, time: clock.text)
        records += counted.records
        if counted.late { lateWarning = patterns.lateWarning(horizonDays: horizonDays) }
      }
      let item = Accepted(
        group: place.group, position: place.position, report: submission.reportJSON, first: first,
        count: records.count - first, vacancy: vacancy)
      acceptedIDs.insert(submission.idDigest, position: accepted.count)
      accepted.append(item)
      return .recorded(first: first, count: item.count, lateWarning: lateWarning)
    }
  }

  /// A report against those recorded before this batch: new, or the same id again, the
  /// same report (a duplicate) or another (a conflict), found by comparing it with the
  /// journal's copy.
  private enum Verdict {
    /// Where the index's lookup left off, for its insert.
    case new(CompactDigestTable.Vacancy?)
    case duplicate(DuplicateIndex.Entry)
    case conflict
    case unreadable(Journal.Failure)
  }

  private func verdict(_ submission: borrowing Submission) -> Verdict {
    let (found, vacancy) = index.lookup(key: submission.idDigest)
    guard let entry = found else { return .new(vacancy) }
    let line: [UInt8]
    do throws(Journal.Failure) {
      line = try journal.line(atPlace: entry.journalPlace)
    } catch {
      return .unreadable(error)
    }
    let same = line.withUnsafeBufferPointer { ReportContent.same(submission.reportJSON, asJournalLine: $0) }
    guard let same else {
      return .unreadable(Journal.Failure(description: "the journal's line for it is not a journal line"))
    }
    return same ? .duplicate(entry) : .conflict
  }

  private func conflict(_ submission: borrowing Submission) -> Answer {
    counters.refused(.idConflict)
    return .now(
      Response.error(RequestError(.idConflict, "another report was already recorded with the id \(submission.reportID)")))
  }

  // MARK: Patterns

  private func notePatternStatus() {
    let status = patterns.status(rebuiltFrom: rebuild.reports, rebuildSeconds: rebuild.seconds, horizonDays: horizonDays)
    patternStatus.withLockedValue { $0 = status }
  }

  /// The records of the patterns a report would complete, without counting it (`check`),
  /// and the warning a report too late to count would get.
  func patternsCompleted(by report: Report, events: [PatternEvent], revision: String, alerts: [AlertRecord])
    -> EventLoopFuture<(records: [AlertRecord], lateWarning: String?)>
  {
    loop.submit {
      // The reports handed over before it are counted first: a `check` after a `submit`
      // sees it, as the connection's order says.
      if self.flushScheduled || !self.pending.isEmpty { self.flush(mayHold: false) }
      // An id recorded already: submitting the report would count nothing (a duplicate,
      // or an id_conflict), so neither does its check.
      if self.index.entry(id: report.id) != nil { return ([], nil) }
      let now = WallClock.nowMilliseconds()
      let counted = self.patterns.count(
        report: report, events: events, evaluatedBy: revision, alerts: alerts, seqs: { _ in nil },
        receivedAt: now, time: UTCTime.format(millisecondsSinceEpoch: now), checking: true)
      self.patterns.windows.rollBack()
      return (counted.records, counted.late ? self.patterns.lateWarning(horizonDays: self.horizonDays, checking: true) : nil)
    }
  }

  /// Puts a reload's patterns in force: the windows rebuilt for them up to `marks.journal`,
  /// brought up to date here with the reports journalled since — and the `seq`s of their
  /// alerts, read from what the alert log gained meanwhile (the rebuild read it before).
  func installPatterns(
    _ set: RuleSet, windows: PatternWindows, marks: PatternRebuild.Marks, rebuilt: (Int, Double),
    announcing record: AlertRecord
  ) -> EventLoopFuture<EventLoopFuture<String>> {
    loop.submit {
      // What was handed over before is committed (and journalled, so counted below) first:
      // its records come before the record that announces the set.
      if !self.pending.isEmpty { self.flush(mayHold: false) }
      var windows = windows
      defer { marks.closeJournal() }
      var more = 0
      if marks.journalDescriptor < 0 || self.journal.inode == marks.journalInode {
        more = PatternRebuild.count(
          set: set, windows: &windows, journal: self.journal.path, from: marks.journal, to: self.journal.size
        ).reports
      } else {
        // Reopened since the marks (a rotation while the rebuild read): the rest of the file
        // marked, any moved aside after it, then the file being written.
        let between = self.journal.duplicatedMovedAside(from: marks.journalFile + 1)
        defer { PatternRebuild.Marks.close(between) }
        more += PatternRebuild.count(
          set: set, windows: &windows, journal: marks.journalPath(else: self.journal.path), from: marks.journal, to: nil
        ).reports
        for descriptor in between {
          more += PatternRebuild.count(
            set: set, windows: &windows, journal: "/proc/self/fd/\(descriptor)", from: 0, to: nil
          ).reports
        }
        more += PatternRebuild.count(
          set: set, windows: &windows, journal: self.journal.path, from: 0, to: self.journal.size
        ).reports
      }
      if more > 0 { PatternRebuild.fillSeqs(&windows, set: set, alertLog: self.alertLog.path, since: marks) }
      self.patterns = PatternCounting(set: set, windows: windows)
      self.rebuild = (rebuilt.0 + more, rebuilt.1)
      self.notePatternStatus()
      return self.owe(record)
    }
  }

  /// Puts a reload's patterns in force on the windows already held: the new set counts
  /// every report as the old one did (the same `patternBasis`), so nothing is rebuilt.
  func keepPatterns(for set: RuleSet, announcing record: AlertRecord) -> EventLoopFuture<EventLoopFuture<String>> {
    loop.submit {
      // What was handed over before is committed with the patterns it was checked under.
      if !self.pending.isEmpty { self.flush(mayHold: false) }
      self.patterns = PatternCounting(set: set, windows: self.patterns.windows)
      self.notePatternStatus()
      return self.owe(record)
    }
  }

  /// A record (`vigil.ruleset_loaded`) the next commit writes before anything else, so that
  /// no record the patterns just put in force make (in that commit's counting) comes before
  /// it; done when it is written (or that commit failed, the record still owed).
  private func owe(_ record: AlertRecord) -> EventLoopFuture<String> {
    owedRecords.append(record)
    let promise = loop.makePromise(of: String.self)
    owedAnnouncements.append(promise)
    if !flushScheduled {
      flushScheduled = true
      loop.execute { if self.flushScheduled { self.flush() } }
    }
    return promise.futureResult
  }

  /// Those waiting for owed records to be written.
  @exclusivity(unchecked) private var owedAnnouncements: [EventLoopPromise<String>] = []

  /// How far the journal and the alert log go, for a rebuild to read up to.
  func rebuildMarks() -> EventLoopFuture<PatternRebuild.Marks> {
    loop.submit {
      PatternRebuild.Marks(
        journal: self.journal.size, logInode: self.alertLog.inode, logSize: self.alertLog.mark.size,
        rotatedJournals: self.journal.duplicatedMovedAside(), journalDescriptor: self.journal.duplicatedCurrent(),
        journalInode: self.journal.inode, journalFile: self.journal.currentFile)
    }
  }

  /// The journal's path, for a rebuild.
  var journalPath: String { journal.path }

  /// The alert log's path, for `status`.
  var alertLogPath: String { alertLog.path }
}

/// Why a commit wrote nothing: the files' last `reopen` failed, and fails again.
struct GroupCommitReopenFailure: Error, CustomStringConvertible {
  let description: String
}
