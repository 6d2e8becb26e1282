import Foundation
import Testing
import VigilCore

/// A file path's folder, as NSString's `deletingLastPathComponent` gives it, without its
/// crash on short relative paths (`vigild --socket s` died with SIGILL).
@Suite("The folder of a file path")
struct FolderPathTests {
  @Test(arguments: [
    ("s", ""), ("ab", ""), ("a/b", "a"), ("a/b/", "a"), ("/a", "/"), ("/", "/"), ("//a", "/"), ("a//b", "a"),
    ("/var/run/vigil.sock", "/var/run"), ("./s", "."), ("../s", ".."), ("", ""),
  ])
  func folderOfAPath(path: String, folder: String) {
    #expect(FolderPath.of(path) == folder)
  }
}
