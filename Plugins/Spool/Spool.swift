import Foundation
import VigilCore
import VigilImport

/// A source that imports the files dropped into a spool folder, a folder per mapping:
/// `<folder>/awsd/export.csv` is read with the mapping `awsd` (from `mappings`), each row
/// submitted as `vigil import` would, and the file then moved to `<folder>/done/` beside
/// its verdicts (`export.csv.verdicts`: one line per row), or to `<folder>/failed/` beside
/// the reason (`export.csv.reason`) when it cannot be read at all. Settings:
///
/// ```yaml
/// plugins:
///   spool:
///     folder: /srv/vigil/spool            # required
///     mappings: /etc/vigil/mappings       # default: Config/mappings, else /etc/vigil/mappings
///     settle_s: 2                         # a file unchanged this long is complete
/// ```
public struct Spool: ReportSource {
  public let name = "spool"

  public init() {}

  public func feed(settings: ConfigurationValue) throws(PluginSettingsError) -> any ReportFeed {
    guard case .mapping(let members) = settings else {
      throw PluginSettingsError("the settings must be a mapping with folder (and mappings, settle_s)")
    }
    var folder: String?
    var mappingsGiven: String?
    var settle = 2.0
    // Every setting's problem, said at once: not one per restart.
    var problems: [PluginSettingsError] = []
    for member in members {
      guard case .scalar(let text) = member.value else {
        problems.append(PluginSettingsError("\(member.key) must be a value"))
        continue
      }
      switch member.key {
      case "folder": folder = text
      case "mappings": mappingsGiven = text
      case "settle_s":
        guard let seconds = Double(text), seconds >= 0, seconds <= 3600 else {
          problems.append(PluginSettingsError("settle_s must be a number of seconds from 0 to 3600, got \(text)"))
          continue
        }
        settle = seconds
      default: problems.append(PluginSettingsError("unknown setting \(member.key) (known: folder, mappings, settle_s)"))
      }
    }
    let mappings = SpoolFolders.mappings(given: mappingsGiven)
    if let folder, !folder.isEmpty {
      problems += SpoolFolders.problems(folder: folder, mappings: mappings, mappingsGiven: mappingsGiven != nil)
    } else {
      problems.append(PluginSettingsError("folder is required: the spool folder to watch"))
    }
    if let problem = PluginSettingsError.together(problems) { throw problem }
    guard let folder else { throw PluginSettingsError("folder is required: the spool folder to watch") }
    return SpoolFeed(folder: folder, mappings: mappings, settle: settle)
  }

  /// The spool moves the files out of its folder's subfolders: vigild's own files must not
  /// be there.
  public func foldersItEmpties(settings: ConfigurationValue) -> [String] {
    guard case .mapping(let members) = settings,
      case .scalar(let folder)? = members.first(where: { $0.key == "folder" })?.value, !folder.isEmpty
    else { return [] }
    return [folder]
  }
}

/// Watches the folder: every `settle` seconds (at least every second), the files that
/// have not changed since the last look are imported, one at a time.
struct SpoolFeed: ReportFeed {
  let folder: String
  let mappings: String
  let settle: Double

  func run(_ context: any SourceContext) {
    var seen: [String: (size: Int, modified: Date, since: Date)] = [:]
    // Files whose pass could not put them away (done/ not writable, the progress not
    // written): said in status, and not read again until they change — putting one away is
    // tried again at each look, a pass that could not start after a minute — rather than
    // submitted again at every look.
    // Known by their full identity (inode, size, time): another file renamed in under the
    // same name is another file, and is read.
    var stuck: [String: (identity: String, stuck: SpoolFile.Stuck, at: Date)] = [:]
    while !context.isStopping {
      for kept in ["done", "failed"] where !SpoolFolders.isForeignLink(folder + "/" + kept) {
        SpoolPending.settle(in: folder + "/" + kept)
      }
      // One taken out of the spool while it waited to be put away: its pass's verdicts
      // are kept all the same, in done/ as `NAME.removed.verdicts` (read now, before the
      // sweep drops its progress), as soon as they can be written.
      for (path, held) in stuck where !FileManager.default.fileExists(atPath: path) {
        // A pass that never started has no verdicts; one whose verdicts are being put
        // away is tried again; else its verdicts are read now and put away.
        guard held.stuck.putAway != nil else {
          stuck[path] = nil
          continue
        }
        let keep = held.stuck.removed ? held.stuck.putAway! : SpoolFile(path: path, spool: folder, mappings: mappings).verdictsOfRemoved()
        if let problem = keep() {
          stuck[path] = (held.identity, .init(problem: problem, putAway: keep, removed: true), held.at)
        } else {
          stuck[path] = nil
        }
      }
      // Not the progress of a file waiting to be put away: taken out of the spool meanwhile,
      // its verdicts are read from it at the next look.
      SpoolProgress.sweep(
        spool: folder,
        keeping: Set(stuck.keys.map { SpoolFile(path: $0, spool: folder, mappings: mappings).progressPath }))
      do {
        let (candidates, unreadable) = try candidates()
        for path in candidates where !context.isStopping {
          let attributes = try? FileManager.default.attributesOfItem(atPath: path)
          let size = (attributes?[.size] as? Int) ?? -1
          let modified = (attributes?[.modificationDate] as? Date) ?? .distantPast
          // A file still being written changes between looks; only a settled one is taken.
          if let held = stuck[path], held.identity == SpoolProgress.identity(of: path) {
            if let putAway = held.stuck.putAway {
              if let problem = putAway() {
                stuck[path] = (held.identity, .init(problem: problem, putAway: putAway), held.at)
              } else {
                stuck[path] = nil
              }
              continue
            }
            if Date().timeIntervalSince(held.at) < Self.retryStuck { continue }
          }
          if let last = seen[path], last.size == size, last.modified == modified {
            // A text file that ends in the middle of a line is most likely still being
            // written by a writer that paused (a copy over a slow link): read now, its last
            // row would be recorded cut, for good. It waits longer.
            let wait = Self.endsMidLine(path) ? max(settle * 10, Self.midLineSettle) : settle
            guard Date().timeIntervalSince(last.since) >= wait else { continue }
            seen[path] = nil
            let identity = SpoolProgress.identity(of: path)
            if let held = SpoolFile(path: path, spool: folder, mappings: mappings).importRows(context) {
              stuck[path] = (identity, held, Date())
            } else {
              stuck[path] = nil
            }
          } else {
            seen[path] = (size, modified, Date())
          }
        }
        let stray = try strayFiles().first.map { stray in
          "\(stray) is in the spool folder itself, which is read by mapping: move it into \(folder)/MAPPING/ "
            + "(MAPPING: the name of a mapping in \(mappings), without .yaml)"
        }
        let problems =
          stuck.keys.sorted().compactMap { stuck[$0]?.stuck.problem } + (stray.map { [$0] } ?? []) + unreadable
        context.problem(problems.isEmpty ? nil : problems.joined(separator: "; "))
      } catch {
        context.problem("cannot read the spool folder \(folder): \(error)")
      }
      context.pause(min(1, max(0.1, settle / 2)))
    }
  }

  /// How long a file that could not be put away waits before its pass is tried again.
  static let retryStuck: TimeInterval = 60

  /// How long, at least, a text file that ends in the middle of a line must stay unchanged
  /// before it is taken.
  static let midLineSettle: TimeInterval = 60

  /// Whether `path` is a file of lines (CSV, NDJSON) whose last byte is no line end.
  static func endsMidLine(_ path: String) -> Bool {
    let lined = ["csv", "tsv", "txt", "ndjson", "jsonl"]
    guard lined.contains((path as NSString).pathExtension.lowercased()) else { return false }
    let descriptor = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK)
    guard descriptor >= 0 else { return false }
    defer { close(descriptor) }
    var last: UInt8 = 0
    guard lseek(descriptor, -1, SEEK_END) >= 0, read(descriptor, &last, 1) == 1 else { return false }
    if last == UInt8(ascii: "\n") || last == UInt8(ascii: "\r") { return false }
    // A UTF-16 file's line end is two bytes, `\n\0` or `\0\n` (audit 51: one was held as
    // unfinished for a minute, only to be refused as UTF-16).
    var two: [UInt8] = [0, 0]
    if last == 0, lseek(descriptor, -2, SEEK_END) >= 0, read(descriptor, &two, 2) == 2,
      two[0] == UInt8(ascii: "\n") || two[0] == UInt8(ascii: "\r")
    {
      return false
    }
    return true
  }

  /// Files put in the spool folder itself, which no mapping reads: said in status until
  /// they are moved.
  private func strayFiles() throws -> [String] {
    try Self.names(in: folder).filter { name in
      var isFolder: ObjCBool = false
      // A file named done or failed keeps files from being put away, which is said as such.
      return !name.hasPrefix(".") && !name.hasSuffix(".part") && !["done", "failed"].contains(name)
        && FileManager.default.fileExists(atPath: folder + "/" + name, isDirectory: &isFolder) && !isFolder.boolValue
    }.map { folder + "/" + $0 }
  }

  /// The files in the mapping folders: `<folder>/<mapping>/<file>`, not hidden, not `.part`,
  /// not a folder (a staging folder inside is the writer's own); and what kept any mapping
  /// folder or file from being taken, each naming it. Throws when the spool folder itself
  /// cannot be read.
  private func candidates() throws -> (paths: [String], problems: [String]) {
    var paths: [String] = []
    var problems: [String] = []
    // Where files are put away, and where they are read, are the spool's own folders: a
    // link would have vigild move files, with its rights, wherever it points.
    for kept in ["done", "failed"] where SpoolFolders.isForeignLink(folder + "/" + kept) {
      throw SpoolReadError(
        "\(folder)/\(kept) is a symbolic link another user made: the spool puts files away through a link only when "
          + "vigild's user or root made it; remove it")
    }
    // Checked at every look, not only at start: a spool folder made again while vigild
    // runs, or one of its mapping folders, that any user may write lets any local user
    // submit reports (audit 49).
    if let mode = SpoolFolders.writableByAnyone(folder) {
      throw SpoolReadError(
        "any user may write the spool folder \(folder) (mode \(mode)), so any local user could submit reports through "
          + "it: nothing in it is read until chmod o-w \"\(folder)\"")
    }
    for mapping in try Self.names(in: folder) where !["done", "failed"].contains(mapping) && !mapping.hasPrefix(".") {
      var isFolder: ObjCBool = false
      let directory = folder + "/" + mapping
      guard FileManager.default.fileExists(atPath: directory, isDirectory: &isFolder), isFolder.boolValue else { continue }
      if SpoolFolders.isForeignLink(directory) {
        problems.append(
          "\(directory) is a symbolic link another user made, not read: through it, vigild would read and move files "
            + "wherever it points, with its own rights (a link vigild's user or root made is followed)")
        continue
      }
      if let mode = SpoolFolders.writableByAnyone(directory) {
        problems.append(
          "\(directory) is not read: any user may write it (mode \(mode)), so any local user could submit reports "
            + "through it; run chmod o-w \"\(directory)\"")
        continue
      }
      // One folder that cannot be read keeps its own files, not the other folders'.
      let names: [String]
      do {
        names = try Self.names(in: directory)
      } catch {
        problems.append("cannot read the mapping folder \(directory): \(error)")
        continue
      }
      for name in names where !name.hasPrefix(".") && !name.hasSuffix(".part") {
        let path = directory + "/" + name
        // A name whose bytes are not UTF-8 arrives with them replaced, naming no file: it
        // would be taken for a file removed at every look.
        guard !name.unicodeScalars.contains("\u{FFFD}") || FileManager.default.fileExists(atPath: path) else {
          problems.append("a file in \(directory) has a name that is not valid UTF-8 (shown as \(name)): rename it")
          continue
        }
        if FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), isFolder.boolValue { continue }
        // Its progress and its verdicts are named after it, and must fit a file name too.
        let longest = Self.longestName - SpoolProgress.escaped(mapping).utf8.count
        if name.utf8.count > longest {
          problems.append(
            "\(path) is not taken: its name is \(name.utf8.count) bytes, and files in \(directory) may have "
              + "\(longest) at most (the names of its progress and verdicts are longer): rename it shorter")
          continue
        }
        paths.append(path)
      }
    }
    return (paths, problems)
  }

  /// The longest name of a file in a mapping folder, before the mapping's name is taken off:
  /// a file system's 255 bytes, less what the spool adds to it (`.progress/<mapping>.`,
  /// `.replaced.verdicts.pending`, a `.99` of a name taken in done/, and a dot).
  static let longestName = 255 - ".replaced.99.verdicts.pending".utf8.count - 2

  /// The names in a folder, sorted; an error that names what kept it from being read.
  static func names(in directory: String) throws(SpoolReadError) -> [String] {
    guard let stream = opendir(directory) else { throw SpoolReadError(String(cString: strerror(errno))) }
    defer { closedir(stream) }
    var names: [String] = []
    while let entry = readdir(stream) {
      let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
        String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
      }
      if name != "." && name != ".." { names.append(name) }
    }
    return names.sorted()
  }
}

/// Why a folder could not be listed, as the system says it ("Permission denied").
struct SpoolReadError: Error, CustomStringConvertible {
  let description: String
  init(_ description: String) { self.description = description }
}

/// One spooled file: imported row by row, its verdicts kept as they come (so a restart
/// part-way knows what was accepted the first time), then moved to done/ or failed/.
struct SpoolFile {
  let path: String
  let spool: String
  let mappings: String

  var name: String { (path as NSString).lastPathComponent }
  var mappingName: String { (FolderPath.of(path) as NSString).lastPathComponent }
  /// The verdicts so far, under the spool's hidden `.progress/` until the file is done.
  var progressPath: String { SpoolProgress.path(spool: spool, mapping: mappingName, name: name) }

  /// What kept a file in the spool after its pass: the problem, and when the pass was done
  /// but the file could not be put away, how to try that again (nil: the pass itself could
  /// not be made).
  struct Stuck {
    let problem: String
    let putAway: (() -> String?)?
    /// The file is gone: what is put away is its verdicts alone.
    var removed = false
  }

  /// The verdicts of a pass whose file was taken out of the spool before it could be put
  /// away, read now; the attempt to write them to done/ (nil when written, else why not).
  func verdictsOfRemoved() -> () -> String? {
    let verdicts = previousVerdicts().sorted { $0.key < $1.key }.map { $0.value + "\n" }.joined()
    let note = "# \(name) was taken out of the spool before it could be put away: these are the verdicts of its pass\n"
    return {
      let target = Self.free(spool + "/done/" + name + ".removed", suffix: ".verdicts")
      return settle(to: target, beside: "verdicts", text: note + verdicts, moving: false)
    }
  }

  /// Imports the file and puts it away; what kept it in the spool, else nil.
  func importRows(_ context: any SourceContext) -> Stuck? {
    // Before anything reads it (a file that fails at once still reports the rows before it).
    SpoolProgress.discardIfNotOf(path, at: progressPath)
    // Opening a named pipe would wait for a writer, for good, and the spool with it; a
    // device or a socket is no export either. A symbolic link another user made is not
    // followed: vigild would read its target with its own rights (a secret, through the
    // reason a file that is no table gets). Only a regular file is read.
    if let kind = Self.notARegularFile(path) {
      return failing("it is \(kind), not a regular file: the spool reads files only (write one and rename it in)", context)
    }
    let mappingPath = mappings + "/" + mappingName + ".yaml"
    if let writable = SpoolFolders.writableByAnyone(mappingPath) {
      return failing(
        "the mapping \(mappingName) (\(mappingPath)) is not used: any user may write it (mode \(writable)), and a mapping "
          + "decides what every report of the file says; run chmod o-w \"\(mappingPath)\"", context)
    }
    switch MappingLoader.load(path: mappingPath) {
    case .failure(let errors):
      return failing("the mapping \(mappingName) (\(mappings)/\(mappingName).yaml) does not load:\n\(errors)", context)
    case .success(let mapping):
      // The file as it is when its pass starts: one replaced or changed during the pass is
      // told apart at its end, or when reading it fails.
      let startedAs = (identity: SpoolProgress.identity(of: path), inode: SpoolProgress.inode(of: path))
      // Read through a descriptor opened without following a link, and checked a regular
      // file: a link swapped in after the checks above (a race a dropper can win while the
      // mapping loads) is not read.
      let descriptor = Self.openWithoutForeignLinks(path)
      guard descriptor >= 0 else {
        if errno == ELOOP {
          return failing("it is a symbolic link another user made (vigild would read its target with its own rights)", context)
        }
        if errno == EINVAL {
          return failing("it is not a regular file: the spool reads files only (write one and rename it in)", context)
        }
        return failing("cannot open it: \(String(cString: strerror(errno)))", context)
      }
      defer { close(descriptor) }
      let reading = "/proc/self/fd/\(descriptor)"
      func named(_ error: any Error) -> String { "\(error)".replacingOccurrences(of: reading, with: path) }
      do {
        var reader = try TableOpening.reader(for: reading, name: path, mapping: mapping)
        let mapper = RowMapper(mapping: mapping, table: reader)
        if let problem = mapper.missingColumnsProblem(header: reader.header, partRead: reader.partRead) {
          return failing(problem, context)
        }
        if mkdir(spool + "/" + SpoolProgress.folder, 0o700) != 0, errno != EEXIST {
          return Stuck(
            problem: "cannot import \(path): cannot create \(spool)/\(SpoolProgress.folder), where its progress is kept "
              + "(\(String(cString: strerror(errno)))); it stays in the spool, and is taken again once it changes or in a minute",
            putAway: nil)
        }
        guard let progress = SpoolProgress.open(progressPath, for: path) else {
          return Stuck(
            problem: "cannot import \(path): cannot write its progress at \(progressPath) "
              + "(\(String(cString: strerror(errno)))); it stays in the spool, and is taken again once it changes or in a minute",
            putAway: nil)
        }
        defer { try? progress.close() }
        let before = previousVerdicts()
        var lastError: TableError?
        var rowsRead = 0
        while true {
          if context.isStopping { return nil }  // the file stays; it is taken again at the next start
          let next: TableRow?
          do {
            next = try reader.next()
          } catch {
            // A bad row is refused and reading goes on; the same error again means the
            // reader has lost its place: the file is failed, with what it said.
            let problem = error
            if problem == lastError || problem.row == nil { throw problem }
            lastError = problem
            let column = problem.column.map { "column \($0): " } ?? ""
            let line = "\(problem.row ?? 0) - refused: \(column)\(problem.message)"
            if before[problem.row ?? 0] != line {
              context.refusedBeforeSubmit()
              try progress.write(contentsOf: Data((line + "\n").utf8))
            }
            continue
          }
          guard let row = next else { break }
          rowsRead += 1
          var line: String
          var unmapped: [RowMapper.UnmappedValue] = []
          switch mapper.map(row, unmapped: &unmapped) {
          case .filtered: line = "\(row.number) - filtered"
          case .refused(let reason, _):
            line = "\(row.number) - refused: \(reason)"
            // Counted once: a pass a restart cut short has its verdict already.
            if before[row.number] != line { context.refusedBeforeSubmit() }
          case .report(let json, let id):
            switch context.submit(Array(json.utf8)) {
            case .accepted(_, let alerts): line = "\(row.number) \(id) accepted, \(alerts) alert\(alerts == 1 ? "" : "s")"
            case .duplicate:
              // Accepted by a pass a restart cut short: it still says so.
              if let earlier = before[row.number], earlier.contains(" accepted") {
                line = earlier
                unmapped = []  // said on that line already
              } else {
                line = "\(row.number) \(id) duplicate"
              }
            case .refused("shutting_down", _): return nil
            // vigild could not write (a full disk): the row is not recorded, and a verdict
            // would put the file away for good. It stays, and its pass comes again; the rows
            // recorded before come back `duplicate`, said as accepted then.
            case .refused("storage", let message):
              context.warn("\(path): row \(row.number) could not be recorded now (storage: \(message)); the file stays in the spool")
              return Stuck(
                problem: "cannot import \(path) now: vigild could not record row \(row.number) (storage: \(message)); "
                  + "it stays in the spool, and its pass is taken again in a minute",
                putAway: nil)
            case .refused(let code, let message): line = "\(row.number) \(id) refused \(code): \(message)"
            }
          }
          // A value no `map` covered left its field out: said on the row's line, as `vigil
          // import` counts it, so that a spool's user learns what a mapping misses.
          if !unmapped.isEmpty {
            line += "; unmapped: " + unmapped.map { "\($0.column) \(Self.quoted($0.value))" }.joined(separator: ", ")
          }
          if before[row.number] != line { try progress.write(contentsOf: Data((line + "\n").utf8)) }
        }
        try progress.synchronize()
        // What `vigil import` warns of, at the end of the verdicts and in vigild's log.
        let optional = mapper.mapping.optionalColumnNames
        let empty = reader.columnsWithoutValues.filter { !optional.contains($0) }
        var warnings: [String] = []
        if let partial = reader.partial { warnings.append(partial) }
        if rowsRead == 0, lastError == nil {
          warnings.append("the file holds no records")
        } else if rowsRead > 0, !empty.isEmpty {
          warnings.append(
            "no record has a value for the mapping's column\(empty.count == 1 ? "" : "s") "
              + empty.map { "'\($0)'" }.joined(separator: ", ") + " (is the name misspelt?)")
        }
        for warning in warnings { context.warn("\(path): \(warning)") }
        let warningLines = warnings.map { "warning: \($0)\n" }.joined()
        if SpoolProgress.identity(of: path) == startedAs.identity {
          return putAway { finish(warnings: warningLines) }
        } else if SpoolProgress.inode(of: path) == startedAs.inode {
          return failing(
            "the file changed while it was read (written in place, or cut short): the rows read are below; "
              + "write a file elsewhere and rename it into the spool", context)
        } else {
          return putAway { finishReplaced(warnings: warningLines) }
        }
      } catch {
        // The reason is the file's that was read; another now at its path is not moved.
        if SpoolProgress.inode(of: path) == startedAs.inode { return failing(named(error), context) }
        return putAway { finishReplaced(failure: named(error)) }
      }
    }
  }

  /// `path` opened for reading, not blocking (a named pipe swapped in), a link followed only
  /// when vigild's user or root made it; -1 with `errno` ELOOP for another's link, EINVAL
  /// for what is not a regular file.
  static func openWithoutForeignLinks(_ path: String) -> Int32 {
    var descriptor = Glibc.open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
    if descriptor < 0, errno == ELOOP, !SpoolFolders.isForeignLink(path) {
      descriptor = Glibc.open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
    }
    guard descriptor >= 0 else { return -1 }
    var status = stat()
    guard fstat(descriptor, &status) == 0, status.st_mode & S_IFMT == S_IFREG else {
      close(descriptor)
      errno = EINVAL
      return -1
    }
    return descriptor
  }

  /// To failed/, with `reason`, said in vigild's log as well (status shows no file).
  private func failing(_ reason: String, _ context: any SourceContext) -> Stuck? {
    let stuck = putAway { fail(reason) }
    if stuck == nil {
      // A reason of several lines (a mapping's errors, the rows read of a file changed
      // under the pass): the first with the file, then each of the others on a line of its
      // own that says what it is of, 20 at most (the `.reason` file holds them all).
      let lines = reason.split(separator: "\n").map(String.init)
      context.warn("\(path) could not be imported, and is in \(spool)/failed/ with its reason: \(lines.first ?? reason)")
      for line in lines.dropFirst().prefix(20) { context.warn("\(path): \(line)") }
      if lines.count > 21 {
        context.warn("\(path): \(lines.count - 21) more line(s) of its reason in \(spool)/failed/")
      }
    }
    return stuck
  }

  /// What the path is when it is not a regular file ("a named pipe (FIFO)"), else nil.
  static func notARegularFile(_ path: String) -> String? {
    if SpoolFolders.isForeignLink(path) { return "a symbolic link another user made (vigild would read its target with its own rights)" }
    var status = stat()
    guard stat(path, &status) == 0 else { return nil }  // gone or unreadable: the open says why
    switch status.st_mode & S_IFMT {
    case S_IFREG, S_IFDIR: return nil  // a folder: the reader says "give the files in it"
    case S_IFIFO: return "a named pipe (FIFO)"
    case S_IFSOCK: return "a socket"
    case S_IFCHR: return "a character device"
    case S_IFBLK: return "a block device"
    default: return "not a regular file"
    }
  }

  /// A cell's value on a verdict line: quoted, on one line.
  private static func quoted(_ value: String) -> String {
    "'" + value.replacingOccurrences(of: "\n", with: " ").replacingOccurrences(of: "\r", with: " ") + "'"
  }

  /// Puts the file away now; when that fails, what kept it, and how to try again.
  private func putAway(_ attempt: @escaping () -> String?) -> Stuck? {
    attempt().map { Stuck(problem: $0, putAway: attempt) }
  }

  /// What an earlier, interrupted pass recorded, by row (the last line for each).
  private func previousVerdicts() -> [Int: String] {
    let text = (try? String(contentsOfFile: progressPath, encoding: .utf8)) ?? ""
    var verdicts: [Int: String] = [:]
    for line in text.split(separator: "\n") {
      if let row = Int(line.prefix { $0 != " " }) { verdicts[row] = String(line) }
    }
    return verdicts
  }

  /// Done: the file and its verdicts (one line per row, the last word on each) to done/.
  /// `warnings`, lines of `warning: …`, go after the rows' verdicts.
  private func finish(warnings: String = "") -> String? {
    let verdicts = previousVerdicts().sorted { $0.key < $1.key }.map { $0.value + "\n" }.joined()
    return settle(in: spool + "/done", beside: "verdicts", text: verdicts + warnings)
  }

  /// Another file took its name during the pass (renamed in over it), or it was removed:
  /// the verdicts of the file read go to done/ alone, as `NAME.replaced.verdicts` (or
  /// `NAME.removed.verdicts`), and a new file stays for its own pass.
  private func finishReplaced(failure: String? = nil, warnings: String = "") -> String? {
    let verdicts = previousVerdicts().sorted { $0.key < $1.key }.map { $0.value + "\n" }.joined() + warnings
    let what = FileManager.default.fileExists(atPath: path) ? "replaced" : "removed"
    let next = what == "replaced" ? "; the new one is imported in its turn" : ""
    let note =
      "# \(name) was \(what) while it was read: these are the verdicts of the file read (no longer in the spool)\(next)\n"
      + (failure.map { "# reading it failed: \($0)\n" } ?? "")
    let target = Self.free(spool + "/done/" + name + "." + what, suffix: ".verdicts")
    return settle(to: target, beside: "verdicts", text: note + verdicts, moving: false)
  }

  /// Unreadable: the file and the reason to failed/.
  private func fail(_ reason: String) -> String? {
    // Rows read before it broke off were recorded: their verdicts go with the reason.
    let before = previousVerdicts().sorted { $0.key < $1.key }.map(\.value)
    let text = reason + "\n" + (before.isEmpty ? "" : "the rows before it:\n" + before.joined(separator: "\n") + "\n")
    return settle(in: spool + "/failed", beside: "reason", text: text)
  }

  /// The file to `folder` and `text` beside it as `NAME.<kind>`, which appears last, so a
  /// watcher that sees it finds the file moved and the progress gone. The text is written
  /// first under a hidden name: a crash before the file moves leaves the file to be taken
  /// again (the hidden text is overwritten); after it, `SpoolFeed` renames the hidden text
  /// into place at its next look (`SpoolPending.settle`). The last step is rename(2),
  /// which replaces a text a file of the same name left earlier (as the atomic write did).
  /// What kept it from being done, else nil: the file and its progress are then left as they
  /// are, to be taken again.
  private func settle(in folder: String, beside kind: String, text: String) -> String? {
    settle(to: Self.free(folder + "/" + name, besides: "." + kind), beside: kind, text: text, moving: true)
  }

  private func settle(to target: String, beside kind: String, text: String, moving: Bool) -> String? {
    let folder = FolderPath.of(target)
    let cannot = { (what: String) in
      "cannot put \(path) away: cannot \(what) in \(folder) (\(String(cString: strerror(errno)))); it stays in the spool, "
        + "and is put away as soon as it can be"
    }
    var isFolder: ObjCBool = false
    let modes = sharedModes
    // Checked again as the file is moved, not only at the pass's start: a link another
    // user put at done/ meanwhile would have vigild move files wherever it points.
    if SpoolFolders.isForeignLink(folder) {
      errno = ELOOP
      return "cannot put \(path) away: \(folder) is a symbolic link another user made; remove it"
    }
    if !FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder) {
      guard mkdir(folder, 0o700) == 0 || errno == EEXIST else { return cannot("create the folder") }
      chmod(folder, modes.folder)
    } else if !isFolder.boolValue {
      errno = ENOTDIR
      return cannot("write")
    }
    let pending = SpoolPending.path(for: target, kind: kind)
    guard FileManager.default.createFile(atPath: pending, contents: Data(text.utf8)) else {
      return cannot("write its \(kind)")
    }
    chmod(pending, modes.file)
    if moving, rename(path, target) != 0 {
      // done/ on another file system (a link to a bigger disk): copied there, then removed.
      var failed = errno
      if failed == EXDEV {
        do {
          try FileManager.default.copyItem(atPath: path, toPath: target)
          if unlink(path) == 0 { failed = 0 } else { failed = errno; unlink(target) }
        } catch {
          failed = EXDEV
        }
      }
      if failed != 0 {
        unlink(pending)
        // Moving needs the right to write the folder it leaves as well as the one it enters.
        let source = FolderPath.of(path)
        if failed == EACCES || failed == EPERM, access(source, W_OK) != 0 {
          errno = failed
          return "cannot put \(path) away: cannot move it out of \(source) (\(String(cString: strerror(errno)))); "
            + "it stays in the spool, and is put away as soon as it can be"
        }
        errno = failed
        return cannot("move it")
      }
    }
    try? FileManager.default.removeItem(atPath: progressPath)
    _ = rename(pending, target + "." + kind)
    return nil
  }

  /// The modes of what the spool puts away (done/ and failed/ when it makes them, the
  /// verdicts and reasons): vigild's user's alone, and readable by the spool folder's group
  /// too when the spool folder is (`chgrp vigil-drop spool; chmod 2770 spool`), so that
  /// whoever drops files can read their verdicts.
  private var sharedModes: (folder: mode_t, file: mode_t) {
    var status = stat()
    guard stat(spool, &status) == 0 else { return (0o700, 0o600) }
    let group = status.st_mode & 0o050
    // The setgid bit a folder made in it inherited stays: chmod to a mode without it would
    // clear it, and the verdicts would get vigild's group instead of the spool's.
    return (0o700 | group | (status.st_mode & S_ISGID), 0o600 | (group & 0o040))
  }

  /// `path`, or `path.2`, `path.3`, … when a file of that name (`path` + `suffix`) is
  /// there already, or (with `besides`) when the name of the text put beside it is an
  /// earlier file put away, with a text of its own: a file called `z.ndjson.verdicts` in
  /// done/ (beside `z.ndjson.verdicts.verdicts`) is not overwritten by the verdicts of a
  /// later `z.ndjson`, while verdicts left alone (their file removed) are replaced.
  private static func free(_ path: String, suffix: String = "", besides: String? = nil) -> String {
    let exists = { (path: String) in FileManager.default.fileExists(atPath: path) }
    var candidate = path
    var index = 2
    while exists(candidate + suffix) || besides.map({ exists(candidate + suffix + $0) && exists(candidate + suffix + $0 + $0) }) == true {
      candidate = "\(path).\(index)"
      index += 1
    }
    return candidate
  }
}
