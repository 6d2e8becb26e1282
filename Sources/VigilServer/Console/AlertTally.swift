import VigilCore

/// The overview's counts (`AlertIndex.Counts`) as the index keeps them while records come:
/// by the numbers its name table gives rule ids and region keys, priorities by rank (`Priority.rank`),
/// days and priorities in one key. Counting a record into dictionaries keyed by strings
/// and a dictionary of dictionaries by day cost about 1,600 instructions an alert
/// (bench/count-instructions); the `Counts` a reader sees are made from these when it asks.
struct AlertTally: Sendable {
  private(set) var total = 0
  private(set) var newestIncidentMs: Int64?
  private var byPriority = [Int](repeating: 0, count: Priority.allCases.count)
  /// By name number.
  private var byRule: [Int] = []
  private var byPlace: [Int] = []
  /// By `day << 3 | priority rank`.
  private var byDayAndPriority: [Int: Int] = [:]

  /// Counts an incident rule's record (all but its region).
  mutating func count(priority: Priority, rule: UInt32, incidentMs: Int64) {
    total += 1
    let position = priority.rank
    byPriority[position] += 1
    Self.add(1, at: Int(rule), to: &byRule)
    byDayAndPriority[AlertIndex.day(ofMilliseconds: incidentMs) << 3 | position, default: 0] += 1
    newestIncidentMs = max(newestIncidentMs ?? incidentMs, incidentMs)
  }

  /// The newest day of incident time on or before `day`: the default period's end, which a
  /// report dated in the future (a typo, or hostile) must not move past the others.
  func newestIncidentDay(notAfter day: Int) -> Int? {
    var newest: Int?
    for key in byDayAndPriority.keys {
      let keyDay = key >> 3
      if keyDay <= day, keyDay > newest ?? .min { newest = keyDay }
    }
    return newest
  }

  /// Counts records under a region.
  mutating func count(place: UInt32, records: Int = 1) {
    Self.add(records, at: Int(place), to: &byPlace)
  }

  private static func add(_ amount: Int, at index: Int, to counts: inout [Int]) {
    if index >= counts.count { counts.append(contentsOf: repeatElement(0, count: index + 1 - counts.count)) }
    counts[index] += amount
  }

  /// Adds `other`'s counts, its names numbered by `otherNames`, numbering them in `names`.
  mutating func add(_ other: AlertTally, numberedBy otherNames: NameTable, into names: inout NameTable) {
    total += other.total
    for position in byPriority.indices { byPriority[position] += other.byPriority[position] }
    for (number, count) in other.byRule.enumerated() where count > 0 {
      Self.add(count, at: Int(names.index(of: otherNames.name(UInt32(number)))), to: &byRule)
    }
    for (number, count) in other.byPlace.enumerated() where count > 0 {
      Self.add(count, at: Int(names.index(of: otherNames.name(UInt32(number)))), to: &byPlace)
    }
    byDayAndPriority.merge(other.byDayAndPriority, uniquingKeysWith: +)
    if let newest = other.newestIncidentMs { newestIncidentMs = max(newestIncidentMs ?? newest, newest) }
  }

  /// The counts as readers see them, names spelt out.
  func counts(names: NameTable) -> AlertIndex.Counts {
    var counts = AlertIndex.Counts()
    counts.total = total
    counts.newestIncidentMs = newestIncidentMs
    for (position, priority) in Priority.allCases.enumerated() where byPriority[position] > 0 {
      counts.byPriority[priority] = byPriority[position]
    }
    for (number, count) in byRule.enumerated() where count > 0 { counts.byRule[names.name(UInt32(number))] = count }
    for (number, count) in byPlace.enumerated() where count > 0 { counts.byPlace[names.name(UInt32(number))] = count }
    for (key, count) in byDayAndPriority {
      counts.byDay[key >> 3, default: [:]][Priority.allCases[key & 7]] = count
    }
    return counts
  }
}
