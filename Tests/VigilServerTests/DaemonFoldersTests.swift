import Foundation
import Testing
import VigilTestSupport

@testable import VigilServer

/// The folders vigild creates at start: the socket's is open to look into, whatever the
/// umask, so that the socket's own mode and group decide who may connect.
@Suite("vigild's folders")
struct DaemonFoldersTests {
  @Test func aFolderAndThoseAboveItAreGivenTheModeAsked() throws {
    let directory = try TemporaryDirectory()
    let path = directory.path + "/run/vigil"
    #expect(Daemon.makeDirectory(path, mode: 0o750) == nil)
    for folder in [directory.path + "/run", path] {
      var status = stat()
      #expect(stat(folder, &status) == 0 && status.st_mode & S_IFMT == S_IFDIR)
      #expect(status.st_mode & 0o777 == 0o750, "\(folder): \(String(status.st_mode & 0o777, radix: 8))")
    }
    // One that is there is left as it is.
    chmod(path, 0o700)
    #expect(Daemon.makeDirectory(path, mode: 0o755) == nil)
    var status = stat()
    #expect(stat(path, &status) == 0 && status.st_mode & 0o777 == 0o700)
  }

  @Test func whyAFolderCannotBeMadeIsSaid() throws {
    let directory = try TemporaryDirectory()
    try "x".write(toFile: directory.path + "/file", atomically: true, encoding: .utf8)
    #expect(Daemon.makeDirectory(directory.path + "/file", mode: nil) == "a file that is not a directory is there")
    #expect(Daemon.makeDirectory(directory.path + "/file/below", mode: nil) == "a file that is not a directory is there")
  }
}
