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
}
