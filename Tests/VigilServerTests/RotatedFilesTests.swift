import Foundation
import Testing
import VigilServer
import VigilTestSupport

/// The files rotated beside a journal or log, as vigild finds them at start: oldest first
/// by modification time, and by logrotate's names when the times are equal; compressed
/// ones apart; other names left out.
@Suite("Rotated files beside a path")
struct RotatedFilesTests {
  @Test func oldestFirstByTimeThenByName() throws {
    let directory = try TemporaryDirectory()
    let path = directory.path + "/reports.jsonl"
    let names = [
      "reports.jsonl.1", "reports.jsonl.2", "reports.jsonl.10", "reports.jsonl-20261201", "reports.jsonl-20261202",
      "reports.jsonl.3.gz", "reports.jsonl.bak", "reports.jsonl.tmp",
    ]
    for name in names { try "x\n".write(toFile: directory.path + "/" + name, atomically: true, encoding: .utf8) }
    // All at one time (a restore): the names decide.
    var same = [timespec(tv_sec: 1_700_000_000, tv_nsec: 0), timespec(tv_sec: 1_700_000_000, tv_nsec: 0)]
    for name in names { #expect(utimensat(AT_FDCWD, directory.path + "/" + name, &same, 0) == 0) }
    let found = RotatedFiles.rotated(beside: path)
    #expect(
      found.plain.map { ($0 as NSString).lastPathComponent } == [
        "reports.jsonl-20261201", "reports.jsonl-20261202", "reports.jsonl.10", "reports.jsonl.2", "reports.jsonl.1",
      ], "\(found.plain)")
    #expect(found.compressed.map { ($0 as NSString).lastPathComponent } == ["reports.jsonl.3.gz"])
    // A later time comes later, whatever its name.
    var later = [timespec(tv_sec: 1_700_000_100, tv_nsec: 0), timespec(tv_sec: 1_700_000_100, tv_nsec: 0)]
    #expect(utimensat(AT_FDCWD, directory.path + "/reports.jsonl.10", &later, 0) == 0)
    #expect(RotatedFiles.rotated(beside: path).plain.last.map { ($0 as NSString).lastPathComponent } == "reports.jsonl.10")
  }
}
