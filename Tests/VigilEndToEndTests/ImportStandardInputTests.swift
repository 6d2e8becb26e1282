import Foundation
import Testing
import VigilTestSupport

/// `vigil import … -`: the table on standard input, read by the mapping's `format:`, and
/// named `<stdin>` in verdicts and messages as `vigil submit` names it.
@Suite("vigil import: standard input", .onThreadsOfTheirOwn)
struct ImportStandardInputTests {
  /// A pipe whose far end is written with `bytes` and closed, from a thread of its own (a
  /// workbook is larger than a pipe holds).
  static func pipe(_ bytes: Data) -> FileHandle {
    let pipe = Pipe()
    Thread.detachNewThread {
      try? pipe.fileHandleForWriting.write(contentsOf: bytes)
      try? pipe.fileHandleForWriting.close()
    }
    return pipe.fileHandleForReading
  }

  static func importing(_ input: FileHandle, _ arguments: [String], in daemon: RunningDaemon) throws -> ChildProcess.Run {
    try ChildProcess.run(
      "vigil", ["import", "--socket", daemon.socketPath] + arguments, in: daemon.directory.path, standardInput: input)
  }

  /// CSV down a pipe, between two files: each verdict with where it came from.
  @Test func aCSVOnAPipeIsImportedAndNamedStdin() throws {
    let daemon = try RunningDaemon(rules: DaemonEndToEndTests.rules)
    try (ImportBadInputTests.mapping + "\nformat: csv\n").write(
      toFile: daemon.directory.path + "/t.yaml", atomically: true, encoding: .utf8)
    try "Incident,Date\nF-1,2016-03-01\n".write(toFile: daemon.directory.path + "/a.csv", atomically: true, encoding: .utf8)
    let input = Self.pipe(Data("Incident,Date\nS-1,2016-03-02\nS-2,2016-03-03\n".utf8))
    let run = try Self.importing(input, ["--map", "t.yaml", "a.csv", "-"], in: daemon)
    #expect(run.status == 0, "\(run.standardError)")
    #expect(run.standardOutput.contains("a.csv:2: T-F-1: "), "\(run.standardOutput)")
    #expect(run.standardOutput.contains("<stdin>:2: T-S-1: "), "\(run.standardOutput)")
    #expect(run.standardOutput.contains("<stdin>:3: T-S-2: "), "\(run.standardOutput)")
    #expect(run.standardOutput.contains("3 reports: 3 accepted"), "\(run.standardOutput)")
    expectCleanStop(daemon)
  }

  /// A workbook is a zip archive, read from its end: one down a pipe is copied first, and
  /// reads as the file does.
  @Test func aWorkbookOnAPipeReadsAsItsFile() throws {
    guard let path = SharedData.path("insecurity-insight-attacks-on-health-care-2016-2023.xlsx") else {
      Issue.record("\(SharedData.missing("insecurity-insight-attacks-on-health-care-2016-2023.xlsx"))")
      return
    }
    let daemon = try RunningDaemon(rules: TerritorialControlReplayTests.shippedRules())
    let mapping = ImportAWSDTests.root.appendingPathComponent("Config/mappings/insecurity-insight-health.yaml").path
    let run = try Self.importing(
      Self.pipe(try Data(contentsOf: URL(fileURLWithPath: path))), ["--map", mapping, "--check", "--json", "-"], in: daemon)
    #expect(run.status == 0, "\(run.standardError)")
    let objects = ImportAWSDTests.lines(run.standardOutput)
    let verdicts = objects.filter { $0["file"] as? String == "<stdin>" }
    #expect(verdicts.count == 285)
    #expect(objects.last?["rows"] as? Int == 8854)
    // Cut short on its way, it is refused as the damaged workbook it is, named as given.
    let cut = try Self.importing(
      Self.pipe(try Data(contentsOf: URL(fileURLWithPath: path)).prefix(3000)), ["--map", mapping, "--check", "-"], in: daemon)
    #expect(cut.status == 2)
    #expect(
      cut.standardError == "vigil: <stdin>: the workbook <stdin> is damaged: it starts as a zip archive but has no end (was it cut short?)\n",
      "\(cut.standardError)")
    expectCleanStop(daemon)
  }

  /// A JSON export down a pipe is copied too (its columns are bound from every record
  /// first, so it is read twice), and reads as its file does; the copy is removed after.
  @Test func aJSONExportOnAPipeReadsAsItsFileAndLeavesNoCopy() throws {
    let daemon = try RunningDaemon(rules: TerritorialControlReplayTests.shippedRules())
    let root = ImportAWSDTests.root
    let export = root.appendingPathComponent("docs/examples/kobo-export.json").path
    let mapping = root.appendingPathComponent("Config/mappings/kobo-incidents.yaml").path
    let fromFile = try Self.importing(.nullDevice, ["--map", mapping, "--check", "--json", export], in: daemon)
    let temporary = try TemporaryDirectory()
    let vigil = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("vigil").path
    let piped = try ChildProcess.run(
      "/usr/bin/env",
      ["TMPDIR=\(temporary.path)", vigil, "import", "--socket", daemon.socketPath, "--map", mapping, "--check", "--json", "-"],
      in: daemon.directory.path, standardInput: Self.pipe(try Data(contentsOf: URL(fileURLWithPath: export))))
    #expect(piped.status == fromFile.status, "\(piped.standardError)")
    // The same verdicts, but for the file's name.
    let alerts = { (run: ChildProcess.Run) in
      ImportAWSDTests.lines(run.standardOutput).filter { $0["file"] != nil }.map { verdict in
        "\(verdict["line"] ?? ""): " + ((verdict["alerts"] as? [[String: Any]]) ?? []).compactMap { $0["rule"] as? String }.joined(separator: ",")
      }
    }
    #expect(!alerts(fromFile).isEmpty && alerts(piped) == alerts(fromFile), "\(piped.standardOutput)")
    #expect(try FileManager.default.contentsOfDirectory(atPath: temporary.path).isEmpty, "the copy was left behind")
    expectCleanStop(daemon)
  }

  /// Standard input has no name to tell its format; and it can be read once.
  @Test func withoutAFormatOrTwiceItIsRefusedSayingWhy() throws {
    let daemon = try RunningDaemon(rules: DaemonEndToEndTests.rules)
    try ImportBadInputTests.mapping.write(toFile: daemon.directory.path + "/t.yaml", atomically: true, encoding: .utf8)
    let bare = try Self.importing(Self.pipe(Data("Incident,Date\n".utf8)), ["--map", "t.yaml", "-"], in: daemon)
    #expect(bare.status == 2)
    #expect(
      bare.standardError
        == "vigil: <stdin>: standard input has no name to tell its format: say format: in the mapping t (csv, xlsx, json, ndjson)\n",
      "\(bare.standardError)")
    let twice = try Self.importing(.nullDevice, ["--map", "t.yaml", "-", "-"], in: daemon)
    #expect(twice.status == 2)
    #expect(twice.standardError.contains("standard input (-) can be read once only"), "\(twice.standardError)")
    let counters = try daemon.exchange(#"{"op":"status"}"#)["counters"] as? [String: Any]
    #expect(counters?["accepted"] as? Int == 0, "\(counters ?? [:])")
    expectCleanStop(daemon)
  }
}
