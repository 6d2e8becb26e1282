import Foundation
import Testing
import VigilCore
import VigilServer
import VigilTestSupport

private func record(_ rule: String, message: String = "m") -> AlertRecord {
  AlertRecord(
    time: "2016-03-04T04:40:00.000Z", rule: rule, priority: .critical, reportID: "SY-1",
    occurredAt: "2016-03-04T06:40:00+02:00", message: message, basis: ["ISSG ¶7", "UNSCR 2139 OP3"],
    tags: ["indiscriminate_weapons"], ruleset: "sha256:" + String(repeating: "a", count: 64))
}

/// A new directory whose alert log holds a synced record for each rule (the log closed
/// again), with the paths a test reopens it by.
private struct LoggedFiles {
  let directory: TemporaryDirectory
  let lastHash: String
  var path: String { directory.path + "/alerts.jsonl" }
  var head: String { directory.path + "/alerts.head" }

  init(_ rules: [String]) throws {
    directory = try TemporaryDirectory()
    let log = try AlertLog(path: directory.path + "/alerts.jsonl", headPath: directory.path + "/alerts.head")
    try log.append(rules.map { record($0) })
    try log.sync()
    lastHash = log.lastHash
  }
}

/// The line of the one record `rule` appended to `log`.
private func appendedLine(_ log: AlertLog, _ rule: String) throws -> String {
  String(decoding: try log.append([record(rule)])[0].line, as: UTF8.self)
}

@Suite("The alert log: its lines, its chain, and recovery after a crash")
struct AlertLogTests {
  @Test func linesFollowTheSpecAndTheChainVerifiesIndependently() throws {
    let directory = try TemporaryDirectory()
    let log = try AlertLog(path: directory.path + "/alerts.jsonl", headPath: directory.path + "/alerts.head")
    let written = try log.append([
      record("weapons.barrel_bomb", message: "سقوط \"برميل\"\n"), record("weapons.chemical"),
    ])
    try log.append([record("vigil.ruleset_loaded")])
    try log.sync()
    #expect(written.map(\.seq) == [1, 2])
    let first = String(decoding: written[0].line, as: UTF8.self)
    #expect(
      first.hasPrefix(
        #"{"seq":1,"time":"2016-03-04T04:40:00.000Z","rule":"weapons.barrel_bomb","priority":"critical","report_id":"SY-1","occurred_at":"2016-03-04T06:40:00+02:00","message":"سقوط \"برميل\"\n","basis":["ISSG ¶7","UNSCR 2139 OP3"],"tags":["indiscriminate_weapons"],"ruleset":"sha256:"#
      ))
    #expect(first.contains(#","prev":"0000000000000000000000000000000000000000000000000000000000000000","hash":""#))
    #expect(first.hasSuffix("\"}\n"))
    #expect(try verifyChain(log.path) == "ok 3")
  }

  @Test func ruleSetRecordsHaveNullReportAndOccurredAt() throws {
    let record = AlertRecord(
      time: "2016-03-04T04:40:00.000Z", rule: "vigil.ruleset_loaded", priority: .info, reportID: nil, occurredAt: nil,
      message: "21 rules", basis: [], tags: ["vigil"], ruleset: "sha256:x")
    let line = record.line(seq: 7, prev: AlertChain.genesis).line
    #expect(line.contains(#""report_id":null,"occurred_at":null,"message":"21 rules","basis":[],"tags":["vigil"]"#))
  }

  @Test func seqAndChainContinueAfterARestart() throws {
    let files = try LoggedFiles(["a.b", "a.c"])
    let path = files.path
    let reopened = try AlertLog(path: path, headPath: files.head)
    #expect(reopened.lastSeq == 2)
    try reopened.append([record("a.d")])
    try reopened.sync()
    #expect(try verifyChain(path) == "ok 3")
  }

  @Test func aTornLastLineIsCutAndTheChainGoesOn() throws {
    let files = try LoggedFiles(["a.b", "a.c"])
    let path = files.path
    // A crash in the middle of the third line.
    let handle = try #require(FileHandle(forWritingAtPath: path))
    handle.seekToEndOfFile()
    handle.write(Data(#"{"seq":3,"time":"2016-03-04T04:4"#.utf8))
    try handle.close()
    let reopened = try AlertLog(path: path, headPath: files.head)
    #expect(reopened.cutBytes == 32)
    #expect(reopened.lastSeq == 2)
    try reopened.append([record("a.d")])
    try reopened.sync()
    #expect(try verifyChain(path) == "ok 3")
  }

  /// A last line without its newline is torn (ALERTS.md), whatever it holds: cut, even a
  /// whole record that lost only its newline, and its bytes kept in `alerts.jsonl.torn` —
  /// unless it is the very record alerts.head names (its seq, its hash, a hash its content
  /// gives): committed whole, the head being written after its sync, no crash tore it, and
  /// its newline is put back (audit 51).
  @Test func aTornLineIsCutAndItsBytesAreKeptAside() throws {
    let files = try LoggedFiles(["a.b", "a.c"])
    let (path, head) = (files.path, files.head)
    let bytes = try #require(FileManager.default.contents(atPath: path))
    try Data(bytes.dropLast()).write(to: URL(fileURLWithPath: path))
    let lastLine = try #require(String(decoding: bytes.dropLast(), as: UTF8.self).split(separator: "\n").last)
    do {
      let restored = try AlertLog(path: path, headPath: head)
      #expect(restored.cutBytes == 0 && restored.restoredNewline != nil)
      #expect(restored.lastSeq == 2 && restored.endBehindHead == nil)
      #expect(FileManager.default.contents(atPath: path) == bytes)
      #expect(!FileManager.default.fileExists(atPath: restored.tornPath))
    }
    // Its content altered (its hash no longer its content's), or no head naming it: cut.
    for alter in [true, false] {
      var changed = Array(bytes.dropLast())
      if alter, let index = changed.lastIndex(of: UInt8(ascii: "a")) { changed[index] = UInt8(ascii: "e") }
      try Data(changed).write(to: URL(fileURLWithPath: path))
      if !alter { unlink(head) }
      do {
        let cut = try AlertLog(path: path, headPath: head)
        #expect(cut.cutBytes == lastLine.utf8.count && cut.restoredNewline == nil, "altered: \(alter)")
        #expect(try String(contentsOfFile: cut.tornPath, encoding: .utf8).hasSuffix("\n"))
        if alter {
          // The head says seq 2 was written: the chain goes on from it, and the gap is said.
          #expect(cut.lastSeq == 2)
          #expect(cut.endBehindHead != nil)
        }
      }
    }
  }

  /// Lines after the last record that are none (a note added by hand) do not make the
  /// log start again at seq 1, with or without alerts.head: seq and the chain go on from
  /// the last record, and the start says so.
  @Test(arguments: [true, false])
  func aLineAfterTheLastRecordIsNoNewStart(withHead: Bool) throws {
    let files = try LoggedFiles(["a.b", "a.c"])
    let (path, head) = (files.path, files.head)
    if !withHead { try FileManager.default.removeItem(atPath: head) }
    let handle = try #require(FileHandle(forWritingAtPath: path))
    handle.seekToEndOfFile()
    handle.write(Data("# checked by J. on 2026-12-06\n\n{\"seq\":\n".utf8))
    try handle.close()
    let reopened = try AlertLog(path: path, headPath: head)
    #expect(reopened.lastSeq == 2)
    #expect(reopened.linesAfterLastRecord == 2)
    #expect(reopened.endBehindHead == nil)
    #expect(reopened.linesAfterLastRecordNote?.contains("ends with 2 lines that are no alert record") == true)
    let line = try appendedLine(reopened, "a.d")
    #expect(line.hasPrefix(#"{"seq":3,"#))
  }

  /// A last record altered past reading (`#` before it), without alerts.head: its seq is
  /// still not given again.
  @Test func anAlteredLastRecordsSeqIsNotGivenAgain() throws {
    let files = try LoggedFiles(["a.b", "a.c", "a.d"])
    let (path, head) = (files.path, files.head)
    try FileManager.default.removeItem(atPath: head)
    var lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
    lines[2] = "#" + lines[2]
    try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
    let reopened = try AlertLog(path: path, headPath: head)
    #expect(reopened.lastSeq == 3)
    let line = try appendedLine(reopened, "a.e")
    #expect(line.hasPrefix(#"{"seq":4,"#))
  }

  @Test func aNewFileContinuesFromTheHead() throws {
    let files = try LoggedFiles(["a.b", "a.c"])
    let (path, head) = (files.path, files.head)
    let lastHash = try #require(try AlertLog(path: path, headPath: head).lastHash as String?)
    // Rotated away: the next file starts empty and carries the chain on.
    try FileManager.default.moveItem(atPath: path, toPath: path + ".1")
    let rotated = try AlertLog(path: path, headPath: head)
    #expect(rotated.lastSeq == 2)
    #expect(rotated.lastHash == lastHash)
    let line = try appendedLine(rotated, "a.d")
    #expect(line.hasPrefix(#"{"seq":3,"#))
    #expect(line.contains(#""prev":"\#(lastHash)""#))
  }

  /// Just rotated, with a head behind the rotated file's end (it could not be written) or
  /// no head at all: the chain goes on from the rotated file's last record, so no `seq` is
  /// given twice and the chain does not fork.
  @Test(arguments: [true, false]) func aHeadBehindTheRotatedFileOrMissingGivesWayToIt(headRemoved: Bool) throws {
    let files = try LoggedFiles(["a.b", "a.c"])
    let (path, head) = (files.path, files.head)
    let stale = try Data(contentsOf: URL(fileURLWithPath: head))
    let lastHash: String
    do {
      let log = try AlertLog(path: path, headPath: head)
      try log.append([record("a.d"), record("a.e")])
      try log.sync()
      lastHash = log.lastHash
    }
    if headRemoved { try FileManager.default.removeItem(atPath: head) } else { try stale.write(to: URL(fileURLWithPath: head)) }
    try FileManager.default.moveItem(atPath: path, toPath: path + ".1")
    let rotated = try AlertLog(path: path, headPath: head)
    #expect(rotated.lastSeq == 4 && rotated.lastHash == lastHash)
    #expect(rotated.endBehindHead == nil)
    let line = try appendedLine(rotated, "a.f")
    #expect(line.hasPrefix(#"{"seq":5,"#) && line.contains(#""prev":"\#(lastHash)""#), "\(line)")
  }

  @Test func anEndCutOrRewrittenBehindTheHeadLeavesTheChainToGoOnFromTheHead() throws {
    let directory = try TemporaryDirectory()
    let path = directory.path + "/alerts.jsonl"
    let head = directory.path + "/alerts.head"
    let whole: [String]
    let lastHash: String
    do {
      let log = try AlertLog(path: path, headPath: head)
      try log.append([record("a.b"), record("a.c"), record("a.d")])
      try log.sync()
      lastHash = log.lastHash
      whole = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
    }
    // The last two records deleted while the daemon was stopped: seq 4 would otherwise be
    // given a second time, and the chain would hide the cut.
    try (whole[0] + "\n").write(toFile: path, atomically: false, encoding: .utf8)
    do {
      let cut = try AlertLog(path: path, headPath: head)
      #expect(cut.endBehindHead?.loggedSeq == 1 && cut.endBehindHead?.headSeq == 3)
      #expect(cut.lastSeq == 3 && cut.lastHash == lastHash)
      let next = try appendedLine(cut, "a.e")
      try cut.sync()
      #expect(next.hasPrefix(#"{"seq":4,"#) && next.contains(#""prev":"\#(lastHash)""#))
      #expect(try verifyChain(path) == "bad 2", "seq 4 follows seq 1: the gap shows")
    }
    // The last record rewritten with its hash recomputed: the head keeps the old hash.
    let original: String
    do {
      let log = try AlertLog(path: path, headPath: head)
      #expect(log.endBehindHead == nil, "the head is the log's last record again")
      original = log.lastHash
    }
    let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
    let rewritten = lines[0] + "\n" + AlertRecord(
      time: "2016-03-04T04:40:00.000Z", rule: "a.forged", priority: .low, reportID: "SY-1", occurredAt: nil,
      message: "m", basis: [], tags: [], ruleset: "sha256:x"
    ).line(seq: 4, prev: lastHash).line
    try rewritten.write(toFile: path, atomically: false, encoding: .utf8)
    let reopened = try AlertLog(path: path, headPath: head)
    #expect(reopened.endBehindHead?.loggedSeq == 4 && reopened.endBehindHead?.headSeq == 4)
    #expect(reopened.lastSeq == 4 && reopened.lastHash == original)
    #expect(reopened.endBehindHead?.description.contains("rewritten") == true)
  }

  /// `count` records, each made durable, with a rotation offered after each.
  static func appendAndRotate(_ log: AlertLog, count: Int, ifAtLeast limit: Int, keep: Int) throws {
    for index in 0..<count {
      try log.append([record("a.r\(index)")])
      try log.sync()
      try log.rotate(ifAtLeast: limit, keep: keep)
    }
  }

  /// A rotation whose log cannot leave its path touches no kept file: they were once
  /// removed and shifted before the rename that failed, one more at every commit. Once it
  /// can, it rotates, and the chain holds across the files.
  @Test func aRotationThatCannotMoveTheLogRemovesNothing() throws {
    let directory = try TemporaryDirectory()
    let path = directory.path + "/alerts.jsonl"
    let log = try AlertLog(path: path, headPath: directory.path + "/alerts.head")
    try Self.appendAndRotate(log, count: 6, ifAtLeast: 1000, keep: 3)
    // In the way of the log's second name: a folder with a file in it under that name.
    let aside = directory.path + "/.alerts.jsonl.rotating"
    try FileManager.default.createDirectory(atPath: aside, withIntermediateDirectories: true)
    try "x".write(toFile: aside + "/in-the-way", atomically: true, encoding: .utf8)
    let before = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
    #expect(before.contains("alerts.jsonl.2"), "\(before)")
    for _ in 0..<4 {
      try log.append([record("a.stuck")])
      try log.sync()
      #expect(throws: AlertLog.Failure.self) { try log.rotate(ifAtLeast: 1, keep: 3) }
    }
    #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted() == before)
    try FileManager.default.removeItem(atPath: aside)
    try Self.appendAndRotate(log, count: 1, ifAtLeast: 1000, keep: 3)
    let kept = [path + ".2", path + ".1", path].filter { FileManager.default.fileExists(atPath: $0) }
    try Self.expectChained(try Self.lines(of: kept))
  }

  /// A crash in the middle of a rotation may leave the log under its second name alone:
  /// the next start puts it back, and the chain goes on from its end.
  @Test func aLogLeftAsideByACrashIsPutBack() throws {
    let files = try LoggedFiles(["a.b", "a.c"])
    let (directory, path, head, lastHash) = (files.directory, files.path, files.head, files.lastHash)
    #expect(rename(path, directory.path + "/.alerts.jsonl.rotating") == 0)
    let reopened = try AlertLog(path: path, headPath: head)
    #expect(reopened.lastSeq == 2 && reopened.lastHash == lastHash)
    #expect(!FileManager.default.fileExists(atPath: directory.path + "/.alerts.jsonl.rotating"))
    #expect(try verifyChain(path) == "ok 2")
  }

  @Test func builtInRotationShiftsFilesAndTheChainGoesOn() throws {
    let directory = try TemporaryDirectory()
    let path = directory.path + "/alerts.jsonl"
    let log = try AlertLog(path: path, headPath: directory.path + "/alerts.head")
    try Self.appendAndRotate(log, count: 9, ifAtLeast: 1000, keep: 2)
    let kept = [path + ".2", path + ".1", path].filter { FileManager.default.fileExists(atPath: $0) }
    #expect(kept.count == 3)
    #expect(!FileManager.default.fileExists(atPath: path + ".3"))
    // The files kept still chain to each other (the oldest starts after records rotated away).
    let lines = try Self.lines(of: kept)
    #expect(lines.last?.hasPrefix(#"{"seq":9,"#) == true)
    try Self.expectChained(lines)
  }

  /// The lines of the files, in the order given.
  static func lines(of files: [String]) throws -> [Substring] {
    try files.flatMap { try String(contentsOfFile: $0, encoding: .utf8).split(separator: "\n") }
  }

  /// Each line's `prev` is the `hash` of the line before it.
  static func expectChained(_ lines: [Substring]) throws {
    for (earlier, later) in zip(lines, lines.dropFirst()) {
      let hash = try #require(earlier.range(of: #""hash":""#).map { String(earlier[$0.upperBound...].prefix(64)) })
      #expect(later.contains(#""prev":"\#(hash)""#))
    }
  }

  /// With `keep` lowered, the next rotation removes the files numbered beyond it too: left
  /// behind, they would read as a gap in the chain.
  @Test func aLowerKeepRemovesTheFilesBeyondIt() throws {
    let directory = try TemporaryDirectory()
    let path = directory.path + "/alerts.jsonl"
    let log = try AlertLog(path: path, headPath: directory.path + "/alerts.head")
    try Self.appendAndRotate(log, count: 6, ifAtLeast: 1, keep: 5)
    #expect(FileManager.default.fileExists(atPath: path + ".4"))
    try log.append([record("a.last")])
    try log.sync()
    try log.rotate(ifAtLeast: 1, keep: 2)
    let files = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasPrefix("alerts.jsonl") }
    #expect(Set(files) == ["alerts.jsonl", "alerts.jsonl.1", "alerts.jsonl.2"], "\(files.sorted())")
  }

  @Test func reopenFollowsAnExternalRotation() throws {
    let directory = try TemporaryDirectory()
    let path = directory.path + "/alerts.jsonl"
    let log = try AlertLog(path: path, headPath: directory.path + "/alerts.head")
    try log.append([record("a.b")])
    try log.sync()
    try FileManager.default.moveItem(atPath: path, toPath: path + ".old")
    try log.reopen()
    try log.append([record("a.c")])
    try log.sync()
    let newest = try String(contentsOfFile: path, encoding: .utf8)
    #expect(newest.hasPrefix(#"{"seq":2,"#))
    let concatenated = directory.path + "/all.jsonl"
    try (String(contentsOfFile: path + ".old", encoding: .utf8) + newest).write(
      toFile: concatenated, atomically: true, encoding: .utf8)
    #expect(try verifyChain(concatenated) == "ok 2")
  }

  @Test func theJournalKeepsReportsAsGivenAndCutsATornLine() throws {
    let directory = try TemporaryDirectory()
    let path = directory.path + "/reports.jsonl"
    do {
      let journal = try Journal(path: path)
      try journal.append([(receivedAt: "2016-03-04T04:40:00.123Z", report: ReportText(#"{"id":"A","type":"attack"}"#))])
      try journal.sync()
    }
    try (String(contentsOfFile: path, encoding: .utf8) + #"{"received_at":"2016"#).write(
      toFile: path, atomically: false, encoding: .utf8)
    let journal = try Journal(path: path)
    #expect(journal.cutBytes == 20)
    try journal.append([(receivedAt: "2016-03-04T04:40:01.000Z", report: ReportText(#"{"id":"B"}"#))])
    try journal.sync()
    #expect(
      try String(contentsOfFile: path, encoding: .utf8)
        == #"{"received_at":"2016-03-04T04:40:00.123Z","report":{"id":"A","type":"attack"}}"# + "\n"
        + #"{"received_at":"2016-03-04T04:40:01.000Z","report":{"id":"B"}}"# + "\n")
  }

  @Test func aFileThatCannotBeOpenedSaysWhy() {
    #expect(throws: AppendOnlyFileFailure.self) { try Journal(path: "/nonexistent/dir/reports.jsonl") }
  }
}
