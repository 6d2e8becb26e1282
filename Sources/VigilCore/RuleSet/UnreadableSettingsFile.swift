import Foundation

/// A file a plugin's settings name (a secret, a password, a CA): its bytes, or why it
/// cannot be read, in words ("no such file", "it is a directory", "Permission denied").
public enum SettingsFile {
  public struct Unreadable: Error, Sendable {
    public let reason: String
    /// Whether another user might read it (it is there, and this user may not): vigild's
    /// user, perhaps, where `vigil rules lint` runs as another. A file that is not there,
    /// or is a directory, is a problem for every user.
    public let mayBeThisUsers: Bool
  }

  public static func read(_ path: String) -> Result<[UInt8], Unreadable> {
    let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
    guard descriptor >= 0 else {
      let code = errno
      switch code {
      case ENOENT: return .failure(Unreadable(reason: "no such file", mayBeThisUsers: false))
      case ENOTDIR: return .failure(Unreadable(reason: "a part of its path is not a directory", mayBeThisUsers: false))
      default: return .failure(Unreadable(reason: String(cString: strerror(code)), mayBeThisUsers: true))
      }
    }
    defer { close(descriptor) }
    var status = stat()
    if fstat(descriptor, &status) == 0 {
      switch status.st_mode & S_IFMT {
      case S_IFDIR: return .failure(Unreadable(reason: "it is a directory", mayBeThisUsers: false))
      case S_IFREG: break
      default: return .failure(Unreadable(reason: "it is not a regular file (a pipe, a socket or a device)", mayBeThisUsers: false))
      }
    }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65_536)
    while true {
      let count = chunk.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
      if count < 0, errno == EINTR { continue }
      guard count >= 0 else { return .failure(Unreadable(reason: String(cString: strerror(errno)), mayBeThisUsers: false)) }
      if count == 0 { return .success(bytes) }
      bytes += chunk[0..<count]
    }
  }
}

extension PluginSettingsError {
  /// A file the settings name that cannot be read: `description` with the reason, and
  /// `purpose` after it ("secret_file /etc/x cannot be read (no such file): it must hold
  /// …"). It is `isAboutAFile` — this user's problem, perhaps not vigild's — when the file
  /// is there and this user may not read it.
  public static func unreadable(_ description: String, path: String, purpose: String = "") -> PluginSettingsError {
    switch SettingsFile.read(path) {
    case .success:
      // Readable now, though its caller found it not (as another user, or a moment ago):
      // there, so this user's problem.
      return PluginSettingsError(description + (purpose.isEmpty ? "" : ": " + purpose), isAboutAFile: true)
    case .failure(let problem):
      return PluginSettingsError(
        description + " (\(problem.reason))" + (purpose.isEmpty ? "" : ": " + purpose), isAboutAFile: problem.mayBeThisUsers)
    }
  }
}
