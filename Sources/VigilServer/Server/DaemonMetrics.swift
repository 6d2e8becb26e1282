import NIOConcurrencyHelpers
import Prometheus
import VigilCore

/// The daemon's Prometheus metrics (docs/console.md, "Metrics"), which the console serves at
/// `/metrics`. Counters move where the event happens (a lock-free or one-lock step each);
/// gauges of state — connections, subscribers, sink lag — are read when a scrape asks, so
/// the request path never waits for the console.
public final class DaemonMetrics: Sendable {
  public let registry = PrometheusCollectorRegistry()
  private let accepted: Counter
  private let duplicates: Counter
  private let refusedByCode = NIOLockedValueBox<[String: Counter]>([:])
  private let alertsByRule = NIOLockedValueBox(AlertCounters())
  private let reloads: (ok: Counter, rejected: Counter)
  private let ruleSetInfo = NIOLockedValueBox<Gauge?>(nil)
  private let roundTrip: DurationHistogram
  private let gauges = NIOLockedValueBox<[String: Gauge]>([:])
  private let consoleRefusals: Counter

  public init() {
    accepted = registry.makeCounter(
      descriptor: Self.described("vigil_reports_accepted_total", "Reports recorded in the journal."), labels: [])
    duplicates = registry.makeCounter(
      descriptor: Self.described(
        "vigil_reports_duplicate_total",
        "Reports answered as duplicates of one recorded before (same id, same content)."), labels: [])
    reloads = (
      registry.makeCounter(
        descriptor: Self.described("vigil_reloads_total", "Rule-set loads and reloads, by outcome."),
        labels: [("outcome", "ok")]),
      registry.makeCounter(
        descriptor: Self.described("vigil_reloads_total", "Rule-set loads and reloads, by outcome."),
        labels: [("outcome", "rejected")])
    )
    roundTrip = registry.makeDurationHistogram(
      descriptor: Self.described(
        "vigil_request_duration_seconds",
        "Round trip of a request on the socket: from the read burst that brought its line to its response handed to the socket."),
      labels: [],
      buckets: [
        .microseconds(50), .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1),
        .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(100),
        .milliseconds(250), .seconds(1), .seconds(5),
      ])
    consoleRefusals = registry.makeCounter(
      descriptor: Self.described(
        "vigil_console_connections_refused_total",
        "Console connections closed as they came: http.max_connections were open."), labels: [])
    for code in RequestError.Code.allCases { _ = refusedCounter(code.rawValue) }
  }

  /// A console connection closed as it came, one past `http.max_connections`.
  public func consoleConnectionRefused() { consoleRefusals.increment() }

  func reportsAccepted(_ count: Int) { accepted.increment(by: Int64(count)) }
  func reportDuplicate() { duplicates.increment() }
  func reportRefused(_ code: String) { refusedCounter(code).increment() }

  private func refusedCounter(_ code: String) -> Counter {
    refusedByCode.withLockedValue { counters in
      if let counter = counters[code] { return counter }
      let counter = registry.makeCounter(
        descriptor: Self.described(
          "vigil_reports_refused_total",
          "Error answers, by code: requests refused, and connections told they are one too many."),
        labels: [("code", code)])
      counters[code] = counter
      return counter
    }
  }

  /// Alert records written to the log (a commit's): one lock for all of them, and no
  /// string made to find a rule's counter; a record of a compiled rule finds it by its
  /// rule's number, without hashing the id.
  func alerts(_ records: [AlertRecord]) {
    alertsByRule.withLockedValue { counters in
      for index in records.indices {
        let slot = AlertCounters.slot(records[index].ruleNumber, records[index].priority)
        if let slot, slot < counters.byNumber.count, let counter = counters.byNumber[slot] {
          counter.increment()
          continue
        }
        let key = RuleAndPriority(rule: records[index].rule, priority: records[index].priority)
        let counter =
          counters.byRule[key]
          ?? registry.makeCounter(
            descriptor: Self.described(
              "vigil_alerts_total", "Alert records written to the alert log, by rule and priority."),
            labels: [("rule", key.rule), ("priority", key.priority.rawValue)])
        counters.byRule[key] = counter
        if let slot { counters.byNumber.store(counter, at: slot, padding: nil) }
        counter.increment()
      }
    }
  }

  /// Each rule's and priority's counter of `vigil_alerts_total`, by both, and by the rule's
  /// number (RuleNumbers) and the priority's rank.
  private struct AlertCounters {
    var byRule: [RuleAndPriority: Counter] = [:]
    var byNumber: [Counter?] = []

    static func slot(_ ruleNumber: UInt32, _ priority: Priority) -> Int? {
      ruleNumber == 0 ? nil : Int(ruleNumber) * Priority.allCases.count + priority.rank
    }
  }

  private struct RuleAndPriority: Hashable {
    let rule: String
    let priority: Priority

    // The priority by its rank: a raw-value enum hashes its raw text, a second string
    // hashed for every alert.
    func hash(into hasher: inout Hasher) {
      hasher.combine(rule)
      hasher.combine(priority.rank)
    }
  }

  func reload(ok: Bool) { (ok ? reloads.ok : reloads.rejected).increment() }

  /// The active rule set, as the `revision` label of `vigil_ruleset_info` (value 1).
  func ruleSetLoaded(revision: String) {
    ruleSetInfo.withLockedValue { gauge in
      if let gauge { registry.unregisterGauge(gauge) }
      let info = registry.makeGauge(
        descriptor: Self.described("vigil_ruleset_info", "The active rule set (value 1)."),
        labels: [("revision", revision)])
      info.set(Double(1))
      gauge = info
    }
  }

  func requestAnswered(nanoseconds: Int64) { roundTrip.recordNanoseconds(nanoseconds) }

  /// Sets a gauge of state, read at scrape time.
  public func set(_ name: String, labels: [(String, String)] = [], help: String, to value: Double) {
    let key = name + labels.map { "|\($0.0)=\($0.1)" }.joined()
    let gauge = gauges.withLockedValue { gauges in
      if let gauge = gauges[key] { return gauge }
      let gauge = registry.makeGauge(descriptor: Self.described(name, help), labels: labels)
      gauges[key] = gauge
      return gauge
    }
    gauge.set(Double(value))
  }

  private static func described(_ name: String, _ help: String) -> MetricNameDescriptor {
    MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
  }

  /// The text of a scrape.
  public func exposition() -> [UInt8] { registry.emitToBuffer() }
}
