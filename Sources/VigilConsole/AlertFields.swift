import Foundation
import VigilCore
import VigilServer

/// The members of a record's line the pages show.
struct AlertFields {
  var time = ""
  var occurredAt: String?
  var message = ""
  var reportID: String?
  var basis: [String] = []

  init(_ line: String) {
    guard case .object(let object)? = try? JSONValue.parse(Array(line.utf8)) else { return }
    func text(_ key: String) -> String? {
      if case .string(let value)? = object[key] { return value }
      return nil
    }
    time = text("time") ?? ""
    occurredAt = text("occurred_at")
    message = text("message") ?? ""
    reportID = text("report_id")
    if case .array(let items)? = object["basis"] {
      basis = items.compactMap { if case .string(let value) = $0 { value } else { nil } }
    }
  }
}

/// A query written back as URL parameters (the next page's link).
struct AlertQueryText {
  var query: AlertQuery
  var before: UInt64?

  init(_ query: AlertQuery) {
    self.query = query
  }

  var text: String {
    var pairs: [(String, String)] = []
    for priority in Priority.allCases where query.priorities.contains(priority) {
      pairs.append(("priority", priority.rawValue))
    }
    if !query.rules.isEmpty { pairs.append(("rule", query.rules.joined(separator: ","))) }
    if let place = query.place { pairs.append(("governorate", place)) }
    if let since = query.sinceMs { pairs.append(("since", UTCTime.format(millisecondsSinceEpoch: since))) }
    if let until = query.untilMs { pairs.append(("until", UTCTime.format(millisecondsSinceEpoch: until))) }
    if let text = query.text { pairs.append(("q", text)) }
    if query.limit != AlertQuery().limit { pairs.append(("limit", String(query.limit))) }
    if let before { pairs.append(("before", String(before))) }
    return pairs.map { "\(HTML.query($0.0))=\(HTML.query($0.1))" }.joined(separator: "&")
  }
}

/// A record's place in the hash chain (docs/alerts.md): its hash is the SHA-256 of the
/// previous hash and its line up to `,"hash":`, and its `prev` is the previous record's hash.
struct ChainCheck {
  let hashMatches: Bool
  /// nil when the previous record is not in the index.
  let prevMatches: Bool?
  let detail: String

  var verified: Bool { hashMatches && prevMatches == true }

  init(_ alert: IndexedAlert, snapshot: AlertIndex.Snapshot) {
    let line = Array(alert.line.utf8.prefix { $0 != 0x0A })
    let marker = Array(",\"hash\":\"".utf8)
    guard let cut = Self.lastIndex(of: marker, in: line), let prev = Self.member("prev", in: line),
      let hash = Self.member("hash", in: line)
    else {
      hashMatches = false
      prevMatches = nil
      detail = "the line has no prev and hash members"
      return
    }
    hashMatches = AlertChain.hash(prev: prev, prefix: Array(line[..<cut])) == hash
    let seq = alert.entry.seq
    if seq == 1 {
      prevMatches = prev == AlertChain.genesis
    } else if let previous = snapshot.alert(seq: seq - 1) {
      prevMatches = Self.member("hash", in: Array(previous.line.utf8)) == prev
    } else {
      prevMatches = nil
    }
    switch (hashMatches, prevMatches) {
    case (true, true?):
      detail =
        "its hash is the SHA-256 of prev and its line, and prev is record \(seq - 1)'s hash "
        + "(checked on the line as it was written; vigil verify checks the files on disk)"
    case (false, _): detail = "its hash does not match its line: the record was changed after it was written"
    case (true, false?): detail = "its prev is not record \(seq - 1)'s hash: a record before it was changed or removed"
    case (true, nil):
      detail =
        "its hash matches its line; record \(seq - 1) is not in the console's index (vigil verify checks the whole log)"
    }
  }

  static func lastIndex(of marker: [UInt8], in line: [UInt8]) -> Int? {
    guard line.count >= marker.count else { return nil }
    for start in stride(from: line.count - marker.count, through: 0, by: -1)
    where line[start..<start + marker.count].elementsEqual(marker) {
      return start
    }
    return nil
  }

  /// A 64-hex member near the end of the line.
  static func member(_ name: String, in line: [UInt8]) -> String? {
    let marker = Array("\"\(name)\":\"".utf8)
    guard let start = lastIndex(of: marker, in: line) else { return nil }
    let from = start + marker.count
    guard from + 64 <= line.count else { return nil }
    return String(decoding: line[from..<from + 64], as: UTF8.self)
  }
}

/// The journal's line for a report, where the index says it is.
enum JournalLookup {
  struct Found {
    let line: String
    let receivedAt: String?
    let pretty: String
  }

  static func report(at position: JournalPosition?, id reportID: String?, stateDirectory: String) -> Found? {
    guard let position, let reportID else { return nil }
    let names = (try? FileManager.default.contentsOfDirectory(atPath: stateDirectory)) ?? []
    for name in names where name.hasPrefix("reports.jsonl") {
      let path = stateDirectory + "/" + name
      var status = stat()
      guard stat(path, &status) == 0, UInt64(status.st_ino) == position.inode else { continue }
      guard let line = readLine(path, at: position.offset) else { return nil }
      let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
      let report = object?["report"]
      // The file may have been truncated and rewritten (copytruncate), the inode reused:
      // only the report with the record's id is its report.
      guard (report as? [String: Any])?["id"] as? String == reportID else { return nil }
      let pretty =
        report.flatMap {
          try? JSONSerialization.data(
            withJSONObject: $0, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        }
        .map { String(decoding: $0, as: UTF8.self) } ?? line
      return Found(line: line, receivedAt: object?["received_at"] as? String, pretty: pretty)
    }
    return nil
  }

  /// The line starting at `offset` (at most the daemon's longest line and its prefix).
  private static func readLine(_ path: String, at offset: Int64) -> String? {
    let descriptor = open(path, O_RDONLY | O_CLOEXEC)
    guard descriptor >= 0 else { return nil }
    defer { close(descriptor) }
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65536)
    var at = offset
    while bytes.count < 4 << 20 {
      let read = buffer.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, $0.count, off_t(at)) }
      guard read > 0 else { break }
      if let newline = buffer[..<read].firstIndex(of: 0x0A) {
        bytes += buffer[..<newline]
        return String(decoding: bytes, as: UTF8.self)
      }
      bytes += buffer[..<read]
      at += Int64(read)
    }
    return nil
  }
}
