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

  /// Interrupted while a workbook's sheet is being inflated to a temporary file (the copy
  /// of incident data it reads), `vigil import` removes that file before it dies, and the
  /// copy of a piped workbook too (audit 51: tens of megabytes were left in TMPDIR).
  @Test(arguments: [SIGINT, SIGTERM, SIGHUP])
  func anInterruptedImportLeavesNoCopyBehind(signal: Int32) throws {
    let daemon = try RunningDaemon(rules: DaemonEndToEndTests.rules)
    let directory = daemon.directory.path
    try (ImportBadInputTests.mapping + "\nformat: xlsx\n").write(toFile: directory + "/t.yaml", atomically: true, encoding: .utf8)
    // A workbook of 400,000 rows, some 9 MB, whose sheet inflates to some 60 MB.
    let script = """
      import zipfile
      rows = "".join('<row r="%d"><c r="A%d" t="inlineStr"><is><t>W-%d</t></is></c><c r="B%d" t="inlineStr"><is><t>2016-03-01</t></is></c></row>' % (n, n, n, n) for n in range(2, 400002))
      sheet = '<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>Incident</t></is></c><c r="B1" t="inlineStr"><is><t>Date</t></is></c></row>' + rows + '</sheetData></worksheet>'
      with zipfile.ZipFile("big.xlsx", "w", zipfile.ZIP_DEFLATED) as z:
          z.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/></Types>')
          z.writestr("xl/workbook.xml", '<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Data" sheetId="1" r:id="rId1"/></sheets></workbook>')
          z.writestr("xl/_rels/workbook.xml.rels", '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>')
          z.writestr("xl/worksheets/sheet1.xml", sheet)
      """
    let made = try ChildProcess.run("/usr/bin/env", ["python3", "-c", script], in: directory)
    try #require(made.status == 0, "\(made.standardError)")
    for piped in [false, true] {
      let temporary = try TemporaryDirectory()
      let process = Process()
      process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
      let vigil = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("vigil").path
      process.arguments = [
        "TMPDIR=\(temporary.path)", vigil, "import", "--socket", daemon.socketPath, "--map", "t.yaml", "--check", piped ? "-" : "big.xlsx",
      ]
      process.currentDirectoryURL = URL(fileURLWithPath: directory)
      process.standardOutput = FileHandle.nullDevice
      process.standardError = FileHandle.nullDevice
      process.standardInput = piped ? Self.pipe(try Data(contentsOf: URL(fileURLWithPath: directory + "/big.xlsx"))) : .nullDevice
      try process.run()
      // While the sheet is being inflated: its copy is there.
      let inflating = eventually(within: 60) {
        ((try? FileManager.default.contentsOfDirectory(atPath: temporary.path)) ?? []).contains { $0.hasPrefix("vigil-xlsx-") }
      }
      kill(process.processIdentifier, signal)
      process.waitUntilExit()
      try #require(inflating, "the sheet's copy never appeared (piped: \(piped))")
      #expect(process.terminationReason == .uncaughtSignal && process.terminationStatus == signal, "piped: \(piped)")
      let left = try FileManager.default.contentsOfDirectory(atPath: temporary.path)
      #expect(left.isEmpty, "left behind (signal \(signal), piped: \(piped)): \(left)")
    }
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
