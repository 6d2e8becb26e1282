import ArgumentParser
import Foundation
import NIOConcurrencyHelpers
import VigilCore
import VigilPlugins
import VigilServer

struct Verify: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Verify the alert log's hash chain; name the first line altered, inserted, deleted or reordered.",
    discussion: """
      Give rotated files oldest first; the chain runs across them. Without FILE: the \
      configuration's alert log with its rotated files. Exit 1 when it is broken.
      Example: vigil verify var/log/vigil/alerts.jsonl.2 var/log/vigil/alerts.jsonl.1 var/log/vigil/alerts.jsonl
      With --sink postgres: the chain of one node's rows in the postgres sink's database \
      (vigil.alerts, the column line), read with the sink's settings from the configuration.
      Example: vigil verify --sink postgres --node field-office-2
      """)

  @Option(help: ArgumentHelp("Configuration file (default: $VIGIL_CONFIG, else Config/vigild.yaml if present).", valueName: "FILE"))
  var config: String?
  @Flag(help: "One JSON object with the outcome.") var json = false
  @Option(help: ArgumentHelp("Verify a node's rows in this sink's store instead of files (postgres).", valueName: "SINK"))
  var sink: String?
  @Option(help: ArgumentHelp("With --sink: the node whose rows to verify (default: the configuration's node).", valueName: "NODE"))
  var node: String?
  @Argument(help: ArgumentHelp("Alert log files, oldest first (default: the configuration's).", valueName: "FILE"))
  var files: [String] = []

  func validate() throws {
    if sink != nil, !files.isEmpty { throw ValidationError("give files or --sink, not both") }
    if sink == nil, node != nil { throw ValidationError("--node names whose rows to verify in a sink: give --sink too") }
  }

  func run() throws {
    if let sink {
      try verifyStore(sink)
      return
    }
    // A daemon rotating its log while this reads it renames the files under it (`.1` to
    // `.2`, the log to `.1`): a break seen then may be no break. When the files changed
    // their names meanwhile, they are read again (a few times at most).
    var attempt = 0
    while true {
      attempt += 1
      let (files, head, opened) = try logFilesOpenedTogether()
      defer { for descriptor in opened { if let descriptor { close(descriptor) } } }
      let before = Self.identities(files)
      let outcome = try verify(files, opened: opened, head: head)
      if case .broken = outcome, attempt < 5, self.files.isEmpty || head != nil {
        let renamed = Self.identities(files) != before
        if try renamed || Set(logFilesAndHead().files) != Set(files) { continue }
      }
      switch outcome {
      case .intact(let verifier, let alone, let tornLast, let newlineGone):
        // A head that is there but is no head (emptied, altered by a byte): what it would
        // show — records deleted from the log's end — cannot be told, which a chain that
        // holds must not hide.
        var notes: [String] = []
        if head == nil, let damaged = try headDamage(recordsVerified: verifier.records) {
          // Empty: a crash just after it was first made, or a power failure before the file
          // system kept its first write. Anything else is no crash's doing.
          guard damaged.isNote else { try fail(damaged.path, line: 1, damaged.problem) }
          notes.append(damaged.problem)
        }
        let torn = tornLast.map {
          "\($0.file):\($0.line) has no newline yet, so it was not verified: a write in progress, or a line a "
            + "crash cut short (vigild cuts it at its next start)"
        }
        // A whole record that lost its newline: verified, and said (vigild puts it back at
        // its next start when it is the record alerts.head names, audit 51).
        let unterminated = newlineGone.map {
          "\($0.file):\($0.line) is a whole record but has lost its newline (vigild puts it back at its next start "
            + "when it is the record alerts.head names)"
        }
        report(verifier, source: nil, alone: alone, notes: notes + (torn.map { [$0] } ?? []) + (unterminated.map { [$0] } ?? []))
        return
      case .broken(let file, let line, let problem):
        try fail(file, line: line, problem)
      }
    }
  }

  /// What verifying the files found.
  private enum Outcome {
    /// The chain holds; `alone` when the configured log has no rotated file beside it;
    /// `tornLast` the newest file's last line when it has no newline and is no record.
    case intact(
      ChainVerifier, alone: Bool, tornLast: (file: String, line: Int)?, newlineGone: (file: String, line: Int)? = nil)
    case broken(file: String, line: Int, problem: String)
  }

  /// The log's files and the head, the files opened together: each descriptor is of the
  /// file its path named once all were open (no rotation renamed one between the listing
  /// and the opening; tried again until none did, a hundred times at most), so what is
  /// read is one state of the log, whatever the daemon does next: a rotated file no longer
  /// changes, and one a rotation removes stays readable through its descriptor. A file
  /// that is not there has none (the configured log removed; else its reading says so).
  private func logFilesOpenedTogether() throws -> (files: [String], head: AlertLog.Head?, opened: [Int32?]) {
    var attempt = 0
    while true {
      attempt += 1
      let (files, head) = try logFilesAndHead()
      let opened = files.map { file -> Int32? in
        let descriptor = open(file, O_RDONLY | O_CLOEXEC)
        return descriptor >= 0 ? descriptor : nil
      }
      let openedInodes = opened.map { descriptor -> UInt64? in
        var status = stat()
        guard let descriptor, fstat(descriptor, &status) == 0 else { return nil }
        return UInt64(status.st_ino)
      }
      // A rotated file gone between the listing and the opening: a rotation removed it.
      let rotatedAllOpen = opened.dropLast().allSatisfy { $0 != nil }
      // Files named on the command line are no daemon's to rename: taken as they are.
      if rotatedAllOpen && openedInodes == Self.identities(files) || attempt >= 100 || !self.files.isEmpty {
        return (files, head, opened)
      }
      for descriptor in opened { if let descriptor { close(descriptor) } }
      usleep(1000)
    }
  }

  private func verify(_ files: [String], opened: [Int32?], head: AlertLog.Head?) throws -> Outcome {
    var verifier = ChainVerifier()
    // The head is read before the files: a daemon writing meanwhile only moves the files
    // past it (it writes the head after the log).
    verifier.known = head.map { ($0.seq, $0.hash) }
    var lastFileRecords = 0
    var lastFileLines = 0
    var tornLast: (file: String, line: Int)?
    var newlineGone: (file: String, line: Int)?
    // Where the last record taken is, in whichever file: a break may be its doing.
    var recordBefore: (file: String, line: Int)?
    // A break on a file's last line, which the next file's first line may lay on the
    // record before it (a rotation between them changes nothing of the chain).
    var pending: (verifier: ChainVerifier, problem: String, file: String, line: Int, before: (file: String, line: Int))?
    /// A pending break's verdict, given the line after it (nil: none came).
    func settle(
      _ pending: (verifier: ChainVerifier, problem: String, file: String, line: Int, before: (file: String, line: Int)),
      next: [UInt8]?
    ) -> Outcome {
      if let blamed = next.flatMap({ pending.verifier.blame(next: $0) }) ?? pending.verifier.blameByHead() {
        return .broken(file: pending.before.file, line: pending.before.line, problem: blamed)
      }
      return .broken(file: pending.file, line: pending.line, problem: pending.problem)
    }
    for (fileIndex, file) in files.enumerated() {
      // The configured log removed while alerts.head says what was written: verified as
      // an empty log, which is a break (exit 1), not a file that could not be read (2).
      let removed = head != nil && fileIndex == files.count - 1 && opened[fileIndex] == nil
        && !FileManager.default.fileExists(atPath: file)
      let data: Data
      if removed {
        data = Data()
      } else if let descriptor = opened[fileIndex] {
        data = try Self.contents(of: descriptor, named: file)
      } else {
        data = try InputFile.contents(file)
      }
      try InputFile.refuseCompressed(data.prefix(6), path: file)
      let recordsBefore = verifier.records
      var number = 0
      let lines = data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
      // The line after a break on the last line of the file before: this file's first
      // (an empty one says nothing of the break); a file with no line at all is passed.
      if let waiting = pending, !(lines.count == 1 && lines[0].isEmpty) {
        return settle(waiting, next: lines.first.flatMap { $0.isEmpty ? nil : Array($0) })
      }
      for line in lines {
        number += 1
        // What follows the last newline is empty; an empty line elsewhere was put there.
        if line.isEmpty, number == lines.count { continue }
        // The newest file's last line without its newline: a record being written (or one
        // a crash cut short). A whole record is verified; anything else is not yet one.
        if number == lines.count, fileIndex == files.count - 1 {
          var trial = verifier
          if let problem = trial.take(Array(line)) {
            // A seq alerts.head says was written was written whole (the head follows the
            // line's sync): not a write in progress, but a record altered at the end.
            if let head, let seq = Self.wholeSeq(of: line), seq <= head.seq {
              return .broken(file: file, line: number, problem: problem + " (and its newline is gone)")
            }
            tornLast = (file, number)
          } else {
            verifier = trial
            recordBefore = (file, number)
            newlineGone = (file, number)
          }
          continue
        }
        if var problem = line.isEmpty ? "altered: an empty line" : verifier.take(Array(line)) {
          if verifier.missing != nil,
            let moved = Self.reordered(verifier, after: (file, number, lines), later: files[(fileIndex + 1)...])
          {
            problem = moved
          }
          // A line in its place, after a record that is not: the line after it says so, in
          // this file or at the start of the next; or alerts.head does.
          if verifier.missing == nil, !line.isEmpty, let before = recordBefore {
            let broken = (verifier, problem, file, number, before)
            // Not the file's last line (what follows its last newline is no line): the line
            // after it is here; an empty one says nothing of the break.
            if number < lines.count - 1 || (number == lines.count - 1 && !lines[number].isEmpty) {
              return settle(broken, next: lines[number].isEmpty ? nil : Array(lines[number]))
            }
            if fileIndex + 1 < files.count {
              pending = broken
              break
            }
            return settle(broken, next: nil)
          }
          return .broken(file: file, line: number, problem: problem)
        }
        recordBefore = (file, number)
      }
      if pending != nil { continue }
      lastFileRecords = verifier.records - recordsBefore
      lastFileLines = lines.count - (lines.last?.isEmpty == true ? 1 : 0)
    }
    // A break on the last line of a file that no line came after.
    if let waiting = pending { return settle(waiting, next: nil) }
    // Records deleted from the end leave no break in the chain; only the head shows them.
    // It is compared when the log holds records, or when it is empty beside rotated files
    // (just rotated: the newest of them must end at the head, whichever is newest now —
    // one removed is records deleted; an older one may be compressed or gone).
    if let head, let missing = verifier.missingAtEnd, let file = files.last, lastFileRecords > 0 || files.count > 1 {
      let problem =
        "\(missing) record\(missing == 1 ? "" : "s") deleted at the end, after seq \(verifier.lastSeq) "
        + "(alerts.head says seq \(head.seq) was written)"
      return .broken(file: file, line: lastFileLines + 1, problem: problem)
    }
    // The configured log with no rotated file beside it: one emptied while the head still
    // says what was written is refused; one whose first records are elsewhere is verified
    // from its first, and that is said with why.
    // Files read that hold no record at all while the head says records were written: the
    // log was emptied, whatever else lies beside it — a compressed or dated name is not
    // read, and says nothing of what was in the log (an empty `alerts.jsonl.7.gz` made
    // `ok: no records` of a wiped log).
    // (Files named on the command line: only when nothing rotated is beside the log, as the
    // rotated files they leave out may hold the records.)
    if verifier.records == 0, let head, head.seq > 0, let file = files.last,
      self.files.isEmpty || !RotatedFiles.anyRotated(beside: file)
    {
      let rotated = RotatedFiles.rotated(beside: file)
      let read = Set(files)
      let unread = (rotated.plain.filter { !read.contains($0) } + rotated.compressed).map { ($0 as NSString).lastPathComponent }
      let beside =
        unread.isEmpty
        ? "and no rotated file beside it"
        : "and beside it only files that are not read (\(unread.prefix(3).joined(separator: ", "))\(unread.count > 3 ? ", …" : ""): "
          + "decompress them, or rename them alerts.jsonl.N, and name the files)"
      return .broken(
        file: file, line: 1,
        problem: "no records, \(beside), but alerts.head says seq \(head.seq) was written: "
          + "the log was emptied or removed (if it is rotated into another folder, name the files to verify them)")
    }
    var alone = false
    if let file = files.last, !RotatedFiles.anyRotated(beside: file), self.files.isEmpty || head != nil {
      alone = true
    }
    return .intact(verifier, alone: alone, tornLast: tornLast, newlineGone: newlineGone)
  }

  /// The `seq` a line starts with when its whole token is there (`{"seq":15,`): a line torn
  /// inside its digits (`{"seq":1`) has none, and is taken for a write in progress.
  static func wholeSeq(of line: some Collection<UInt8>) -> UInt64? {
    let prefix = Array(#"{"seq":"#.utf8)
    guard line.starts(with: prefix) else { return nil }
    let rest = line.dropFirst(prefix.count)
    let digits = rest.prefix { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
    guard !digits.isEmpty, digits.count <= 18, rest.dropFirst(digits.count).first == UInt8(ascii: ",") else { return nil }
    return digits.reduce(0) { $0 * 10 + UInt64($1 - UInt8(ascii: "0")) }
  }

  /// The whole of an opened file (or a directory's refusal, as `InputFile` says it).
  private static func contents(of descriptor: Int32, named file: String) throws -> Data {
    var status = stat()
    if fstat(descriptor, &status) == 0, status.st_mode & S_IFMT == S_IFDIR { return try InputFile.contents(file) }
    do {
      return Data(try InputFile.readToEnd(descriptor))
    } catch {
      throw CommandFailure(status: 2, sentence: "cannot read \(file): \(error.reason)")
    }
  }

  /// Each file's inode, to tell whether a rotation renamed them while they were read.
  private static func identities(_ files: [String]) -> [UInt64?] {
    files.map { RotatedFiles.inode(of: $0) }
  }

  /// Says where the chain breaks and how, and exits 1.
  private func fail(_ file: String, line: Int, _ problem: String) throws -> Never {
    if json {
      print("{\"ok\":false,\"file\":\(JSONText.string(file)),\"line\":\(line),\"problem\":\(JSONText.string(problem))}")
    } else {
      print("\(file):\(line): \(problem)")
    }
    throw ExitCode(1)
  }

  /// The verdict for a gap whose missing records come later in the log (the rest of this
  /// file, then the later files): reordered, at the place of the first of them found.
  private static func reordered(
    _ verifier: ChainVerifier, after current: (file: String, number: Int, lines: [Data.SubSequence]),
    later: ArraySlice<String>
  ) -> String? {
    for (offset, line) in current.lines[current.number...].enumerated() {
      if let seq = ChainVerifier.seq(of: line),
        let verdict = verifier.reordered(laterSeq: seq, at: "line \(current.number + offset + 1)")
      {
        return verdict
      }
    }
    for file in later {
      guard let data = try? InputFile.contents(file) else { return nil }
      for (index, line) in data.split(separator: UInt8(ascii: "\n")).enumerated() {
        if let seq = ChainVerifier.seq(of: line), let verdict = verifier.reordered(laterSeq: seq, at: "\(file):\(index + 1)") {
          return verdict
        }
      }
    }
    return nil
  }

  /// The outcome of a chain that held from its first record to its last, with what it
  /// could not verify (`notes`; plain: a line each after the verdict, `--json`: `notes`).
  private func report(_ verifier: ChainVerifier, source: String?, alone: Bool = false, notes: [String] = []) {
    let first = verifier.firstSeq ?? 0
    var said: [String] = []
    if verifier.records > 0, first > 1 {
      let whereNot =
        source != nil
        ? "the store"
        : alone
          ? "the log, and no rotated file is beside it (moved to another folder or archived, or deleted: "
            + "name those files to verify them)"
          : "these files (rotated away)"
      said.append("verified from seq \(first): the records before it are not in \(whereNot)")
    }
    if json {
      let all = (said + notes).map(JSONText.string).joined(separator: ",")
      print("{\"ok\":true,\"records\":\(verifier.records),\"first_seq\":\(first),\"last_seq\":\(verifier.lastSeq),\"notes\":[\(all)]}")
      return
    }
    if verifier.records > 0 {
      print("ok: \(verifier.records) record\(verifier.records == 1 ? "" : "s")\(source.map { " " + $0 } ?? ""), seq \(first)–\(verifier.lastSeq), chain intact")
    } else {
      print("ok: no records")
    }
    for line in said { print(line) }
    for note in notes { print("note: " + note) }
  }

  /// Verifies the chain of `node`'s rows in the postgres sink's database, from the rows
  /// alone (their `line` column: the exact bytes the hashes cover), and that each row's
  /// columns say what its line says.
  private func verifyStore(_ sinkName: String) throws {
    guard files.isEmpty else { throw ValidationError("give files or --sink, not both") }
    var options = DaemonOptions()
    options.config = config
    let configuration = try options.configuration()
    guard let plugin = configuration.plugins.first(where: { $0.name == sinkName }) else {
      throw CommandFailure(status: 2, sentence: "the configuration enables no sink named \(sinkName)")
    }
    let keepers = builtInPlugins.all.compactMap { $0 as? any StoredRecordsSink }.map(\.name)
    guard let sink = builtInPlugins.all.first(where: { $0.name == sinkName }) as? any StoredRecordsSink else {
      throw CommandFailure(
        status: 2,
        sentence: "the \(sinkName) sink keeps no records to read back; only \(keepers.joined(separator: ", ")) can be verified")
    }
    let node = node ?? configuration.node
    let outcome = NIOLockedValueBox((verifier: ChainVerifier(), problem: String?.none))
    do {
      // Its own settings, without the filter keys Vigil takes (min_priority, rules, tags).
      let settings = try SinkOptions.split(plugin.settings).rest
      try sink.readStoredRecords(settings: settings, node: node) { row in
        outcome.withLockedValue { state in
          let line = Array(row.line.utf8)
          if let problem = state.verifier.take(line) {
            state.problem = Self.placed(problem, row: row.key, lineSeq: ChainVerifier.seq(of: line))
            return false
          }
          // The line is what the chain says; the columns queries read must say the same.
          if let disagreement = row.disagreement {
            state.problem = "seq \(row.key) (its row): altered: \(disagreement)"
            return false
          }
          return true
        }
      }
    } catch {
      throw CommandFailure(status: 2, sentence: "\(error)")
    }
    let (verifier, problem) = outcome.withLockedValue { $0 }
    if let problem {
      if json {
        print("{\"ok\":false,\"node\":\(JSONText.string(node)),\"problem\":\(JSONText.string(problem))}")
      } else {
        print("node \(node) in PostgreSQL: \(problem)")
      }
      throw ExitCode(1)
    }
    if !json && verifier.records == 0 {
      print("ok: no records of node \(node) in PostgreSQL")
      return
    }
    report(verifier, source: "of node \(node) in PostgreSQL")
  }

  /// A chain problem found at a row, named by the row's key: a row whose line is no record,
  /// or whose line names another `seq` (a copy of another row's line, inserted under a key
  /// of its own), is found by its key in the table, not by what its line says.
  static func placed(_ problem: String, row: String, lineSeq: UInt64?) -> String {
    // A verdict that names its seq already; one that names none (a line that is no record
    // any more: a byte added after its hash) is named by the row's key.
    if let lineSeq, String(lineSeq) == row, problem.hasPrefix("seq \(row)") { return problem }
    if let lineSeq, problem.hasPrefix("seq \(lineSeq): ") {
      return "seq \(row) (its row, whose line says seq \(lineSeq)): " + problem.dropFirst("seq \(lineSeq): ".count)
    }
    return "seq \(row) (its row): \(problem)"
  }

  /// The files given, else the configured alert log after every rotated file beside it
  /// (`alerts.jsonl.N`, oldest first), however many: logrotate may keep more than
  /// `alerts.keep`, and a gap among them is for the chain to show. With them, the
  /// configuration's `alerts.head` when the files end with the configured log (the same
  /// file, not a copy): what the daemon last wrote to it.
  private func logFilesAndHead() throws -> (files: [String], head: AlertLog.Head?) {
    var options = DaemonOptions()
    options.config = config
    guard files.isEmpty else {
      // Files given need no configuration; one that cannot be read only leaves the head out.
      guard let configuration = try? options.configuration(), let last = files.last,
        Self.sameFile(last, configuration.alerts.path)
      else { return (files, nil) }
      return (files, Self.head(in: configuration.stateDirectory))
    }
    let configuration = try options.configuration()
    let path = configuration.alerts.path
    let head = Self.head(in: configuration.stateDirectory)
    let rotated = RotatedFiles.numbers(beside: path)
    return (rotated.sorted(by: >).map { "\(path).\($0)" } + [path], head)
  }

  /// Why the configuration's `alerts.head`, which the files verified are compared with, is
  /// there but is no head, or cannot be read, or is missing beside records; nil when it is a
  /// head, or is missing beside no record, or
  /// these files are not the configured log's. `isNote`: said after the verdict (an empty
  /// head, which a crash can leave; one this user may not read), not a failure.
  private func headDamage(recordsVerified: Int) throws -> (path: String, problem: String, isNote: Bool)? {
    var options = DaemonOptions()
    options.config = config
    guard let configuration = try? options.configuration() else { return nil }
    if let last = files.last, !Self.sameFile(last, configuration.alerts.path) { return nil }
    let path = configuration.stateDirectory + "/alerts.head"
    var status = stat()
    // Not to be read by this user — the file, or the folder it is in (the state
    // directory is the daemon's alone): what it would show cannot be told, and is said.
    let found = lstat(path, &status) == 0
    if !found && errno == EACCES || found && status.st_mode & S_IFMT == S_IFREG && access(path, R_OK) != 0 {
      return (
        path,
        "\(path) cannot be read (permission denied\(found ? "" : ": its folder may not be searched")), so records "
          + "deleted from the log's end cannot be told; run vigil verify as the daemon's user, or let this user read it",
        true
      )
    }
    if !found, errno == ENOENT, recordsVerified > 0 {
      // vigild writes the head at every commit that writes records: one missing beside a
      // log that holds some was removed (or the log was written with another state folder).
      return (
        path,
        "alerts.head is missing: the records deleted from the log's end, which it shows, cannot be told (it was "
          + "removed, the log was written with another state folder, or a crash came before it was first written; "
          + "vigild writes it again at its next commit)",
        true
      )
    }
    guard found, FileManager.default.isReadableFile(atPath: path) || status.st_mode & S_IFMT == S_IFDIR
    else { return nil }
    let what =
      status.st_mode & S_IFMT == S_IFDIR ? "a folder"
      : status.st_size == 0 ? "empty" : "not a head (its text was altered, or it was damaged)"
    return (
      path,
      "alerts.head is \(what): the records deleted from the log's end, which it shows, cannot be told "
        + "(vigild writes it again at its next commit)",
      status.st_mode & S_IFMT == S_IFREG && status.st_size == 0
    )
  }

  /// `alerts.head` in the state directory: read until two reads agree (the daemon rewrites
  /// it in place). One that cannot be read is said with the verdict (`headDamage`).
  private static func head(in stateDirectory: String) -> AlertLog.Head? {
    let path = stateDirectory + "/alerts.head"
    var head = AlertLog.head(at: path)
    for _ in 0..<5 {
      let again = AlertLog.head(at: path)
      if again == head { break }
      head = again
    }
    return head
  }

  private static func sameFile(_ one: String, _ other: String) -> Bool {
    var a = stat()
    var b = stat()
    return stat(one, &a) == 0 && stat(other, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino
  }
}
