import ArgumentParser
import Foundation
import VigilCore

struct Tail: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Show the last alerts of the alert log, and follow it with -f (across rotation).",
    discussion: """
      Without FILE: the alert log the running daemon reports, else the configuration's.
      Example: vigil tail -f --min-priority high --rule 'ceasefire.*'
      """)

  @OptionGroup var daemon: DaemonOptions
  @Flag(name: .short, help: "Follow the log as it grows, across rotation and truncation.") var follow = false
  // Unconditional: `-n -3` is a count told wrong (below), not "missing value".
  @Option(
    name: .customShort("n", allowingJoined: true), parsing: .unconditional,
    help: "How many of the last matching alerts to show first.")
  var n = 10
  @Option(name: .customLong("min-priority"), help: "Only alerts of this priority or above.") var minPriority: String?
  @Option(name: .customLong("rule"), help: ArgumentHelp("Only rules whose id matches this glob (repeatable).", valueName: "GLOB"))
  var rules: [String] = []
  @Flag(help: "The alert log's lines as they are.") var json = false
  @Argument(help: ArgumentHelp("The alert log (default: the daemon's, else the configuration's).", valueName: "FILE"))
  var file: String?

  func validate() throws {
    if let minPriority, Priority(rawValue: minPriority) == nil {
      throw ValidationError(
        "--min-priority must be one of \(Priority.allCases.map(\.rawValue).joined(separator: ", "))")
    }
    for rule in rules {
      if let problem = AlertSelector.problem(inGlob: rule) { throw ValidationError("--rule '\(rule)': \(problem)") }
    }
    if n < 0 { throw ValidationError("-n must be 0 or more, not \(n)") }
  }

  func run() throws {
    let (path, unasked) = try alertLogPath()
    let selector = AlertSelector(
      SubscriptionFilter(minimumPriority: minPriority.flatMap(Priority.init(rawValue:)), rules: rules))
    let printer = AlertPrinter(json: json, colours: isatty(1) == 1 && ProcessInfo.processInfo.environment["NO_COLOR"] == nil)
    let awaited = follow && Self.awaitCreation(of: path)
    var follower = try Self.follower(path, unasked: unasked)
    // The last matching lines, read from the end back (into rotated files when the current
    // one holds too few), so a long log costs what is shown, not its size.
    var last: [[UInt8]]
    if awaited {
      // A log made while we waited: every line of it is new.
      last = try follower.readNew().filter { printer.selects($0, selector) }
    } else if let shown = follower.skipToEnd() {
      last = try LogTail.lines(of: follower.descriptor, before: shown, named: path, wanted: n) { printer.selects($0, selector) }
    } else {
      // Not a file one can seek in (a pipe, a device): read from its start.
      last = try follower.readNew().filter { printer.selects($0, selector) }.suffix(n)
    }
    var rotation = 1
    while last.count < n, FileManager.default.fileExists(atPath: "\(path).\(rotation)") {
      let older = "\(path).\(rotation)"
      let descriptor = try InputFile.open(older)
      defer { close(descriptor) }
      try InputFile.refuseCompressed(descriptor, path: older)
      let size = lseek(descriptor, 0, SEEK_END)
      last = try LogTail.lines(of: descriptor, before: UInt64(max(size, 0)), named: older, wanted: n - last.count) {
        printer.selects($0, selector)
      } + last
      rotation += 1
    }
    for line in last { printer.print(line) }
    fflush(nil)
    guard follow else { return }
    while true {
      for line in try follower.readNew() where printer.selects(line, selector) { printer.print(line) }
      fflush(nil)
      Thread.sleep(forTimeInterval: 0.2)
    }
  }

  /// With `-f`, a log not made yet (vigild not started yet, or started with another
  /// configuration) is waited for, as `tail -F` does, saying so once: true when it was.
  private static func awaitCreation(of path: String) -> Bool {
    guard access(path, F_OK) != 0, errno == ENOENT else { return false }
    FileHandle.standardError.write(Data("vigil: \(path) does not exist yet; waiting for it to be created\n".utf8))
    repeat { Thread.sleep(forTimeInterval: 0.2) } while access(path, F_OK) != 0
    return true
  }

  /// Vigil's own records, which a `--rule` glob may be meant for.
  static let vigilRecords = ["vigil.ruleset_loaded", "vigil.ruleset_rejected", "vigil.sink_conflict"]

  /// Says on standard error each `--rule` glob that matches no rule or pattern of the set in
  /// force, nor a record of Vigil's own: most likely a typo, which would show nothing new
  /// without a word. (Alerts of rules since removed may still match it in the log.)
  private func noteGlobsMatchingNothing() {
    guard !rules.isEmpty, let response = try? daemon.connect().request(#"{"op":"rules"}"#, within: 5) else { return }
    let ids =
      ((response["rules"] as? [[String: Any]]) ?? []) + ((response["patterns"] as? [[String: Any]]) ?? [])
    let known = ids.compactMap { $0["id"] as? String } + Self.vigilRecords
    for glob in rules {
      let selector = AlertSelector(SubscriptionFilter(rules: [glob]))
      guard !known.contains(where: { selector.selects(rule: $0, priority: .critical, tags: []) }) else { continue }
      let note = TerminalText.safe(
        "vigil: note: --rule '\(glob)' matches no rule or pattern of the set in force (vigil rules list "
          + "--patterns); only alerts of rules since removed can match it")
      FileHandle.standardError.write(Data((note + "\n").utf8))
    }
  }

  /// Opens the log; when it is the configuration's, a failure says why the daemon's was not taken.
  private static func follower(_ path: String, unasked: String?) throws(CommandFailure) -> AlertLogFollower {
    do throws(CommandFailure) {
      return try AlertLogFollower(path: path)
    } catch {
      guard let unasked else { throw error }
      throw CommandFailure(status: error.status, sentence: error.sentence + " (the configuration's alerts.path: \(unasked))")
    }
  }

  /// The log to read, and, when it is the configuration's, why the daemon's was not taken.
  private func alertLogPath() throws -> (path: String, unasked: String?) {
    if let file { return (file, nil) }
    let why: String
    switch Result(catching: { () throws(CommandFailure) -> [String: Any] in
      // Not long: the log can be read without the daemon, from the configuration.
      try daemon.connect().request(#"{"op":"status"}"#, within: min(5, DaemonConnection.answerWithin))
    }) {
    case .success(let status):
      noteGlobsMatchingNothing()
      if let path = status["alert_log"] as? String { return (path, nil) }
      why = "vigild's status names no alert log"
    case .failure(let failure):
      why = "vigild did not say its own: \(failure.sentence)"
    }
    return (try daemon.configuration().alerts.path, why)
  }
}

/// Reads an alert log's lines: those already there, then those appended, following the
/// path to a new file when it is rotated (renamed, then created anew) and starting over
/// when it is truncated.
struct AlertLogFollower {
  let path: String
  private var handle: FileHandle
  private var inode: UInt64
  private var offset: UInt64 = 0
  private var partial: [UInt8] = []
  /// The last bytes read, to notice a file truncated and refilled past where we were.
  private var lastBytes: [UInt8] = []
  /// The `seq` of the last whole line read (or skipped to), to take up after it when the
  /// file followed was rotated and then removed (`keep`) before it was read to its end.
  private var lastSeq: UInt64?

  init(path: String) throws(CommandFailure) {
    self.path = path
    handle = FileHandle(fileDescriptor: try InputFile.open(path), closeOnDealloc: true)
    inode = Self.inode(of: handle.fileDescriptor) ?? 0
    try InputFile.refuseCompressed(handle.fileDescriptor, path: path)
  }

  var descriptor: Int32 { handle.fileDescriptor }

  /// Starts following after the last whole line there is now; gives where that is (a line
  /// being written is read when it is whole). Nil, and nothing changed, for what is not a
  /// regular file.
  mutating func skipToEnd() -> UInt64? {
    var status = stat()
    guard fstat(handle.fileDescriptor, &status) == 0, status.st_mode & S_IFMT == S_IFREG else { return nil }
    let found = lseek(handle.fileDescriptor, 0, SEEK_END)
    guard found >= 0 else { return nil }
    var end = UInt64(found)
    // Back to just after the last newline.
    var byte: UInt8 = 0
    while end > 0, pread(handle.fileDescriptor, &byte, 1, off_t(end - 1)) == 1, byte != UInt8(ascii: "\n") { end -= 1 }
    offset = end
    _ = lseek(handle.fileDescriptor, off_t(end), SEEK_SET)
    var last = [UInt8](repeating: 0, count: Int(min(end, 64)))
    let count = last.withUnsafeMutableBytes { pread(handle.fileDescriptor, $0.baseAddress, $0.count, off_t(end) - off_t($0.count)) }
    lastBytes = count == last.count ? last : []
    // The last whole line's seq, when its start is within 64 KiB of the end.
    if end > 1 {
      var before = [UInt8](repeating: 0, count: Int(min(end - 1, 65_536)))
      let read = before.withUnsafeMutableBytes { pread(handle.fileDescriptor, $0.baseAddress, $0.count, off_t(end - 1) - off_t($0.count)) }
      if read == before.count, let start = before.lastIndex(of: UInt8(ascii: "\n")).map({ $0 + 1 }) ?? (end - 1 <= 65_536 ? 0 : nil) {
        lastSeq = Self.seq(of: before[start...])
        givenSeq = lastSeq
      }
    }
    return end
  }

  /// The `seq` a record line starts with.
  static func seq(of line: some Collection<UInt8>) -> UInt64? {
    let prefix = Array(#"{"seq":"#.utf8)
    guard line.starts(with: prefix) else { return nil }
    var value: UInt64 = 0
    var digits = 0
    for byte in line.dropFirst(prefix.count) {
      guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9"), digits < 18 else { break }
      value = value * 10 + UInt64(byte - UInt8(ascii: "0"))
      digits += 1
    }
    return digits > 0 ? value : nil
  }

  /// The file followed before a rotation, while the daemon may still be writing it: a
  /// rotation that creates the new file first (logrotate's `create`) and tells vigild to
  /// reopen a moment later leaves records going to the old file meanwhile. It is read until
  /// the new file has a whole line (vigild has reopened: the old file is complete), then
  /// one last time, and let go.
  private var previous: (handle: FileHandle, partial: [UInt8])?
  /// The inode of a new file at the path that could not be opened, said once: the old file
  /// is kept (it is not "cut in place"), and the new one tried at each read.
  private var unopenable: UInt64?

  /// What the previous file got since it was last read, in whole lines.
  private mutating func drainPrevious() -> [[UInt8]] {
    guard let (file, kept) = previous, let data = try? InputFile.readToEnd(file.fileDescriptor) else { return [] }
    var partial = kept + data
    defer { previous = (file, partial) }
    guard let lastNewline = partial.lastIndex(of: UInt8(ascii: "\n")) else { return [] }
    let lines = partial[...lastNewline].split(separator: UInt8(ascii: "\n")).map(Array.init)
    partial = Array(partial[(lastNewline + 1)...])
    if let last = lines.last, let seq = Self.seq(of: last) { lastSeq = seq }
    return lines
  }

  /// The `seq` of the last record given out: a record at or before it is not given again
  /// (a file read twice over a race with rotation), unless the log starts afresh (seq 1).
  private var givenSeq: UInt64?

  mutating func readNew() throws(CommandFailure) -> [[UInt8]] {
    return try readNewLines().filter { line in
      guard let seq = Self.seq(of: line) else { return true }
      if let given = givenSeq, seq <= given, seq != 1 { return false }
      givenSeq = seq
      return true
    }
  }

  private mutating func readNewLines() throws(CommandFailure) -> [[UInt8]] {
    var lines: [[UInt8]] = []
    if previous != nil {
      // The old file's last records come before the new file's first.
      lines += drainPrevious()
      var status = stat()
      if fstat(handle.fileDescriptor, &status) == 0, status.st_size > 0 {
        lines += drainPrevious()
        try? previous?.handle.close()
        previous = nil
      }
    }
    // Cut in place and written again past where we were, before this read: the bytes
    // before the offset are no longer the ones read there. Read from the start again,
    // before reading on (which would take the new bytes past the offset for more of the
    // same file, and skip those before it).
    var current = stat()
    if fstat(handle.fileDescriptor, &current) == 0, UInt64(current.st_size) < offset || !stillHoldsLastBytes() {
      startOver()
    }
    // The same look after the read: a cut and refill between the look above and the read
    // (a stop, a busy machine) left the read taking the new bytes past the old offset for
    // more of the old file. Then what it took is dropped, and the file read from its start.
    let (offsetBefore, lastBefore) = (offset, lastBytes)
    let drained = try drain()
    if holds(lastBefore, before: offsetBefore) {
      lines += drained
    } else {
      startOver()
      lines += try drain()
    }
    var status = stat()
    if stat(path, &status) == 0 {
      if UInt64(status.st_ino) != inode, FileHandle(forReadingAtPath: path) == nil {
        // Rotated into a file this user may not read (vigild makes it as the old one was,
        // but another hand may not): said once, never taken for the old file cut in place.
        if unopenable != UInt64(status.st_ino) {
          unopenable = UInt64(status.st_ino)
          let descriptor = open(path, O_RDONLY | O_CLOEXEC)
          let reason = descriptor < 0 ? String(cString: strerror(errno)) : "it could not be opened"
          if descriptor >= 0 { close(descriptor) }
          FileHandle.standardError.write(
            Data(
              ("vigil: \(path) was rotated, and the new file cannot be read: \(reason); its records are not shown "
                + "until it can be (make it readable, as docs/install.md says)\n").utf8))
        }
      } else if UInt64(status.st_ino) != inode, let next = FileHandle(forReadingAtPath: path) {
        unopenable = nil
        // Rotated: what the old file got before it was renamed (read again: a line may
        // have come between the read above and the look at the path); the files rotated
        // after it (two rotations between reads), whole; then go on in the new one — the
        // file opened, whose inode is taken from it (another rotation may have come since
        // the look at the path).
        lines += try drain()
        let nextInode = Self.inode(of: next.fileDescriptor) ?? UInt64(status.st_ino)
        var since = Self.rotatedSince(path: path, old: inode, new: nextInode, after: lastSeq)
        // The records follow on from the last one read, seq by seq. When they do not,
        // vigild may be renaming the rotated files while we look (`.k` to `.k+1`, one at a
        // time): looked at again, a few times, before a gap is believed (audit 53: under
        // rotations many times a second, whole files were skipped and others shown twice).
        var tries = 0
        while tries < 25, let lastSeq, !since.found || !Self.followsOn(since.lines, from: lastSeq) {
          Thread.sleep(forTimeInterval: 0.02)
          since = Self.rotatedSince(path: path, old: inode, new: nextInode, after: lastSeq)
          tries += 1
        }
        lines += since.lines
        if let gap = since.gap {
          FileHandle.standardError.write(
            Data(
              ("vigil: records \(gap.lowerBound)–\(gap.upperBound) were rotated away and removed (alerts.keep) before "
                + "they could be read\n").utf8))
        }
        if let last = since.lines.last, let seq = Self.seq(of: last) { lastSeq = seq }
        // The old file stays open, read until the new one is written (`previous`); only
        // when no other file came between (two rotations between reads leave it complete).
        if let older = previous { try? older.handle.close() }
        previous = since.lines.isEmpty && since.gap == nil ? (handle, partial) : nil
        if previous == nil { try? handle.close() }
        handle = next
        inode = nextInode
        offset = 0
        partial = []
        lastBytes = []
        lines += try drain()
      } else if UInt64(status.st_size) < offset || !stillHoldsLastBytes() {
        // Truncated in place (copytruncate): start over.
        startOver()
        lines += try drain()
      }
    }
    return lines
  }

  /// Whether the records of `lines` follow on from `lastSeq`: each `seq` the one after
  /// the one before (a log's records are numbered without a gap), or none at all.
  static func followsOn(_ lines: [[UInt8]], from lastSeq: UInt64) -> Bool {
    var expected = lastSeq + 1
    for line in lines {
      guard let seq = seq(of: line) else { continue }
      guard seq == expected else { return false }
      expected += 1
    }
    return true
  }

  /// What was appended since the last read, in whole lines.
  private mutating func drain() throws(CommandFailure) -> [[UInt8]] {
    let data: [UInt8]
    do {
      data = try InputFile.readToEnd(handle.fileDescriptor)
    } catch {
      throw CommandFailure(status: 2, sentence: "cannot read \(path): \(error.reason)")
    }
    offset += UInt64(data.count)
    guard !data.isEmpty else { return [] }
    lastBytes = Array((lastBytes + data).suffix(64))
    partial += data
    guard let lastNewline = partial.lastIndex(of: UInt8(ascii: "\n")) else { return [] }
    let complete = partial[...lastNewline]
    let lines = complete.split(separator: UInt8(ascii: "\n")).map(Array.init)
    partial = Array(partial[(lastNewline + 1)...])
    if let last = lines.last, let seq = Self.seq(of: last) { lastSeq = seq }
    return lines
  }

  /// The lines of the files rotated after the one whose inode is `old`: it is now
  /// `path.k`, and `path.(k-1)` … `path.1` came after it, oldest first. When it is not
  /// among them (removed by a later rotation, past `keep`), the lines of every rotated file
  /// there is whose `seq` comes after `lastSeq`, and the records between that none holds
  /// any more (`gap`); with no `lastSeq`, none (what came between cannot be told).
  static func rotatedSince(path: String, old: UInt64, new: UInt64, after lastSeq: UInt64?) -> (
    lines: [[UInt8]], gap: ClosedRange<UInt64>?, found: Bool
  ) {
    var newer: [String] = []
    var found = false
    // A number missing among them is a file being renamed to the next (vigild shifts them
    // one at a time, the newest last): looked past, up to two numbers in a row.
    var missing = 0
    for rotation in 1...1000 {
      let rotated = "\(path).\(rotation)"
      var status = stat()
      guard stat(rotated, &status) == 0 else {
        missing += 1
        if missing > 2 { break }
        continue
      }
      missing = 0
      if UInt64(status.st_ino) == old {
        found = true
        break
      }
      // The new file itself rotated already (rotations came while we looked): those before
      // it are newer still, read once the new file is (audit 53: printed first, they put
      // the new file's records after them).
      if UInt64(status.st_ino) == new {
        newer = []
      } else {
        newer.append(rotated)
      }
    }
    if !found && lastSeq == nil { return ([], nil, false) }
    var lines = newer.reversed().flatMap { file -> [[UInt8]] in
      guard let data = FileManager.default.contents(atPath: file) else { return [] }
      // A rotated file is whole: its last line ends with a newline.
      return data.split(separator: UInt8(ascii: "\n")).map(Array.init)
    }
    guard let lastSeq else { return (lines, nil, found) }
    // Records at or before the last one read are not new, wherever they lie: a file renamed
    // past a stale `path.1` (to `path.2`, by another hand) leaves older records between
    // it and the new file (audit 50).
    lines.removeAll { (seq(of: $0) ?? 0) <= lastSeq }
    guard !found, let first = lines.first.flatMap({ seq(of: $0) }), first > lastSeq + 1 else { return (lines, nil, found) }
    return (lines, (lastSeq + 1)...(first - 1), found)
  }

  /// Whether the bytes just before `offset` are still the ones read there.
  private func stillHoldsLastBytes() -> Bool {
    holds(lastBytes, before: offset)
  }

  /// Whether `expected` is still what the file holds just before `end`.
  private func holds(_ expected: [UInt8], before end: UInt64) -> Bool {
    guard !expected.isEmpty else { return true }
    var bytes = [UInt8](repeating: 0, count: expected.count)
    let count = bytes.withUnsafeMutableBytes {
      pread(handle.fileDescriptor, $0.baseAddress, $0.count, off_t(end) - off_t(expected.count))
    }
    return count == expected.count && bytes == expected
  }

  /// Reads the file again from its start.
  private mutating func startOver() {
    offset = 0
    partial = []
    lastBytes = []
    try? handle.seek(toOffset: 0)
  }

  private static func inode(of descriptor: Int32) -> UInt64? {
    var status = stat()
    return fstat(descriptor, &status) == 0 ? UInt64(status.st_ino) : nil
  }
}

/// The last lines of a file that pass a test, read backwards in chunks from an offset.
enum LogTail {
  static func lines(
    of descriptor: Int32, before end: UInt64, named path: String, wanted: Int, where selects: ([UInt8]) -> Bool
  ) throws(CommandFailure) -> [[UInt8]] {
    guard wanted > 0 else { return [] }
    var found: [[UInt8]] = []
    var position = end
    // The pieces of a line whose beginning is further back, the latest first: joined once
    // its start is found, so that a long line costs its length, not its square.
    var carried: [[UInt8]] = []
    let chunkSize: UInt64 = 64 * 1024
    while position > 0, found.count < wanted {
      let size = min(chunkSize, position)
      position -= size
      var chunk = [UInt8](repeating: 0, count: Int(size))
      let read = chunk.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, $0.count, off_t(position)) }
      guard read == Int(size) else {
        throw CommandFailure(status: 2, sentence: "cannot read \(path): \(String(cString: strerror(errno)))")
      }
      // Every line after the chunk's first newline is whole; what comes before it waits for
      // the next chunk back, unless this is the file's start.
      var bytes: [UInt8]
      if position > 0, let first = chunk.firstIndex(of: UInt8(ascii: "\n")) {
        bytes = Array(chunk[(first + 1)...]) + carried.reversed().joined()
        carried = [Array(chunk[..<first])]
      } else if position > 0 {
        carried.append(chunk)
        continue
      } else {
        bytes = chunk + carried.reversed().joined()
        carried = []
      }
      let lines = bytes.split(separator: UInt8(ascii: "\n")).map(Array.init)
      for line in lines.reversed() where found.count < wanted && selects(line) { found.append(line) }
    }
    return found.reversed()
  }
}

/// One alert per line, aligned, coloured by priority on a terminal; or the raw line.
struct AlertPrinter {
  let json: Bool
  let colours: Bool

  func selects(_ line: [UInt8], _ selector: AlertSelector) -> Bool {
    guard let record = Self.fields(line) else { return false }
    return selector.selects(rule: record.rule, priority: record.priority, tags: record.tags)
  }

  func print(_ line: [UInt8]) {
    if json {
      Swift.print(String(decoding: line, as: UTF8.self))
      return
    }
    guard case .object(let record)? = try? JSONValue.parse(line) else { return }
    let text = { (key: String) -> String in
      if case .string(let value)? = record[key] { return value }
      if case .number(let value)? = record[key] { return String(Int(value)) }
      return "-"
    }
    let priority = text("priority")
    let seq = "#" + text("seq")
    // Padded to align, never cut: a rule id longer than the longest shipped one (44
    // characters) or a long report id shifts its row instead.
    let pad = { (text: String, width: Int) in text + String(repeating: " ", count: max(0, width - text.count)) }
    let columns = [
      text("time"), pad(seq, 7), pad(priority.uppercased(), 8), pad(text("rule"), 44), pad(text("report_id"), 18),
      text("message"),
    ]
    let row = TerminalText.safe(columns.joined(separator: "  "))
    Swift.print(colours ? Self.colour(priority) + row + "\u{1B}[0m" : row)
  }

  private static func colour(_ priority: String) -> String {
    switch priority {
    case "critical": "\u{1B}[1;31m"
    case "high": "\u{1B}[31m"
    case "medium": "\u{1B}[33m"
    case "low": "\u{1B}[36m"
    default: "\u{1B}[2m"
    }
  }

  private static func fields(_ line: [UInt8]) -> (rule: String, priority: Priority, tags: [String])? {
    guard case .object(let record)? = try? JSONValue.parse(line), case .string(let rule)? = record["rule"],
      case .string(let word)? = record["priority"], let priority = Priority(rawValue: word)
    else { return nil }
    var tags: [String] = []
    if case .array(let values)? = record["tags"] {
      tags = values.compactMap { if case .string(let tag) = $0 { tag } else { nil } }
    }
    return (rule, priority, tags)
  }
}
