/// What an alert record's line must hold to be one (docs/alerts.md, "The alert log";
/// ALERTS.md): its members in their order — `seq` written as a whole number, `time`,
/// `rule`, `priority`, `report_id`, `occurred_at`, `message`, `basis`, `tags`,
/// `ruleset`, a pattern's `pattern`, then `prev` and `hash` — each of its type, its name
/// written without escapes. A line whose hash is sound but which is not such a record was
/// written by something other than vigild (its hashes recomputed): `vigil verify` says so
/// rather than "chain intact".
///
/// Members of a later version (ALERTS.md: records "may gain members, before `prev`") are
/// passed over wherever they stand before `prev`: a log a newer vigild wrote still verifies.
public enum AlertRecordShape {
  /// The members every record has, in their order (`pattern`, optional, comes after
  /// `ruleset`; `hash`, last, is checked with the chain).
  static let members = [
    "seq", "time", "rule", "priority", "report_id", "occurred_at", "message", "basis", "tags", "ruleset",
  ]

  /// What is wrong with a record whose line is `line`, or nil when it is an alert record.
  public static func problem(of record: JSONObject, line: [UInt8]) -> String? {
    let keys = record.members.map(\.key)
    // `prev` just before `hash`, `hash` last: what the chain's own check relies on too.
    guard keys.count >= 2, keys[keys.count - 1] == "hash", keys[keys.count - 2] == "prev" else {
      return "prev must come just before hash, and hash last"
    }
    // `seq` first and written as digits: `100.0` and `1e2` read as the same number.
    let opening = Array(#"{"seq":"#.utf8)
    let number = line.dropFirst(opening.count)
    let digits = number.prefix(while: { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) })
    guard line.starts(with: opening), let first = digits.first, first != UInt8(ascii: "0"), digits.count < 20,
      number.dropFirst(digits.count).first == UInt8(ascii: ",")
    else {
      return "seq must come first, written as a whole number (1, 2, 3, …)"
    }
    // The known members in their order, others of a later version passed over.
    let known = keys.filter { members.contains($0) || $0 == "pattern" }
    let expected = members + (known.contains("pattern") ? ["pattern"] : [])
    if known != expected {
      if let missing = expected.first(where: { !known.contains($0) }) { return "it has no \(missing) member" }
      if let twice = expected.first(where: { name in known.filter { $0 == name }.count > 1 }) {
        return "it has \(twice) twice"
      }
      return "its members are out of order (\(known.joined(separator: ", "))): "
        + "docs/alerts.md gives \(expected.joined(separator: ", ")), then prev and hash"
    }
    // Each name written plainly, as vigild writes it: `"ti\u006de"` reads as `time` too.
    var rest = line[...]
    for name in expected + ["prev", "hash"] {
      guard let written = rest.firstRange(of: Array("\"\(name)\":".utf8)) else {
        return "its \(name) member is not written as vigild writes it (\"\(name)\": with no escape in the name, no space before the colon)"
      }
      rest = rest[written.upperBound...]
    }
    return memberProblem(record)
  }

  /// Whether each member holds what it should.
  private static func memberProblem(_ record: JSONObject) -> String? {
    guard case .string(let time)? = record["time"], isRecordTime(time) else {
      return "time must be RFC 3339 UTC with milliseconds (2016-03-04T06:40:00.000Z), not \(shown(record["time"]))"
    }
    guard case .string(let rule)? = record["rule"], !rule.isEmpty else {
      return "rule must be a rule's id, not \(shown(record["rule"]))"
    }
    guard case .string(let priority)? = record["priority"], Priority(rawValue: priority) != nil else {
      return "priority must be one of critical, high, medium, low, info, not \(shown(record["priority"]))"
    }
    for name in ["report_id", "occurred_at"] {
      switch record[name] {
      case .string?, .null?: continue
      default: return "\(name) must be a string or null, not \(shown(record[name]))"
      }
    }
    guard case .string? = record["message"] else {
      return "message must be a string, not \(shown(record["message"]))"
    }
    for name in ["basis", "tags"] {
      guard case .array(let items)? = record[name], items.allSatisfy({ if case .string = $0 { true } else { false } }) else {
        return "\(name) must be a list of strings, not \(shown(record[name]))"
      }
    }
    guard case .string(let ruleset)? = record["ruleset"], isRevision(ruleset) else {
      return "ruleset must be a revision (sha256: and 64 lowercase hex digits), not \(shown(record["ruleset"]))"
    }
    if let pattern = record["pattern"] {
      guard case .object = pattern else { return "pattern must be an object, not \(shown(pattern))" }
    }
    guard case .string(let prev)? = record["prev"], isHex(prev, count: 64) else {
      return "prev must be 64 lowercase hex digits, not \(shown(record["prev"]))"
    }
    return nil
  }

  /// `YYYY-MM-DDTHH:MM:SS.mmmZ`, each field in its range.
  static func isRecordTime(_ text: String) -> Bool {
    let bytes = Array(text.utf8)
    guard bytes.count == 24 else { return false }
    let digitPlaces = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18, 20, 21, 22]
    guard digitPlaces.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[$0]) }) else { return false }
    for (place, byte) in [(4, "-"), (7, "-"), (10, "T"), (13, ":"), (16, ":"), (19, "."), (23, "Z")] as [(Int, Unicode.Scalar)]
    where bytes[place] != UInt8(ascii: byte) {
      return false
    }
    let number = { (from: Int, count: Int) in bytes[from..<from + count].reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) } }
    let (year, month, day) = (number(0, 4), number(5, 2), number(8, 2))
    let daysInMonth = [31, year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
    return (1...12).contains(month) && day >= 1 && day <= daysInMonth[month - 1]
      && number(11, 2) < 24 && number(14, 2) < 60 && number(17, 2) < 60
  }

  static func isRevision(_ text: String) -> Bool {
    text.hasPrefix("sha256:") && isHex(String(text.dropFirst(7)), count: 64)
  }

  static func isHex(_ text: String, count: Int) -> Bool {
    text.utf8.count == count && text.utf8.allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains($0) }
  }

  /// A member's value as a message quotes it: short, and said to be absent when it is.
  private static func shown(_ value: JSONValue?) -> String {
    switch value {
    case nil: return "absent"
    case .null?: return "null"
    case .bool(let flag)?: return String(flag)
    case .number(let number)?: return number == number.rounded() && abs(number) < 1e15 ? String(Int64(number)) : String(number)
    case .string(let text)?: return "\"\(text.count > 40 ? String(text.prefix(40)) + "…" : text)\""
    case .array?: return "a list"
    case .object?: return "an object"
    }
  }
}
