import Foundation
import Testing
import VigilTestSupport

/// Bad input to `vigil import`, each with a clear error and nothing else lost.
@Suite("vigil import: bad input", .onThreadsOfTheirOwn)
struct ImportBadInputTests {
  static let mapping = """
    mapping: t
    id: {prefix: T-, column: Incident}
    fields:
      occurred_at: {date: {column: Date}}
      type: {value: attack}
      casualties.killed: {column: Killed, optional: true}
    """

  static func importing(_ files: [String: [UInt8]], in daemon: RunningDaemon) throws -> ChildProcess.Run {
    try mapping.write(toFile: daemon.directory.path + "/t.yaml", atomically: true, encoding: .utf8)
    for (name, bytes) in files {
      FileManager.default.createFile(atPath: daemon.directory.path + "/" + name, contents: Data(bytes))
    }
    return try ChildProcess.run(
      "vigil", ["import", "--socket", daemon.socketPath, "--map", "t.yaml"] + files.keys.sorted(), in: daemon.directory.path)
  }

  /// A row the same as an earlier one: `--check` says it as the import will (already
  /// recorded), and counts its alerts once, as the import does.
  @Test func aRepeatedRowIsAlreadyRecordedInACheckAsInTheImport() throws {
    let daemon = try RunningDaemon(rules: TerritorialControlReplayTests.shippedRules())
    try Self.mapping.write(toFile: daemon.directory.path + "/t.yaml", atomically: true, encoding: .utf8)
    let file = "Incident,Date,Killed\nD-1,2016-03-01T10:00:00+02:00,3\nD-1,2016-03-01T10:00:00+02:00,3\nD-2,2016-03-02,\n"
    try file.write(toFile: daemon.directory.path + "/dup.csv", atomically: true, encoding: .utf8)
    let check = try ChildProcess.run(
      "vigil", ["import", "--socket", daemon.socketPath, "--map", "t.yaml", "--check", "dup.csv"], in: daemon.directory.path)
    #expect(check.standardOutput.contains("dup.csv:3: T-D-1: already recorded (the same as dup.csv:2)"), "\(check.standardOutput)")
    let json = try ChildProcess.run(
      "vigil", ["import", "--socket", daemon.socketPath, "--map", "t.yaml", "--check", "--json", "dup.csv"], in: daemon.directory.path)
    let repeated = ImportAWSDTests.lines(json.standardOutput).first { $0["line"] as? Int == 3 }
    #expect(repeated?["duplicate"] as? Bool == true && repeated?["same_as"] as? String == "dup.csv:2", "\(json.standardOutput)")
    let real = try ChildProcess.run(
      "vigil", ["import", "--socket", daemon.socketPath, "--map", "t.yaml", "dup.csv"], in: daemon.directory.path)
    #expect(real.standardOutput.contains("3 reports: 2 accepted, 1 already recorded, 0 refused"), "\(real.standardOutput)")
    // The same alerts counted: the summaries' alert parts agree.
    let alerts = { (output: String) in output.split(separator: "\n").last?.split(separator: ";").last.map(String.init) }
    #expect(alerts(check.standardOutput) != nil && alerts(check.standardOutput) == alerts(real.standardOutput), "\(check.standardOutput)\n\(real.standardOutput)")
    #expect(check.standardOutput.contains("3 reports: 2 checked, 1 already recorded, 0 refused"), "\(check.standardOutput)")
    expectCleanStop(daemon)
  }

  /// A row the daemon refused (here too large for its line limit) holds no id: a repeat of
  /// it is refused the same, not called already recorded; a row with its id and other
  /// content is taken, by `--check` as by the import; and a later conflict names the row
  /// that holds the id, not the refused one.
  @Test func aRefusedRowHoldsNoIdInACheckOrAnImport() throws {
    let directory = try TemporaryDirectory()
    try "limits:\n  max_line_bytes: 400\n".write(toFile: directory.path + "/v.yaml", atomically: true, encoding: .utf8)
    let daemon = try RunningDaemon(rules: DaemonEndToEndTests.rules, arguments: ["--config", "v.yaml"], directory: directory)
    let mapping = Self.mapping + "\n  narrative: {column: Notes}\n"
    try mapping.write(toFile: daemon.directory.path + "/t.yaml", atomically: true, encoding: .utf8)
    let long = String(repeating: "x", count: 600)
    try "Incident,Date,Notes\nL-1,2016-03-01,\(long)\nL-1,2016-03-01,\(long)\nL-1,2016-03-01,short\nL-1,2016-03-01,other\n"
      .write(toFile: daemon.directory.path + "/long.csv", atomically: true, encoding: .utf8)
    let check = try ChildProcess.run(
      "vigil", ["import", "--socket", daemon.socketPath, "--map", "t.yaml", "--check", "long.csv"], in: daemon.directory.path)
    #expect(check.standardOutput.contains("long.csv:3: refused (too_large): "), "\(check.standardOutput)\(check.standardError)")
    #expect(check.standardOutput.contains("long.csv:4: T-L-1: 1 alert"), "\(check.standardOutput)")
    #expect(
      check.standardOutput.contains("long.csv:5: refused (id_conflict): T-L-1 is the id of long.csv:4 too, with other content"),
      "\(check.standardOutput)")
    #expect(check.standardOutput.contains("4 reports: 1 checked, 3 refused"), "\(check.standardOutput)")
    let json = try ChildProcess.run(
      "vigil", ["import", "--socket", daemon.socketPath, "--map", "t.yaml", "--check", "--json", "long.csv"], in: daemon.directory.path)
    let verdicts = ImportAWSDTests.lines(json.standardOutput)
    #expect(((verdicts.first { $0["line"] as? Int == 3 })?["error"] as? [String: Any])?["code"] as? String == "too_large", "\(json.standardOutput)")
    #expect((verdicts.first { $0["line"] as? Int == 5 })?["same_id_as"] as? String == "long.csv:4", "\(json.standardOutput)")
    let real = try ChildProcess.run(
      "vigil", ["import", "--socket", daemon.socketPath, "--map", "t.yaml", "long.csv"], in: daemon.directory.path)
    #expect(real.standardOutput.contains("4 reports: 1 accepted, 0 already recorded, 3 refused"), "\(real.standardOutput)")
    #expect(real.standardOutput.contains("long.csv:5: refused (id_conflict): "), "\(real.standardOutput)")
    #expect(real.standardOutput.contains("(the id of long.csv:4 of this import)"), "\(real.standardOutput)")
    expectCleanStop(daemon)
  }

  /// A row refused before it is sent names the field to blame in `--json`, as the daemon's
  /// `invalid_report` does.
  @Test func aRefusedRowNamesItsFieldInJSON() throws {
    let daemon = try RunningDaemon(rules: DaemonEndToEndTests.rules)
    try Self.mapping.write(toFile: daemon.directory.path + "/t.yaml", atomically: true, encoding: .utf8)
    try "Incident,Date,Killed\nF-1,2016-03-01,lots\nF-2,,1\n".write(
      toFile: daemon.directory.path + "/f.csv", atomically: true, encoding: .utf8)
    let run = try ChildProcess.run(
      "vigil", ["import", "--socket", daemon.socketPath, "--map", "t.yaml", "--json", "f.csv"], in: daemon.directory.path)
    let errors = ImportAWSDTests.lines(run.standardOutput).compactMap { $0["error"] as? [String: Any] }
    #expect(errors.map { $0["code"] as? String } == ["unmappable", "unmappable"], "\(run.standardOutput)")
    #expect(errors.map { $0["field"] as? String } == ["casualties.killed", "occurred_at"], "\(run.standardOutput)")
    expectCleanStop(daemon)
  }

  /// A daemon that goes away in the middle of an import: what was answered is counted as
  /// at the end (the closing JSON object too, with --json), and the reason says that
  /// importing again is safe. (A stand-in daemon on a real socket answers three reports,
  /// then closes.)
  @Test(arguments: [false, true]) func aDaemonThatGoesAwayLeavesTheCountsSoFar(json: Bool) throws {
    let directory = try TemporaryDirectory()
    let socketPath = directory.path + "/s.sock"
    let listener = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    withUnsafeMutableBytes(of: &address.sun_path) { path in
      for (index, byte) in socketPath.utf8.enumerated() { path[index] = byte }
    }
    let bound = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
    }
    #expect(bound == 0 && listen(listener, 4) == 0)
    let server = Thread {
      let connection = accept(listener, nil, nil)
      guard connection >= 0 else { return }
      var buffer = [UInt8](repeating: 0, count: 65_536)
      var received: [UInt8] = []
      var answered = 0
      while answered < 3 {
        let count = read(connection, &buffer, buffer.count)
        if count <= 0 { break }
        received += buffer[..<count]
        while answered < 3, let newline = received.firstIndex(of: UInt8(ascii: "\n")) {
          received.removeSubrange(...newline)
          answered += 1
          let answer = #"{"ok":true,"id":"T-\#(answered)","alerts":[]}"# + "\n"
          _ = answer.utf8CString.withUnsafeBufferPointer { write(connection, $0.baseAddress, $0.count - 1) }
        }
      }
      close(connection)
      close(listener)
    }
    server.start()
    try Self.mapping.write(toFile: directory.path + "/t.yaml", atomically: true, encoding: .utf8)
    let rows = (1...2000).map { "A-\($0),2016-03-04,1" }.joined(separator: "\n")
    try ("Incident,Date,Killed\n" + rows + "\n").write(toFile: directory.path + "/big.csv", atomically: true, encoding: .utf8)
    let run = try ChildProcess.run(
      "vigil", ["import", "--socket", socketPath, "--map", "t.yaml", "big.csv"] + (json ? ["--json"] : []), in: directory.path)
    #expect(run.status == 2, "\(run.standardError)")
    #expect(run.standardError.contains("vigild closed the connection after answering 3 of the"), "\(run.standardError)")
    #expect(run.standardError.contains("sending them again is safe"), "\(run.standardError)")
    if json {
      let last = try #require(run.standardOutput.split(separator: "\n").last)
      #expect(last.hasPrefix(#"{"rows":"#), "\(last)")
    } else {
      #expect(run.standardOutput.contains("3 accepted"), "\(run.standardOutput)")
    }
  }

  @Test func aBadRowIsRefusedWithItsRowAndTheRestIsImported() throws {
    let daemon = try RunningDaemon(rules: DaemonEndToEndTests.rules)
    // A ragged row, Latin-1 bytes in a "UTF-8" file, a count the schema refuses.
    var latin1 = Array("Incident,Date,Killed\nA-1,2016-03-01,1\nA-2,2016-03-02,1,extra\nA-3,2016-03-03,".utf8)
    latin1 += [0xE9] + Array("\nA-4,2016-03-04,-3\nA-5,2016-03-05,2\n".utf8)
    let run = try Self.importing(["rows.csv": latin1], in: daemon)
    #expect(run.status == 1)
    let out = run.standardOutput
    #expect(out.contains("rows.csv:3: refused (not sent): column 4: this row has 4 cells, the header has 3 (a ragged row)"), "\(out)")
    #expect(out.contains("rows.csv:4: refused (not sent): column 3: not UTF-8"), "\(out)")
    #expect(out.contains("rows.csv:5: refused (not sent): invalid_report: casualties.killed"), "\(out)")
    #expect(out.contains("rows.csv:6: T-A-5"), "the row after the bad ones is imported: \(out)")
    #expect(out.contains("5 reports: 2 accepted, 0 already recorded, 3 refused"), "\(out)")
    expectCleanStop(daemon)
  }

  @Test func aFileThatBreaksOffKeepsWhatCameBefore() throws {
    let daemon = try RunningDaemon(rules: DaemonEndToEndTests.rules)
    let run = try Self.importing(["broken.csv": Array("Incident,Date\nB-1,2016-03-01\nB-2,\"2016-03-02\nB-3,2016-03-03\n".utf8)], in: daemon)
    #expect(run.status == 1)
    #expect(run.standardOutput.contains("broken.csv:2: T-B-1"), "\(run.standardOutput)")
    #expect(run.standardOutput.contains("broken.csv:3: refused (not sent): column 2: a quoted field is never closed"), "\(run.standardOutput)")
    #expect(run.standardError.contains("the rest of the file was not read"), "\(run.standardError)")
    // With --json the summary names it too.
    let json = try ChildProcess.run(
      "vigil", ["import", "--socket", daemon.socketPath, "--map", "t.yaml", "--check", "--json", "broken.csv"], in: daemon.directory.path)
    let summary = json.standardOutput.split(separator: "\n").last.map(String.init) ?? ""
    #expect(summary.contains(#""unreadable":["broken.csv: row 3, column 2: a quoted field is never closed"]"#), "\(summary)")
    expectCleanStop(daemon)
  }

  @Test func aFileThatIsNotWhatItsExtensionSaysIsRefusedWhole() throws {
    let daemon = try RunningDaemon(rules: DaemonEndToEndTests.rules)
    let run = try Self.importing(["sheet.xlsx": Array("Incident,Date\nC-1,2016-03-01\n".utf8)], in: daemon)
    #expect(run.status == 2)
    #expect(run.standardError.contains("sheet.xlsx: not an XLSX workbook"), "\(run.standardError)")
    expectCleanStop(daemon)
  }

  /// A folder, a name without an extension when the mapping names no format, a header the
  /// mapping names that the file has twice: each refused in one sentence that says why,
  /// before anything is sent.
  @Test func aFolderOrANameWithoutAFormatIsRefusedSayingWhy() throws {
    let daemon = try RunningDaemon(rules: DaemonEndToEndTests.rules)
    try FileManager.default.createDirectory(atPath: daemon.directory.path + "/exports", withIntermediateDirectories: true)
    let folder = try Self.importing(["exports/a.csv": Array("Incident,Date\n".utf8)], in: daemon)
    #expect(folder.status == 0, "\(folder.standardError)")
    let run = try ChildProcess.run(
      "vigil", ["import", "--socket", daemon.socketPath, "--map", "t.yaml", "exports"], in: daemon.directory.path)
    #expect(run.status == 2 && run.standardError == "vigil: exports: it is a directory: give the files in it\n", "\(run.standardError)")
    let twice = try Self.importing(["twice.csv": Array("Incident,Date,Incident\nC-1,2016-03-01,C-2\n".utf8)], in: daemon)
    #expect(twice.status == 2)
    #expect(
      twice.standardError.contains("twice.csv: the mapping names the column 'Incident' at t.yaml:2:"), "\(twice.standardError)")
    #expect(
      twice.standardError.contains("which the file has 2 times, headers compared without regard to case (columns 1 'Incident', 3 'Incident')"),
      "\(twice.standardError)")
    // Headers compare without regard to case: a second one differing in case is the same
    // column twice, not a column left unread with its values.
    let cased = try Self.importing(["cased.csv": Array("Incident,Date,INCIDENT\nC-1,2016-03-01,C-2\n".utf8)], in: daemon)
    #expect(cased.status == 2)
    #expect(cased.standardError.contains("(columns 1 'Incident', 3 'INCIDENT')"), "\(cased.standardError)")
    let bare = try Self.importing(["export": Array("Incident,Date\nC-1,2016-03-01\n".utf8)], in: daemon)
    #expect(bare.status == 2)
    #expect(bare.standardError.contains("export: its name has no extension to tell its format"), "\(bare.standardError)")
    // One that is not there is said so, whatever its name.
    for missing in ["gone", "gone.txt"] {
      let run = try ChildProcess.run(
        "vigil", ["import", "--socket", daemon.socketPath, "--map", "t.yaml", missing], in: daemon.directory.path)
      #expect(
        run.status == 2 && run.standardError == "vigil: \(missing): cannot read \(missing): No such file or directory\n",
        "\(run.standardError)")
    }
    expectCleanStop(daemon)
  }
}
