import Foundation
import VigilCore

/// Builds the console's index at start from the files (docs/console.md, "The index"): the
/// alert log's kept files, oldest first, up to the last record written before this start;
/// then the journal's files, for the reports those records name (their region, coordinates
/// and where their line is). It runs on a thread of its own after the daemon is ready; the
/// writer's records meanwhile go into the index directly and come after these.
enum AlertIndexLoader {
  /// The files to read, open: the alert log's kept files and the journal's, oldest first.
  /// Opened at start, before the writer may rotate the log: whatever is renamed later, the
  /// build reads the files that were there.
  struct Sources: @unchecked Sendable {
    let alertLogs: [(file: UnsafeMutablePointer<FILE>, inode: UInt64)]
    let journals: [(file: UnsafeMutablePointer<FILE>, inode: UInt64)]

    init(alertLogs: [String], journals: [String]) {
      self.alertLogs = alertLogs.compactMap(Self.open)
      self.journals = journals.compactMap(Self.open)
    }

    /// The file, open, and its inode.
    static func open(_ path: String) -> (file: UnsafeMutablePointer<FILE>, inode: UInt64)? {
      guard let file = fopen(path, "rb") else { return nil }
      var status = stat()
      guard fstat(fileno(file), &status) == 0 else {
        fclose(file)
        return nil
      }
      return (file, UInt64(status.st_ino))
    }
  }

  /// Reads and closes the files; `lastSeq` is the last record of the log at start (later
  /// ones are the writer's).
  static func read(_ sources: Sources, lastSeq: UInt64) -> [AlertIndex.Committed] {
    defer {
      for (file, _) in sources.alertLogs { fclose(file) }
      for (file, _) in sources.journals { fclose(file) }
    }
    return read(alertLogs: sources.alertLogs, journals: sources.journals, lastSeq: lastSeq)
  }

  /// Paths, for the tests.
  static func read(alertLogs: [String], journals: [String], lastSeq: UInt64) -> [AlertIndex.Committed] {
    read(Sources(alertLogs: alertLogs, journals: journals), lastSeq: lastSeq)
  }

  private static func read(
    alertLogs: [(file: UnsafeMutablePointer<FILE>, inode: UInt64)],
    journals: [(file: UnsafeMutablePointer<FILE>, inode: UInt64)],
    lastSeq: UInt64
  ) -> [AlertIndex.Committed] {
    var records: [(seq: UInt64, record: AlertRecord, line: String, logged: JournalPosition)] = []
    var wanted = Set<String>()
    for (file, inode) in alertLogs {
      forEachLine(of: file) { line, offset in
        guard let (seq, record) = parseRecord(line), seq <= lastSeq else { return }
        if let id = record.reportID { wanted.insert(id) }
        records.append(
          (seq, record, String(decoding: line, as: UTF8.self), JournalPosition(inode: inode, offset: offset)))
      }
    }
    var facts: [String: ReportFacts] = [:]
    for (file, inode) in journals {
      forEachLine(of: file) { line, offset in
        guard case .object(let entry)? = try? JSONValue.parse(line), case .object(let report)? = entry["report"],
          case .string(let id)? = report["id"], wanted.contains(id)
        else { return }
        var found = ReportFacts(
          governorate: nil, lat: nil, lon: nil, journal: JournalPosition(inode: inode, offset: offset))
        if case .object(let location)? = report["location"] {
          if case .string(let text)? = location["governorate"] { found.governorate = text }
          if case .number(let lat)? = location["lat"] { found.lat = lat }
          if case .number(let lon)? = location["lon"] { found.lon = lon }
        }
        facts[id] = found
      }
    }
    records.sort { $0.seq < $1.seq }
    return records.map { item in
      AlertIndex.Committed(
        seq: item.seq, record: item.record, line: item.line, report: item.record.reportID.flatMap { facts[$0] },
        logged: item.logged)
    }
  }

  /// A record's members, from its line.
  static func parseRecord(_ line: [UInt8]) -> (UInt64, AlertRecord)? {
    guard case .object(let object)? = try? JSONValue.parse(line), case .number(let seq)? = object["seq"],
      case .string(let time)? = object["time"], case .string(let rule)? = object["rule"],
      case .string(let priorityText)? = object["priority"], let priority = Priority(rawValue: priorityText),
      case .string(let message)? = object["message"]
    else { return nil }
    func text(_ key: String) -> String? {
      if case .string(let value)? = object[key] { return value }
      return nil
    }
    func list(_ key: String) -> [String] {
      guard case .array(let items)? = object[key] else { return [] }
      return items.compactMap { if case .string(let value) = $0 { value } else { nil } }
    }
    return (
      UInt64(seq),
      AlertRecord(
        time: time, rule: rule, priority: priority, reportID: text("report_id"), occurredAt: text("occurred_at"),
        message: message, basis: list("basis"), tags: list("tags"), ruleset: text("ruleset") ?? "")
    )
  }

  /// Each complete line of a file (without its newline) and the offset it starts at,
  /// read a megabyte at a time.
  static func forEachLine(of file: UnsafeMutablePointer<FILE>, _ body: ([UInt8], Int64) -> Void) {
    var pending: [UInt8] = []
    var pendingStart: Int64 = 0
    var base: Int64 = 0
    var buffer = [UInt8](repeating: 0, count: 1 << 20)
    while true {
      let read = buffer.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, file) }
      guard read > 0 else { break }
      var lineStart = 0
      for index in 0..<read where buffer[index] == 0x0A {
        if pending.isEmpty {
          body(Array(buffer[lineStart..<index]), base + Int64(lineStart))
        } else {
          pending += buffer[lineStart..<index]
          body(pending, pendingStart)
          pending.removeAll(keepingCapacity: true)
        }
        lineStart = index + 1
      }
      if lineStart < read {
        if pending.isEmpty { pendingStart = base + Int64(lineStart) }
        pending += buffer[lineStart..<read]
      }
      base += Int64(read)
    }
  }
}
