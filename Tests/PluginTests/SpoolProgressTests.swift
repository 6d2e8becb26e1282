import Foundation
import Testing
import VigilTestSupport

@testable import VigilPlugins

/// The spool's progress files (`.progress/<mapping>.<name>.verdicts`): one per mapping and
/// file, whatever dots either name holds.
@Suite("Spool: progress files")
struct SpoolProgressTests {
  /// `t.a` + `b.ndjson` and `t` + `a.b.ndjson` were one progress: the second file's pass
  /// threw the first's away, and its accepted rows then said `duplicate` (audit 29).
  @Test func aMappingsDotsMakeNoOtherFilesProgress() {
    let dotted = SpoolProgress.path(spool: "s", mapping: "t.a", name: "b.ndjson")
    let plain = SpoolProgress.path(spool: "s", mapping: "t", name: "a.b.ndjson")
    #expect(dotted != plain)
    #expect(dotted == "s/.progress/t%2Ea.b.ndjson.verdicts")
    #expect(SpoolProgress.path(spool: "s", mapping: "100%.x", name: "f.csv") == "s/.progress/100%25%2Ex.f.csv.verdicts")
    #expect(SpoolProgress.unescaped("100%25%2Ex") == "100%.x")
  }

  /// A sweep keeps the progress of a file still in its folder, for a mapping with dots
  /// too, and removes one whose file is gone.
  @Test func aSweepKeepsTheProgressOfFilesStillThere() throws {
    let directory = try TemporaryDirectory()
    let spool = directory.path
    for folder in ["t.a", ".progress"] {
      try FileManager.default.createDirectory(atPath: spool + "/" + folder, withIntermediateDirectories: true)
    }
    FileManager.default.createFile(atPath: spool + "/t.a/b.ndjson", contents: Data("{}\n".utf8))
    let kept = SpoolProgress.path(spool: spool, mapping: "t.a", name: "b.ndjson")
    let gone = SpoolProgress.path(spool: spool, mapping: "t.a", name: "c.ndjson")
    for path in [kept, gone] { FileManager.default.createFile(atPath: path, contents: Data("# source unknown\n".utf8)) }
    SpoolProgress.sweep(spool: spool)
    #expect(FileManager.default.fileExists(atPath: kept))
    #expect(!FileManager.default.fileExists(atPath: gone))
  }

  /// A text file ends mid-line (it may still be being written) unless its last line ends:
  /// in UTF-16 too, whose line end is `\n\0` (audit 51: held a minute as unfinished).
  @Test func aFileEndsMidLineUnlessItsLastLineEndsInUTF16Too() throws {
    let directory = try TemporaryDirectory()
    for (name, bytes, midLine) in [
      ("a.csv", Array("ID,Date\n1,2016-03-01\n".utf8), false), ("b.csv", Array("ID,Date\n1,2016-03-01".utf8), true),
      ("c.csv", Array("ID\r".utf8), false), ("d.csv", [0xFF, 0xFE, 0x49, 0x00, 0x44, 0x00, 0x0A, 0x00], false),
      ("e.csv", [0xFE, 0xFF, 0x00, 0x49, 0x00, 0x44, 0x00, 0x0A], false), ("f.csv", [0xFF, 0xFE, 0x49, 0x00, 0x44, 0x00], true),
      ("g.xlsx", Array("no line end".utf8), false),
    ] as [(String, [UInt8], Bool)] {
      let path = directory.path + "/" + name
      FileManager.default.createFile(atPath: path, contents: Data(bytes))
      #expect(SpoolFeed.endsMidLine(path) == midLine, "\(name)")
    }
  }
}
