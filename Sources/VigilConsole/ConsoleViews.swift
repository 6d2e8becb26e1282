import Foundation
import VigilCore
import VigilServer

/// What the console shows, as HTML pages and as JSON (docs/console.md). Everything comes
/// from the index's snapshot, the daemon's state and, for an alert's report, one read of
/// the journal at the line the index points to.
struct ConsoleViews: Sendable {
  let daemon: RequestResponder
  let index: AlertIndex
  let stateDirectory: String
  let directions: MessageDirections

  // MARK: Regions

  func regionName(_ key: String?) -> String? {
    guard let key else { return nil }
    return index.atlas?.regions.first { $0.key == key }?.name ?? key
  }

  /// A record's line with its region, and the direction its message runs (its rule's
  /// words': `MessageDirections`; null when no rule of the set in force says), before its
  /// members, for the API and the live list.
  static func withRegion(_ alert: IndexedAlert, direction: WritingDirection?) -> String {
    let region = alert.place.map { key in
      "{\"region\":\(JSONText.string(alert.placeName ?? key)),\"region_key\":\(JSONText.string(key)),"
    }
    let runs = "\"message_direction\":\(direction.map { "\"\($0.rawValue)\"" } ?? "null"),"
    let line = String(alert.bareLine)
    guard let region else { return "{\"region\":null,\"region_key\":null," + runs + line.dropFirst() }
    return region + runs + line.dropFirst()
  }

  // MARK: Overview

  struct Overview {
    let counts: AlertIndex.Counts
    let period: OverviewPeriod
    let perDay: [(day: Int, count: Int)]
    let thisWeek: Int
    let lastWeek: Int
    let topRules: [(rule: String, count: Int)]
    let regions: [(region: RegionAtlas.Region?, key: String, count: Int)]
    let points: [(seq: UInt64, lat: Float, lon: Float, priority: Priority)]
    let building: Bool
  }

  func overview(period: OverviewPeriod) -> Overview {
    let snapshot = index.snapshot()
    let counts = snapshot.counts
    let perDay = period.days.map { day in (day, counts.byDay[day]?.values.reduce(0, +) ?? 0) }
    func total(_ days: ClosedRange<Int>) -> Int { days.reduce(0) { $0 + (counts.byDay[$1]?.values.reduce(0, +) ?? 0) } }
    let topRules = counts.byRule.sorted { ($1.value, $0.key) < ($0.value, $1.key) }.prefix(10).map {
      ($0.key, $0.value)
    }
    var regions: [(RegionAtlas.Region?, String, Int)] =
      (index.atlas?.regions ?? []).map { ($0, $0.key, counts.byPlace[$0.key] ?? 0) }
    let known = Set(regions.map(\.1))
    regions += counts.byPlace.filter { !known.contains($0.key) }.sorted { $0.key < $1.key }.map {
      (nil, $0.key, $0.value)
    }
    var points: [(UInt64, Float, Float, Priority)] = []
    snapshot.newestEntries { entry in
      if !entry.lat.isNaN, !entry.lon.isNaN { points.append((entry.seq, entry.lat, entry.lon, entry.priority)) }
      return points.count < 2000
    }
    return Overview(
      counts: counts, period: period, perDay: perDay, thisWeek: total(period.lastDay - 6...period.lastDay),
      lastWeek: total(period.lastDay - 13...period.lastDay - 7), topRules: topRules, regions: regions, points: points,
      building: snapshot.building)
  }

  func overviewPage(period: OverviewPeriod) -> String {
    let view = overview(period: period)
    let cards = Priority.allCases.map { priority in
      "<div><dt>\(priority.rawValue)</dt><dd id=\"count-\(priority.rawValue)\" class=\"p-\(priority.rawValue)\">\(view.counts.byPriority[priority] ?? 0)</dd></div>"
    }.joined()
    let rules = view.topRules.map { rule, count in
      "<li data-rule=\"\(HTML.escape(rule))\"><a href=\"/alerts?rule=\(HTML.query(rule))\">\(HTML.escape(rule))</a> <span class=\"count\">\(count)</span></li>"
    }.joined()
    let regionRows = view.regions.filter { $0.count > 0 || $0.region != nil }.map { region, key, count in
      let name =
        region.map { "\(HTML.escape($0.name)) <span dir=\"rtl\" lang=\"ar\">\(HTML.escape($0.localName))</span>" }
        ?? HTML.text(key)
      return
        "<tr data-region=\"\(HTML.escape(key))\"><td><a href=\"/alerts?governorate=\(HTML.query(key))\">\(name)</a></td><td class=\"count\">\(count)</td></tr>"
    }.joined()
    let first = UTCDay.text(view.period.firstDay)
    let last = UTCDay.text(view.period.lastDay)
    let body = """
      <h1>Overview</h1>
      \(view.building ? "<p class=\"muted\">The index is still being read from the files; the counts grow until it is.</p>" : "")
      <dl class="cards" id="by-priority">\(cards)<div><dt>all alerts</dt><dd id="total-alerts">\(view.counts.total)</dd></div></dl>
      <h2>Alerts per day of incident, \(first) to \(last)</h2>
      <form id="period" method="get" action="/"><label>from<input type="date" name="from" value="\(first)"></label>
      <label>to<input type="date" name="to" value="\(last)"></label><button>Show</button></form>
      <p id="week-compare">Last 7 days of the period: <strong>\(view.thisWeek)</strong>; the 7 before: <strong>\(view.lastWeek)</strong>.</p>
      <div id="per-day">\(ConsoleCharts.perDay(view.perDay))</div>
      <div class="grid2">
      <section><h2>Alerts by \(index.atlas.map { HTML.escape(String($0.kind.dropLast())) } ?? "place"), all time</h2>
      <div id="map">\(index.atlas.map { ConsoleCharts.map($0, counts: view.counts.byPlace, points: view.points) } ?? "<p class=\"muted\">No atlas plugin is enabled: no map.</p>")</div>
      \(index.atlas.map { "<p class=\"muted\">\(HTML.escape($0.attribution))</p>" } ?? "")
      <table id="regions"><thead><tr><th>Region</th><th>Alerts</th></tr></thead><tbody>\(regionRows)</tbody></table></section>
      <section><h2>Rules that fired most, all time</h2><ol id="top-rules">\(rules)</ol></section>
      </div>
      """
    return HTML.page(title: "Overview", current: "/", node: daemon.nodeName, body: body, script: false)
  }

  func overviewJSON(period: OverviewPeriod) -> String {
    let view = overview(period: period)
    let priorities = Priority.allCases.map { "\"\($0.rawValue)\":\(view.counts.byPriority[$0] ?? 0)" }.joined(
      separator: ",")
    let days = view.perDay.map { "{\"day\":\"\(UTCDay.text($0.day))\",\"count\":\($0.count)}" }.joined(separator: ",")
    let rules = view.topRules.map { "{\"rule\":\(JSONText.string($0.rule)),\"count\":\($0.count)}" }.joined(
      separator: ",")
    let regions = view.regions.map { region, key, count in
      "{\"key\":\(JSONText.string(key)),\"name\":\(JSONText.string(region?.name ?? key)),"
        + "\"local_name\":\(region.map { JSONText.string($0.localName) } ?? "null"),\"count\":\(count)}"
    }.joined(separator: ",")
    let points = view.points.map {
      "{\"seq\":\($0.seq),\"lat\":\($0.lat),\"lon\":\($0.lon),\"priority\":\"\($0.priority.rawValue)\"}"
    }
    .joined(separator: ",")
    return
      "{\"total\":\(view.counts.total),\"by_priority\":{\(priorities)},\"from\":\"\(UTCDay.text(view.period.firstDay))\","
      + "\"to\":\"\(UTCDay.text(view.period.lastDay))\",\"per_day\":[\(days)],\"last_7_days\":\(view.thisWeek),"
      + "\"previous_7_days\":\(view.lastWeek),\"top_rules\":[\(rules)],\"regions\":[\(regions)],\"points\":[\(points)],"
      + "\"building\":\(view.building)}\n"
  }

  // MARK: Alerts

  func alertsPage(_ query: AlertQuery) -> String {
    let snapshot = index.snapshot()
    let page = snapshot.page(query)
    let rows = page.alerts.map { row($0) }.joined(separator: "\n")
    var params = AlertQueryText(query)
    let older =
      page.next.map { next -> String in
        params.before = next
        return "<a id=\"older\" href=\"/alerts?\(HTML.escape(params.text))\">Older →</a>"
      } ?? ""
    let priorities = Priority.allCases.map { priority in
      "<label><span>\(priority.rawValue)</span><input type=\"checkbox\" name=\"priority\" value=\"\(priority.rawValue)\"\(query.priorities.contains(priority) ? " checked" : "")></label>"
    }.joined()
    func value(_ text: String?) -> String { HTML.escape(text ?? "") }
    // A day as a date field; an instant within a day (a link's `until=…T12:00:00Z`) as its
    // text, which a date field would cut to the day and the next Filter would widen.
    func instantInput(_ name: String, _ ms: Int64?, dayBefore: Bool) -> String {
      guard let ms, ms % 86_400_000 != 0 else {
        let day = ms.map { UTCDay.text(AlertIndex.day(ofMilliseconds: dayBefore ? $0 - 1 : $0)) }
        return "<input type=\"date\" name=\"\(name)\" value=\"\(value(day))\">"
      }
      return "<input name=\"\(name)\" value=\"\(value(UTCTime.format(millisecondsSinceEpoch: ms)))\" size=\"24\">"
    }
    let body = """
      <h1>Alerts <span id="live-status">connecting…</span></h1>
      <form id="filters" method="get" action="/alerts">
      \(priorities)
      <label>rule<input name="rule" value="\(value(query.rules.joined(separator: ",")))" placeholder="ceasefire.*"></label>
      <label>governorate<input name="governorate" value="\(value(query.place))" placeholder="Idlib" dir="auto"></label>
      <label>since\(instantInput("since", query.sinceMs, dayBefore: false))</label>
      <label>until\(instantInput("until", query.untilMs, dayBefore: true))</label>
      <label>text<input name="q" value="\(value(query.text))" dir="auto"></label>
      <button>Filter</button> <a href="/alerts">clear</a>
      </form>
      <p class="muted" id="matched">\(page.matched) record(s) match\(snapshot.building ? " so far (the index is still being read)" : "").</p>
      <table id="alerts" class="responsive"><thead><tr><th>Incident time</th><th>Priority</th><th>Rule</th><th>Governorate</th><th>Message</th></tr></thead>
      <tbody data-newest="\(page.alerts.first?.entry.seq ?? (query.before == nil ? snapshotNewest(snapshot) : 0))">
      \(rows.isEmpty ? "" : rows)
      </tbody></table>
      \(rows.isEmpty ? "<p id=\"no-alerts\" class=\"muted\">No alert matches.</p>" : "")
      <p class="pager">\(older)</p>
      """
    return HTML.page(title: "Alerts", current: "/alerts", node: daemon.nodeName, body: body)
      .replacingOccurrences(of: "<body>", with: query.before == nil ? "<body>" : "<body data-paged=\"true\">")
  }

  private func snapshotNewest(_ snapshot: AlertIndex.Snapshot) -> UInt64 {
    var newest: UInt64 = 0
    snapshot.newestEntries { entry in
      newest = entry.seq
      return false
    }
    return newest
  }

  private func row(_ alert: IndexedAlert) -> String {
    let record = alert.record
    let priority = alert.entry.priority.rawValue
    let when = record.occurredAt ?? record.time
    return
      "<tr data-seq=\"\(alert.entry.seq)\"><td class=\"time\"><a href=\"/alerts/\(alert.entry.seq)\" title=\"\(HTML.escape(when))\">\(HTML.escape(Self.shortTime(when)))</a></td>"
      + "<td class=\"priority p-\(priority)\">\(priority)</td><td class=\"rule\">\(HTML.escape(alert.rule))</td>"
      + "<td class=\"governorate\" dir=\"auto\">\(HTML.escape(regionName(alert.place) ?? ""))</td>"
      + "<td class=\"message\" dir=\"auto\">\(HTML.isolatingRightToLeft(record.message, direction: directions.of(rule: alert.rule)))</td></tr>"
  }

  /// `2016-03-04T06:40:00+02:00` as `2016-03-04 06:40 +02:00`: the list's column stays
  /// narrow, and keeps the offset its clock is read in (the filters' days are UTC days, so a
  /// local evening may be the next day's); a UTC time (`Z`) shows none.
  static func shortTime(_ text: String) -> String {
    // RFC 3339 allows `t` and `z`, and `-00:00` is UTC too (an offset not known).
    guard text.count >= 16, text.dropFirst(10).first == "T" || text.dropFirst(10).first == "t" else { return text }
    let utc = text.hasSuffix("Z") || text.hasSuffix("z") || text.hasSuffix("+00:00") || text.hasSuffix("-00:00")
    let offset = utc ? "" : " " + String(text.suffix(6))
    return String(text.prefix(10)) + " " + String(text.dropFirst(11).prefix(5)) + offset
  }

  func alertsJSON(_ query: AlertQuery) -> String {
    let snapshot = index.snapshot()
    let page = snapshot.page(query)
    return "{\"alerts\":[\(page.alerts.map { Self.withRegion($0, direction: directions.of(rule: $0.rule)) }.joined(separator: ","))],"
      + "\"next\":\(page.next.map(String.init) ?? "null"),\"matched\":\(page.matched),\"building\":\(snapshot.building)}\n"
  }

  // MARK: One alert

  /// The chain's verdict: verified; its own hash sound but the record before it beyond the
  /// index (the oldest the console keeps: nothing wrong is known); or not verified.
  private func chainVerdict(_ chain: ChainCheck) -> String {
    if chain.verified { return "<span class=\"ok\">verified</span>" }
    if chain.hashMatches, chain.prevMatches == nil { return "<span class=\"muted\">its own hash verified</span>" }
    return "<span class=\"bad\">NOT verified</span>"
  }

  /// Links to the records before and after, those the index holds.
  private func neighbours(of seq: UInt64, in snapshot: AlertIndex.Snapshot) -> String {
    var links: [String] = []
    if seq > (snapshot.oldestSeq ?? 1) { links.append("<a href=\"/alerts/\(seq - 1)\">← previous record</a>") }
    if seq < (snapshot.newestSeq ?? seq) { links.append("<a href=\"/alerts/\(seq + 1)\">next record →</a>") }
    return links.joined(separator: " · ")
  }

  func alertPage(seq: UInt64) -> String? {
    let snapshot = index.snapshot()
    guard let alert = snapshot.alert(seq: seq) else { return nil }
    let record = alert.record
    let chain = ChainCheck(alert, snapshot: snapshot, logFiles: daemon.alertLogFiles)
    let report = JournalLookup.report(
      at: alert.entry.report, id: alert.record.reportID, stateDirectory: stateDirectory)
    let basis = record.basis.map { "<li>\(HTML.escape($0))</li>" }.joined()
    let reportBlock =
      report.map { found in
        "<p class=\"muted\">Received \(HTML.escape(found.receivedAt ?? "?")); report id \(HTML.text(record.reportID ?? ""))</p><pre dir=\"auto\">\(HTML.escape(found.pretty))</pre>"
      }
      ?? "<pre class=\"muted\">\(record.reportID == nil ? "This record has no report (a record of Vigil's own)." : "The report is not in the journal's kept files.")</pre>"
    let body = """
      <h1>Alert \(seq) <span class="p-\(alert.entry.priority.rawValue)">\(alert.entry.priority.rawValue)</span></h1>
      <p class="message" dir="auto">\(HTML.isolatingRightToLeft(record.message, direction: directions.of(rule: alert.rule)))</p>
      <dl class="cards"><div><dt>rule</dt><dd class="small">\(HTML.escape(alert.rule))</dd></div>
      <div><dt>incident time</dt><dd class="small">\(HTML.escape(record.occurredAt ?? "—"))</dd></div>
      <div><dt>raised</dt><dd class="small">\(HTML.escape(record.time))</dd></div>
      <div><dt>governorate</dt><dd class="small" dir="auto">\(HTML.escape(regionName(alert.place) ?? "—"))</dd></div></dl>
      <h2>Legal basis</h2><ul id="basis">\(basis)</ul>
      <h2>Hash chain</h2>
      <p id="chain" data-verified="\(chain.verified)">\(chainVerdict(chain)): \(HTML.escape(chain.detail))</p>
      <p class="muted">\(neighbours(of: seq, in: snapshot))</p>
      <h2>The report, from the journal</h2><div id="report">\(reportBlock)</div>
      <h2>The record, as the alert log holds it</h2><div id="record"><pre>\(HTML.escape(alert.line))</pre></div>
      """
    return HTML.page(title: "Alert \(seq)", current: "/alerts", node: daemon.nodeName, body: body, script: false)
  }

  func alertJSON(seq: UInt64) -> String? {
    let snapshot = index.snapshot()
    guard let alert = snapshot.alert(seq: seq) else { return nil }
    let chain = ChainCheck(alert, snapshot: snapshot, logFiles: daemon.alertLogFiles)
    let report = JournalLookup.report(
      at: alert.entry.report, id: alert.record.reportID, stateDirectory: stateDirectory)
    let line = String(alert.bareLine)
    return "{\"record\":\(Self.withRegion(alert, direction: directions.of(rule: alert.rule))),\"line\":\(JSONText.string(line)),"
      + "\"report\":\(report?.line ?? "null"),"
      + "\"chain\":{\"verified\":\(chain.verified),\"hash_matches\":\(chain.hashMatches),"
      + "\"prev_matches\":\(chain.prevMatches.map(String.init) ?? "null"),\"read_from_log\":\(chain.readFromDisk),"
      + "\"changed_in_log\":\(chain.changedOnDisk),\"detail\":\(JSONText.string(chain.detail))}}\n"
  }

  // MARK: Rules

  func rulesPage() -> String {
    let (set, loadedAt) = daemon.activeRuleSet
    let last = daemon.reloads.last
    let rows = set.rules.map { rule in
      "<tr data-rule=\"\(HTML.escape(rule.id))\"\(rule.enabled ? "" : " class=\"muted\"")><td class=\"id\">\(HTML.escape(rule.id))\(rule.enabled ? "" : " (disabled)")</td>"
        + "<td class=\"file\">\(HTML.escape(rule.position.file)):\(rule.position.line)</td>"
        + "<td class=\"priority p-\(rule.priority.rawValue)\">\(rule.priority.rawValue)</td>"
        + "<td class=\"basis\">\(rule.basis.map(HTML.escape).joined(separator: "<br>"))</td>"
        + "<td class=\"examples\">\(rule.exampleCount)</td><td class=\"description\" dir=\"auto\">\(HTML.escape(rule.description))</td></tr>"
    }.joined(separator: "\n")
    let patternRows = set.patterns.map { pattern in
      "<tr data-pattern=\"\(HTML.escape(pattern.id))\"\(pattern.enabled ? "" : " class=\"muted\"")><td class=\"id\">\(HTML.escape(pattern.id))\(pattern.enabled ? "" : " (disabled)")</td>"
        + "<td class=\"file\">\(HTML.escape(pattern.position.file)):\(pattern.position.line)</td>"
        + "<td class=\"priority p-\(pattern.priority.rawValue)\">\(pattern.priority.rawValue)</td>"
        + "<td class=\"form\">\(pattern.form.rawValue), \(HTML.escape(pattern.windowText))</td>"
        + "<td class=\"basis\">\(pattern.basis.map(HTML.escape).joined(separator: "<br>"))</td>"
        + "<td class=\"examples\">\(pattern.exampleCount)</td><td class=\"description\" dir=\"auto\">\(HTML.escape(pattern.description))</td></tr>"
    }.joined(separator: "\n")
    let patterns =
      set.patterns.isEmpty
      ? ""
      : """
        <h2>Patterns</h2>
        <p>Alerts over several reports (docs/patterns.md in the repository): \(set.enabledPatternCount) of \(set.patterns.count) enabled.</p>
        <table id="patterns" class="responsive"><thead><tr><th>Pattern</th><th>Where</th><th>Priority</th><th>Form, window</th><th>Basis</th><th>Examples</th><th>Description</th></tr></thead>
        <tbody>\(patternRows)</tbody></table>
        """
    let lastReload =
      last.map { outcome in
        let errors = outcome.errors.map { "<li>\(HTML.escape($0.description))</li>" }.joined()
        return
          "<div id=\"last-reload\" data-ok=\"\(outcome.ok)\"><p><span class=\"\(outcome.ok ? "ok" : "bad")\">\(outcome.ok ? "loaded" : "REJECTED, the rules below stay in force")</span> at \(HTML.escape(outcome.at)) on \(HTML.escape(outcome.trigger))\(outcome.revision.map { ", revision " + HTML.escape($0) } ?? "")</p>\(errors.isEmpty ? "" : "<ul>\(errors)</ul>")</div>"
      } ?? ""
    let body = """
      <h1>Rules</h1>
      <p>Revision <code id="revision">\(HTML.escape(set.revision))</code>, loaded \(HTML.escape(loadedAt)): \(set.enabledRuleCount) of \(set.rules.count) rules enabled.</p>
      <h2>Last load</h2>\(lastReload)
      <table id="rules" class="responsive"><thead><tr><th>Rule</th><th>Where</th><th>Priority</th><th>Basis</th><th>Examples</th><th>Description</th></tr></thead>
      <tbody>\(rows)</tbody></table>
      \(patterns)
      """
    return HTML.page(title: "Rules", current: "/rules", node: daemon.nodeName, body: body, script: false)
  }

  func rulesJSON() -> String {
    let (set, loadedAt) = daemon.activeRuleSet
    let rules = set.rules.map { rule in
      "{\"id\":\(JSONText.string(rule.id)),\"priority\":\"\(rule.priority.rawValue)\",\"enabled\":\(rule.enabled),"
        + "\"file\":\(JSONText.string(rule.position.file)),\"line\":\(rule.position.line),"
        + "\"basis\":[\(rule.basis.map(JSONText.string).joined(separator: ","))],"
        + "\"tags\":[\(rule.tags.map(JSONText.string).joined(separator: ","))],\"examples\":\(rule.exampleCount),"
        + "\"description\":\(JSONText.string(rule.description))}"
    }.joined(separator: ",")
    let patterns = set.patterns.map { pattern in
      "{\"id\":\(JSONText.string(pattern.id)),\"priority\":\"\(pattern.priority.rawValue)\",\"enabled\":\(pattern.enabled),"
        + "\"form\":\"\(pattern.form.rawValue)\",\"window\":\(JSONText.string(pattern.windowText)),"
        + "\"file\":\(JSONText.string(pattern.position.file)),\"line\":\(pattern.position.line),"
        + "\"basis\":[\(pattern.basis.map(JSONText.string).joined(separator: ","))],"
        + "\"tags\":[\(pattern.tags.map(JSONText.string).joined(separator: ","))],\"examples\":\(pattern.exampleCount),"
        + "\"description\":\(JSONText.string(pattern.description))}"
    }.joined(separator: ",")
    let reloads = daemon.reloads.map(Self.reloadJSON).joined(separator: ",")
    return "{\"revision\":\(JSONText.string(set.revision)),\"loaded_at\":\(JSONText.string(loadedAt)),"
      + "\"rules\":[\(rules)],\"patterns\":[\(patterns)],\"reloads\":[\(reloads)]}\n"
  }

  static func reloadJSON(_ outcome: ReloadOutcome) -> String {
    let errors = outcome.errors.map { error in
      "{\"file\":\(JSONText.string(error.position.file)),\"line\":\(error.position.line),"
        + "\"column\":\(error.position.column),\"message\":\(JSONText.string(error.message))}"
    }.joined(separator: ",")
    return
      "{\"ok\":\(outcome.ok),\"at\":\(JSONText.string(outcome.at)),\"trigger\":\(JSONText.string(outcome.trigger)),"
      + "\"revision\":\(outcome.revision.map(JSONText.string) ?? "null"),\"errors\":[\(errors)]}"
  }

  // MARK: Health

  func healthPage() -> String {
    let status = (try? JSONSerialization.jsonObject(with: Data(daemon.statusJSON().utf8))) as? [String: Any] ?? [:]
    func table(_ items: [[String: Any]], id: String, empty: String) -> String {
      guard !items.isEmpty else { return "<p id=\"\(id)\" class=\"muted\">\(empty)</p>" }
      // The same columns in the same order at every request (a dictionary's order is not
      // kept): the name first, the rest by name.
      let all = Set(items.flatMap { $0.keys })
      let keys = ["name"].filter(all.contains) + all.subtracting(["name"]).sorted()
      let head = keys.map { "<th>\(HTML.escape($0))</th>" }.joined()
      let rows = items.map { item in
        "<tr>" + keys.map { "<td dir=\"auto\">\(HTML.escape(Self.shown(item[$0])))</td>" }.joined() + "</tr>"
      }.joined()
      return "<table id=\"\(id)\" class=\"responsive\"><thead><tr>\(head)</tr></thead><tbody>\(rows)</tbody></table>"
    }
    let counters = status["counters"] as? [String: Any] ?? [:]
    let console = status["console"] as? [String: Any] ?? [:]
    let snapshot = index.snapshot()
    let reloads = daemon.reloads.reversed().map { outcome in
      "<tr><td>\(HTML.escape(outcome.at))</td><td class=\"\(outcome.ok ? "ok" : "bad")\">\(outcome.ok ? "ok" : "rejected")</td><td>\(HTML.escape(outcome.trigger))</td><td>\(HTML.escape(outcome.revision ?? ""))</td><td>\(outcome.errors.map { HTML.escape($0.description) }.joined(separator: "<br>"))</td></tr>"
    }.joined()
    let body = """
      <h1>Health</h1>
      <dl class="cards">
      <div><dt>node</dt><dd id="node" class="small">\(HTML.escape(Self.shown(status["node"])))</dd></div>
      <div><dt>uptime (s)</dt><dd id="uptime" class="small">\(HTML.escape(Self.shown(status["uptime_s"])))</dd></div>
      <div><dt>accepted</dt><dd>\(HTML.escape(Self.shown(counters["accepted"])))</dd></div>
      <div><dt>refused</dt><dd>\(HTML.escape(Self.shown(counters["refused"])))</dd></div>
      <div><dt>duplicates</dt><dd>\(HTML.escape(Self.shown(counters["duplicates"])))</dd></div>
      <div><dt>connections</dt><dd>\(HTML.escape(Self.shown(status["connections"])))</dd></div>
      <div><dt>subscribers</dt><dd>\(HTML.escape(Self.shown(status["subscribers"])))</dd></div>
      </dl>
      <p>Alert log <code>\(HTML.escape(Self.shown(status["alert_log"])))</code>. Console on <code id="console-listen">\(HTML.escape(Self.shown(console["listen"])))</code>; its index holds \(snapshot.held) record(s)\(snapshot.building ? " (still reading the files)" : "").</p>
      <h2>Sinks</h2>\(table(status["sinks"] as? [[String: Any]] ?? [], id: "sinks", empty: "No sink is enabled."))
      <h2>Sources</h2>\(table(status["sources"] as? [[String: Any]] ?? [], id: "sources", empty: "No source is enabled."))
      <h2>Last loads of the rule set</h2>
      <table id="reloads" class="responsive"><thead><tr><th>At</th><th>Outcome</th><th>Trigger</th><th>Revision</th><th>Errors</th></tr></thead><tbody>\(reloads)</tbody></table>
      <h2>Status, as <code>vigil status</code> has it</h2><pre id="status">\(HTML.escape(daemon.statusJSON()))</pre>
      """
    return HTML.page(title: "Health", current: "/health", node: daemon.nodeName, body: body, script: false)
  }

  static func shown(_ value: Any?) -> String {
    switch value {
    case nil, is NSNull: return "—"
    case let text as String: return text
    case let number as NSNumber: return number.stringValue
    case let object?:
      guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else {
        return "\(object)"
      }
      return String(decoding: data, as: UTF8.self)
    }
  }

  // MARK: Login

  /// The sign-in form; `next`, a path checked by `SignInReturn`, is where it sends the
  /// browser back to once the token is right.
  func loginPage(failed: Bool, required: Bool, next: String? = nil) -> String {
    let back = next.map { "<input type=\"hidden\" name=\"next\" value=\"\(HTML.escape($0))\">" } ?? ""
    let body = """
      <h1>Sign in</h1>
      \(required ? "" : "<p class=\"muted\">This console asks for no token (it listens on a loopback address).</p>")
      \(failed ? "<p class=\"bad\" id=\"login-failed\">That is not the token.</p>" : "")
      <form id="login" method="post" action="/login"><label>access token<input type="password" name="token" autocomplete="current-password" required></label>\(back) <button>Sign in</button></form>
      """
    return HTML.page(title: "Sign in", current: "", node: daemon.nodeName, body: body, script: false)
  }

  // MARK: Metrics

  /// The gauges of state, from what `status` says now.
  func refreshGauges() {
    let metrics = daemon.metrics
    let status = (try? JSONSerialization.jsonObject(with: Data(daemon.statusJSON().utf8))) as? [String: Any] ?? [:]
    func number(_ value: Any?) -> Double { (value as? NSNumber)?.doubleValue ?? 0 }
    metrics.set("vigil_connections", help: "Open connections on the socket.", to: number(status["connections"]))
    metrics.set(
      "vigil_subscribers", help: "Open subscriptions (socket and console).", to: number(status["subscribers"]))
    metrics.set("vigil_uptime_seconds", help: "Seconds since vigild started.", to: number(status["uptime_s"]))
    let snapshot = index.snapshot()
    metrics.set(
      "vigil_console_index_records", help: "Alert records the console's index holds.", to: Double(snapshot.held))
    for sink in status["sinks"] as? [[String: Any]] ?? [] {
      let name = sink["name"] as? String ?? ""
      metrics.set(
        "vigil_sink_lag_records", labels: [("sink", name)],
        help: "Alert records written but not yet delivered, by sink.",
        to: number(sink["lag"]))
      metrics.set(
        "vigil_sink_parked_records", labels: [("sink", name)], help: "Records a sink's destination refused for good.",
        to: number(sink["parked"]))
      if let reports = sink["reports"] as? [String: Any] {
        metrics.set(
          "vigil_sink_reports_lag_bytes", labels: [("sink", name)], help: "Journal bytes not yet delivered, by sink.",
          to: number(reports["lag_bytes"]))
      }
    }
    for source in status["sources"] as? [[String: Any]] ?? [] {
      let name = source["name"] as? String ?? ""
      metrics.set(
        "vigil_source_running", labels: [("source", name)], help: "1 while a source's feed runs.",
        to: (source["running"] as? Bool ?? false) ? 1 : 0)
    }
  }
}

/// Days as `YYYY-MM-DD` (UTC).
enum UTCDay {
  static func text(_ day: Int) -> String {
    String(UTCTime.format(millisecondsSinceEpoch: Int64(day) * 86_400_000).prefix(10))
  }
}
