import Foundation
import NIOCore
import NIOPosix
import NIOConcurrencyHelpers
import VigilCore

/// The running daemon: the state directory locked, the journal and alert log open, the
/// Unix socket bound (docs/vigild.md, docs/protocol.md).
public final class Daemon: Sendable {
  public struct StartFailure: Error, CustomStringConvertible {
    public let description: String
  }

  public let responder: RequestResponder
  /// The console's index of alerts (nil when the console is off).
  public let alertIndex: AlertIndex?
  private let connectionLoops: MultiThreadedEventLoopGroup
  private let writerLoop: MultiThreadedEventLoopGroup
  private let listener: Channel
  private let socketPath: String
  /// The device and inode of the socket file bound at `socketPath`, as it was made.
  private let socketIdentity: (device: dev_t, inode: ino_t)?
  private let lockDescriptor: Int32
  private let connections: ConnectionRegistry
  /// How long shutdown waits for each source's feed to return.
  static let sourceStopSeconds = 10.0

  /// How many threads serve the connections: `socket.threads` when set, else one fewer
  /// than the cores, since the writer (group commit: the journal, the alert log and its
  /// chain) has a thread of its own that is busy under load; never fewer than one. On two
  /// cores, twelve alternated pairs of runs of eight connections (one binary, `threads: 1`
  /// against `threads: 2`, 3 December) gave medians of 179,000 and 189,000 reports/s with one
  /// thread against 153,000 and 159,000 with two, one thread ahead in eleven pairs: with
  /// two, three busy threads shared two cores. One connection has one thread either way.
  static func connectionThreads(configured: Int, cores: Int) -> Int {
    configured > 0 ? configured : max(1, cores - 1)
  }

  /// The same for a configuration, on this machine.
  public static func connectionThreads(for configuration: DaemonConfiguration) -> Int {
    connectionThreads(configured: configuration.socket.threads, cores: System.coreCount)
  }

  /// Creates `path` and the folders above it that are missing, each given `mode` when one
  /// is (whatever the umask); nil when done, else why not (as `strerror` says it).
  static func makeDirectory(_ path: String, mode: mode_t?) -> String? {
    var status = stat()
    if stat(path, &status) == 0 {
      return status.st_mode & S_IFMT == S_IFDIR ? nil : "a file that is not a directory is there"
    }
    let above = parent(path)
    if above != path, !above.isEmpty, let reason = makeDirectory(above, mode: mode) { return reason }
    guard mkdir(path, 0o777) == 0 || errno == EEXIST else { return String(cString: strerror(errno)) }
    if let mode, chmod(path, mode) != 0 { return String(cString: strerror(errno)) }
    return nil
  }

  /// Everything the daemon does before it is ready; `log` gets one line per event.
  public static func start(
    configuration: DaemonConfiguration, plugins: PluginRegistry, ruleSet: RuleSet,
    log: @escaping DaemonEventLog
  ) throws(StartFailure) -> Daemon {
    // First, while only what every start holds is open.
    let configuration = try connectionsThatFit(configuration, log: log)
    let state = configuration.stateDirectory
    // The folders the daemon creates are as private as its umask makes them, but for the
    // socket's and those above it: there the socket's own mode and group say who may
    // connect, and a private folder would refuse everyone else whatever they say. Made
    // first, so that a folder it shares with the others (`var/` above `var/run/` and
    // `var/lib/vigil/` in the repository's layout) is not made private by them first.
    let folders = [
      ("socket.path", parent(configuration.socket.path), mode_t(0o755)),
      ("state_dir", state, nil), ("alerts.path", parent(configuration.alerts.path), nil),
    ]
    for (key, directory, mode) in folders {
      if let reason = makeDirectory(directory, mode: mode) {
        throw StartFailure(description: "\(key): cannot create the directory \(directory): \(reason)")
      }
    }
    let lock = try lockStateDirectory(state)
    do {
      // Before anything is opened or written: a daemon refused here must leave every file as
      // it was (one on another state directory but the same socket would otherwise append
      // its `vigil.ruleset_loaded` to a log another daemon writes, and fork its chain).
      try replaceStaleSocket(configuration.socket.path)
      return try start(configuration: configuration, plugins: plugins, ruleSet: ruleSet, lock: lock, log: log)
    } catch {
      unlockStateDirectory(lock)
      throw error
    }
  }

  private static func start(
    configuration: DaemonConfiguration, plugins: PluginRegistry, ruleSet: RuleSet, lock: Int32,
    log: @escaping DaemonEventLog
  ) throws(StartFailure) -> Daemon {
    let state = configuration.stateDirectory
    let journalPath = state + "/reports.jsonl"
    let journal: Journal
    let alertLog: AlertLog
    do {
      journal = try Journal(path: journalPath)
    } catch {
      throw StartFailure(description: "state_dir: \(error.description)")
    }
    do {
      alertLog = try AlertLog(path: configuration.alerts.path, headPath: state + "/alerts.head")
    } catch {
      throw StartFailure(description: "alerts.path: \(error.description)")
    }
    if journal.cutBytes > 0 {
      log(.warning("cut a torn last line of \(journal.cutBytes) bytes from \(journalPath) (its bytes are kept in \(journal.tornPath))"))
    }
    if let restored = alertLog.restoredNewline { log(.warning(restored)) }
    if alertLog.cutBytes > 0 {
      log(.warning("cut a torn last line of \(alertLog.cutBytes) bytes from \(alertLog.path) (its bytes are kept in \(alertLog.tornPath))"))
    }
    if let note = alertLog.linesAfterLastRecordNote { log(.warning(note)) }
    if let note = alertLog.wentOnFromRotated { log(DaemonEvent(.notice, note)) }
    if let damaged = alertLog.headDamaged ?? alertLog.headMissing { log(.warning(damaged)) }
    if let behind = alertLog.endBehindHead {
      let line = "\(alertLog.path): \(behind.description)"
      log(behind.isError ? .error(line) : .warning(line))
    }
    // What a crash between the journal's sync and the alert log's cut from the log: found
    // first, written below with the patterns' records, in one append.
    let plan = LastCommitRecovery.plan(
      journal: journal, alertLog: alertLog, rotatedLog: configuration.alerts.path + ".1", ruleSet: ruleSet)
    if let note = LastCommitRecovery.unverifiedNote(journal: journal, alertLog: alertLog) { log(.warning(note)) }
    if let note = LastCommitRecovery.shortenedNote(journal: journal, alertLog: alertLog) { log(.warning(note)) }
    // Every file rotated from the log there is, oldest first: `alerts.keep` of vigild's own
    // rotation, or as many as logrotate keeps.
    let rotated = Array(RotatedFiles.numberedNewestFirst(beside: configuration.alerts.path).reversed())
    // Journals rotated before (logrotate, or by hand): their reports are known again too.
    let rotatedJournals = RotatedFiles.rotated(beside: journalPath)
    let keptJournals = journal.keepRotated(rotatedJournals.plain)
    // The patterns' windows, from the journals, before the first report is taken.
    var rebuilt = PatternRebuild.build(
      set: ruleSet, horizon: configuration.rules.latenessHorizon, rotatedJournals: keptJournals.map(\.path),
      journal: journalPath, alertLogs: rotated + [alertLog.path],
      crashed: plan.map { .init(journalFrom: $0.journalFrom, logged: $0.logged) })
    if let plan {
      let recovery = LastCommitRecovery.records(
        plan, lost: rebuilt.lost, logged: rebuilt.loggedSeqs, firstSeq: alertLog.lastSeq + 1, set: ruleSet)
      if !recovery.records.isEmpty {
        do {
          try alertLog.append(recovery.records)
          try alertLog.sync(covering: journal.mark)
        } catch {
          throw StartFailure(description: error.description)
        }
        let patterns =
          recovery.patternRecords == 0
          ? "" : " and \(recovery.patternRecords) pattern record\(recovery.patternRecords == 1 ? "" : "s")"
        log(
          .warning(
            "wrote \(recovery.alerts) alert\(recovery.alerts == 1 ? "" : "s")\(patterns) of \(recovery.reports) journalled "
              + "report\(recovery.reports == 1 ? "" : "s") that a crash had cut from the alert log"))
        // The windows hold those reports without the seqs just given to their alerts.
        let patternsByID = Dictionary(ruleSet.patterns.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        rebuilt.windows.fillSeqs(patterns: patternsByID) { reportID, rules in
          (recovery.seqs[reportID] ?? []).filter { rules.contains($0.rule) }.map(\.seq)
        }
      }
    }
    if ruleSet.enabledPatternCount > 0 {
      log(
        DaemonEvent(
          .notice,
          "patterns: \(ruleSet.enabledPatternCount) enabled, windows rebuilt from \(rebuilt.reports) journalled reports "
            + "in \(rebuilt.seconds) s: \(rebuilt.windows.groupCount) groups"))
    }
    if rotatedJournals.plain.count > keptJournals.count {
      log(
        .warning(
          "\(rotatedJournals.plain.count - keptJournals.count) of the \(rotatedJournals.plain.count) journals rotated beside "
            + "\(journalPath) were not read (only the newest \(Journal.mostRotatedAtStart) are): a report they alone hold "
            + "is recorded again if it is sent again"))
    }
    if !rotatedJournals.compressed.isEmpty {
      log(
        .warning(
          "\(rotatedJournals.compressed.joined(separator: ", ")) \(rotatedJournals.compressed.count == 1 ? "is" : "are") "
            + "compressed and not read: a report only such a journal holds is recorded again if it is sent again "
            + "(rotate the journal without compressing it)"))
    }
    // The seqs of the files built-in rotation removed come first, then the files kept.
    let pruned = FileManager.default.fileExists(atPath: alertLog.prunedPath) ? [alertLog.prunedPath] : []
    let (index, unreadable) = DuplicateIndex.rebuild(
      journals: keptJournals + [(journalPath, journal.currentFile)],
      alertLogs: pruned + rotated + [alertLog.path])
    if unreadable > 0 { log(.warning("skipped \(unreadable) unreadable lines while rebuilding the duplicate index")) }

    let writerLoop = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    let connectionLoops = MultiThreadedEventLoopGroup(
      numberOfThreads: Self.connectionThreads(for: configuration))
    let counters = Counters()
    let subscriptions = Subscriptions()
    let sinks = try deliveries(
      configuration: configuration, plugins: plugins, alertLog: alertLog, journal: journal, log: log)
    // A source's reports take the daemon's own path, which exists only below.
    let recorder = NIOLockedValueBox<RequestResponder?>(nil)
    let sources = try runners(configuration: configuration, plugins: plugins, log: log) { report in
      guard let daemon = recorder.withLockedValue({ $0 }) else {
        return .refused(code: "internal", message: "vigild is not ready")
      }
      return daemon.record(report: report)
    }
    // The console's index: the writer feeds it from its first record; what the files
    // held before is read on a thread of its own once the daemon is ready.
    let alertIndex =
      configuration.http.listen == nil
      ? nil : AlertIndex(limit: configuration.http.indexLimit, atlas: plugins.atlas(for: configuration))
    let loggedBefore = alertLog.lastSeq
    // The files the build reads, opened now, before the writer may rotate one: a rename
    // after this changes nothing for an open file.
    let indexSources =
      alertIndex == nil
      ? nil
      : AlertIndexLoader.Sources(
        alertLogs: rotated.filter { FileManager.default.fileExists(atPath: $0) } + [alertLog.path],
        journals: RotatedFiles.kept(journalPath, keep: max(configuration.alerts.keep, 10)).map(\.path))
    let writer = GroupCommit(
      loop: writerLoop.next(), journal: journal, alertLog: alertLog, index: index,
      syncs: configuration.durability == .batch,
      rotation: (configuration.alerts.rotateBytes, configuration.alerts.keep), counters: counters,
      subscriptions: subscriptions, sinks: sinks, consoleIndex: alertIndex,
      patterns: PatternCounting(set: ruleSet, windows: rebuilt.windows),
      horizonDays: configuration.rules.latenessHorizonDays, rebuilt: (rebuilt.reports, rebuilt.seconds),
      warn: { log(.warning($0)) })
    let responder = RequestResponder(
      configuration: configuration, plugins: plugins, ruleSet: ruleSet, writer: writer, counters: counters,
      subscriptions: subscriptions, sinks: sinks, sources: sources, log: log)
    recorder.withLockedValue { $0 = responder }
    for sink in sinks { sink.raiseConflicts { responder.raiseSinkConflict($0) } }
    let connections = ConnectionRegistry()
    let limits = configuration.limits
    let bootstrap = ServerBootstrap(group: connectionLoops)
      .serverChannelOption(ChannelOptions.backlog, value: 256)
      // Every connection waiting is taken at each turn of the loop. NIO's default is 4 a
      // turn, and a turn that answers many busy connections' pipelined requests is long: 60
      // clients flooding at once were taken over 15 s, and one coming after them (a
      // `vigil status`, a health check) waited for all of them before its first answer.
      .serverChannelOption(ChannelOptions.maxMessagesPerRead, value: 256)
      // No connection is accepted before the first record is written (below).
      .serverChannelOption(ChannelOptions.autoRead, value: false)
      .childChannelOption(ChannelOptions.allowRemoteHalfClosure, value: true)
      // One read (up to 64 KB) of each busy connection a turn, not NIO's 4: a turn's length
      // is what any request waits behind, and it grows with the connections busy.
      .childChannelOption(ChannelOptions.maxMessagesPerRead, value: 1)
      .childChannelInitializer { channel in
        let handler = ConnectionHandler(responder: responder)
        let count = connections.add(channel, handler)
        channel.closeFuture.whenComplete { _ in connections.remove(channel) }
        if count > limits.maxConnections {
          let open = limits.maxConnections == 1 ? "1 is" : "\(limits.maxConnections) are"
          log("refused a connection: \(open) open already (limits.max_connections)")
          return channel.pipeline.addHandler(OverloadRefusal(limit: limits.maxConnections, counters: counters))
        }
        return channel.eventLoop.makeCompletedFuture {
          let framer = LineFramer(
            limit: limits.maxLineBytes, idleLine: .milliseconds(Int64(limits.idleLineSeconds * 1000)),
            onStall: {
              log("closed a connection stalled in the middle of a line: no byte for \(limits.idleLineSeconds) s (limits.idle_line_s)")
            })
          try channel.pipeline.syncOperations.addHandler(framer)
          try channel.pipeline.syncOperations.addHandler(handler)
        }
      }
    // The start's `vigil.ruleset_loaded`, the log's first record of this run.
    func writeFirstRecord() throws {
      let time = UTCTime.format(millisecondsSinceEpoch: WallClock.nowMilliseconds())
      let definitions = LoadedDefinitions.path(stateDirectory: state)
      let record = RequestResponder.loadedRecord(ruleSet, previous: LoadedDefinitions.read(definitions), time: time)
      _ = try writer.record([record]).wait()
      let written = LoadedDefinitions.write(ruleSet.definitionDigests, to: definitions) { log(.warning($0)) }
      responder.definitionsOwed.withLockedValue { $0 = !written }
    }
    do {
      // Again, just before the socket is made: a daemon may have come up on it while the
      // index and the patterns' windows were rebuilt. (One that comes up after this makes
      // the link below fail: it is never replaced.)
      try replaceStaleSocket(configuration.socket.path)
    } catch {
      try? connectionLoops.syncShutdownGracefully()
      try? writerLoop.syncShutdownGracefully()
      throw error
    }
    let binding = bindingPath(for: configuration.socket.path)
    // One a crash left between bind and link (a pid can repeat, in a container).
    if binding != configuration.socket.path { unlink(binding) }
    // The first record is in the log before the socket is at its path, where a client (or
    // a script waiting for it to read the log) finds it. Bound at `socket.path` itself (a
    // path too long for a hidden name beside it), it is written first.
    func failStart(_ error: any Error) -> StartFailure {
      try? connectionLoops.syncShutdownGracefully()
      try? writerLoop.syncShutdownGracefully()
      return StartFailure(description: "\(error)")
    }
    if binding == configuration.socket.path {
      do { try writeFirstRecord() } catch { throw failStart(error) }
    }

    /// A bound socket given up: its name gone, the listener and the loops closed.
    func abandon(_ listener: Channel, _ failure: StartFailure) -> StartFailure {
      unlink(binding)
      try? listener.close().wait()
      try? connectionLoops.syncShutdownGracefully()
      try? writerLoop.syncShutdownGracefully()
      return failure
    }
    let listener: Channel
    do {
      if binding.utf8.count <= UnixSocket.longestNIOPath {
        listener = try bootstrap.bind(unixDomainSocketPath: binding).wait()
      } else {
        // A path NIO's own binding refuses (104 to 107 bytes) is bound here, and handed over.
        let descriptor = UnixSocket.bound(to: binding)
        guard descriptor >= 0 else { throw IOError(errnoCode: errno, reason: "bind") }
        // (Not closed here when that fails: NIO may have closed it, and the start fails.)
        listener = try bootstrap.withBoundSocket(descriptor).wait()
      }
    } catch {
      try? connectionLoops.syncShutdownGracefully()
      try? writerLoop.syncShutdownGracefully()
      // NIO's error names its system call; the reason is what a user needs.
      let reason = (error as? IOError).map { String(cString: strerror($0.errnoCode)) } ?? "\(error)"
      throw StartFailure(description: "cannot listen on \(configuration.socket.path) (socket.path): \(reason)")
    }
    // The process umask made the socket private; give it its group while it still is,
    // then widen it to the configured mode: it is never more open than configured. Only
    // then is it linked at its path, so a client never finds it there half set up (a
    // group member refused for a moment, a mode not yet the configured one).
    if !configuration.socket.group.isEmpty {
      let group = DaemonConfiguration.Socket.groupID(of: configuration.socket.group)
      var status = stat()
      // The daemon's own group (the unit's `Group=`) needs no chown, which the shipped
      // unit's system call filter forbids.
      let owned = group != nil && stat(binding, &status) == 0 && status.st_gid == group!
      guard let group, owned || chown(binding, uid_t.max, group) == 0 else {
        let failed = errno
        let reason =
          group == nil
          ? "no such group"
          : String(cString: strerror(failed))
            + (failed == EPERM
              ? " (a group other than the daemon's own: under the shipped unit, whose system call filter "
                + "forbids chown, use the unit's Group= instead; see docs/install.md)" : "")
        throw abandon(
          listener,
          StartFailure(
            description: "cannot give the socket to the group \(configuration.socket.group) (socket.group): \(reason)"))
      }
    }
    guard chmod(binding, mode_t(configuration.socket.mode)) == 0 else {
      let reason = String(cString: strerror(errno))
      throw abandon(listener, StartFailure(description: "cannot set the mode of \(configuration.socket.path): \(reason)"))
    }
    // Bound at its hidden name, which no client is told of (and which accepts nothing
    // yet): a start that cannot make its socket has recorded nothing.
    if binding != configuration.socket.path {
      do {
        try writeFirstRecord()
      } catch {
        throw abandon(listener, StartFailure(description: "\(error)"))
      }
    }
    // A link, not a rename: it fails rather than replace a socket another daemon bound
    // at the path since the stale-socket check.
    if binding != configuration.socket.path {
      let linked = link(binding, configuration.socket.path)
      let reason = String(cString: strerror(errno))
      unlink(binding)
      guard linked == 0 else {
        try? listener.close().wait()
        try? connectionLoops.syncShutdownGracefully()
        try? writerLoop.syncShutdownGracefully()
        throw StartFailure(description: "cannot put the socket at \(configuration.socket.path): \(reason)")
      }
    }
    // Connections are accepted from now on, after the first record: none was taken before
    // (one that came to the hidden name waited in the backlog), so every report comes after it.
    do {
      try listener.setOption(ChannelOptions.autoRead, value: true).wait()
    } catch {
      unlink(configuration.socket.path)
      try? listener.close().wait()
      throw failStart(error)
    }
    SystemdNotifier.ready()
    if let alertIndex, let indexSources {
      Thread.detachNewThread {
        let started = Date()
        AlertIndexLoader.build(indexSources, lastSeq: loggedBefore, into: alertIndex)
        // The build's transient records come from this thread's own malloc arena, which glibc
        // keeps after they are freed, among the index's chunks. Measured on a restart after
        // 2 million reports: RSS 2,924 MiB after the build, 855 MiB once trimmed.
        _ = releaseFreedHeap(0)
        let took = (Date().timeIntervalSince(started) * 10).rounded() / 10
        let held = alertIndex.snapshot().held
        log("console index built: \(held) alert record\(held == 1 ? "" : "s") in \(took) s")
      }
    }
    return Daemon(
      responder: responder, alertIndex: alertIndex, connectionLoops: connectionLoops, writerLoop: writerLoop,
      listener: listener, socketPath: configuration.socket.path, lockDescriptor: lock, connections: connections)
  }

  /// A runner for each enabled source, from its settings; a wrong setting stops the start.
  private static func runners(
    configuration: DaemonConfiguration, plugins: PluginRegistry, log: @escaping DaemonEventLog,
    recorder: @escaping @Sendable ([UInt8]) -> ReportVerdict
  ) throws(StartFailure) -> [SourceRunner] {
    var runners: [SourceRunner] = []
    for source in plugins.reportSources(for: configuration) {
      let settings = configuration.plugins.first { $0.name == source.name }?.settings ?? .mapping([])
      do {
        runners.append(
          SourceRunner(name: source.name, feed: try source.feed(settings: settings), recorder: recorder, log: log))
      } catch {
        throw StartFailure(description: "plugins.\(source.name): \(error)")
      }
    }
    return runners
  }

  /// A delivery for each enabled sink, from its settings; a wrong setting stops the start.
  private static func deliveries(
    configuration: DaemonConfiguration, plugins: PluginRegistry, alertLog: AlertLog, journal: Journal,
    log: @escaping DaemonEventLog
  ) throws(StartFailure) -> [SinkDelivery] {
    var deliveries: [SinkDelivery] = []
    for sink in plugins.alertSinks(for: configuration) {
      let settings = configuration.plugins.first { $0.name == sink.name }?.settings ?? .mapping([])
      do {
        let (filter, rest) = try SinkOptions.split(settings)
        deliveries.append(
          try SinkDelivery(
            name: sink.name, destination: try sink.destination(settings: rest, node: configuration.node),
            takesVigilRecords: sink.takesVigilRecords, filter: filter, stateDirectory: configuration.stateDirectory,
            alertLog: alertLog.path, keep: configuration.alerts.keep, logged: alertLog.lastSeq,
            journal: (journal.path, journal.mark), log: log))
      } catch {
        throw StartFailure(description: "plugins.\(sink.name): \(error)")
      }
    }
    return deliveries
  }

  private init(
    responder: RequestResponder, alertIndex: AlertIndex?, connectionLoops: MultiThreadedEventLoopGroup, writerLoop: MultiThreadedEventLoopGroup,
    listener: Channel, socketPath: String, lockDescriptor: Int32, connections: ConnectionRegistry
  ) {
    self.responder = responder
    self.alertIndex = alertIndex
    self.connectionLoops = connectionLoops
    self.writerLoop = writerLoop
    self.listener = listener
    self.socketPath = socketPath
    self.lockDescriptor = lockDescriptor
    self.connections = connections
    var status = stat()
    socketIdentity = lstat(socketPath, &status) == 0 ? (status.st_dev, status.st_ino) : nil
  }

  // MARK: The parts vigild starts and stops (Sources/vigild/Vigild.swift, in that order)

  /// The sinks' deliveries, each on a thread of its own.
  public func startSinks() {
    for sink in responder.sinks { sink.start() }
  }

  /// Stops the sinks after the batch each has in hand: what a sink has not taken yet stays
  /// in the log for the next start. Last of all, with the writer stopped.
  public func stopSinks() {
    for sink in responder.sinks where !sink.stop() {
      responder.log(
        .warning(
          "sink \(sink.name) did not finish its delivery within \(SinkDelivery.stopSeconds) s of being told to stop; "
            + "its batch comes again at the next start"))
    }
  }

  /// The sources' feeds, each on a thread of its own.
  public func startSources() {
    for source in responder.sources { source.start() }
  }

  /// Tells each source to stop and gives it a while to return, the writer still running,
  /// so a report it is submitting is recorded and answered, not cut off.
  /// Commits what is held back for a sink's `max_lag`, and holds nothing from now on:
  /// vigild is stopping (said as soon as the signal is taken, and again by each part that
  /// stops).
  public func endHolding() {
    _ = try? responder.writer.endHolding().wait()
  }

  public func stopSources() {
    endHolding()
    for source in responder.sources { source.stop() }
    // One deadline for all of them.
    let deadline = Date().addingTimeInterval(Self.sourceStopSeconds)
    for source in responder.sources where !source.waitUntilStopped(within: max(0, deadline.timeIntervalSinceNow)) {
      responder.log(
        "source \(source.name) did not return within \(Self.sourceStopSeconds) s of being told to stop; stopping without it")
    }
  }

  /// Stops accepting, answers what each connection has read, closes the connections, and
  /// stops the writer once the sources' last reports are answered.
  public func stopServing() {
    try? listener.close().wait()
    endHolding()
    // A connection accepted just before the close is set up on its own loop (with more
    // than one connection thread): a turn of each loop lets that end, so it is registered
    // and finished below like the others (or, set up after the close, closed by NIO).
    for loop in connectionLoops.makeIterator() { try? loop.submit {}.wait() }
    let open = connections.all
    let finishing = open.map { channel, handler in channel.eventLoop.submit { handler.finish(channel) } }
    // Every burst read is with the writer once each `finish` has run; the connections'
    // closes are waited for only after the subscribers are told to end too, so the grace of
    // a client that does not read and that of a subscriber that does not read run at once.
    var subscribers: [(Channel, ConnectionHandler)] = []
    for ((channel, handler), streams) in zip(open, finishing) where (try? streams.wait()) == true {
      subscribers.append((channel, handler))
    }
    // A connection gone while its `parked` was read still gets its promise kept, and a
    // reload under way ends.
    responder.finishAnswersOffTheLoops()
    // Reports read as their clients left are still being recorded, and their answers (and a
    // reload's) hop back to the connections' loops. An empty commit after them (the writer
    // answers in order) makes sure those hops are queued before the loops stop, not after;
    // and the records of those reports are handed to the subscribers' streams before them.
    _ = try? responder.writer.record([]).wait()
    // Each subscriber is sent every record written until now (those of the reports answered
    // above included), then closed: a stream that stopped at the first close lost the
    // records of the last commits (audit 40).
    for (channel, handler) in subscribers {
      channel.eventLoop.execute { handler.endStream(channel) }
    }
    for (channel, _) in open {
      try? channel.closeFuture.wait()
    }
    try? connectionLoops.syncShutdownGracefully()
    responder.closeToSources()
    try? writerLoop.syncShutdownGracefully()
  }

  /// Removes the socket file and lets go of the state directory: the very last step, when
  /// nothing writes there any more (a sink's cursor included).
  public func release() {
    responder.keepDefinitionsIfOwed()
    // Only the socket this daemon bound: one another daemon put at the path since (after
    // someone removed this one's) is that daemon's, and stays.
    var status = stat()
    if let socketIdentity, lstat(socketPath, &status) == 0, status.st_dev == socketIdentity.device,
      status.st_ino == socketIdentity.inode
    {
      unlink(socketPath)
    }
    Self.unlockStateDirectory(lockDescriptor)
  }

  // MARK: Start-up checks

  /// The configuration with `limits.max_connections` lowered where the limit on open
  /// files leaves room for fewer connections, which is said as a warning; the soft limit
  /// is raised first as far as they need (DescriptorBudget). Refused when no connection fits.
  private static func connectionsThatFit(_ configuration: DaemonConfiguration, log: DaemonEventLog)
    throws(StartFailure) -> DaemonConfiguration
  {
    guard let limits = DescriptorBudget.openFileLimits() else { return configuration }
    let configured = configuration.limits.maxConnections
    let console = configuration.http.listen == nil ? 0 : configuration.http.maxConnections
    let open = DescriptorBudget.openNow()
    var allowed = limits.soft
    let needed = DescriptorBudget.needed(connections: configured, console: console, open: open)
    if needed > allowed, DescriptorBudget.setSoftLimit(min(needed, limits.hard)) { allowed = min(needed, limits.hard) }
    guard
      let fitting = DescriptorBudget.fittingConnections(
        configured: configured, console: console, open: open, limit: allowed)
    else { return configuration }
    let which = allowed == limits.hard ? "its hard limit, ulimit -Hn" : "ulimit -n"
    let consoleShare = console == 0 ? "" : " and \(console) for the console (http.max_connections)"
    let budget =
      "vigild may open at most \(allowed) files (\(which)), \(open) of them in use and \(DescriptorBudget.reserve) "
      + "kept for its own\(consoleShare)"
    guard fitting >= 1 else {
      throw StartFailure(
        description: "\(budget): no connection fits; raise the limit (LimitNOFILE= in a systemd unit)"
          + (console == 0 ? "" : " or lower http.max_connections"))
    }
    log(
      .warning(
        "limits.max_connections is \(configured), but \(budget): it takes \(fitting) "
          + "connection\(fitting == 1 ? "" : "s") at once and tells the next `overloaded`; raise the limit "
          + "(LimitNOFILE= in a systemd unit) or lower max_connections"))
    var adjusted = configuration
    adjusted.limits.maxConnections = fitting
    return adjusted
  }

  private static func parent(_ path: String) -> String {
    let parent = FolderPath.of(path)
    return parent.isEmpty ? "." : parent
  }

  /// A second daemon on the same state directory would interleave the files.
  /// The lock is the file's and the directory's own: a lock file deleted while a daemon
  /// runs (taken for a leftover: it stays after a clean stop) let a second daemon lock a
  /// new one and interleave the journal and the alert head; the directory cannot be deleted
  /// under it. (Where the file system cannot lock a directory, the file's lock stands alone.)
  private static func lockStateDirectory(_ state: String) throws(StartFailure) -> Int32 {
    let path = state + "/vigild.lock"
    let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
    guard descriptor >= 0 else {
      throw StartFailure(description: "cannot open the lock file \(path): \(String(cString: strerror(errno)))")
    }
    guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
      close(descriptor)
      throw StartFailure(description: "another vigild is running on the state directory \(state) (\(path) is locked)")
    }
    let directory = open(state, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    if directory >= 0 {
      if flock(directory, LOCK_EX | LOCK_NB) != 0, errno == EWOULDBLOCK {
        close(directory)
        close(descriptor)
        throw StartFailure(
          description: "another vigild is running on the state directory \(state) (it holds the directory's lock; "
            + "was its \(path) removed?)")
      }
      // Held for the daemon's life, released with the file's as it stops.
      directoryLocks.withLockedValue { $0[descriptor] = directory }
    }
    return descriptor
  }

  /// The directory's lock that goes with each lock file's descriptor.
  private static let directoryLocks = NIOLockedValueBox<[Int32: Int32]>([:])

  /// Releases both locks of a state directory.
  private static func unlockStateDirectory(_ descriptor: Int32) {
    if let directory = directoryLocks.withLockedValue({ $0.removeValue(forKey: descriptor) }) { close(directory) }
    close(descriptor)
  }

  /// Where the socket is bound before it is set up and linked at `path`: a hidden name in
  /// the same directory, or `path` itself when that name would pass the 107 bytes a
  /// socket path may have.
  private static func bindingPath(for path: String) -> String {
    let directory = FolderPath.of(path)
    let hidden = (directory.isEmpty ? "" : directory + "/") + ".vigild-\(getpid()).sock"
    return hidden.utf8.count <= 107 ? hidden : path
  }

  /// A socket file a daemon still answers on is refused; one nobody answers on is stale.
  private static func replaceStaleSocket(_ path: String) throws(StartFailure) {
    // A path cut to fit would probe (and unlink) another socket than the one asked for.
    if let problem = UnixSocket.problem(withPath: path) { throw StartFailure(description: "socket.path \(path): \(problem)") }
    var status = stat()
    guard lstat(path, &status) == 0 else { return }
    guard status.st_mode & S_IFMT == S_IFSOCK else {
      throw StartFailure(description: "\(path) exists and is not a socket")
    }
    // Non-blocking: a daemon alive but not accepting (its backlog full) answers EAGAIN at
    // once, where a blocking probe would wait for it.
    let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    guard descriptor >= 0 else {
      throw StartFailure(description: "cannot probe \(path) for a daemon: \(String(cString: strerror(errno)))")
    }
    defer { close(descriptor) }
    guard UnixSocket.connect(descriptor, to: path) != 0 else {
      throw StartFailure(description: "another daemon answers on \(path)")
    }
    // Only a socket nobody listens on is stale. A full backlog (EAGAIN) is a daemon too
    // busy to accept; a permission error says nothing either way: neither is taken over.
    switch errno {
    case ECONNREFUSED: unlink(path)
    case ENOENT: return  // gone since (a daemon stopping removes its socket)
    case EAGAIN: throw StartFailure(description: "another daemon answers on \(path) (its backlog is full)")
    case let code:
      throw StartFailure(description: "cannot tell whether a daemon answers on \(path): \(String(cString: strerror(code)))")
    }
  }
}

/// The open connections, so shutdown can let each finish.
final class ConnectionRegistry: Sendable {
  private let open = NIOLockedValueBox<[ObjectIdentifier: (Channel, ConnectionHandler)]>([:])

  /// Adds one; gives how many are open now.
  func add(_ channel: Channel, _ handler: ConnectionHandler) -> Int {
    open.withLockedValue { open in
      open[ObjectIdentifier(channel)] = (channel, handler)
      return open.count
    }
  }

  func remove(_ channel: Channel) {
    _ = open.withLockedValue { $0.removeValue(forKey: ObjectIdentifier(channel)) }
  }

  var all: [(Channel, ConnectionHandler)] { open.withLockedValue { Array($0.values) } }
}

/// glibc's `malloc_trim` (in `malloc.h`, which the Glibc module does not export): gives the
/// free memory at the top of the heap and inside every arena back to the system.
@_silgen_name("malloc_trim")
private func releaseFreedHeap(_ pad: Int) -> Int32
