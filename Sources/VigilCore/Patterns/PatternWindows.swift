/// The state of every pattern's groups (docs/patterns.md, "How patterns are counted"): the
/// reports each group holds within its window plus the lateness horizon, and when it last
/// fired. Pure and single-threaded: the daemon's writer owns one, fed in the order reports
/// are journalled, so rebuilding it from the journal gives the same verdicts.
///
/// Changes can be undone until `settle()`: a commit that fails to reach the disk
/// acknowledges nothing, so nothing it counted may stay counted.
public struct PatternWindows: Sendable {
  /// One report in a group's window.
  public struct Contributor: Sendable, Equatable {
    /// Its incident time (`occurred_at`) in milliseconds since 1970, and when it arrived
    /// among the reports this state has seen.
    let time: Int64
    let order: UInt64
    public let reportID: String
    public let occurredAt: String
    /// The `seq`s of its alerts of the rules the pattern counts (none for a condition).
    public internal(set) var seqs: [UInt64]
    let steps: UInt32
    let distinct: String?
  }

  /// A pattern that completed: its group, and the reports that make it, in incident order.
  public struct Completion: Sendable {
    public let pattern: Pattern
    public let group: [String]
    /// The group as the report that completed it writes it (docs/patterns.md, "Output").
    public let shown: [String]
    public let contributors: [Contributor]

    /// The alert record's `pattern` member.
    public var facts: PatternFacts {
      PatternFacts(
        keys: pattern.groupNames, group: group, from: contributors.first!.occurredAt,
        to: contributors.last!.occurredAt, window: pattern.windowText, count: contributors.count,
        seqs: contributors.flatMap(\.seqs).sorted(), reports: contributors.map(\.reportID))
    }

    /// The alert's message.
    public var message: String {
      pattern.output.render(
        .init(
          count: contributors.count, group: shown, from: contributors.first!.occurredAt,
          to: contributors.last!.occurredAt, window: PatternDuration(text: pattern.windowText, milliseconds: 0).spelled))
    }
  }

  /// What observing one report did.
  public struct Observation: Sendable {
    public var completions: [Completion] = []
    /// The report came later than the horizon allows: it was not counted.
    public var late = false
  }

  struct Firing: Sendable, Equatable {
    let from: Int64
    let to: Int64
  }

  struct GroupID: Hashable, Sendable {
    let pattern: String
    let key: [String]
  }

  struct Group: Sendable {
    let window: Int64
    var members: [Contributor] = []
    var firings: [Firing] = []
    /// How many members can be a sequence's first step: with none, no set can start, and
    /// a report that is a later step is judged without a scan (a group of attacks on a
    /// besieged town, none after a denial, cost each report a scan of all the others: a
    /// rebuild of 57,000 of them took 258 s).
    var firstSteps = 0

    /// The members up to `oldest` gone (they come first: members are in time order).
    mutating func removeMembers(upTo oldest: Int64) {
      let cut = members.firstIndex { $0.time > oldest } ?? members.count
      firstSteps -= members[..<cut].reduce(0) { $0 + ($1.steps & 1 != 0 ? 1 : 0) }
      members.removeFirst(cut)
    }

    /// The members that arrived as `order` gone (a roll-back).
    mutating func removeMembers(order: UInt64) {
      members.removeAll { $0.order == order }
      firstSteps = members.reduce(0) { $0 + ($1.steps & 1 != 0 ? 1 : 0) }
    }
  }

  private enum Undo: Sendable {
    case inserted(GroupID, order: UInt64)
    case fired(GroupID)
    case newest(Int64)
    case late
    case created(GroupID)
  }

  /// How far behind the newest incident time a report may be and still count.
  public let horizon: Int64
  /// The newest incident time counted (of a report dated no later than its arrival).
  public private(set) var newest: Int64 = .min
  /// Reports that came too late to count.
  public private(set) var lateReports = 0
  private var groups: [GroupID: Group] = [:]
  private var arrivals: UInt64 = 0
  private var undo: [Undo] = []
  private var touched: Set<GroupID> = []
  private var sweptAt: Int64 = .min

  public static let defaultHorizon: Int64 = 90 * 86_400_000

  public init(horizon: Int64 = PatternWindows.defaultHorizon) {
    self.horizon = horizon
  }

  /// Groups held, and reports held across them.
  public var groupCount: Int { groups.count }
  public var contributorCount: Int { groups.values.reduce(0) { $0 + $1.members.count } }

  /// The earliest incident time that still counts.
  public var earliestCounted: Int64? { newest == .min ? nil : newest - horizon }

  /// Counts one report toward the patterns it is an event of. A report dated after
  /// `receivedAt` (milliseconds), its arrival, does not move the newest incident time: a
  /// report dated in the future does not make every other one late. `seqs` gives an event's alert `seq`s. `skippingHeld`
  /// (`check`): a group that holds a report with this one's id already does not count it
  /// again, as recording it would not (a duplicate, or an `id_conflict`).
  public mutating func observe(
    _ events: [PatternEvent], report: Report, receivedAt: Int64?, patterns: [Pattern],
    skippingHeld: Bool = false, seqs: (PatternEvent) -> [UInt64]
  ) -> Observation {
    var observation = Observation()
    guard !events.isEmpty else { return observation }
    let time = Self.milliseconds(report.occurredAt)
    if let floor = earliestCounted, time < floor {
      lateReports += 1
      undo.append(.late)
      observation.late = true
      return observation
    }
    // A report dated after it arrived (2061 for 2016, a typing error) counts in its own
    // windows but does not move the newest time: capped at its arrival, it would still
    // make every report of an older period being imported today late.
    if time > newest, time <= receivedAt ?? time {
      undo.append(.newest(newest))
      newest = time
    }
    arrivals += 1
    for event in events {
      let pattern = patterns[event.pattern]
      let id = GroupID(pattern: pattern.id, key: event.group)
      if skippingHeld, groups[id]?.members.contains(where: { $0.reportID == report.id }) == true { continue }
      let contributor = Contributor(
        time: time, order: arrivals, reportID: report.id, occurredAt: report.occurredAt.text.string,
        seqs: seqs(event), steps: event.steps, distinct: event.distinct)
      // One lookup of the group; its arrays are changed where they are.
      var slot = groups.index(forKey: id)
      if slot == nil {
        groups[id] = Group(window: pattern.window)
        undo.append(.created(id))
        slot = groups.index(forKey: id)
      }
      let at = groups.values[slot!].members.insertionPoint(time: time, order: arrivals)
      groups.values[slot!].members.insert(contributor, at: at)
      if contributor.steps & 1 != 0 { groups.values[slot!].firstSteps += 1 }
      undo.append(.inserted(id, order: arrivals))
      touched.insert(id)
      guard let chosen = Self.completion(in: groups.values[slot!], newAt: at, pattern: pattern) else { continue }
      let members = chosen.map { groups.values[slot!].members[$0] }
      groups.values[slot!].firings.append(Firing(from: members[0].time, to: members.map(\.time).max()!))
      undo.append(.fired(id))
      observation.completions.append(Completion(
          pattern: pattern, group: event.group, shown: pattern.shownGroup(event.group, of: report), contributors: members))
    }
    return observation
  }

  /// Undoes everything observed since the last `settle()`.
  public mutating func rollBack() {
    for change in undo.reversed() {
      switch change {
      case .inserted(let id, let order): groups[id]?.removeMembers(order: order)
      case .fired(let id): groups[id]?.firings.removeLast()
      case .newest(let previous): newest = previous
      case .late: lateReports -= 1
      case .created(let id): groups[id] = nil
      }
    }
    undo.removeAll(keepingCapacity: true)
    touched.removeAll(keepingCapacity: true)
  }

  /// Keeps what was observed, and drops what can no longer complete a pattern: reports
  /// older than the window before the earliest counted time, firings that can no longer
  /// hold a completion back, and groups left with neither.
  public mutating func settle() {
    undo.removeAll(keepingCapacity: true)
    guard let floor = earliestCounted else { return }
    for id in touched { prune(id, floor: floor) }
    touched.removeAll(keepingCapacity: true)
    // A sweep of every group once the newest time has moved on a day.
    if sweptAt == .min || newest - sweptAt >= 86_400_000 {
      sweptAt = newest
      var emptied: [GroupID] = []
      var slot = groups.startIndex
      while slot != groups.endIndex {
        if prune(slot, floor: floor) { emptied.append(groups.keys[slot]) }
        groups.formIndex(after: &slot)
      }
      for id in emptied { groups[id] = nil }
    }
  }

  /// Records a firing already in the alert log (its group and incident span), so that the
  /// same pattern is not emitted again for it.
  public mutating func noteFiring(pattern: Pattern, group: [String], from: Timestamp, to: Timestamp) {
    let id = GroupID(pattern: pattern.id, key: group)
    let firing = Firing(from: Self.milliseconds(from), to: Self.milliseconds(to))
    if groups[id] == nil { groups[id] = Group(window: pattern.window) }
    if !groups[id]!.firings.contains(firing) { groups[id]!.firings.append(firing) }
  }

  /// Fills in the `seq`s of reports counted without them (rebuilt from the journal),
  /// from what the alert log holds: `lookup(reportID, rules)`.
  public mutating func fillSeqs(patterns: [String: Pattern], _ lookup: (String, [String]) -> [UInt64]) {
    for (id, group) in groups {
      guard let pattern = patterns[id.pattern], group.members.contains(where: \.seqs.isEmpty) else { continue }
      let rules = pattern.steps.flatMap(\.rules)
      guard !rules.isEmpty else { continue }
      for index in group.members.indices where group.members[index].seqs.isEmpty {
        groups[id]!.members[index].seqs = lookup(group.members[index].reportID, rules)
      }
    }
  }

  /// The report ids of every report held, for `fillSeqs`.
  public var heldReportIDs: Set<String> {
    Set(groups.values.flatMap { $0.members.map(\.reportID) })
  }

  private mutating func prune(_ id: GroupID, floor: Int64) {
    guard let slot = groups.index(forKey: id) else { return }
    if prune(slot, floor: floor) { groups.remove(at: slot) }
  }

  /// Prunes the group in place; whether it is left empty.
  private mutating func prune(_ slot: [GroupID: Group].Index, floor: Int64) -> Bool {
    let window = groups.values[slot].window
    let oldest = floor - window
    if let first = groups.values[slot].members.first, first.time <= oldest {
      groups.values[slot].removeMembers(upTo: oldest)
    }
    if groups.values[slot].firings.contains(where: { $0.to + 2 * window <= floor }) {
      groups.values[slot].firings.removeAll { $0.to + 2 * window <= floor }
    }
    return groups.values[slot].members.isEmpty && groups.values[slot].firings.isEmpty
  }

  // MARK: Finding a completion

  /// The members (their positions) of a completion that the report at `k` makes, or nil.
  /// Only sets holding the new report are new: any other was judged when its last member
  /// came. The window's start is tried earliest first; the first set whose span keeps a
  /// full window clear of every earlier firing of the group wins.
  static func completion(in group: Group, newAt k: Int, pattern: Pattern) -> [Int]? {
    let members = group.members
    let window = pattern.window
    let time = members[k].time
    // A set holds the new report, so it ends at its time or later: a firing that starts
    // less than a window after that keeps every start before its end plus a window out.
    var earliest = time - window + 1
    for firing in group.firings where firing.from < time + window {
      earliest = max(earliest, firing.to + window)
    }
    guard earliest <= time else { return nil }
    // A sequence starts at a first step: with none in the group, nothing completes.
    if pattern.form == .sequence, group.firstSteps == 0 { return nil }
    var start = members.insertionPoint(time: earliest, order: 0)
    // For `distinct`, the values within a window of each start, kept as the start moves
    // on (a sliding window): a start whose window holds fewer values than the count is
    // passed over without scanning it. Scanning every start's window made a group that
    // never completed cost time cubic in its reports (a 400-day window, two hospitals
    // named in turn: 38 s for the fourth 500 reports).
    var values: [String?: Int] = [:]
    let first = start
    var end = start
    while start <= k {
      defer { start += 1 }
      // Only a first step starts a sequence: the others are passed over at once.
      if pattern.form == .sequence, members[start].steps & 1 == 0 { continue }
      if pattern.form == .distinct {
        // The member before this start was counted (each start's window holds itself).
        if start > first {
          let leaving = members[start - 1].distinct
          values[leaving, default: 1] -= 1
          if values[leaving] == 0 { values[leaving] = nil }
        }
        while end < members.count, members[end].time - members[start].time < window {
          values[members[end].distinct, default: 0] += 1
          end += 1
        }
        guard values.count >= pattern.threshold else { continue }
      } else if pattern.form == .count {
        // Likewise the members within a window of each start (the new report among them:
        // it is less than a window after the earliest start): a start with fewer than the
        // count is passed over. Scanning each start's window made a group that never
        // completed cost time quadratic in its reports a report (`count: 1000` over 400
        // days: 24 ms a report after 1,500 reports, a restart's rebuild of 2,001 in 33 s).
        if end < start { end = start }
        while end < members.count, members[end].time - members[start].time < window { end += 1 }
        guard end - start >= pattern.threshold else { continue }
      }
      guard let chosen = pick(members, start: start, new: k, pattern: pattern) else { continue }
      let from = members[start].time
      let to = chosen.map { members[$0].time }.max()!
      if group.firings.allSatisfy({ to + window <= $0.from || $0.to + window <= from }) {
        // A sequence's reports in the order of its steps (their times never fall, and
        // two of one time are listed as the steps they took); the others by incident time.
        return pattern.form == .sequence ? chosen : chosen.sorted()
      }
    }
    return nil
  }

  /// A set starting at `start` and holding `new`, within one window, that completes the
  /// pattern: the earliest members that do.
  private static func pick(_ members: [Contributor], start: Int, new: Int, pattern: Pattern) -> [Int]? {
    let window = pattern.window
    let startTime = members[start].time
    let inWindow = { (index: Int) in members[index].time - startTime < window }
    switch pattern.form {
    case .count:
      var chosen = [start]
      if new != start { chosen.append(new) }
      var index = start + 1
      while chosen.count < pattern.threshold, index < members.count, inWindow(index) {
        if index != new { chosen.append(index) }
        index += 1
      }
      return chosen.count >= pattern.threshold ? chosen : nil
    case .distinct:
      guard new == start || members[start].distinct != members[new].distinct else { return nil }
      var values = Set([members[start].distinct, members[new].distinct])
      var chosen = [start]
      if new != start { chosen.append(new) }
      var index = start + 1
      while chosen.count < pattern.threshold, index < members.count, inWindow(index) {
        if index != new, values.insert(members[index].distinct).inserted { chosen.append(index) }
        index += 1
      }
      return chosen.count >= pattern.threshold ? chosen : nil
    case .sequence:
      let steps = pattern.steps.count
      guard members[start].steps & 1 != 0 else { return nil }
      for place in 0..<steps where members[new].steps & (1 << UInt32(place)) != 0 {
        if (place == 0) != (start == new) { continue }
        if let chosen = sequence(members, start: start, new: new, at: place, steps: steps, inWindow: inWindow) {
          return chosen
        }
      }
      return nil
    }
  }

  /// Steps in order of incident time (equal times may come in either order), the new
  /// report as step `at`. The reports are taken a time at a time, earliest first, and the
  /// reports of one time take as many of the next steps as they can, each a step of its
  /// own: being further along at each time is never worse. Among reports of one time the
  /// steps are matched, not given to the first arrival: with steps (hospital or school),
  /// (school or market), (market or hospital), a school on the 3rd, then a market and a
  /// school both on the 12th complete it whichever of the two arrived first.
  private static func sequence(
    _ members: [Contributor], start: Int, new: Int, at place: Int, steps: Int, inWindow: (Int) -> Bool
  ) -> [Int]? {
    let canTake = { (member: Int, step: Int) -> Bool in
      if step == place { return member == new }
      return member != new && members[member].steps & (UInt32(1) << UInt32(step)) != 0
    }
    var memberOfStep = [Int](repeating: -1, count: steps)
    memberOfStep[0] = start
    var next = 1
    // Members of the first step's time that arrived before it may take later steps.
    var index = start
    while index > 0, members[index - 1].time == members[start].time { index -= 1 }
    // One time's reports (their positions), and the step each holds, reused time to time.
    var group: [Int] = []
    var stepOf: [Int] = []
    while next < steps, index < members.count, inWindow(index) {
      let time = members[index].time
      group.removeAll(keepingCapacity: true)
      while index < members.count, members[index].time == time, inWindow(index) {
        if index != start { group.append(index) }
        index += 1
      }
      // Most times have one report: it takes the next step if it can; no matching.
      if group.count == 1 {
        if canTake(group[0], next) {
          memberOfStep[next] = group[0]
          next += 1
        }
        continue
      }
      // Steps from `next` on, matched to this time's reports by augmenting paths (Kuhn's).
      stepOf.removeAll(keepingCapacity: true)
      stepOf.append(contentsOf: repeatElement(-1, count: group.count))
      var visited = [Bool](repeating: false, count: group.count)
      func augment(_ step: Int) -> Bool {
        for slot in group.indices where !visited[slot] && canTake(group[slot], step) {
          visited[slot] = true
          if stepOf[slot] < 0 || augment(stepOf[slot]) {
            stepOf[slot] = step
            return true
          }
        }
        return false
      }
      var reached = next
      while reached < steps {
        for slot in visited.indices { visited[slot] = false }
        guard augment(reached) else { break }
        reached += 1
      }
      for (slot, step) in stepOf.enumerated() where step >= 0 { memberOfStep[step] = group[slot] }
      next = reached
    }
    return next == steps ? memberOfStep : nil
  }

  static func milliseconds(_ timestamp: Timestamp) -> Int64 {
    timestamp.seconds * 1000 + Int64(timestamp.nanoseconds / 1_000_000)
  }
}

extension [PatternWindows.Contributor] {
  /// Where a report goes to keep the members in order of incident time, then arrival.
  fileprivate func insertionPoint(time: Int64, order: UInt64) -> Int {
    var low = 0
    var high = count
    while low < high {
      let middle = (low + high) / 2
      if (self[middle].time, self[middle].order) < (time, order) { low = middle + 1 } else { high = middle }
    }
    return low
  }
}

/// The `pattern` member of a pattern's alert record (docs/alerts.md).
public struct PatternFacts: Sendable, Equatable {
  /// The group's keys as `group_by` writes them, and their values.
  public var keys: [String]
  public var group: [String]
  /// The incident times of the first and last reports, as they wrote them.
  public var from: String
  public var to: String
  public var window: String
  public var count: Int
  public var seqs: [UInt64]
  public var reports: [String]

  public init(
    keys: [String], group: [String], from: String, to: String, window: String, count: Int, seqs: [UInt64],
    reports: [String]
  ) {
    self.keys = keys
    self.group = group
    self.from = from
    self.to = to
    self.window = window
    self.count = count
    self.seqs = seqs
    self.reports = reports
  }

  /// The member's JSON, appended to a record's line.
  func append(to out: inout JSONBytes) {
    out.raw("{\"group\":{")
    for (index, (key, value)) in zip(keys, group).enumerated() {
      if index > 0 { out.raw(",") }
      out.string(key)
      out.raw(":")
      out.string(value)
    }
    out.raw("},\"from\":")
    out.string(from)
    out.raw(",\"to\":")
    out.string(to)
    out.raw(",\"window\":")
    out.string(window)
    out.raw(",\"count\":")
    out.decimal(count)
    out.raw(",\"seqs\":[")
    for (index, seq) in seqs.enumerated() {
      if index > 0 { out.raw(",") }
      out.decimal(seq)
    }
    out.raw("],\"reports\":")
    out.strings(reports)
    out.raw("}")
  }
}
