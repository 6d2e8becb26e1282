import Foundation
import VigilCore
import VigilServer

/// The period the overview counts (docs/console.md, "Overview"): whole UTC days.
struct OverviewPeriod: Sendable, Equatable {
  /// Days since 1970-01-01, the first and the last included.
  let firstDay: Int
  let lastDay: Int

  static let mostDays = 366

  var days: ClosedRange<Int> { firstDay...lastDay }
}

/// The console's URL parameters (docs/console.md, "Filters"): the same for the alerts page,
/// `/api/alerts` and `/api/events`. A wrong value is an error that says which and why.
enum AlertQueryParameters {
  /// `a=1&b=two+words` as pairs, percent-decoded, `+` as a space. A part that is not
  /// percent-encoded UTF-8 (`%FF`, `%zz`, a lone `%`) is refused, naming its parameter.
  static func pairs(_ query: String) throws(BadParameter) -> [(String, String)] {
    var pairs: [(String, String)] = []
    for part in query.split(separator: "&") {
      let pieces = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
      func decoded(_ text: Substring, of name: String?) throws(BadParameter) -> String {
        let spaced = text.replacingOccurrences(of: "+", with: " ")
        guard let text = spaced.removingPercentEncoding else {
          throw BadParameter(
            message: "\(name ?? "a parameter's name"): not percent-encoded UTF-8 (\(spaced.prefix(40)))")
        }
        return text
      }
      guard let key = pieces.first else { continue }
      let name = try decoded(key, of: nil)
      pairs.append((name, pieces.count > 1 ? try decoded(pieces[1], of: name) : ""))
    }
    return pairs
  }

  static func query(from pairs: [(String, String)]) throws(BadParameter) -> AlertQuery {
    var query = AlertQuery()
    // A filter of one value given twice with two values would keep one silently.
    var single: [String: String] = [:]
    let known: Set<String> = [
      "priority", "rule", "governorate", "region", "since", "until", "q", "before", "after", "limit", "days", "from", "to",
    ]
    for (key, value) in pairs {
      let value = value.trimmingCharacters(in: .whitespaces)
      // An empty value is no filter (a form sends its empty fields); an unknown name is
      // refused all the same (a misspelt field would otherwise filter nothing, silently).
      if value.isEmpty, known.contains(key) { continue }
      if !["priority", "rule"].contains(key) {
        let slot = key == "region" ? "governorate" : key
        if let earlier = single[slot], earlier != value {
          throw BadParameter(message: "\(slot): given twice (\(earlier.prefix(40)), \(value.prefix(40))); give one")
        }
        single[slot] = value
      }
      switch key {
      case "priority":
        for word in value.split(separator: ",") {
          guard let priority = Priority(rawValue: word.trimmingCharacters(in: .whitespaces).lowercased()) else {
            throw BadParameter(
              message:
                "priority: expected one of \(Priority.allCases.map(\.rawValue).joined(separator: ", ")), got \(word)")
          }
          query.priorities.insert(priority)
        }
      case "rule":
        for glob in value.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !glob.isEmpty {
          if let problem = AlertSelector.problem(inGlob: glob) { throw BadParameter(message: "rule: \(problem)") }
          query.rules.append(glob)
        }
      case "governorate", "region": query.place = value
      case "since": query.sinceMs = try instant(value, key, endOfDay: false)
      case "until": query.untilMs = try instant(value, key, endOfDay: true)
      case "q": query.text = value
      case "before": query.before = try number(value, key)
      case "after": query.after = try number(value, key)
      case "limit":
        let limit = try number(value, key)
        guard (1...UInt64(AlertQuery.mostPerPage)).contains(limit) else {
          throw BadParameter(message: "limit: expected 1 to \(AlertQuery.mostPerPage), got \(value)")
        }
        query.limit = Int(limit)
      case "days", "from", "to": continue
      default:
        throw BadParameter(
          message:
            "unknown parameter \(key.prefix(40)); known: priority, rule, governorate, since, until, q, before, after, limit"
        )
      }
    }
    // As the overview's period: one that ends before it starts selects nothing, which is
    // a mistake to say, not an empty page.
    if let since = query.sinceMs, let until = query.untilMs, until < since {
      throw BadParameter(message: "until: the period ends before it starts (since is later than until)")
    }
    return query
  }

  /// `days=N` (ending at the newest incident, or today), or `from` and `to` (dates).
  static func period(from pairs: [(String, String)], newestIncidentMs: Int64?) throws(BadParameter) -> OverviewPeriod {
    // As /api/alerts does: a parameter it does not know is an error, not ignored, and one
    // given twice with two values is not one of them silently.
    if let unknown = pairs.first(where: { !["days", "from", "to"].contains($0.0) }) {
      throw BadParameter(message: "unknown parameter \(unknown.0.prefix(40)); known: days, from, to")
    }
    var values: [String: String] = [:]
    for (key, value) in pairs where !value.isEmpty {
      if let earlier = values[key], earlier != value {
        throw BadParameter(message: "\(key): given twice (\(earlier.prefix(40)), \(value.prefix(40))); give one")
      }
      values[key] = value
    }
    if values["days"].map({ !$0.isEmpty }) == true, values["from"].map({ !$0.isEmpty }) == true {
      throw BadParameter(message: "days and from: give one of them (days counts back from to, or from the newest incident)")
    }
    let today = Int(Date().timeIntervalSince1970 / 86_400)
    // A report dated in the future (a typo, or hostile) does not move the period there.
    let newest = min(newestIncidentMs.map { AlertIndex.day(ofMilliseconds: $0) } ?? today, today)
    var last = newest
    var first: Int?
    if let to = values["to"], !to.isEmpty { last = try day(to, "to") }
    if let from = values["from"], !from.isEmpty { first = try day(from, "from") }
    if let days = values["days"], !days.isEmpty {
      guard let count = Int(days), (1...OverviewPeriod.mostDays).contains(count) else {
        throw BadParameter(message: "days: expected 1 to \(OverviewPeriod.mostDays), got \(days)")
      }
      first = last - count + 1
    }
    // Days are written YYYY-MM-DD from the year 0000: a period counted back past its
    // first day would have none to be named by. The default 30 days stop there; days or
    // from asked for past it are refused.
    let earliest = -719_528  // 0000-01-01, in days from 1970-01-01
    let start = first ?? max(last - 29, min(earliest, last))
    guard start >= earliest else {
      throw BadParameter(message: "the period would start before 0000-01-01; give a later to, or fewer days")
    }
    guard start <= last else {
      // Without `to`, the end is the newest incident's day: say which, not only that.
      let which = newestIncidentMs == nil ? "today" : "the newest incident's day"
      let end = values["to"].map { !$0.isEmpty } == true ? "" : ", \(UTCDay.text(last)), \(which) (give to as well)"
      throw BadParameter(message: "from: the period ends before it starts\(end)")
    }
    guard last - start < OverviewPeriod.mostDays else {
      let end = values["to"].map { !$0.isEmpty } == true ? "" : " (to, not given, is the newest incident's day)"
      throw BadParameter(message: "the period is longer than \(OverviewPeriod.mostDays) days\(end)")
    }
    return OverviewPeriod(firstDay: start, lastDay: last)
  }

  private static func day(_ text: String, _ key: String) throws(BadParameter) -> Int {
    guard text.count == 10, let ms = AlertIndex.milliseconds(text + "T00:00:00Z") else {
      throw BadParameter(message: "\(key): expected a date (YYYY-MM-DD), got \(text.prefix(40))")
    }
    return AlertIndex.day(ofMilliseconds: ms)
  }

  /// A date (`YYYY-MM-DD`: its start, or for `until` its end) or an RFC 3339 time.
  private static func instant(_ text: String, _ key: String, endOfDay: Bool) throws(BadParameter) -> Int64 {
    if text.count == 10, let ms = AlertIndex.milliseconds(text + "T00:00:00Z") {
      return endOfDay ? ms + 86_400_000 : ms
    }
    // A `+` offset written into a URL unencoded arrives as a space (`+` is a space in a
    // query): `06:40:00 02:00` can only be `06:40:00+02:00`.
    var text = text
    if text.count > 6, text.dropLast(5).last == " ", text.suffix(5).range(of: #"^[0-9]{2}:[0-9]{2}$"#, options: .regularExpression) != nil {
      text = text.dropLast(6) + "+" + text.suffix(5)
    }
    // RFC 3339 allows any number of fraction digits; the parser takes nine (what a report may
    // write), and the ones past a millisecond only round the bound up, below.
    var parsed = text
    if let digits = text.firstMatch(of: /\.([0-9]{10,})/)?.1 {
      parsed = String(text[..<digits.startIndex]) + digits.prefix(9) + text[digits.endIndex...]
    }
    guard let ms = AlertIndex.milliseconds(parsed) else {
      throw BadParameter(message: "\(key): expected a date (YYYY-MM-DD) or an RFC 3339 time, got \(text.prefix(40))")
    }
    // Times are held to the millisecond: a bound with a finer part is the next one (a
    // record at .000 is before an `until` of .0009, and not on or after a `since` of .0001).
    if let fraction = text.firstMatch(of: /\.([0-9]+)/)?.1, fraction.dropFirst(3).contains(where: { $0 != "0" }) {
      return ms + 1
    }
    return ms
  }

  private static func number(_ text: String, _ key: String) throws(BadParameter) -> UInt64 {
    guard let value = UInt64(text) else {
      throw BadParameter(message: "\(key): expected a number, got \(text.prefix(40))")
    }
    return value
  }
}
