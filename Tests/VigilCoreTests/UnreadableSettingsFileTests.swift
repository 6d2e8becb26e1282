import Foundation
import Testing
import VigilCore

/// A settings file that cannot be read is this user's problem (perhaps not vigild's user's)
/// when it is there; one that is not there is everyone's.
@Suite("Plugin settings: a file that cannot be read")
struct UnreadableSettingsFileTests {
  @Test func aFileThatIsThereIsThisUsersProblemOneThatIsNotIsEveryones() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-unreadable-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: false)
    defer { try? FileManager.default.removeItem(at: folder) }
    let file = folder.appendingPathComponent("secret").path
    try "s".write(toFile: file, atomically: true, encoding: .utf8)
    #expect(PluginSettingsError.unreadable("x", path: file).isAboutAFile)
    #expect(!PluginSettingsError.unreadable("x", path: folder.appendingPathComponent("none").path).isAboutAFile)
    #expect(!PluginSettingsError.unreadable("x", path: file + "/below-a-file").isAboutAFile, "ENOTDIR")
    #expect(PluginSettingsError.unreadable("x", path: file).description == "x")
    // A directory, or a file that is not there, is everyone's problem, and says why.
    let directory = PluginSettingsError.unreadable("x", path: folder.path, purpose: "it holds the secret")
    #expect(!directory.isAboutAFile && directory.description == "x (it is a directory): it holds the secret")
    #expect(PluginSettingsError.unreadable("x", path: folder.appendingPathComponent("none").path).description == "x (no such file)")
  }
}
