import Foundation
import VigilCore

/// The alert log (docs/alerts.md): JSON lines appended, never rewritten, each chained to the
/// one before by its hash. `seq` and the chain continue across restarts: from the last
/// whole line of the file, or, when the file is new or empty (after a rotation), from
/// `alerts.head` in the state directory.
public final class AlertLog {
  public typealias Failure = AppendOnlyFileFailure

  public let path: String
  private let headPath: String
  private let file: AppendOnlyFile
  public private(set) var lastSeq: UInt64
  public private(set) var lastHash: String
  /// Bytes of a torn last line cut when the log was opened (0 when none).
  public var cutBytes: Int { file.cutBytes }
  /// Where the bytes of a torn last line cut at open were kept.
  public var tornPath: String { file.tornPath }
  /// `alerts.head` as the last run left it: the last commit whose records were synced,
  /// and how far the journal went then (what start-up recovery reads).
  public let headAtStart: Head?
  /// How far the journal went at the last commit: kept in the head with the chain's.
  private var journalCovered: JournalMark?

  /// The chain's head as `alerts.head` keeps it.
  public struct Head: Equatable, Sendable {
    public let seq: UInt64
    public let hash: String
    /// The journal (its inode and size) as the commit that wrote `seq` left it; nil in a
    /// head written before it was kept.
    public let journal: JournalMark?
  }

  public init(path: String, headPath: String) throws(Failure) {
    self.path = path
    self.headPath = headPath
    // A crash in the middle of a rotation left the log's second name: dropped, unless the
    // log is not at its path (renamed to `.1` meanwhile: the second name is the same file,
    // and `.1` is then the log just rotated, which is fine; gone otherwise: put back).
    let aside = Self.asidePath(of: path)
    if access(aside, F_OK) == 0 {
      if access(path, F_OK) != 0, RotatedFiles.inode(of: aside) != RotatedFiles.inode(of: "\(path).1") {
        _ = rename(aside, path)
      } else {
        unlink(aside)
      }
    }
    let kept = Self.head(at: headPath)
    headAtStart = kept
    var headStatus = stat()
    headDamaged =
      kept == nil && lstat(headPath, &headStatus) == 0
      ? "\(headPath) is there but is no head (\(headStatus.st_mode & S_IFMT == S_IFDIR ? "a folder" : headStatus.st_size == 0 ? "empty" : "its text was altered, or damaged")): "
        + "seq and the chain go on from the log's last record, and records deleted from its end since the last head "
        + "cannot be told; it is written anew at the first commit" : nil
    // Locked while open: a second daemon appending to the same log would fork its chain.
    // A last line without its newline is cut (a crash in the middle of a write); its
    // bytes are kept in `<path>.torn`.
    // Lines, and not one record among them (all read: the file is within the look-back):
    // not an alert log that ends with a note, but another file — a journal, a README —
    // which records appended to would spoil, their chain going on from a seq it quotes.
    // Looked at before the file is opened to append, which would cut its last line.
    var size = stat()
    if stat(path, &size) == 0, size.st_mode & S_IFMT == S_IFREG, size.st_size > 0, Int64(size.st_size) <= Self.lookBackBytes {
      let found = Self.lastRecord(ofFileAt: path)
      // A last line without its newline is a write a crash cut (the first record of a new
      // log, say), which the open below cuts: not a line of another file.
      var last: UInt8 = 0
      let descriptor = open(path, O_RDONLY | O_CLOEXEC)
      if descriptor >= 0 {
        _ = pread(descriptor, &last, 1, off_t(size.st_size) - 1)
        close(descriptor)
      }
      let whole = found.linesAfter - (last == UInt8(ascii: "\n") ? 0 : 1)
      if found.record == nil, whole > 0 {
        throw Failure(
          description: "\(path) holds \(whole) line\(whole == 1 ? "" : "s") and not one alert record: "
            + "it is no alert log (another file's path: a report journal, a note?); give alerts.path a file of its own, "
            + "or move this one away")
      }
    }
    // A last line that is the very record the head says was written, whole, but for its
    // newline (removed by hand, or by a tool): its newline is put back, and the record kept
    // (audit 51: it was cut as torn, and the log then lacked a record the head had).
    restoredNewline = kept.flatMap { Self.restoreNewline(at: path, head: $0) }
    file = try AppendOnlyFile(path: path, exclusive: true)
    var logged = file.lastLine.flatMap(Self.position(of:))
    // Lines after the last record that are none (a note appended by hand, a line altered):
    // seq and the chain go on from the last record, never from 1 in the middle of a log.
    var seqAfterLastRecord: UInt64 = 0
    if logged == nil, file.lastLine != nil {
      let found = Self.lastRecord(ofFileAt: path)
      logged = found.record
      linesAfterLastRecord = found.linesAfter
      seqAfterLastRecord = found.highestSeqAfter
    } else {
      linesAfterLastRecord = 0
    }
    // Records and no head at all: vigild writes one at every commit that writes records,
    // so it was removed (or the log was written with another state folder). Going on from
    // the log is all there is to do; doing it silently would hide what the head shows.
    headMissing =
      kept == nil && headDamaged == nil && logged != nil
      ? "\(headPath) is missing while the alert log holds records (its last, seq \(logged?.seq ?? 0)): it was removed, "
        + "the log was written with another state folder, or a crash came before it was first written; seq and the chain go on from the log's last record, and "
        + "records deleted from its end cannot be told; it is written anew at the first commit" : nil
    // Empty (just rotated): the newest rotated file there is (`.1`, or an older one when
    // `.1` was removed) holds the chain's last record.
    let rotated: (seq: UInt64, hash: String)?
    let newestRotated = logged == nil ? RotatedFiles.numbers(beside: path).min() : nil
    rotated = newestRotated.flatMap { Self.lastRecord(ofFileAt: "\(path).\($0)").record }
    var head = logged ?? kept.map { ($0.seq, $0.hash) }
    // The head behind the rotated file's end (a head that could not be written, a crash
    // between the rotation and the head's write) or missing: the chain goes on from the
    // rotated file's last record, so no `seq` is given to two records.
    if logged == nil, let rotated, let newestRotated, kept.map({ $0.seq < rotated.seq }) ?? true {
      head = (rotated.seq, rotated.hash)
      wentOnFromRotated =
        "the alert log is empty and alerts.head \(kept.map { "says seq \($0.seq)" } ?? (headDamaged == nil ? "is missing" : "cannot be read")), behind the last record "
        + "of \(path).\(newestRotated) (seq \(rotated.seq)): seq and the chain go on from that record"
    } else {
      wentOnFromRotated = nil
    }
    // The head is written after the log (after its sync, with `durability: batch`), so a
    // crash leaves it at or behind the log's last record, never ahead. Ahead, or at the same
    // `seq` with another hash, the log's end was cut or rewritten since (or, with
    // `durability: none`, lost to a power failure): the chain goes on from the head, so a
    // `seq` once written is never given to another record (a sink that took it would skip
    // the new one) and `vigil verify` shows the gap at the next record.
    if let logged, let kept, kept.seq > logged.seq || (kept.seq == logged.seq && kept.hash != logged.hash) {
      endBehindHead = EndBehindHead(loggedSeq: logged.seq, headSeq: kept.seq)
      head = (kept.seq, kept.hash)
    } else if logged == nil, let kept, kept.seq > 0, rotated == nil {
      // Empty with no rotated file beside it that holds a record (a compressed or dated
      // name is not read): not a rotation (which leaves `path.1`), but a log emptied or
      // removed (or rotated into another folder). Going on from the head is right; going
      // on silently is not.
      endBehindHead = EndBehindHead(loggedSeq: 0, headSeq: kept.seq)
    } else if logged == nil, let kept, let newest = newestRotated, let rotated,
      kept.seq > rotated.seq || (kept.seq == rotated.seq && kept.hash != rotated.hash)
    {
      // (The newest rotated file there is: `.1`, or an older one when `.1` was removed.)
      // Just rotated, but the rotated file ends short of the head: records were lost from
      // its end, as from a log's.
      endBehindHead = EndBehindHead(loggedSeq: rotated.seq, headSeq: kept.seq, inRotatedFile: ".\(newest)")
    } else {
      endBehindHead = nil
    }
    // A line after the last record that still shows a later seq (a record altered past
    // reading): that seq is not given again.
    lastSeq = max(head?.seq ?? 0, seqAfterLastRecord)
    lastHash = head?.hash ?? AlertChain.genesis
  }

  /// Said at start when `alerts.head` is not there while the log holds records.
  public let headMissing: String?

  /// Said at start when `alerts.head` is there but is no head (emptied, a folder, its text
  /// altered): the daemon goes on from the log, and says what that costs.
  public let headDamaged: String?

  /// Said at start when the log's last record, the one the head names, had lost its
  /// newline, and it was put back.
  public let restoredNewline: String?

  /// Puts back the newline of a last line that is the record `head` names (its seq and
  /// hash); a note saying so, or nil when the file ends otherwise.
  static func restoreNewline(at path: String, head: Head) -> String? {
    let descriptor = open(path, O_RDWR | O_APPEND | O_CLOEXEC | O_NOFOLLOW)
    guard descriptor >= 0 else { return nil }
    defer { close(descriptor) }
    var status = stat()
    guard fstat(descriptor, &status) == 0, status.st_mode & S_IFMT == S_IFREG, status.st_size > 0 else { return nil }
    // A record is short: the last 64 KiB hold its line, or it is no record of ours.
    let length = min(Int(status.st_size), 65_536)
    var tail = [UInt8](repeating: 0, count: length)
    let read = tail.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, length, off_t(status.st_size) - off_t(length)) }
    guard read == length, tail.last != UInt8(ascii: "\n") else { return nil }
    let start = tail.lastIndex(of: UInt8(ascii: "\n")).map { $0 + 1 } ?? 0
    guard start > 0 || length == Int(status.st_size) else { return nil }
    let line = Array(tail[start...])
    // Its seq and hash the head's, and its hash its content's (chained from its `prev`).
    guard let position = position(of: line), position.seq == head.seq, position.hash == head.hash,
      let seal = AlertChain.seal(of: line), case .object(let record)? = try? JSONValue.parse(line),
      case .string(let prev)? = record["prev"],
      AlertChain.hash(prev: prev, prefix: Array(line[..<seal.end])) == seal.hash
    else { return nil }
    var newline = UInt8(ascii: "\n")
    guard write(descriptor, &newline, 1) == 1, fsync(descriptor) == 0 else { return nil }
    return "\(path): its last record, seq \(head.seq), the one alerts.head names, had lost its newline: it was put back"
  }

  /// Lines at the end of the log at start that are no record (0 when its last line is one).
  public let linesAfterLastRecord: Int

  /// Said at start when the log ends with lines that are no record.
  public var linesAfterLastRecordNote: String? {
    guard linesAfterLastRecord > 0 else { return nil }
    let lines = linesAfterLastRecord == 1 ? "a line that is" : "\(linesAfterLastRecord) lines that are"
    return "\(path) ends with \(lines) no alert record (added by hand, or altered): seq and the chain go on from "
      + (lastSeq > 0 ? "seq \(lastSeq)" : "the start") + "; vigil verify names the line"
  }

  /// Said at start when the chain went on from the newest rotated file's last record, the
  /// head being behind it or missing (a head that could not be written, or removed).
  public let wentOnFromRotated: String?

  /// The log's last record at start, when it falls short of `alerts.head`: records were
  /// deleted from its end or its last record rewritten (the same `seq`), and the chain
  /// went on from the head.
  public let endBehindHead: EndBehindHead?

  public struct EndBehindHead: Equatable, Sendable {
    public let loggedSeq: UInt64
    public let headSeq: UInt64
    /// The log was empty, and the record compared was the last of `.1`.
    /// The rotated file (`.1`, or the newest there is) whose end fell short, the log being empty.
    public var inRotatedFile: String?

    /// A log found empty with nothing rotated beside it may have been rotated into another
    /// folder: said as a warning; records missing from an end, as an error.
    public var isError: Bool { loggedSeq > 0 || inRotatedFile != nil }

    /// What the daemon logs at start.
    public var description: String {
      let missing = headSeq - loggedSeq
      let what =
        if missing == 0 {
          "its last record, seq \(loggedSeq), is not the one alerts.head keeps (another hash): it was rewritten"
        } else if loggedSeq == 0 {
          "it holds no record, and no rotated file read beside it holds one, but alerts.head says seq \(headSeq) was written: "
            + "the records up to seq \(headSeq) are gone from it (the log was emptied or removed, "
            + "unless it is rotated into another folder)"
        } else {
          "its last record\(inRotatedFile.map { " (in the rotated \($0), the log being empty)" } ?? "") is seq \(loggedSeq) "
            + "but alerts.head says seq \(headSeq) was written: "
            + "\(missing) record\(missing == 1 ? " is" : "s are") missing from its end (deleted, "
            + "or lost to a power failure with durability: none)"
        }
      return "the alert log's end is not what this daemon wrote: \(what); seq and the chain go on from alerts.head, "
        + "so the next record shows the break to vigil verify"
    }
  }

  /// Appends the records as one write; gives each its `seq`, its line (UTF-8) and where
  /// its `message` is in the line. Nothing is synced.
  @discardableResult
  public func append(_ records: [AlertRecord]) throws(Failure) -> [Written] {
    var seq = lastSeq
    var hash = lastHash
    // The lines are written one after another into one buffer, which is written whole and
    // then kept as one array the lines are slices of: no line has memory of its own, and
    // none is copied to be written (each line an array, joined into another, cost some
    // 1,400 instructions a report in allocations and copies, bench/count-instructions).
    var out = JSONBytes(capacity: records.reduce(0) { $0 + $1.bytesToWrite })
    var placed: [(seq: UInt64, line: Range<Int>, message: Range<Int>)] = []
    placed.reserveCapacity(records.count)
    // Each record's hash is the next one's `prev`, kept as bytes; a string is made of the last.
    var chained: ChainHash?
    for index in records.indices {
      seq += 1
      let start = out.count
      let written =
        if let chained {
          chained.withText { records[index].write(seq: seq, prev: $0, to: &out) }
        } else {
          records[index].write(seq: seq, prev: hash, to: &out)
        }
      chained = written.hash
      placed.append((seq, start..<out.count, written.message))
    }
    try file.append(out)
    if let chained { hash = chained.text }
    lastSeq = seq
    lastHash = hash
    let bytes = out.finished()
    return placed.map { Written(seq: $0.seq, line: bytes[$0.line], message: $0.message) }
  }

  /// A record as appended: its `seq`, its line, and where its `message` value is in the line
  /// (counted from the line's first byte).
  public struct Written: Sendable {
    public let seq: UInt64
    /// A slice of the bytes of the whole append.
    public let line: ArraySlice<UInt8>
    public let message: Range<Int>
  }

  /// Where the log stands: its size and the head of its chain.
  public struct Mark: Sendable {
    let size: Int64
    let seq: UInt64
    let hash: String
  }

  /// The file being written (its inode): where the lines of the next append go.
  public var inode: UInt64 { file.inode }

  public var mark: Mark { Mark(size: file.size, seq: lastSeq, hash: lastHash) }

  /// Undoes the appends after `mark` (a commit that failed part-way acknowledges nothing):
  /// the file, `seq` and the chain go back to where they were.
  public func cutBack(to mark: Mark) {
    file.cutBack(to: mark.size)
    lastSeq = mark.seq
    lastHash = mark.hash
  }

  /// Opens the path again after an external rotation (logrotate, then SIGUSR1 or the
  /// `reopen` request); `seq` and the chain go on into the new file.
  public func reopen() throws(Failure) {
    try file.reopen()
  }

  /// Why the last new file (a rotation, a reopen) could not take the old one's group; once.
  public func takeGroupNotKept() -> String? {
    file.takeGroupNotKept()
  }

  /// Built-in rotation: once the file reaches `limit` bytes it becomes `alerts.jsonl.1`,
  /// older ones shift up to `.keep` (the oldest beyond that is dropped, and any numbered
  /// higher, left by a larger `keep` before), and a new file starts, its first record
  /// chained to the last of the old.
  public func rotate(ifAtLeast limit: Int, keep: Int) throws(Failure) {
    guard limit > 0, file.size >= Int64(limit) else { return }
    try sync()
    // First a second name for the log, hidden: if it cannot have one (a folder that may
    // not be written, a file marked append-only), it cannot be renamed either, and nothing
    // is touched — the kept files were once removed and shifted before a rename that then
    // failed, one more at every commit. The log never leaves its path meanwhile.
    let aside = Self.asidePath(of: path)
    unlink(aside)
    // Where the file system has no hard links (vfat, some network and FUSE mounts), the
    // log itself is moved aside instead, and put back if a later step fails.
    var movedAside = false
    if link(path, aside) != 0 {
      let failed = errno
      guard [EPERM, EOPNOTSUPP, ENOTSUP, EMLINK].contains(failed), rename(path, aside) == 0 else {
        throw Failure(description: "cannot rotate \(path): \(String(cString: strerror(failed)))")
      }
      movedAside = true
    }
    let current = movedAside ? aside : path
    defer { if !movedAside { unlink(aside) } }
    // The oldest kept one goes, and any numbered beyond it (left by a larger `keep`
    // before): older files left behind would read as a gap in the chain to `vigil verify`.
    // What the duplicate index needs of their records is kept first (`prunedPath`).
    let going = RotatedFiles.numbers(beside: path).filter { $0 >= keep }.sorted(by: >).map { "\(path).\($0)" }
    do {
      try keepSeqs(ofFilesRemoved: going)
    } catch {
      if movedAside { _ = rename(aside, path) }
      throw error
    }
    for removed in going { unlink(removed) }
    for number in stride(from: keep - 1, through: 1, by: -1) {
      _ = rename("\(path).\(number)", "\(path).\(number + 1)")
    }
    guard rename(current, "\(path).1") == 0 else {
      let failed = errno
      if movedAside { _ = rename(aside, path) }
      throw Failure(description: "cannot rotate \(path): \(String(cString: strerror(failed)))")
    }
    try file.reopen()
  }

  /// The log's second name while it is rotated: `.NAME.rotating` beside it. Found at start
  /// (a crash in the middle of a rotation), it is removed, or, when the log is not at its
  /// path (the crash came between its rename and the new file), it is the log.
  static func asidePath(of path: String) -> String {
    let folder = FolderPath.of(path)
    return (folder.isEmpty ? "" : folder + "/") + "." + (path as NSString).lastPathComponent + ".rotating"
  }

  /// `alerts.pruned` beside `alerts.head`: for each alert record of a file built-in
  /// rotation removed, its `seq`, `time` and `report_id` (one JSON line each, as the record
  /// has them), so that a report recorded before is still answered with its alerts' seqs
  /// after a restart (the duplicate index is rebuilt from this, then the files kept).
  public var prunedPath: String { FolderPath.of(headPath) + "/alerts.pruned" }

  /// Appends the seqs of the files about to be removed (oldest first) to `prunedPath`, and
  /// syncs it; a failure leaves them in place (the rotation is not made).
  private func keepSeqs(ofFilesRemoved files: [String]) throws(Failure) {
    guard !files.isEmpty else { return }
    var out = JSONBytes(capacity: 1 << 16)
    for removed in files {
      FileLines.forEach(atPath: removed) { line, _ in
        guard case .object(let record)? = try? JSONValue.parse(Array(line)), case .number(let seq)? = record["seq"],
          case .string(let time)? = record["time"], case .string(let reportID)? = record["report_id"]
        else { return }
        out.raw(#"{"seq":"#)
        out.verbatim(String(UInt64(seq)))
        out.raw(#","time":"#)
        out.string(time)
        out.raw(#","report_id":"#)
        out.string(reportID)
        out.raw("}\n")
      }
    }
    let pruned = try AppendOnlyFile(path: prunedPath)
    try pruned.append(out)
    try pruned.sync()
  }

  /// Makes what was appended durable, and records the head of the chain with how far the
  /// journal went (`journal`, when the commit gives it).
  public func sync(covering journal: JournalMark? = nil) throws(Failure) {
    try file.sync()
    if let journal { journalCovered = journal }
    writeHead()
  }

  /// Starts writing the appended lines to the disk, for a `sync` of another file to take
  /// along (see `GroupCommit`); `sync` must still follow.
  public func startWriteback() {
    file.startWriteback()
  }

  /// Records the head of the chain without a sync (`durability: none`): the chain still
  /// continues into a new or emptied file, as with every commit under `batch`.
  public func noteHead(covering journal: JournalMark? = nil) {
    if let journal { journalCovered = journal }
    writeHead()
  }

  /// `alerts.head`: the last `seq` and `hash`, written beside the state so the chain
  /// continues when the log file is new. Always 128 bytes (padded with spaces), written
  /// in place with one `pwrite` at offset 0 on a descriptor kept open: one system call a
  /// commit instead of create, write, close and rename — a small block rewritten whole.
  private func writeHead() {
    let journal = journalCovered.map { ",\"journal\":[\($0.inode),\($0.size)]" } ?? ""
    var text = Array("{\"seq\":\(lastSeq),\"hash\":\"\(lastHash)\"\(journal)}".utf8)
    text += [UInt8](repeating: UInt8(ascii: " "), count: max(0, Self.headSize - 1 - text.count))
    text.append(UInt8(ascii: "\n"))
    // Removed or replaced while the daemon runs: written anew at its path, not to a file no
    // name reaches (where deletions from the log's end would no longer show).
    if headDescriptor >= 0, !Self.isOpen(headDescriptor, at: headPath) {
      close(headDescriptor)
      headDescriptor = -1
      headReplaced = true
    }
    if headDescriptor < 0 {
      // Not blocking on a named pipe put at its path; and only a regular file is written.
      headDescriptor = open(headPath, O_WRONLY | O_CREAT | O_CLOEXEC | O_NONBLOCK, 0o600)
      var status = stat()
      if headDescriptor >= 0, fstat(headDescriptor, &status) != 0 || status.st_mode & S_IFMT != S_IFREG {
        close(headDescriptor)
        headDescriptor = -1
        errno = EINVAL
      }
    }
    let written = headDescriptor < 0 ? -1 : text.withUnsafeBytes { pwrite(headDescriptor, $0.baseAddress, $0.count, 0) }
    // The log is written (and synced) already: a head that cannot be written loses no record,
    // but deletions from the log's end could no longer be told. Said once, and its mending.
    let problem = written == text.count ? nil : "cannot write \(headPath): \(String(cString: strerror(errno)))"
    if problem != headProblem {
      headProblem = problem
      headProblemChanged = true
    }
  }

  /// Why `alerts.head` could not be written at the last commit, nil when it was.
  public private(set) var headProblem: String?
  private var headProblemChanged = false

  /// The head's problem when it began or ended since this was last asked (nil: no news),
  /// as the daemon's log says it: `"…"` for a problem, `""` for its end.
  public func takeHeadProblemNews() -> String? {
    guard headProblemChanged else { return nil }
    headProblemChanged = false
    return headProblem ?? ""
  }

  /// Whether `descriptor` is the file at `path` (not one removed or replaced since).
  private static func isOpen(_ descriptor: Int32, at path: String) -> Bool {
    var open = stat()
    var named = stat()
    return fstat(descriptor, &open) == 0 && stat(path, &named) == 0 && open.st_ino == named.st_ino
      && open.st_dev == named.st_dev
  }

  /// Set when the head's file was found removed or replaced, and written anew; taken by
  /// `takeHeadReplaced`.
  private var headReplaced = false

  /// Whether the head's file was removed or replaced since this was last asked (and made again).
  public func takeHeadReplaced() -> Bool {
    defer { headReplaced = false }
    return headReplaced
  }

  private static let headSize = 192
  private var headDescriptor: Int32 = -1

  deinit {
    if headDescriptor >= 0 { close(headDescriptor) }
  }

  /// `alerts.head` as it is on disk; nil when there is none or it cannot be read.
  public static func head(at path: String) -> Head? {
    guard let data = FileManager.default.contents(atPath: path) else { return nil }
    var bytes = [UInt8](data)
    while let last = bytes.last, last == UInt8(ascii: "\n") || last == UInt8(ascii: " ") { bytes.removeLast() }
    guard let (seq, hash) = position(of: bytes) else { return nil }
    var journal: JournalMark?
    if case .object(let object)? = try? JSONValue.parse(bytes), case .array(let mark)? = object["journal"], mark.count == 2,
      case .number(let inode) = mark[0], case .number(let size) = mark[1], inode >= 0, size >= 0, inode < 1e18, size < 1e18
    {
      journal = JournalMark(inode: UInt64(inode), size: Int64(size))
    }
    return Head(seq: seq, hash: hash, journal: journal)
  }

  /// The `seq` and `hash` of the last whole record of the file at `path`, read from its
  /// end back, and how many lines after it are no record; nil when it holds none, or is not
  /// there.
  /// It reads back at most 64 MiB: a file holding no record that near its end is not
  /// a log the daemon wrote. `highestSeqAfter` is the highest `"seq":N` the lines after the
  /// record show (an altered record keeps its seq): never to be given again.
  /// How far back from its end a file is read for its last record.
  static let lookBackBytes: Int64 = 64 << 20

  static func lastRecord(ofFileAt path: String) -> (
    record: (seq: UInt64, hash: String)?, linesAfter: Int, highestSeqAfter: UInt64
  ) {
    let run = FileTail.run(of: path, limit: .max, maxBytes: lookBackBytes) { position(of: $0) == nil }
    let highest = run.lines.compactMap(Self.seqWritten(in:)).max() ?? 0
    return (run.before.flatMap(position(of:)), run.lines.count, highest)
  }

  /// The number after the first `"seq":` of a line that is no record, if there is one.
  static func seqWritten(in line: [UInt8]) -> UInt64? {
    let marker = Array(#""seq":"#.utf8)
    guard line.count > marker.count,
      let start = (0...(line.count - marker.count)).first(where: { line[$0..<($0 + marker.count)].elementsEqual(marker) })
    else { return nil }
    let digits = line[(start + marker.count)...].prefix { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }.prefix(18)
    return digits.isEmpty ? nil : UInt64(String(decoding: digits, as: UTF8.self))
  }

  /// The `seq` and `hash` of an alert-log line (or of the head file).
  static func position(of line: [UInt8]) -> (seq: UInt64, hash: String)? {
    guard case .object(let object)? = try? JSONValue.parse(line),
      case .number(let seq)? = object["seq"], seq >= 0, seq < 1e18,
      case .string(let hash)? = object["hash"], hash.utf8.count == 64
    else { return nil }
    return (UInt64(seq), hash)
  }
}

/// A storage file could not be opened, read or written.
public struct AppendOnlyFileFailure: Error, CustomStringConvertible {
  public let description: String
}
