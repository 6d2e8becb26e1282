import Foundation
import VigilCore
import VigilServer

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
    // The lower bound stays: an older page of "after 13000" is still after 13000.
    if let after = query.after { pairs.append(("after", String(after))) }
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

  /// Whether the line was read from the alert log's file (else: the index's copy, its file
  /// no longer kept), and whether it differs from the line as it was written.
  let readFromDisk: Bool
  let changedOnDisk: Bool

  init(_ alert: IndexedAlert, snapshot: AlertIndex.Snapshot, logFiles: [String]) {
    let written = Array(alert.line.utf8.prefix { $0 != 0x0A })
    let onDisk: [UInt8]?
    switch JournalLookup.loggedLine(at: alert.entry.logged, seq: alert.entry.seq, files: logFiles) {
    case .line(let text): onDisk = Array(text.utf8)
    case .notKept: onDisk = nil
    case .missing(let why):
      // Its file is kept, but the record is not at its place in it: the evidence is gone,
      // whatever the copy in memory says.
      readFromDisk = false
      changedOnDisk = true
      hashMatches = false
      prevMatches = nil
      detail = "the alert log no longer holds this record at its place: \(why) (vigil verify names what was removed)"
      return
    }
    readFromDisk = onDisk != nil
    changedOnDisk = onDisk.map { $0 != written } ?? false
    // The file's line is what is checked: the evidence is the file, not the copy.
    let line = onDisk ?? written
    guard let (cut, hash) = AlertChain.seal(of: line), let prev = Self.member("prev", in: line) else {
      hashMatches = false
      prevMatches = nil
      detail = "the line does not end with its prev and hash members, hash last"
      return
    }
    hashMatches = AlertChain.hash(prev: prev, prefix: Array(line[..<cut])) == hash && !changedOnDisk
    let seq = alert.entry.seq
    if seq == 1 {
      prevMatches = prev == AlertChain.genesis
    } else if let previous = snapshot.alert(seq: seq - 1) {
      prevMatches = Self.member("hash", in: Array(previous.line.utf8)) == prev
    } else {
      prevMatches = nil
    }
    let source =
      readFromDisk
      ? "the line read from the alert log now" : "the line as it was written (its file is no longer kept)"
    switch (hashMatches, prevMatches) {
    case _ where changedOnDisk:
      detail = "the alert log's line for this record is not the one written: it was changed on disk"
    case (true, true?):
      let previous = seq == 1 ? "the chain's starting value (64 zeros)" : "record \(seq - 1)'s hash"
      detail = "\(source): its hash is the SHA-256 of prev and the line, and prev is \(previous)"
    case (false, _): detail = "\(source): its hash does not match the line: the record was changed after it was written"
    case (true, false?):
      detail =
        seq == 1
        ? "its prev is not the chain's starting value: it is not the log's first record"
        : "its prev is not record \(seq - 1)'s hash: a record before it was changed or removed"
    case (true, nil):
      detail =
        "\(source): its hash matches; record \(seq - 1) is not in the console's index (vigil verify checks the whole log)"
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
      guard inode(of: path) == position.inode else { continue }
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

  static func inode(of path: String) -> UInt64? {
    RotatedFiles.inode(of: path)
  }

  /// What the alert log's file holds now at a record's position.
  enum LoggedLine: Equatable {
    /// The line there, which begins with the record's `seq`.
    case line(String)
    /// The file is no longer kept: gone, or its inode now another's (a file rotated away and
    /// removed may leave its inode to a newer one: a file whose first record comes after
    /// `seq` is not the record's), or emptied in place (copytruncate).
    case notKept
    /// The file is the record's, but the record is not at its place: the file ends before
    /// it (records cut from its end), or another line is there (records before it removed).
    case missing(String)
  }

  static func loggedLine(at position: JournalPosition?, seq: UInt64, files: [String]) -> LoggedLine {
    guard let position, let path = files.first(where: { inode(of: $0) == position.inode }) else { return .notKept }
    guard let firstLine = readLine(path, at: 0) else { return .notKept }
    if let first = Self.seq(of: firstLine), first > seq { return .notKept }
    guard let line = readLine(path, at: position.offset) else {
      return .missing("its file ends before it (records were cut from the file's end)")
    }
    guard Self.seq(of: line) == seq else {
      return .missing("another line is there (records before it were removed or changed)")
    }
    return .line(line)
  }

  /// The `seq` a record's line begins with (`{"seq":N,`).
  static func seq(of line: String) -> UInt64? {
    guard line.hasPrefix(#"{"seq":"#) else { return nil }
    return UInt64(line.dropFirst(7).prefix { $0.isASCII && $0.isNumber })
  }

  /// The line starting at `offset` (at most 4 MB).
  static func readLine(_ path: String, at offset: Int64) -> String? {
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
