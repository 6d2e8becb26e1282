import Foundation
import VigilCore

/// A question to the index (docs/console.md, "Filters"): records newest first, those that
/// pass every filter given, a page at a time.
public struct AlertQuery: Sendable, Equatable {
  /// Priorities wanted; empty: all.
  public var priorities: Set<Priority> = []
  /// Rule-id globs (`ceasefire.*`); an alert passes when any matches; empty: all.
  public var rules: [String] = []
  /// A region as the user wrote it ("Idlib", "إدلب", "SY07").
  public var place: String?
  /// Incident time (`occurred_at`, else `time`) from and before, in ms.
  public var sinceMs: Int64?
  public var untilMs: Int64?
  /// Text the message or the report id contains (case-insensitive for ASCII letters).
  public var text: String?
  /// Only records older than this seq (the next page).
  public var before: UInt64?
  /// Records after this seq (a live view's catch-up).
  public var after: UInt64?
  public var limit = 50

  public static let mostPerPage = 500

  public init() {}

  /// Whether the query filters anything (the live view shows system records only then not).
  var isEmpty: Bool {
    priorities.isEmpty && rules.isEmpty && place == nil && sinceMs == nil && untilMs == nil && text == nil
  }
}

/// One page of answers.
public struct AlertPage: Sendable {
  public let alerts: [IndexedAlert]
  /// The seq to ask `before` for the next page; nil when this is the last.
  public let next: UInt64?
  /// How many records the filters select in all (`before` and `limit` aside; with
  /// `after`, those after it).
  public let matched: Int
}

extension AlertIndex.Snapshot {
  /// The page of records the query selects.
  public func page(_ query: AlertQuery) -> AlertPage {
    let filter = CompiledQuery(query, snapshot: self)
    var found: [IndexedAlert] = []
    var matched = 0
    var next: UInt64?
    let limit = max(1, min(query.limit, AlertQuery.mostPerPage))
    newestFirst { entry, chunk in
      if let after = query.after, entry.seq <= after { return false }
      guard filter.selects(entry, chunk) else { return true }
      // Every record the filters select, whichever page this is.
      matched += 1
      if let before = query.before, entry.seq >= before { return true }
      if found.count < limit {
        found.append(IndexedAlert(entry: entry, line: chunk.lineText(of: entry), snapshot: self))
      } else if next == nil {
        next = found.last?.entry.seq
      }
      return true
    }
    return AlertPage(alerts: found, next: next, matched: matched)
  }

  /// The newest `limit` records the query selects (its `before` and `limit` aside), and
  /// how many it selects in all, in one scan: a live stream's catch-up, which paged 500 at
  /// a time and scanned the whole index again for each page.
  public func newest(_ query: AlertQuery, upTo limit: Int) -> (alerts: [IndexedAlert], matched: Int) {
    let filter = CompiledQuery(query, snapshot: self)
    var found: [IndexedAlert] = []
    var matched = 0
    newestFirst { entry, chunk in
      if let after = query.after, entry.seq <= after { return false }
      guard filter.selects(entry, chunk) else { return true }
      matched += 1
      if found.count < limit { found.append(IndexedAlert(entry: entry, line: chunk.lineText(of: entry), snapshot: self)) }
      return true
    }
    return (found, matched)
  }

  /// Whether a record the index holds passes the query's filters (a live view's check).
  public func selects(seq: UInt64, _ query: AlertQuery) -> IndexedAlert? {
    guard let alert = alert(seq: seq) else { return nil }
    let filter = CompiledQuery(query, snapshot: self)
    for (chunk, count) in chunks.reversed() where count > 0 && chunk.entry(0).seq <= seq {
      return filter.selects(alert.entry, chunk) ? alert : nil
    }
    return nil
  }
}

/// A query made ready for a scan: rule globs matched once per rule name, the region
/// resolved once, the text folded once.
struct CompiledQuery {
  let query: AlertQuery
  /// Wanted by rank (an array, not the set: the scan's inner loop).
  let priorities: [Bool]?
  let rules: Set<UInt32>?
  let place: PlaceMatch
  let text: [UInt8]?

  enum PlaceMatch {
    case any
    case none
    case names(Set<UInt32>)
  }

  init(_ query: AlertQuery, snapshot: AlertIndex.Snapshot) {
    self.query = query
    priorities = query.priorities.isEmpty ? nil : Priority.allCases.map { query.priorities.contains($0) }
    let all = snapshot.names.all
    if query.rules.isEmpty {
      rules = nil
    } else {
      let selector = AlertSelector(SubscriptionFilter(rules: query.rules))
      var wanted = Set<UInt32>()
      for (offset, name) in all.enumerated() where selector.selects(rule: name, priority: .info, tags: []) {
        wanted.insert(UInt32(offset + 1))
      }
      rules = wanted
    }
    if let place = query.place?.trimmingCharacters(in: .whitespaces), !place.isEmpty {
      // The atlas's key for any spelling, or what the index holds as written (a key such
      // as SY07, or a report's own text where no atlas names it).
      let key = snapshot.atlas?.region(named: place)
      var wanted = Set<UInt32>()
      for (offset, name) in all.enumerated()
      where name == key || name.caseInsensitiveCompare(place) == .orderedSame {
        wanted.insert(UInt32(offset + 1))
      }
      self.place = wanted.isEmpty ? .none : .names(wanted)
    } else {
      self.place = .any
    }
    if let text = query.text, !text.isEmpty {
      // As the line holds it: JSON-escaped, without the quotes.
      let escaped = Array(JSONText.string(text).utf8.dropFirst().dropLast())
      self.text = escaped.map(Self.folded)
    } else {
      self.text = nil
    }
  }

  func selects(_ entry: AlertIndex.Entry, _ chunk: AlertIndexChunk) -> Bool {
    if let priorities, !priorities[entry.priority.rank] { return false }
    if let rules, !rules.contains(entry.rule) { return false }
    switch place {
    case .any: break
    case .none: return false
    case .names(let names): if !names.contains(entry.place) { return false }
    }
    if let since = query.sinceMs, entry.incidentMs < since { return false }
    if let until = query.untilMs, entry.incidentMs >= until { return false }
    if let text {
      return Self.contains(chunk.message(of: entry), text) || Self.reportID(in: chunk.line(of: entry), contains: text)
    }
    return true
  }

  static func folded(_ byte: UInt8) -> UInt8 {
    (0x41...0x5A).contains(byte) ? byte | 0x20 : byte
  }

  static func contains(_ haystack: UnsafeBufferPointer<UInt8>, _ needle: [UInt8]) -> Bool {
    guard needle.count <= haystack.count else { return false }
    let first = needle[0]
    var index = 0
    let last = haystack.count - needle.count
    while index <= last {
      if folded(haystack[index]) == first {
        var matches = true
        for offset in 1..<needle.count where folded(haystack[index + offset]) != needle[offset] {
          matches = false
          break
        }
        if matches { return true }
      }
      index += 1
    }
    return false
  }

  /// The `report_id` value of a record's line (its members come in a fixed order).
  static func reportID(in line: UnsafeBufferPointer<UInt8>, contains needle: [UInt8]) -> Bool {
    let key = Array(",\"report_id\":\"".utf8)
    guard let start = firstIndex(of: key, in: line) else { return false }
    var end = start
    while end < line.count, line[end] != UInt8(ascii: "\"") { end += line[end] == UInt8(ascii: "\\") ? 2 : 1 }
    return contains(UnsafeBufferPointer(rebasing: line[start..<min(end, line.count)]), needle)
  }

  /// The index just past the first occurrence of `key`.
  static func firstIndex(of key: [UInt8], in line: UnsafeBufferPointer<UInt8>) -> Int? {
    guard line.count >= key.count else { return nil }
    for index in 0...(line.count - key.count) where line[index] == key[0] {
      if zip(key.indices, key).allSatisfy({ line[index + $0.0] == $0.1 }) { return index + key.count }
    }
    return nil
  }
}
