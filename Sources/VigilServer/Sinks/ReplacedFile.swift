import Foundation
import VigilCore

/// A small state file of a sink's (a cursor, its parked records, a resend asked for),
/// replaced whole: written to a new file named for this process, synced, and renamed over
/// the old, so that a crash leaves one or the other. (Named for this process: one that
/// outlived its stop cannot clash with its successor's.)
enum ReplacedFile {
  /// Replaces the file at `path` with `text`; the error says `what` could not be kept, and why.
  static func replace(_ path: String, with text: String, keeping what: String) throws(PluginSettingsError) {
    let temporary = path + ".new.\(getpid())"
    let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
    guard descriptor >= 0 else {
      throw PluginSettingsError("cannot keep \(what): cannot write \(temporary): \(String(cString: strerror(errno)))")
    }
    let bytes = Array(text.utf8)
    let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
    let failure = written < 0 ? errno : (fsync(descriptor) == 0 ? 0 : errno)
    close(descriptor)
    guard written == bytes.count, failure == 0, rename(temporary, path) == 0 else {
      let reason = failure != 0 ? String(cString: strerror(failure)) : written != bytes.count ? "a short write" : String(cString: strerror(errno))
      unlink(temporary)
      throw PluginSettingsError("cannot keep \(what) in \(path): \(reason)")
    }
  }

  /// Removes the new files a process killed between writing and renaming left beside
  /// `paths` (`NAME.cursor.new.PID`). Called once the state directory is locked, when no
  /// other daemon can be writing them.
  static func removeLeftovers(beside paths: [String]) {
    for path in paths {
      let folder = FolderPath.of(path)
      let prefix = (path as NSString).lastPathComponent + ".new."
      for name in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
      where name.hasPrefix(prefix) && name.dropFirst(prefix.count).allSatisfy(\.isNumber) {
        unlink(folder + "/" + name)
      }
    }
  }
}
