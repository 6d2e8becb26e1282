/// Something a build links in from its folder `Plugins/<Name>/` (docs/plugins.md), which
/// the configuration enables by name (`plugins: {designations: {}}`). What it does are the
/// roles it adopts: `RulePlugin` (item kinds and functions for rule files), `AlertSink`
/// (every alert record). The engine knows no domain: designated groups, named places and
/// the like come in through these protocols.
public protocol VigilPlugin: Sendable {
  /// The name the configuration enables it by.
  var name: String { get }
  /// Whether it reads settings under its name; one that does not has any setting given it
  /// refused at start, as an unknown key. Default yes: such a plugin checks its own.
  var takesSettings: Bool { get }
  /// Whether a configuration that names no plugins enables it. Default no.
  var enabledByDefault: Bool { get }
}

extension VigilPlugin {
  public var takesSettings: Bool { true }
  public var enabledByDefault: Bool { false }
}

/// A plugin that adds to the rule language.
public protocol RulePlugin: VigilPlugin {
  /// The keys that introduce this plugin's items in rule files (`- designation: isil`).
  var itemKinds: [String] { get }
  /// Reads the plugin's items of one rule set and gives the functions conditions may call,
  /// or every problem found, each at its place.
  func prepare(items: [RuleNode], settings: ConfigurationValue) -> Result<[ConditionFunction], RuleSetErrors>
}

/// A rule plugin whose items name what another plugin's items define: a control entry's
/// holders are designated groups or not as the designations say. Once every plugin has read
/// its items without error, it checks its own against the functions the set then has and
/// the other plugins' items (a plugin it needs being off, it finds none of them, and checks
/// nothing).
public protocol CrossCheckedRulePlugin: RulePlugin {
  /// The problems in `items` (the plugin's own) that the set's `functions` and the items of
  /// the other plugins (`others`, by item kind) show.
  func check(items: [RuleNode], against functions: [ConditionFunction], others: [String: [RuleNode]]) -> [RuleError]
}

/// A plugin that takes every alert record (docs/plugins.md, "Sinks"). Vigil owns the
/// delivery: it reads the records forward from the alert log itself, from a cursor kept in
/// the state directory, hands them to the sink's destination in `seq` order on a thread of
/// the sink's own, and retries a batch that failed with back-off — so a sink never slows
/// ingestion, and catches up after an outage or a restart.
public protocol AlertSink: VigilPlugin {
  /// Checks the sink's settings (at start) and gives where its alerts go. A problem is
  /// one sentence naming the setting; it stops vigild at start. An unreachable
  /// destination is not a problem here: deliveries fail, and are retried. `node` is this
  /// daemon's name among several that share a destination (vigild.yaml's `node`, by
  /// default the host name): a shared store keys records by (node, seq).
  func destination(settings: ConfigurationValue, node: String) throws(PluginSettingsError) -> any AlertDestination
  /// Whether it also takes Vigil's own records (`vigil.ruleset_loaded`, …); default no.
  var takesVigilRecords: Bool { get }
}

extension AlertSink {
  public var takesVigilRecords: Bool { false }

  /// Checks the settings as `destination` does, for `vigil rules lint` on the configured
  /// set, and makes nothing that must be shut down. By default, a destination is made and
  /// dropped: a sink whose destination holds a client or a thread overrides this.
  public func checkSettings(_ settings: ConfigurationValue, node: String) throws(PluginSettingsError) {
    _ = try destination(settings: settings, node: node)
  }
}

/// Where a sink's alerts go (and its reports, if it takes them).
public protocol AlertDestination: Sendable {
  /// Delivers a batch, in `seq` order; throws to have the whole batch retried later. It
  /// runs on the sink's own thread and may take its time; a batch may come again after a
  /// failure or a restart (at-least-once), so a destination that must not hold duplicates
  /// keys what it stores by `seq`. Three errors say more: `RetryLater` (the destination
  /// asked for a pause), `RefusedRecords` (the rest was delivered; these never will be) and
  /// `PartlyDelivered` (the batch went up to a record; the rest is to be tried again).
  func deliver(_ alerts: [RecordedAlert]) throws
  /// Whether it also takes every report as the journal holds it (docs/plugins.md,
  /// "Reports for sinks"); default no.
  var takesReports: Bool { get }
  /// Delivers a batch of journalled reports, in the journal's order, on the same thread
  /// and with the same retries as alerts; a report's batch comes before its alerts'. At
  /// least once: a destination keys what it stores by the report's `id`, and throws
  /// `ConflictingReports` for ids it holds with other content.
  func deliver(reports: [JournalledReport]) throws
  /// vigild is stopping: give up what is under way soon (a delivery in hand may fail; it
  /// comes again at the next start). Called from another thread than `deliver`'s; default
  /// nothing.
  func stop()
  /// The most records one call to `deliver` should be given, for a destination that sends
  /// them a few at a time (the webhook, `batch` to a request): Vigil hands each batch over in
  /// parts of this size and moves the cursor after each, so that a slow destination's
  /// progress is kept across a restart and shown in `status` as it goes. Default nil: the
  /// whole batch in one call.
  var recordsPerDelivery: Int? { get }
}

extension AlertDestination {
  public var recordsPerDelivery: Int? { nil }
  public var takesReports: Bool { false }
  public func deliver(reports: [JournalledReport]) throws {}
  public func stop() {}
}

/// One report as the journal holds it.
public struct JournalledReport: Sendable, Equatable {
  /// The journal's line, exactly as written (without its newline):
  /// `{"received_at":"<RFC 3339 UTC, ms>","report":{…}}`.
  public let line: String

  public init(line: String) {
    self.line = line
  }
}

/// One alert record as the alert log holds it.
public struct RecordedAlert: Sendable, Equatable {
  public let seq: UInt64
  /// The record's line, exactly as written (without its newline): the bytes the hash
  /// chain covers.
  public let line: String

  public init(seq: UInt64, line: String) {
    self.seq = seq
    self.line = line
  }
}

/// Thrown by `AlertDestination.deliver` when the batch went, but for some records the
/// destination said no for good — a retry would get the same answer (an HTTP 400), or the
/// destination already holds another record under the same key (a conflict: one of the
/// two copies was rewritten). Vigil parks each such record (docs/plugins.md, "Parked
/// records"), says so in `status` and the error log, and goes on with the next ones;
/// `vigil sinks resend` offers them again. A conflict also raises a `vigil.sink_conflict`
/// record in the alert log.
public struct RefusedRecords: Error, CustomStringConvertible {
  public struct Refusal: Sendable, Equatable {
    public let seq: UInt64
    /// One sentence: what the destination answered.
    public let reason: String
    /// The destination holds a different record under this one's key.
    public let conflict: Bool

    public init(seq: UInt64, reason: String, conflict: Bool = false) {
      self.seq = seq
      self.reason = reason
      self.conflict = conflict
    }
  }

  public let refusals: [Refusal]

  public init(_ refusals: [Refusal]) {
    self.refusals = refusals
  }

  public var description: String {
    refusals.map { "seq \($0.seq): \($0.reason)" }.joined(separator: "; ")
  }
}

/// Thrown by `AlertDestination.deliver` when the first part of the batch went and the rest
/// is to be tried again: every record up to `through` was taken (or refused for good:
/// `refusals`, which Vigil parks), and `cause` says why the rest was not (a `RetryLater`,
/// or any error). Vigil moves the sink's cursor to `through` before it waits: a receiver
/// that fails one request in twenty still gets every record, each about once, where the
/// whole batch sent again from its start got the same first records again and again.
public struct PartlyDelivered: Error, CustomStringConvertible {
  public let through: UInt64
  public let refusals: [RefusedRecords.Refusal]
  public let cause: any Error

  public init(through: UInt64, refusals: [RefusedRecords.Refusal], cause: any Error) {
    self.through = through
    self.refusals = refusals
    self.cause = cause
  }

  public var description: String { "\(cause)" }
}

/// Thrown by `AlertDestination.deliver(reports:)` when the batch went, but the destination
/// already holds other content under some of its report ids (a node's state started
/// afresh and an id came again with other content, or a stored row was rewritten). The
/// stored rows stand; Vigil says each loudly — the error log, `status`'s conflicts, a
/// `vigil.sink_conflict` record — and goes on with the next reports.
public struct ConflictingReports: Error, CustomStringConvertible {
  public struct Conflict: Sendable, Equatable {
    public let reportID: String
    /// One sentence: what the destination holds against what was offered.
    public let reason: String

    public init(reportID: String, reason: String) {
      self.reportID = reportID
      self.reason = reason
    }
  }

  public let conflicts: [Conflict]

  public init(_ conflicts: [Conflict]) {
    self.conflicts = conflicts
  }

  public var description: String {
    conflicts.map { "report \($0.reportID): \($0.reason)" }.joined(separator: "; ")
  }
}

/// Thrown by `AlertDestination.deliver` when the destination asked to be left alone for a
/// while (HTTP 429 or 503 with `Retry-After`): the batch is retried after `seconds`, or
/// after the usual back-off if that is longer.
public struct RetryLater: Error, CustomStringConvertible {
  public let seconds: Double
  public let reason: String

  public init(seconds: Double, reason: String) {
    self.seconds = seconds
    self.reason = reason
  }

  /// The wait as a person reads it: whole seconds, a tenth below ten (`8.4`, not
  /// `8.42184054851532`; `100000`, not `100000.0`).
  public var description: String {
    let tenths = (min(seconds, 1e15) * 10).rounded() / 10
    let shown = tenths >= 10 || tenths == tenths.rounded() ? String(Int(tenths.rounded())) : String(format: "%.1f", tenths)
    return "\(reason) (asked to wait \(shown) s)"
  }
}

/// A plugin's setting that is missing or wrong, in one sentence naming it.
public struct PluginSettingsError: Error, CustomStringConvertible {
  public let description: String
  /// A file the settings name is there but could not be read (a secret, a password, a CA):
  /// by this process's user, which `vigil rules lint` may not share with vigild's.
  public let isAboutAFile: Bool
  /// The problems found beside this one in the same settings: all are said at once, not
  /// one per restart.
  public var also: [PluginSettingsError] = []

  public init(_ description: String, isAboutAFile: Bool = false) {
    self.description = description
    self.isAboutAFile = isAboutAFile
  }

  /// The first of `problems`, carrying the others; nil when there are none.
  public static func together(_ problems: [PluginSettingsError]) -> PluginSettingsError? {
    guard var first = problems.first else { return nil }
    first.also = Array(problems.dropFirst())
    return first
  }

  /// This problem and those found beside it.
  public var all: [PluginSettingsError] {
    var first = self
    first.also = []
    return [first] + also.flatMap(\.all)
  }
}

/// A plugin that produces reports (docs/plugins.md, "Sources"): each goes through exactly
/// the path of a report submitted on the socket — validation, duplicates and conflicts,
/// the journal, the rules, the alerts — and the source learns its verdict.
public protocol ReportSource: VigilPlugin {
  /// Checks the source's settings (at start) and gives what feeds its reports. A problem
  /// stops vigild at start; one met while running (a folder that cannot be read) is for
  /// `SourceContext.problem`, shown in `status`.
  func feed(settings: ConfigurationValue) throws(PluginSettingsError) -> any ReportFeed
  /// The folders, from its settings, out of which the source moves or removes what it
  /// takes: vigild refuses to start when one holds its own state directory, alert log,
  /// socket or rule directories. Default none.
  func foldersItEmpties(settings: ConfigurationValue) -> [String]
}

extension ReportSource {
  public func foldersItEmpties(settings: ConfigurationValue) -> [String] { [] }
}

/// What a source runs: on a thread of its own, from vigild's start until it stops.
public protocol ReportFeed: Sendable {
  /// Gives reports to `context.submit` until `context.isStopping`, then returns.
  func run(_ context: any SourceContext)
}

/// What vigild offers a running source.
public protocol SourceContext: Sendable {
  /// Records one report — a JSON object, as a line on the socket would carry it — and
  /// answers once it is durably recorded, known already, or refused.
  func submit(_ report: [UInt8]) -> ReportVerdict
  /// Whether vigild is stopping: return from `run` soon.
  var isStopping: Bool { get }
  /// Waits up to `seconds`, less if vigild starts stopping.
  func pause(_ seconds: Double)
  /// A problem the source meets (one sentence), shown in `status` until cleared with nil.
  func problem(_ description: String?)
  /// An item the source could not make a report of (a row its mapping refuses, a line
  /// that is not JSON): counted with the refused reports in `status`.
  func refusedBeforeSubmit()
  /// Something the source's user should hear of that is no problem of the source's (a
  /// file that is one page of a paged export): written to vigild's log as a warning.
  func warn(_ message: String)
}

extension SourceContext {
  /// Sources written before `warn` existed say nothing.
  public func warn(_ message: String) {}
}

/// What became of a report a source gave.
public enum ReportVerdict: Sendable, Equatable {
  /// Recorded, with the alerts it raised.
  case accepted(reportID: String, alerts: Int)
  /// Recorded before (the same id and content): nothing new was written.
  case duplicate(reportID: String)
  /// Not recorded: the error code and sentence a socket client would get.
  case refused(code: String, message: String)
}

/// A sink whose destination keeps the records it took and can give them back, so that
/// `vigil verify --sink NAME` checks a node's chain from them alone.
public protocol StoredRecordsSink: AlertSink {
  /// Hands each record of `node` the destination holds, in `seq` order, to `take` (false:
  /// stop). Throws one sentence when the store cannot be read.
  func readStoredRecords(
    settings: ConfigurationValue, node: String, _ take: @escaping @Sendable (StoredRecord) -> Bool
  ) throws
}

/// A record as a destination holds it: its `seq`, its alert-log line (the bytes its hash
/// covers), and what else the destination keeps of it that disagrees with that line (a
/// column edited alone), if anything.
public struct StoredRecord: Sendable {
  public let seq: UInt64
  /// The record's key as the destination writes it, for naming it: its `seq`, unless the
  /// destination's column holds what no seq is (a row under -1).
  public let key: String
  public let line: String
  public let disagreement: String?

  public init(seq: UInt64, key: String? = nil, line: String, disagreement: String?) {
    self.seq = seq
    self.key = key ?? String(seq)
    self.line = line
    self.disagreement = disagreement
  }
}
