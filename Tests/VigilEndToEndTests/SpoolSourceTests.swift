import Foundation
import Testing
import VigilTestSupport

/// The spool source with the real daemon: files dropped into a folder per mapping are
/// imported, moved to done/ with their verdicts or to failed/ with the reason, and a pass
/// a restart cut short is resumed without losing what it had recorded.
@Suite("vigild end to end: the spool source", .onThreadsOfTheirOwn)
struct SpoolSourceTests {
  static let example = ImportAWSDTests.root.appendingPathComponent("docs/examples/hxl-incidents.csv").path

  static func daemon(in directory: TemporaryDirectory) throws -> RunningDaemon {
    try FileManager.default.createDirectory(atPath: directory.path + "/spool/hxl-incidents", withIntermediateDirectories: true)
    let config = """
      plugins:
        designations: {}
        places: {}
        spool:
          folder: spool
          mappings: \(ImportAWSDTests.root.path)/Config/mappings
          settle_s: 0.2
      """
    try config.write(toFile: directory.path + "/v.yaml", atomically: true, encoding: .utf8)
    return try RunningDaemon(
      rules: TerritorialControlReplayTests.shippedRules(), arguments: ["--config", "v.yaml"], directory: directory)
  }

  /// Written beside the folder, then renamed in: never seen half-written.
  static func drop(_ text: String, as name: String, in directory: TemporaryDirectory, mapping: String = "hxl-incidents") throws {
    let staging = directory.path + "/" + name + ".staging"
    try text.write(toFile: staging, atomically: false, encoding: .utf8)
    #expect(rename(staging, directory.path + "/spool/\(mapping)/" + name) == 0)
  }

  /// The verdicts of the example's four rows, each accepted the first time.
  static let exampleVerdicts: [Substring] = [
    "3 HXL-HX-1 accepted, 1 alert", "4 HXL-HX-2 accepted, 1 alert", "5 HXL-HX-3 accepted, 0 alerts",
    "6 HXL-HX-4 accepted, 1 alert",
  ]

  static func read(_ path: String) -> String? { try? String(contentsOfFile: path, encoding: .utf8) }

  @Test func aDroppedFileIsImportedAndMovedWithItsVerdicts() throws {
    let directory = try TemporaryDirectory()
    let daemon = try Self.daemon(in: directory)
    try Self.drop(try String(contentsOfFile: Self.example, encoding: .utf8), as: "week1.csv", in: directory)
    let verdictsPath = directory.path + "/spool/done/week1.csv.verdicts"
    #expect(eventually(within: 60) { Self.read(verdictsPath) != nil })
    #expect(Self.read(verdictsPath)?.split(separator: "\n") == Self.exampleVerdicts)
    #expect(FileManager.default.fileExists(atPath: directory.path + "/spool/done/week1.csv"))
    #expect(!FileManager.default.fileExists(atPath: directory.path + "/spool/hxl-incidents/week1.csv"))
    let sources = (try daemon.exchange(#"{"op":"status"}"#)["sources"] as? [[String: Any]]) ?? []
    #expect(sources.first?["accepted"] as? Int == 4)

    // A file its mapping cannot read: to failed/, with the reason.
    try Self.drop("Date,Town\n2016-03-01,Idlib\n", as: "nocolumns.csv", in: directory)
    let reasonPath = directory.path + "/spool/failed/nocolumns.csv.reason"
    #expect(eventually(within: 60) { Self.read(reasonPath) != nil })
    #expect(Self.read(reasonPath)?.contains("the mapping names the column '#event +id'") == true, "\(Self.read(reasonPath) ?? "")")

    // A row the reader cannot take: refused with its column, and the rows after it go on.
    let lines = try String(contentsOfFile: Self.example, encoding: .utf8).split(separator: "\n")
    // A row the mapping refuses, too; both are counted with the refused in status.
    let torn = lines[0...1] + ["HX-7,\"2016-03-04\"x,Airstrike,Idlib,,,,,1,,,,", "HX-8,2016-13-45,Airstrike,Idlib,,,,,1,,,,"] + lines[5...5]
    try Self.drop(torn.joined(separator: "\n") + "\n", as: "torn.csv", in: directory)
    let tornVerdicts = directory.path + "/spool/done/torn.csv.verdicts"
    #expect(eventually(within: 60) { Self.read(tornVerdicts) != nil })
    #expect(
      Self.read(tornVerdicts)?.split(separator: "\n") == [
        "3 - refused: column 2: text after the closing quote",
        "4 - refused: occurred_at: '2016-13-45' is not a date this mapping reads", "5 HXL-HX-4 duplicate",
      ],
      "\(Self.read(tornVerdicts) ?? "")")
    let counts = (try daemon.exchange(#"{"op":"status"}"#)["sources"] as? [[String: Any]])?.first ?? [:]
    #expect(counts["refused"] as? Int == 2 && counts["duplicates"] as? Int == 1 && counts["accepted"] as? Int == 4, "\(counts)")

    // A file in the spool folder itself, which no mapping reads: status says so until it
    // is moved into a mapping's folder, and is then imported.
    try String(contentsOfFile: Self.example, encoding: .utf8).write(
      toFile: directory.path + "/spool/week9.csv", atomically: true, encoding: .utf8)
    func problem() throws -> String? {
      ((try daemon.exchange(#"{"op":"status"}"#)["sources"] as? [[String: Any]])?.first?["problem"]) as? String
    }
    #expect(eventually(within: 60) { (try? problem())??.contains("spool/week9.csv is in the spool folder itself") == true })
    #expect(FileManager.default.fileExists(atPath: directory.path + "/spool/week9.csv"), "left where it was")
    #expect(rename(directory.path + "/spool/week9.csv", directory.path + "/spool/hxl-incidents/week9.csv") == 0)
    #expect(eventually(within: 60) { Self.read(directory.path + "/spool/done/week9.csv.verdicts") != nil })
    #expect(eventually(within: 60) { (try? problem()) == .some(nil) })

    // A named pipe: opening it would wait for a writer for good, and no later file would be
    // taken. It goes to failed/ with what it is, and the file after it is imported.
    #expect(mkfifo(directory.path + "/spool/hxl-incidents/a-pipe.csv", 0o644) == 0)
    try Self.drop(try String(contentsOfFile: Self.example, encoding: .utf8), as: "z-after.csv", in: directory)
    let pipeReason = directory.path + "/spool/failed/a-pipe.csv.reason"
    #expect(eventually(within: 60) { Self.read(pipeReason) != nil })
    #expect(Self.read(pipeReason)?.hasPrefix("it is a named pipe (FIFO), not a regular file") == true, "\(Self.read(pipeReason) ?? "")")
    #expect(eventually(within: 60) { Self.read(directory.path + "/spool/done/z-after.csv.verdicts") != nil })
    expectCleanStop(daemon)
  }

  /// A file that cannot be put away (here done/ is a file, not a folder) stays in the spool,
  /// said in status, and is not submitted again at every look; once it can be put away, it
  /// is, with the verdicts of its pass.
  /// A value no `map` covers leaves its field out, as `vigil import` does, and the row's
  /// verdict says so: the spool lost it silently, where import counts it.
  /// An AWSD export (the `awsd` mapping names its format: any file name is read as CSV)
  /// of one row per (id, means of attack).
  static func awsdExport(_ rows: [(id: Int, means: String)]) throws -> String {
    let awsd = try #require(SharedData.path("awsd-security-incidents.csv"))
    let header = try #require(try String(contentsOfFile: awsd, encoding: .utf8).split(separator: "\n").first)
    let columns = header.split(separator: ",").count
    func row(_ id: Int, means: String) -> String {
      // Incident ID, Year, Month, Day, Country Code, Country, Region, District, City, then
      // empty cells up to Means of attack (column 31) and after it.
      var cells = ["\(id)", "2016", "3", "4", "SY", "Syria", "Idlib", "", "Saraqeb"] + Array(repeating: "", count: columns - 9)
      cells[23] = "1"  // Total killed
      cells[30] = means
      return cells.joined(separator: ",")
    }
    return ([String(header)] + rows.map { row($0.id, means: $0.means) }).joined(separator: "\n") + "\n"
  }

  /// `vigil import` counts an unmapped value as the map compares it: `Catapult` and
  /// `catapult` are one value, in two rows.
  @Test func unmappedValuesAreCountedAsTheMapComparesThem() throws {
    let directory = try TemporaryDirectory()
    let daemon = try Self.daemon(in: directory)
    try Self.awsdExport([(9001, "Catapult"), (9002, "catapult"), (9003, "Shelling")])
      .write(toFile: directory.path + "/week.csv", atomically: true, encoding: .utf8)
    let run = try ChildProcess.run(
      "vigil",
      ["import", "--check", "--socket", daemon.socketPath, "--map", ImportAWSDTests.root.path + "/Config/mappings/awsd.yaml", "week.csv"],
      in: directory.path)
    #expect(run.status == 0, "\(run.standardError)")
    let summary = run.standardOutput.split(separator: "\n").filter { $0.contains("unmapped, ") }
    #expect(summary == ["Means of attack: 'Catapult' unmapped, 2 rows"], "\(run.standardOutput)")
  }

  /// What `vigil import` warns of is said at the end of the verdicts and in vigild's log:
  /// a page of a paged export, a mapping's column no record has a value for.
  @Test func theImportsWarningsEndTheVerdictsAndReachTheLog() throws {
    let directory = try TemporaryDirectory()
    try FileManager.default.createDirectory(atPath: directory.path + "/spool/kobo-incidents", withIntermediateDirectories: true)
    let daemon = try Self.daemon(in: directory)
    let export = try #require(Self.read(ImportAWSDTests.root.appendingPathComponent("docs/examples/kobo-export.json").path))
    // The shipped export, as one page of a paged one.
    let page = export.replacingOccurrences(of: #""next": null"#, with: #""next": "https://kf.example/api/v2/assets/a/data/?start=100""#)
      .replacingOccurrences(of: #""count": "#, with: #""count": 25"#)
    #expect(page != export, "the example names its count and next page")
    try Self.drop(page, as: "page.json", in: directory, mapping: "kobo-incidents")
    let verdictsPath = directory.path + "/spool/done/page.json.verdicts"
    #expect(eventually(within: 60) { Self.read(verdictsPath) != nil })
    let verdicts = Self.read(verdictsPath)?.split(separator: "\n") ?? []
    #expect(verdicts.last?.hasPrefix("warning: the export is one page of several; it counts 25") == true, "\(verdicts)")
    #expect(verdicts.dropLast().allSatisfy { $0.first?.isNumber == true }, "\(verdicts)")
    #expect(eventually { daemon.log().contains("source spool: ") && daemon.log().contains("page.json: the export is one page of several") })
    withExtendedLifetime(daemon) {}
  }

  @Test func anUnmappedValueIsSaidOnItsRowsVerdict() throws {
    let directory = try TemporaryDirectory()
    try FileManager.default.createDirectory(atPath: directory.path + "/spool/awsd", withIntermediateDirectories: true)
    let daemon = try Self.daemon(in: directory)
    try Self.drop(try Self.awsdExport([(9001, "Catapult"), (9002, "Shelling")]), as: "week.csv", in: directory, mapping: "awsd")
    let verdictsPath = directory.path + "/spool/done/week.csv.verdicts"
    #expect(eventually(within: 60) { Self.read(verdictsPath) != nil })
    let verdicts = Self.read(verdictsPath)?.split(separator: "\n") ?? []
    #expect(verdicts.count == 2, "\(verdicts)")
    #expect(verdicts.first?.hasPrefix("2 AWSD-9001 accepted, ") == true, "\(verdicts)")
    #expect(verdicts.first?.hasSuffix("; unmapped: Means of attack 'Catapult'") == true, "\(verdicts)")
    #expect(verdicts.last?.contains("unmapped") == false, "\(verdicts)")
    withExtendedLifetime(daemon) {}
  }

  @Test func aFileThatCannotBePutAwayIsSaidAndNotImportedAgainAndAgain() throws {
    let directory = try TemporaryDirectory()
    let daemon = try Self.daemon(in: directory)
    try "not a folder".write(toFile: directory.path + "/spool/done", atomically: true, encoding: .utf8)
    try Self.drop(try String(contentsOfFile: Self.example, encoding: .utf8), as: "week2.csv", in: directory)
    func source() throws -> [String: Any] {
      (try daemon.exchange(#"{"op":"status"}"#)["sources"] as? [[String: Any]])?.first ?? [:]
    }
    #expect(eventually(within: 60) { ((try? source())?["problem"] as? String)?.contains("cannot put") == true })
    let problem = try source()["problem"] as? String ?? ""
    #expect(problem.contains("spool/hxl-incidents/week2.csv away: cannot write in") && problem.contains("it stays in the spool"), "\(problem)")
    #expect(try source()["accepted"] as? Int == 4)
    // Looks go on (a fifth of a second apart) without taking it again.
    Thread.sleep(forTimeInterval: 2)
    let after = try source()
    #expect(after["duplicates"] as? Int == 0, "\(after)")
    #expect(FileManager.default.fileExists(atPath: directory.path + "/spool/hxl-incidents/week2.csv"))

    try FileManager.default.removeItem(atPath: directory.path + "/spool/done")
    let verdicts = directory.path + "/spool/done/week2.csv.verdicts"
    #expect(eventually(within: 60) { Self.read(verdicts) != nil })
    #expect(Self.read(verdicts)?.split(separator: "\n") == Self.exampleVerdicts, "\(Self.read(verdicts) ?? "")")
    #expect(eventually(within: 60) { (try? source())?["problem"] == nil || (try? source())?["problem"] is NSNull })
    expectCleanStop(daemon)
  }

  /// What a writer leaves beside its files is its own: a staging folder (with a `.part` in
  /// it) is left alone, and a name too long to carry the spool's verdicts is said, not
  /// taken. In done/, an earlier file's name is never taken by a later file's verdicts; and
  /// what is put away is readable by the spool folder's group when that group may read it.
  @Test func theSpoolLeavesWhatIsNotItsOwnAndOverwritesNothing() throws {
    let directory = try TemporaryDirectory()
    try FileManager.default.createDirectory(atPath: directory.path + "/spool", withIntermediateDirectories: true)
    // As the README says to share the verdicts: the spool given the droppers' group, setgid.
    let group: gid_t = 4242
    #expect(chown(directory.path + "/spool", uid_t.max, group) == 0)
    #expect(chmod(directory.path + "/spool", 0o2750) == 0)
    let daemon = try Self.daemon(in: directory)
    let staging = directory.path + "/spool/hxl-incidents/incoming"
    try FileManager.default.createDirectory(atPath: staging, withIntermediateDirectories: true)
    let example = try String(contentsOfFile: Self.example, encoding: .utf8)
    try example.write(toFile: staging + "/a.part", atomically: false, encoding: .utf8)
    let long = String(repeating: "x", count: 230) + ".csv"
    try Self.drop(example, as: long, in: directory)
    // A name that is not UTF-8 names no file once read as text: said, not taken for a
    // file removed at every look.
    let badName = Array((directory.path + "/spool/hxl-incidents/caf").utf8) + [0xE9] + Array(".csv".utf8) + [0]
    let descriptor = badName.withUnsafeBufferPointer { open(UnsafeRawPointer($0.baseAddress!).assumingMemoryBound(to: CChar.self), O_CREAT | O_WRONLY, 0o644) }
    #expect(descriptor >= 0)
    close(descriptor)
    // A file named as another's verdicts will be, then that other file (the awsd mapping
    // reads any name as CSV).
    try FileManager.default.createDirectory(atPath: directory.path + "/spool/awsd", withIntermediateDirectories: true)
    let first = try Self.awsdExport([(9101, "Shelling")])
    try Self.drop(first, as: "z.csv.verdicts", in: directory, mapping: "awsd")
    let done = directory.path + "/spool/done"
    #expect(eventually(within: 60) { Self.read(done + "/z.csv.verdicts.verdicts") != nil })
    try Self.drop(try Self.awsdExport([(9102, "Shelling")]), as: "z.csv", in: directory, mapping: "awsd")
    #expect(eventually(within: 60) { Self.read(done + "/z.csv.2.verdicts") != nil })
    #expect(Self.read(done + "/z.csv.verdicts") == first, "the earlier file is kept whole")
    #expect(FileManager.default.fileExists(atPath: done + "/z.csv.2"))

    func problem() -> String? {
      ((try? daemon.exchange(#"{"op":"status"}"#)["sources"] as? [[String: Any]])?.first?["problem"]) as? String
    }
    #expect(eventually(within: 60) { problem()?.contains("\(long) is not taken: its name is 234 bytes") == true }, "\(problem() ?? "")")
    #expect(FileManager.default.fileExists(atPath: directory.path + "/spool/hxl-incidents/" + long))
    #expect(FileManager.default.fileExists(atPath: staging + "/a.part"), "the staging folder is left alone")
    #expect(problem()?.contains("has a name that is not valid UTF-8") == true, "\(problem() ?? "")")
    let removed = ((try? FileManager.default.contentsOfDirectory(atPath: done)) ?? []).filter { $0.contains(".removed") }
    #expect(removed.isEmpty, "\(removed)")
    #expect(!FileManager.default.fileExists(atPath: directory.path + "/spool/failed/incoming"))

    // The spool's group may read done/ and the verdicts (the spool folder is 2750), no one
    // else; done/ keeps the setgid bit, so what is made in it has that group.
    var status = stat()
    #expect(stat(done, &status) == 0 && status.st_mode & 0o7777 == 0o2750, "\(String(status.st_mode & 0o7777, radix: 8))")
    #expect(status.st_gid == group)
    #expect(stat(done + "/z.csv.2.verdicts", &status) == 0 && status.st_mode & 0o777 == 0o640, "\(String(status.st_mode & 0o777, radix: 8))")
    #expect(status.st_gid == group)
    expectCleanStop(daemon)
  }

  /// A file taken out of the spool while it waited to be put away leaves its pass's
  /// verdicts in done/ all the same; and a done/ on another file system (a link to a
  /// bigger disk) takes files by copy.
  @Test func aStuckFileTakenOutKeepsItsVerdictsAndDoneMayBeElsewhere() throws {
    let directory = try TemporaryDirectory()
    let daemon = try Self.daemon(in: directory)
    try "not a folder".write(toFile: directory.path + "/spool/done", atomically: true, encoding: .utf8)
    try Self.drop(try String(contentsOfFile: Self.example, encoding: .utf8), as: "week3.csv", in: directory)
    func problem() -> String? {
      ((try? daemon.exchange(#"{"op":"status"}"#)["sources"] as? [[String: Any]])?.first?["problem"]) as? String
    }
    #expect(eventually(within: 60) { problem()?.contains("week3.csv away") == true })
    try FileManager.default.moveItem(atPath: directory.path + "/spool/hxl-incidents/week3.csv", toPath: directory.path + "/taken.csv")
    // On another file system: /dev/shm is a tmpfs.
    let elsewhere = try FileManager.default.url(
      for: .itemReplacementDirectory, in: .userDomainMask, appropriateFor: URL(fileURLWithPath: "/dev/shm"), create: true
    ).path
    defer { try? FileManager.default.removeItem(atPath: elsewhere) }
    try FileManager.default.removeItem(atPath: directory.path + "/spool/done")
    try FileManager.default.createSymbolicLink(atPath: directory.path + "/spool/done", withDestinationPath: elsewhere)
    let removed = elsewhere + "/week3.csv.removed.verdicts"
    #expect(eventually(within: 60) { Self.read(removed) != nil })
    #expect(Self.read(removed)?.split(separator: "\n").dropFirst().map { $0 } == Self.exampleVerdicts, "\(Self.read(removed) ?? "")")
    #expect(eventually(within: 60) { problem() == nil })

    try Self.drop(try String(contentsOfFile: Self.example, encoding: .utf8), as: "week4.csv", in: directory)
    #expect(eventually(within: 60) { Self.read(elsewhere + "/week4.csv.verdicts") != nil })
    #expect(FileManager.default.fileExists(atPath: elsewhere + "/week4.csv"))
    #expect(!FileManager.default.fileExists(atPath: directory.path + "/spool/hxl-incidents/week4.csv"))
    expectCleanStop(daemon)
  }

  /// A row vigild could not record now (`storage`: a full disk, here an alert log that is
  /// a folder) puts nothing away: the file stays in the spool, status says why, and once
  /// storage works its pass comes again and records every row.
  @Test func aStorageRefusalKeepsTheFileForAnotherPass() throws {
    let directory = try TemporaryDirectory()
    let daemon = try Self.daemon(in: directory)
    let log = directory.path + "/var/log/vigil/alerts.jsonl"
    #expect(rename(log, log + ".aside") == 0 && mkdir(log, 0o700) == 0)
    #expect((try daemon.exchange(#"{"op":"reopen"}"#)["error"] as? [String: Any])?["code"] as? String == "storage")
    try Self.drop(try String(contentsOfFile: Self.example, encoding: .utf8), as: "full.csv", in: directory)
    func problem() -> String? {
      ((try? daemon.exchange(#"{"op":"status"}"#)["sources"] as? [[String: Any]])?.first?["problem"]) as? String
    }
    #expect(eventually(within: 60) { problem()?.contains("vigild could not record row 3 (storage: ") == true }, "\(problem() ?? "")")
    let waiting = directory.path + "/spool/hxl-incidents/full.csv"
    #expect(FileManager.default.fileExists(atPath: waiting))
    #expect(!FileManager.default.fileExists(atPath: directory.path + "/spool/done/full.csv.verdicts"))
    #expect(daemon.log().contains("full.csv: row 3 could not be recorded now (storage: "))

    #expect(rmdir(log) == 0 && rename(log + ".aside", log) == 0)
    #expect(try daemon.exchange(#"{"op":"reopen"}"#)["ok"] as? Bool == true)
    // Taken again once it changes (or in a minute): touched here.
    #expect(utimes(waiting, nil) == 0)
    let verdicts = directory.path + "/spool/done/full.csv.verdicts"
    #expect(eventually(within: 90) { Self.read(verdicts) != nil })
    #expect(Self.read(verdicts)?.split(separator: "\n") == Self.exampleVerdicts, "\(Self.read(verdicts) ?? "")")
    #expect(eventually { problem() == nil })
    expectCleanStop(daemon)
  }

  /// A symbolic link another user made in the spool is not followed (vigild would read its
  /// target with its own rights, and the reason of a file that is no table quotes its
  /// first line): it goes to failed/ unread, and the log says so.
  @Test func aLinkAnotherUserMadeIsNotFollowed() throws {
    guard getuid() == 0 else {
      Issue.record("this test needs root to act as another user")
      return
    }
    let directory = try TemporaryDirectory()
    chmod(directory.path, 0o755)
    let daemon = try Self.daemon(in: directory)
    let secret = directory.path + "/webhook.secret"
    try "secret-words-4f9a2c\n".write(toFile: secret, atomically: true, encoding: .utf8)
    chmod(secret, 0o600)
    let folder = directory.path + "/spool/hxl-incidents"
    // The other user drops files by its group (a folder any user may write is not read).
    #expect(chown(folder, 0, 65534) == 0 && chmod(folder, 0o775) == 0)
    let link = try ChildProcess.run(
      "/usr/bin/setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", "/bin/ln", "-s", secret, folder + "/leak.csv"],
      in: "/")
    #expect(link.status == 0, "\(link.standardError)")
    let reason = directory.path + "/spool/failed/leak.csv.reason"
    #expect(eventually(within: 60) { Self.read(reason) != nil })
    #expect(Self.read(reason)?.hasPrefix("it is a symbolic link another user made") == true, "\(Self.read(reason) ?? "")")
    #expect(Self.read(reason)?.contains("secret-words") == false)
    #expect(eventually { daemon.log().contains("leak.csv could not be imported, and is in") })

    // done/ made a link by another user: nothing is moved through it.
    let elsewhere = directory.path + "/elsewhere"
    try FileManager.default.createDirectory(atPath: elsewhere, withIntermediateDirectories: false)
    chmod(elsewhere, 0o777)
    #expect(chown(directory.path + "/spool", 0, 65534) == 0 && chmod(directory.path + "/spool", 0o775) == 0)
    let done = try ChildProcess.run(
      "/usr/bin/setpriv",
      ["--reuid=65534", "--regid=65534", "--clear-groups", "/bin/ln", "-s", elsewhere, directory.path + "/spool/done"], in: "/")
    chmod(directory.path + "/spool", 0o755)
    #expect(done.status == 0, "\(done.standardError)")
    try Self.drop(try String(contentsOfFile: Self.example, encoding: .utf8), as: "through.csv", in: directory)
    func problem() -> String? {
      ((try? daemon.exchange(#"{"op":"status"}"#)["sources"] as? [[String: Any]])?.first?["problem"]) as? String
    }
    #expect(eventually(within: 60) { problem()?.contains("done is a symbolic link another user made") == true }, "\(problem() ?? "")")
    #expect(try FileManager.default.contentsOfDirectory(atPath: elsewhere).isEmpty)
    #expect(FileManager.default.fileExists(atPath: directory.path + "/spool/hxl-incidents/through.csv"))
    expectCleanStop(daemon)
  }

  /// A mapping folder any user may write is not read, nor is the spool folder when it is
  /// made so while vigild runs (audit 49: any local user could submit reports through it;
  /// only the spool folder was checked, and only at start). Put right, they are read.
  @Test func aFolderAnyUserMayWriteIsNotReadWhileItIs() throws {
    let directory = try TemporaryDirectory()
    let daemon = try Self.daemon(in: directory)
    let folder = directory.path + "/spool/hxl-incidents"
    func problem() -> String? {
      ((try? daemon.exchange(#"{"op":"status"}"#)["sources"] as? [[String: Any]])?.first?["problem"]) as? String
    }
    let example = try String(contentsOfFile: Self.example, encoding: .utf8)
    for (path, words) in [(folder, "spool/hxl-incidents is not read: any user may write it (mode 777)"), (directory.path + "/spool", "any user may write the spool folder")] {
      #expect(chmod(path, 0o777) == 0)
      try Self.drop(example, as: "open.csv", in: directory)
      #expect(eventually(within: 60) { problem()?.contains(words) == true }, "\(problem() ?? "")")
      #expect(FileManager.default.fileExists(atPath: folder + "/open.csv"), "read while any user could write it")
      #expect(chmod(path, 0o755) == 0)
      #expect(eventually(within: 60) { !FileManager.default.fileExists(atPath: folder + "/open.csv") })
    }
    let done = try FileManager.default.contentsOfDirectory(atPath: directory.path + "/spool/done")
    #expect(done.contains("open.csv") && done.contains("open.csv.verdicts"), "\(done)")
    expectCleanStop(daemon)
  }

  /// A text file whose last line has no end is most likely still being written (a copy
  /// that paused): it waits, while a complete file dropped beside it is taken; once its
  /// line ends, it is taken whole.
  @Test func aFileEndingMidLineWaitsForItsEnd() throws {
    let directory = try TemporaryDirectory()
    let daemon = try Self.daemon(in: directory)
    let text = try String(contentsOfFile: Self.example, encoding: .utf8)
    let cut = text.range(of: "Strike on a resid")!.upperBound
    try Self.drop(String(text[..<cut]), as: "slow.csv", in: directory)
    try Self.drop(text, as: "whole.csv", in: directory)
    #expect(eventually(within: 60) { Self.read(directory.path + "/spool/done/whole.csv.verdicts") != nil })
    // Looks after that one (settle_s 0.2): the cut file is still there.
    Thread.sleep(forTimeInterval: 2)
    let slow = directory.path + "/spool/hxl-incidents/slow.csv"
    #expect(FileManager.default.fileExists(atPath: slow))
    let handle = try #require(FileHandle(forWritingAtPath: slow))
    try handle.seekToEnd()
    try handle.write(contentsOf: Data(text[cut...].utf8))
    try handle.close()
    let verdicts = directory.path + "/spool/done/slow.csv.verdicts"
    #expect(eventually(within: 60) { Self.read(verdicts) != nil })
    // The same report ids as whole.csv: every row a duplicate of its, none cut.
    #expect(Self.read(verdicts)?.split(separator: "\n").count == 4, "\(Self.read(verdicts) ?? "")")
    #expect(Self.read(verdicts)?.contains("refused") == false, "\(Self.read(verdicts) ?? "")")
    expectCleanStop(daemon)
  }

  /// What the spool's folders must be is checked at start, each problem naming its setting:
  /// a folder that is not there, one any user may write, mappings inside the spool, and a
  /// spool folder that holds the daemon's own files (it would move them away).
  @Test func theSpoolsFoldersAreCheckedAtStart() throws {
    let directory = try TemporaryDirectory()
    let mappings = ImportAWSDTests.root.path + "/Config/mappings"
    try FileManager.default.createDirectory(atPath: directory.path + "/Rules", withIntermediateDirectories: false)
    try FileManager.default.createDirectory(atPath: directory.path + "/open/maps", withIntermediateDirectories: true)
    chmod(directory.path + "/open", 0o777)
    for (settings, said) in [
      ("folder: nowhere\n    mappings: \(mappings)", "plugins.spool: folder nowhere cannot be read: no such folder"),
      ("folder: open\n    mappings: \(mappings)", "plugins.spool: folder open: any user may write it (mode 777)"),
      ("folder: .\n    mappings: \(mappings)", "plugins.spool: folder . holds the state directory var/lib/vigil (state_dir)"),
      ("folder: var\n    mappings: \(mappings)", "plugins.spool: folder var holds the alert log var/log/vigil/alerts.jsonl (alerts.path)"),
    ] {
      try "plugins:\n  spool:\n    \(settings)\n".write(toFile: directory.path + "/v.yaml", atomically: true, encoding: .utf8)
      try FileManager.default.createDirectory(atPath: directory.path + "/var", withIntermediateDirectories: true)
      let run = try Vigild.run(["--config", "v.yaml"], in: directory.path)
      #expect(run.status != 0, "\(settings)")
      #expect(run.standardError.contains(said), "\(settings): \(run.standardError)")
    }
    chmod(directory.path + "/open", 0o755)
    try "plugins:\n  spool:\n    folder: open\n    mappings: open/maps\n".write(
      toFile: directory.path + "/v.yaml", atomically: true, encoding: .utf8)
    let inside = try Vigild.run(["--config", "v.yaml"], in: directory.path)
    #expect(inside.standardError.contains("plugins.spool: mappings open/maps is inside the spool folder open"), "\(inside.standardError)")
  }

  /// The first line of a progress file: the file it belongs to, as it is now.
  static func identity(of path: String) -> String {
    var status = stat()
    #expect(stat(path, &status) == 0)
    return "# source inode \(status.st_ino) size \(status.st_size) modified \(status.st_mtim.tv_sec).\(status.st_mtim.tv_nsec)"
  }

  /// A pass cut short (its progress written, the file still in the folder) is taken again:
  /// the rows it recorded come back as duplicates, and the verdicts still say accepted.
  /// The progress names its file on its first line; one from before that line (none) is
  /// taken as the file's too.
  @Test(arguments: [true, false]) func aPassARestartCutShortIsResumedWithoutLosingItsVerdicts(named: Bool) throws {
    let directory = try TemporaryDirectory()
    let text = try String(contentsOfFile: Self.example, encoding: .utf8)
    // The first pass: the daemon recorded the rows, wrote the verdicts of rows 3 and 4,
    // then died.
    let first = try Self.daemon(in: directory)
    try text.write(toFile: directory.path + "/resumed.csv", atomically: true, encoding: .utf8)
    let submitted = try ChildProcess.run(
      "vigil",
      ["import", "--socket", first.socketPath, "--map", ImportAWSDTests.root.path + "/Config/mappings/hxl-incidents.yaml", "resumed.csv"],
      in: directory.path)
    #expect(submitted.status == 0)
    first.stop(signal: SIGKILL)
    try FileManager.default.createDirectory(atPath: directory.path + "/spool/.progress", withIntermediateDirectories: true)
    let dropped = directory.path + "/spool/hxl-incidents/resumed.csv"
    try text.write(toFile: dropped, atomically: true, encoding: .utf8)
    try ((named ? Self.identity(of: dropped) + "\n" : "") + "3 HXL-HX-1 accepted, 1 alert\n4 HXL-HX-2 accepted, 1 alert\n").write(
      toFile: directory.path + "/spool/.progress/hxl-incidents.resumed.csv.verdicts", atomically: true, encoding: .utf8)

    let second = try Self.daemon(in: directory)
    let verdictsPath = directory.path + "/spool/done/resumed.csv.verdicts"
    #expect(eventually(within: 60) { Self.read(verdictsPath) != nil })
    #expect(
      Self.read(verdictsPath)?.split(separator: "\n") == [
        "3 HXL-HX-1 accepted, 1 alert", "4 HXL-HX-2 accepted, 1 alert", "5 HXL-HX-3 duplicate", "6 HXL-HX-4 duplicate",
      ])
    #expect(!FileManager.default.fileExists(atPath: directory.path + "/spool/.progress/hxl-incidents.resumed.csv.verdicts"))
    // Nothing recorded twice: four reports in the journal.
    let journal = Self.read(directory.path + "/var/lib/vigil/reports.jsonl") ?? ""
    #expect(journal.split(separator: "\n").count == 4)
    expectCleanStop(second)
  }

  /// A file renamed in over one being read (a new export under the same name): the pass
  /// ends with the verdicts of the file it read, alone in done/, and the new file is taken
  /// in its own pass, not moved away unread under the first one's verdicts.
  /// Drops `export.csv`, 20,000 rows: long enough that its pass is still going when the
  /// test acts (one row at a time, each waiting for its commit); returns once it has begun.
  static func dropLongExportAndWaitForItsPass(in directory: TemporaryDirectory) throws {
    let lines = try String(contentsOfFile: Self.example, encoding: .utf8).split(separator: "\n")
    let rows = (1...20_000).map { "BIG-\($0)," + lines[2].drop { $0 != "," }.dropFirst() }
    try Self.drop(lines[0...1].joined(separator: "\n") + "\n" + rows.joined(separator: "\n") + "\n", as: "export.csv", in: directory)
    let progress = directory.path + "/spool/.progress/hxl-incidents.export.csv.verdicts"
    #expect(eventually(within: 60) { (Self.read(progress)?.split(separator: "\n").count ?? 0) > 2 })
  }

  @Test func aFileReplacedDuringItsPassIsImportedInItsOwn() throws {
    let directory = try TemporaryDirectory()
    let daemon = try Self.daemon(in: directory)
    try Self.dropLongExportAndWaitForItsPass(in: directory)
    try Self.drop(try String(contentsOfFile: Self.example, encoding: .utf8), as: "export.csv", in: directory)
    #expect(eventually(within: 300) { Self.read(directory.path + "/spool/done/export.csv.verdicts") != nil })
    let first = Self.read(directory.path + "/spool/done/export.csv.replaced.verdicts")?.split(separator: "\n") ?? []
    #expect(first.first?.hasPrefix("# export.csv was replaced while it was read") == true, "\(first.prefix(2))")
    #expect(first.count == 20_001 && first.last == "20002 HXL-BIG-20000 accepted, 1 alert", "\(first.suffix(2))")
    #expect(!FileManager.default.fileExists(atPath: directory.path + "/spool/done/export.csv.replaced"), "the file read is gone")
    #expect(Self.read(directory.path + "/spool/done/export.csv.verdicts")?.split(separator: "\n") == Self.exampleVerdicts)
    #expect(Self.read(directory.path + "/spool/done/export.csv") == (try String(contentsOfFile: Self.example, encoding: .utf8)))
    expectCleanStop(daemon)
  }

  /// A file removed during its pass: its verdicts go to done/ alone, saying so.
  @Test func aFileRemovedDuringItsPassLeavesItsVerdicts() throws {
    let directory = try TemporaryDirectory()
    let daemon = try Self.daemon(in: directory)
    try Self.dropLongExportAndWaitForItsPass(in: directory)
    try FileManager.default.removeItem(atPath: directory.path + "/spool/hxl-incidents/export.csv")
    let verdicts = directory.path + "/spool/done/export.csv.removed.verdicts"
    #expect(eventually(within: 300) { Self.read(verdicts) != nil })
    let lines = Self.read(verdicts)?.split(separator: "\n") ?? []
    #expect(lines.first == "# export.csv was removed while it was read: these are the verdicts of the file read (no longer in the spool)")
    #expect(lines.count == 20_001, "every row of the file read: \(lines.suffix(1))")
    #expect(!FileManager.default.fileExists(atPath: directory.path + "/spool/done/export.csv"))
    expectCleanStop(daemon)
  }

  /// A file written in place during its pass (here cut short): failed, with the rows read.
  /// A mapping that does not load: the file goes to failed/, and the log says why, each
  /// of the mapping's errors on a line of its own (it had the first line alone, which
  /// named no error).
  @Test func aMappingThatDoesNotLoadIsSaidInTheLogWithItsErrors() throws {
    let directory = try TemporaryDirectory()
    try FileManager.default.createDirectory(atPath: directory.path + "/spool/bad", withIntermediateDirectories: true)
    try FileManager.default.createDirectory(atPath: directory.path + "/maps", withIntermediateDirectories: true)
    try "mapping: bad\nformat: ndjson\nid: {column: id}\nfields:\n  occurred_at: {column: occurred_at}\n  type: {value: bogus}\n"
      .write(toFile: directory.path + "/maps/bad.yaml", atomically: true, encoding: .utf8)
    try "plugins:\n  spool:\n    folder: spool\n    mappings: maps\n    settle_s: 0.2\n".write(
      toFile: directory.path + "/v.yaml", atomically: true, encoding: .utf8)
    let daemon = try RunningDaemon(rules: DaemonEndToEndTests.rules, arguments: ["--config", "v.yaml"], directory: directory)
    try Self.drop(#"{"id":"B-1","occurred_at":"2016-03-04","type":"attack"}"# + "\n", as: "b.ndjson", in: directory, mapping: "bad")
    #expect(eventually(within: 60) { daemon.log().contains("b.ndjson could not be imported") }, "\(daemon.log())")
    #expect(eventually { daemon.log().contains("b.ndjson: ") && daemon.log().contains("bad.yaml:6:") }, "\(daemon.log())")
    expectCleanStop(daemon)
  }

  @Test func aFileChangedInPlaceDuringItsPassIsFailed() throws {
    let directory = try TemporaryDirectory()
    let daemon = try Self.daemon(in: directory)
    try Self.dropLongExportAndWaitForItsPass(in: directory)
    #expect(truncate(directory.path + "/spool/hxl-incidents/export.csv", 100_000) == 0)
    let reason = directory.path + "/spool/failed/export.csv.reason"
    #expect(eventually(within: 300) { Self.read(reason) != nil })
    let text = Self.read(reason) ?? ""
    #expect(text.hasPrefix("the file changed while it was read (written in place, or cut short)"), "\(text.prefix(300))")
    #expect(text.contains("\n3 HXL-BIG-1 accepted, 1 alert\n"), "\(text.prefix(300))")
    #expect(FileManager.default.fileExists(atPath: directory.path + "/spool/failed/export.csv"))
    expectCleanStop(daemon)
  }

  /// A crash after the file moved to done/ or failed/ and before its verdicts or reason
  /// were put beside it: the hidden text it left is put in place at the next start, and
  /// one whose file never moved is left alone (the file is taken again).
  @Test func verdictsACrashLeftHiddenArePutBesideTheirFile() throws {
    let directory = try TemporaryDirectory()
    for folder in ["done", "failed"] {
      try FileManager.default.createDirectory(atPath: directory.path + "/spool/" + folder, withIntermediateDirectories: true)
    }
    try "a,b\n".write(toFile: directory.path + "/spool/done/moved.csv", atomically: true, encoding: .utf8)
    try "3 HXL-HX-1 accepted, 1 alert\n".write(
      toFile: directory.path + "/spool/done/.moved.csv.verdicts.pending", atomically: true, encoding: .utf8)
    try "x\n".write(toFile: directory.path + "/spool/failed/broken.xlsx", atomically: true, encoding: .utf8)
    try "not a zip\n".write(
      toFile: directory.path + "/spool/failed/.broken.xlsx.reason.pending", atomically: true, encoding: .utf8)
    try "6 HXL-HX-4 accepted, 1 alert\n".write(
      toFile: directory.path + "/spool/done/.notmoved.csv.verdicts.pending", atomically: true, encoding: .utf8)
    // The verdicts of a file replaced during its pass have no file beside them.
    let replaced = "# week.csv was replaced while it was read\n4 HXL-HX-2 accepted, 1 alert\n"
    try replaced.write(
      toFile: directory.path + "/spool/done/.week.csv.replaced.2.verdicts.pending", atomically: true, encoding: .utf8)

    let daemon = try Self.daemon(in: directory)
    #expect(eventually(within: 60) { Self.read(directory.path + "/spool/done/moved.csv.verdicts") != nil })
    #expect(Self.read(directory.path + "/spool/done/moved.csv.verdicts") == "3 HXL-HX-1 accepted, 1 alert\n")
    #expect(eventually(within: 60) { Self.read(directory.path + "/spool/failed/broken.xlsx.reason") == "not a zip\n" })
    #expect(!FileManager.default.fileExists(atPath: directory.path + "/spool/done/.moved.csv.verdicts.pending"))
    #expect(FileManager.default.fileExists(atPath: directory.path + "/spool/done/.notmoved.csv.verdicts.pending"))
    #expect(!FileManager.default.fileExists(atPath: directory.path + "/spool/done/notmoved.csv.verdicts"))
    #expect(Self.read(directory.path + "/spool/done/week.csv.replaced.2.verdicts") == replaced)
    expectCleanStop(daemon)
  }

  /// A verdicts file left in done/ without its file (someone removed the data) is replaced
  /// by the verdicts of the next file of that name, not left standing beside it.
  @Test func aLoneOldVerdictsFileIsReplacedByTheNewOne() throws {
    let directory = try TemporaryDirectory()
    try FileManager.default.createDirectory(atPath: directory.path + "/spool/done", withIntermediateDirectories: true)
    try "3 OLD-1 accepted, 9 alerts\n".write(
      toFile: directory.path + "/spool/done/again.csv.verdicts", atomically: true, encoding: .utf8)
    let daemon = try Self.daemon(in: directory)
    try Self.drop(try String(contentsOfFile: Self.example, encoding: .utf8), as: "again.csv", in: directory)
    let verdictsPath = directory.path + "/spool/done/again.csv.verdicts"
    #expect(eventually(within: 60) { Self.read(verdictsPath)?.contains("HXL-HX-1") == true })
    #expect(Self.read(verdictsPath)?.split(separator: "\n").count == 4)
    #expect(!FileManager.default.fileExists(atPath: directory.path + "/spool/done/.again.csv.verdicts.pending"))
    expectCleanStop(daemon)
  }

  /// A progress a crash left after its file had moved on is not the progress of a later
  /// file of the same name (its first line names another file): the new file's verdicts
  /// are its own rows only. A progress whose file is no longer in the spool goes.
  @Test func aProgressNotOfItsFileIsNeitherTakenNorKept() throws {
    let directory = try TemporaryDirectory()
    let progress = directory.path + "/spool/.progress/"
    try FileManager.default.createDirectory(atPath: progress, withIntermediateDirectories: true)
    let stale = "# source inode 1 size 9 modified 1.0\n3 OLD-1 accepted, 9 alerts\n9 OLD-9 accepted, 2 alerts\n"
    try stale.write(toFile: progress + "hxl-incidents.week2.csv.verdicts", atomically: true, encoding: .utf8)
    try stale.write(toFile: progress + "hxl-incidents.gone.csv.verdicts", atomically: true, encoding: .utf8)
    try stale.write(toFile: progress + "nomapping.week3.csv.verdicts", atomically: true, encoding: .utf8)
    // In the folder before the daemon starts, so it is there at the first look.
    for mapping in ["hxl-incidents", "nomapping"] {
      try FileManager.default.createDirectory(atPath: directory.path + "/spool/" + mapping, withIntermediateDirectories: true)
    }
    try Self.drop(try String(contentsOfFile: Self.example, encoding: .utf8), as: "week2.csv", in: directory)
    // Failed at once (no mapping of that name): its reason has no rows before it.
    try Self.drop(try String(contentsOfFile: Self.example, encoding: .utf8), as: "week3.csv", in: directory, mapping: "nomapping")

    let daemon = try Self.daemon(in: directory)
    let verdictsPath = directory.path + "/spool/done/week2.csv.verdicts"
    #expect(eventually(within: 60) { Self.read(verdictsPath) != nil })
    #expect(Self.read(verdictsPath)?.split(separator: "\n") == Self.exampleVerdicts)
    let reasonPath = directory.path + "/spool/failed/week3.csv.reason"
    #expect(eventually(within: 60) { Self.read(reasonPath) != nil })
    #expect(Self.read(reasonPath)?.contains("the mapping nomapping") == true, "\(Self.read(reasonPath) ?? "")")
    #expect(Self.read(reasonPath)?.contains("OLD") == false, "\(Self.read(reasonPath) ?? "")")
    #expect(eventually(within: 60) { !FileManager.default.fileExists(atPath: progress + "hxl-incidents.gone.csv.verdicts") })
    #expect(!FileManager.default.fileExists(atPath: progress + "hxl-incidents.week2.csv.verdicts"))
    expectCleanStop(daemon)
  }
}
