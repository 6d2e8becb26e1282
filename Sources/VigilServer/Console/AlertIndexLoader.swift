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

  /// Builds the index's part from before this start and hands it to `index`
  /// (`AlertIndex.addBuilt`), then closes the files; `lastSeq` is the last record of the
  /// log at start (later ones are the writer's).
  static func build(_ sources: Sources, lastSeq: UInt64, into index: AlertIndex) {
    defer {
      for (file, _) in sources.alertLogs { fclose(file) }
      for (file, _) in sources.journals { fclose(file) }
    }
    index.addBuilt(built(sources, lastSeq: lastSeq, for: index))
  }

  /// Paths, for the tests.
  static func build(alertLogs: [String], journals: [String], lastSeq: UInt64, into index: AlertIndex) {
    build(Sources(alertLogs: alertLogs, journals: journals), lastSeq: lastSeq, into: index)
  }

  /// A record the index will hold, until its line is copied in: 48 bytes.
  struct Kept {
    let seq: UInt64
    let timeMs: Int64
    let incidentMs: Int64
    let offset: Int64
    let rule: UInt32
    /// Its report's place in the build's list of reports (-1: none).
    let report: Int32
    let length: UInt32
    /// Which alert log file.
    let file: UInt16
    let priority: Priority
  }

  /// What the build keeps of a report some record names.
  private struct Facts {
    /// Its region in the names table (0: none), its coordinates (NaN: none).
    var place: UInt32 = 0
    var lat: Float = .nan
    var lon: Float = .nan
    /// Its line in the journal (inode 0: not found).
    var inode: UInt64 = 0
    var offset: Int64 = 0
    /// Its records counted in the overview, to count under its region once that is known.
    var counted: UInt32 = 0
  }

  /// Three passes, holding no line but those the index keeps: the alert log's records,
  /// each counted in the overview and the newest `limit` of them kept (48 bytes each,
  /// NewestRecords), with the reports they name (a digest and 40 bytes for each report any
  /// kept file names, for the counts by region); the journal, for those reports' regions
  /// and positions; then the kept records' lines, copied straight from the files into the
  /// index's chunks. (Holding every record and its line until the end cost ~1.9 KB a
  /// record: some 7.5 GiB after a restart on 5 million reports, against 1,084 MiB for the
  /// daemon that journalled them.)
  private static func built(_ sources: Sources, lastSeq: UInt64, for index: AlertIndex) -> AlertIndex.State {
    var state = AlertIndex.State()
    let limit = index.limit
    var newest = NewestRecords(limit: limit)
    var reports: [Facts] = []
    var reportNumbers: [Digest128: Int32] = [:]
    var lastTime: (text: String, ms: Int64)?
    for (fileNumber, (file, _)) in sources.alertLogs.enumerated() {
      FileLines.forEach(in: file) { line, offset in
        guard let record = parseSummary(line), record.seq <= lastSeq else { return }
        let timeMs: Int64
        if let lastTime, lastTime.text == record.time {
          timeMs = lastTime.ms
        } else {
          timeMs = AlertIndex.milliseconds(record.time) ?? 0
          lastTime = (record.time, timeMs)
        }
        let incidentMs = record.occurredAt.flatMap(AlertIndex.milliseconds) ?? timeMs
        var report: Int32 = -1
        if let id = record.reportID {
          let key = ReportDigest.id(id)
          if let known = reportNumbers[key] {
            report = known
          } else {
            report = Int32(reports.count)
            reportNumbers[key] = report
            reports.append(Facts())
          }
        }
        state.lastSeq = max(state.lastSeq, record.seq)
        let rule = state.names.index(of: record.rule)
        if !record.rule.hasPrefix("vigil.") {
          state.tally.count(priority: record.priority, rule: rule, incidentMs: incidentMs)
          if report >= 0 { reports[Int(report)].counted += 1 }
        }
        guard limit > 0 else { return }
        let kept = Kept(
          seq: record.seq, timeMs: timeMs, incidentMs: incidentMs, offset: offset,
          rule: rule, report: report, length: UInt32(line.count),
          file: UInt16(fileNumber), priority: record.priority)
        newest.add(kept)
      }
    }
    for (file, inode) in sources.journals where !reportNumbers.isEmpty {
      FileLines.forEach(in: file) { line, offset in
        guard case .object(let entry)? = try? JSONValue.parse(Array(line), envelope: JSONScanner.journalEnvelope),
          case .object(let report)? = entry["report"],
          case .string(let id)? = report["id"], let number = reportNumbers[ReportDigest.id(id)]
        else { return }
        var found = ReportFacts(governorate: nil, lat: nil, lon: nil, journal: nil)
        if case .object(let location)? = report["location"] {
          if case .string(let text)? = location["governorate"] { found.governorate = text }
          if case .number(let lat)? = location["lat"] { found.lat = lat }
          if case .number(let lon)? = location["lon"] { found.lon = lon }
        }
        reports[Int(number)].place = index.region(of: found).map { state.names.index(of: $0) } ?? 0
        reports[Int(number)].lat = found.lat.map(Float.init) ?? .nan
        reports[Int(number)].lon = found.lon.map(Float.init) ?? .nan
        reports[Int(number)].inode = inode
        reports[Int(number)].offset = offset
      }
    }
    reportNumbers = [:]
    for facts in reports where facts.place != 0 && facts.counted > 0 {
      state.tally.count(place: facts.place, records: Int(facts.counted))
    }
    copyLines(of: newest.inSeqOrder(), from: sources.alertLogs, reports: reports, into: &state)
    return state
  }

  /// Copies each kept record's line from its file into the index, with its entry, in seq
  /// order. Records in the order of the files (as the writer leaves them) are read in one
  /// sequential run per file, from the first kept line to the end of the last; any other
  /// order, run by run.
  private static func copyLines(
    of kept: [Kept], from alertLogs: [(file: UnsafeMutablePointer<FILE>, inode: UInt64)], reports: [Facts],
    into state: inout AlertIndex.State
  ) {
    var next = 0
    while next < kept.count {
      // The run: the records that follow each other in one file.
      var last = next
      while last + 1 < kept.count, kept[last + 1].file == kept[next].file, kept[last + 1].offset > kept[last].offset {
        last += 1
      }
      let (file, inode) = alertLogs[Int(kept[next].file)]
      let end = kept[last].offset + Int64(kept[last].length) + 1
      FileLines.forEach(in: file, from: kept[next].offset, to: end) { line, offset in
        guard next <= last, kept[next].offset == offset, Int(kept[next].length) == line.count else { return }
        let record = kept[next]
        let facts = record.report >= 0 ? reports[Int(record.report)] : Facts()
        let message = AlertIndex.messageRange(in: line)
        state.append(line: line) { lineStart in
          AlertIndex.Entry(
            seq: record.seq, timeMs: record.timeMs, incidentMs: record.incidentMs, priority: record.priority,
            rule: record.rule, place: facts.place, lat: facts.lat, lon: facts.lon,
            report: facts.inode == 0 ? nil : JournalPosition(inode: facts.inode, offset: facts.offset),
            logged: JournalPosition(inode: inode, offset: offset), lineStart: lineStart,
            lineLength: UInt32(line.count), messageStart: UInt32(message.lowerBound),
            messageLength: UInt32(message.count))
        }
        next += 1
      }
      // The files are only appended to past `lastSeq`, so every kept line is where pass one
      // found it; were one not, it is passed over rather than read from elsewhere.
      next = last + 1
    }
  }

  /// What the build needs of a record's line: the members the index keeps and counts.
  private static func parseSummary(
    _ line: UnsafeBufferPointer<UInt8>
  ) -> (seq: UInt64, time: String, rule: String, priority: Priority, reportID: String?, occurredAt: String?)? {
    guard case .object(let object)? = try? JSONValue.parse(Array(line)), case .number(let seq)? = object["seq"],
      case .string(let time)? = object["time"], case .string(let rule)? = object["rule"],
      case .string(let priorityText)? = object["priority"], let priority = Priority(rawValue: priorityText),
      case .string = object["message"]
    else { return nil }
    var reportID: String?
    if case .string(let id)? = object["report_id"] { reportID = id }
    var occurredAt: String?
    if case .string(let text)? = object["occurred_at"] { occurredAt = text }
    return (UInt64(seq), time, rule, priority, reportID, occurredAt)
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
}
