import Foundation

/// DAEMON.md: an unreadable path in the configuration is a start-up error that names its
/// key. The rules directories must exist now; the state directory and the alert log's
/// directory are created when the daemon starts.
public enum RulesDirectoryCheck {
  /// One sentence for each rules directory that cannot be read, naming its key.
  public static func problems(in configuration: DaemonConfiguration) -> [String] {
    configuration.rules.paths.enumerated().compactMap { index, path in
      let key = "rules.paths[\(index)]"
      var isDirectory: ObjCBool = false
      guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
        return "\(key): cannot read the rules directory \"\(path)\": no such directory"
      }
      guard isDirectory.boolValue else {
        return "\(key): cannot read the rules directory \"\(path)\": it is not a directory"
      }
      guard FileManager.default.isReadableFile(atPath: path), FileManager.default.isExecutableFile(atPath: path) else {
        return "\(key): cannot read the rules directory \"\(path)\": permission denied"
      }
      return nil
    }
  }
}
