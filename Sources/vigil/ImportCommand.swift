import ArgumentParser
import Foundation
import NIOConcurrencyHelpers
import VigilCore
import VigilImport

/// `vigil import` (docs/import.md): spreadsheets and form exports, row by row, through a
/// mapping file, submitted (or checked) over the socket like `vigil submit`.
struct Import: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Import spreadsheets and form exports (CSV, XLSX, JSON, NDJSON) through a mapping file.",
    discussion: """
      Each row becomes a report as the mapping says; rows its filter leaves out are counted, \
      values no map covers are counted and shown at the end. Reports are pipelined to the \
      daemon; each refusal is shown with its file and row. --map takes a path, or the name \
      of a shipped mapping in Config/mappings (awsd, insecurity-insight-health, hxl-incidents, \
      kobo-incidents).
      Exit 0 when every row was accepted, filtered or already recorded; 1 when any was \
      refused; 2 on misuse, an unreadable file or a mapping with errors.
      Example: vigil import --map awsd ../shared/data/awsd-security-incidents.csv
      """)

  @OptionGroup var daemon: DaemonOptions

  @Option(name: .customLong("map"), help: ArgumentHelp("The mapping file, or a shipped mapping's name.", valueName: "MAP"))
  var map: String

  @Flag(help: "Ask the daemon to check each report against the live rules; record nothing.")
  var check = false

  @Flag(help: "One JSON object per line: each verdict, then the counts.")
  var json = false

  @Argument(help: ArgumentHelp("The files to import (- for standard input, read by the mapping's format:).", valueName: "FILE"))
  var files: [String]

  func validate() throws {
    guard !files.isEmpty else { throw ValidationError("name at least one file to import (- for standard input)") }
    guard files.filter({ $0 == "-" }).count <= 1 else { throw ValidationError("standard input (-) can be read once only") }
  }

  func run() throws {
    // Interrupted, the import removes its temporary copies of incident data first.
    TemporaryCopies.removeOnSignals()
    let mapping = try Self.loadMapping(map)
    var tables: [(name: String, reader: any TableReader, mapper: RowMapper)] = []
    let standardInput = try files.contains("-") ? ImportStandardInput(mapping: mapping) : nil
    defer { standardInput?.remove() }
    for file in files {
      let reader: any TableReader
      // `-` is standard input; what the readers say of its path is said of `<stdin>`.
      let path = file == "-" ? standardInput?.path ?? file : file
      let name = file == "-" ? ImportStandardInput.name : file
      let named = { (message: String) in file == "-" ? standardInput?.naming(message) ?? message : message }
      do {
        reader = try Self.open(path, mapping: mapping)
      } catch {
        throw CommandFailure(status: 2, sentence: "\(name): \(named("\(error)"))")
      }
      let mapper = RowMapper(mapping: mapping, table: reader)
      if let problem = mapper.missingColumnsProblem(header: reader.header, partRead: reader.partRead) {
        throw CommandFailure(status: 2, sentence: "\(name): \(named(problem))")
      }
      tables.append((name, reader, mapper))
    }
    let counts = NIOLockedValueBox(ImportCounts())
    let work = UncheckedTables(tables: tables)
    let op = check ? "check" : "submit"
    let streaming = try ReportStreaming(connection: daemon.connect(), op: op, json: json)
    let refused: Bool
    do {
      refused = try streamRows(streaming, work: work, op: op, counts: counts)
    } catch {
      // The daemon went away: the counts so far (the closing JSON object too), then why.
      counts.withLockedValue { $0 }.print(json: json)
      throw error
    }
    let final = counts.withLockedValue { $0 }
    final.print(json: json)
    if refused || !final.unreadable.isEmpty { throw ExitCode(1) }
  }

  /// Reads the tables' rows, sends their reports, and prints each verdict as it comes;
  /// whether any was refused.
  private func streamRows(
    _ streaming: ReportStreaming, work: UncheckedTables, op: String, counts: NIOLockedValueBox<ImportCounts>
  ) throws -> Bool {
    return try streaming.run { send in
      for var table in work.tables {
        var batch: [UInt8] = []
        var origins: [ReportStreaming.Origin] = []
        var unmapped: [RowMapper.UnmappedValue] = []
        func flush() -> Bool {
          defer {
            batch.removeAll(keepingCapacity: true)
            origins.removeAll(keepingCapacity: true)
          }
          return send(batch, origins)
        }
        var lastError: TableError?
        // Rows read whole, and whether the file broke off: a file that holds none says so,
        // rather than that no record has a value for the mapping's columns.
        var rowsRead = 0
        var brokeOff = false
        while true {
          let row: TableRow?
          do {
            row = try table.reader.next()
          } catch {
            // A bad row (a ragged one, bytes that are not UTF-8) is refused and reading goes
            // on; a reader that has lost its place gives the same error again: the file
            // breaks off there, what came before stands.
            let problem = error as? TableError ?? TableError(row: nil, "\(error)")
            if problem == lastError || problem.row == nil {
              // Said at the end, on standard error; no row's verdict (nor a report counted).
              counts.withLockedValue { $0.unreadable.append("\(table.name): \(problem)") }
              brokeOff = true
              break
            }
            lastError = problem
            let column = problem.column.map { "column \($0): " } ?? ""
            origins.append(.init(file: table.name, line: problem.row ?? 0, refusal: column + problem.message))
            counts.withLockedValue { $0.rows += 1 }
            continue
          }
          guard let row else { break }
          rowsRead += 1
          switch table.mapper.map(row, unmapped: &unmapped) {
          case .filtered:
            counts.withLockedValue { $0.filtered += 1 }
          case .refused(let reason, let field):
            origins.append(.init(file: table.name, line: row.number, refusal: reason, refusalField: field))
          case .report(let report, let id):
            // Every row is sent; its id is told against the import's earlier rows when its
            // verdict comes (ReportStreaming): `check` records nothing, so the daemon
            // cannot tell two rows of this import that give one id to different reports.
            batch += ReportStreaming.request(op: op, report: Array(report.utf8))
            origins.append(.init(file: table.name, line: row.number, importKey: (id, report.hashValue)))
          }
          counts.withLockedValue { $0.rows += 1 }
          if origins.count >= 500 {
            guard flush() else { return }
          }
        }
        let optional = table.mapper.mapping.optionalColumnNames
        let empty = table.reader.columnsWithoutValues.filter { !optional.contains($0) }
        counts.withLockedValue {
          $0.add(unmapped)
          if let partial = table.reader.partial { $0.warnings.append("\(table.name): \(partial)") }
          if rowsRead == 0, !brokeOff, lastError == nil {
            $0.warnings.append("\(table.name): the file holds no records")
          } else if rowsRead > 0, !empty.isEmpty {
            $0.warnings.append(
              "\(table.name): no record has a value for the mapping's column\(empty.count == 1 ? "" : "s") "
                + empty.map { "'\($0)'" }.joined(separator: ", ") + " (is the name misspelt?)")
          }
        }
        guard flush() else { return }
      }
    }
  }

  /// A path, or the name of a shipped mapping (`Config/mappings/NAME.yaml`, then the
  /// installed `/etc/vigil/mappings/NAME.yaml`).
  static func loadMapping(_ given: String) throws(CommandFailure) -> Mapping {
    // A path (it has a slash or a YAML extension) is that file alone; a name is also
    // looked for among the shipped and installed mappings.
    let isPath = given.contains("/") || given.hasSuffix(".yaml") || given.hasSuffix(".yml")
    let candidates = isPath ? [given] : [given, "Config/mappings/\(given).yaml", "/etc/vigil/mappings/\(given).yaml"]
    // A file: a folder of the name (the spool's `awsd/`) is not a mapping.
    var isFolder: ObjCBool = false
    guard let path = candidates.first(where: { FileManager.default.fileExists(atPath: $0, isDirectory: &isFolder) && !isFolder.boolValue })
    else {
      if isPath, FileManager.default.fileExists(atPath: given, isDirectory: &isFolder), isFolder.boolValue {
        throw CommandFailure(status: 2, sentence: "\(given) is a directory, not a mapping file")
      }
      throw CommandFailure(
        status: 2,
        sentence: isPath
          ? "no mapping file \(given) (from \(FileManager.default.currentDirectoryPath))"
          : "no mapping file \(given) (nor Config/mappings/\(given).yaml, nor /etc/vigil/mappings/\(given).yaml)")
    }
    switch MappingLoader.load(path: path) {
    case .success(let mapping): return mapping
    case .failure(let errors):
      throw CommandFailure(status: 2, sentence: "the mapping has \(errors.errors.count) error(s):\n\(errors)")
    }
  }

  static func open(_ path: String, mapping: Mapping) throws -> any TableReader {
    try TableOpening.reader(for: path, mapping: mapping)
  }
}

/// The tables, handed to the sending thread (each is read there only).
private struct UncheckedTables: @unchecked Sendable {
  let tables: [(name: String, reader: any TableReader, mapper: RowMapper)]
}

/// What an import counted besides the verdicts.
struct ImportCounts {
  var rows = 0
  var filtered = 0
  var unmapped: [RowMapper.UnmappedValue: Int] = [:]
  var unreadable: [String] = []
  /// Said on standard error, after the counts; not failures.
  var warnings: [String] = []

  /// The first spelling of each unmapped value, by its column and the value as the map
  /// compares it (case and diacritics aside): `Catapult` and `catapult` are one.
  var spellings: [String: RowMapper.UnmappedValue] = [:]

  mutating func add(_ values: [RowMapper.UnmappedValue]) {
    for value in values {
      let key = value.column + "\u{1F}" + value.comparedValue
      let first = spellings[key] ?? value
      spellings[key] = first
      unmapped[first, default: 0] += 1
    }
  }

  func print(json: Bool) {
    for problem in unreadable { FileHandle.standardError.write(Data("vigil: \(problem); the rest of the file was not read\n".utf8)) }
    for warning in warnings { FileHandle.standardError.write(Data("vigil: warning: \(warning)\n".utf8)) }
    let top = unmapped.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key.value < $1.key.value }
    if json {
      let values = top.map {
        "{\"column\":\(JSONText.string($0.key.column)),\"value\":\(JSONText.string($0.key.value)),\"rows\":\($0.value)}"
      }
      // A file that broke off is in the summary too, not only on standard error.
      let broken = unreadable.map(JSONText.string).joined(separator: ",")
      Swift.print(
        "{\"rows\":\(rows),\"filtered\":\(filtered),\"unmapped\":[\(values.joined(separator: ","))],\"unreadable\":[\(broken)]}")
      return
    }
    Swift.print("\(rows) row\(rows == 1 ? "" : "s") read: \(filtered) filtered out by the mapping")
    for (value, count) in top.prefix(20) {
      Swift.print(TerminalText.safe("\(value.column): '\(value.shownValue)'") + " unmapped, \(count) row\(count == 1 ? "" : "s")")
    }
    if top.count > 20 { Swift.print("… and \(top.count - 20) more unmapped values (--json lists them all)") }
  }
}
