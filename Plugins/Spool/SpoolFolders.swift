import Foundation
import VigilCore

/// What the spool's folders must be at start, and the checks on paths it meets while it
/// runs: the spool moves files out of its folder's subfolders, and reads them (and its
/// mappings) with vigild's rights.
enum SpoolFolders {
  /// Where the mappings are when `mappings` is not given: the checkout's, else an
  /// installation's (docs/install.md), as `vigil import` looks for them. Under systemd the
  /// working directory is `/`, where `Config/mappings` is not.
  static let defaultMappings = ["Config/mappings", "/etc/vigil/mappings"]

  /// The mode of `path` when any user may write it (`777`), else nil: a spool folder any
  /// user may write lets any local user submit reports, and such a mapping decides what
  /// every report of its files says.
  static func writableByAnyone(_ path: String) -> String? {
    var status = stat()
    guard stat(path, &status) == 0, status.st_mode & S_IWOTH != 0 else { return nil }
    return String(status.st_mode & 0o7777, radix: 8)
  }

  /// Whether `path` is a symbolic link that someone other than vigild's user or root made:
  /// one who may drop files in the spool may make links there too, and vigild would read
  /// and move through it with its own rights (a secret read as an export; exports moved
  /// into a rules directory). A link the administrator made (done/ on a bigger disk) is
  /// followed.
  static func isForeignLink(_ path: String) -> Bool {
    var status = stat()
    return lstat(path, &status) == 0 && status.st_mode & S_IFMT == S_IFLNK && status.st_uid != geteuid()
      && status.st_uid != 0
  }

  /// An absolute path, `.`, `..` and symbolic links resolved, to compare two spellings.
  static func resolved(_ path: String) -> String {
    URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
  }

  /// Whether `path` is `folder` or inside it.
  static func isWithin(_ path: String, _ folder: String) -> Bool {
    let (path, folder) = (resolved(path), resolved(folder))
    return path == folder || path.hasPrefix(folder == "/" ? "/" : folder + "/")
  }

  /// The mappings folder to use: `given`, else the first default that exists.
  static func mappings(given: String?) -> String {
    if let given { return given }
    return defaultMappings.first { directoryExists($0) } ?? defaultMappings[0]
  }

  static func directoryExists(_ path: String) -> Bool {
    var isFolder: ObjCBool = false
    return FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) && isFolder.boolValue
  }

  /// Every problem of the folders at start, each naming its setting.
  static func problems(folder: String, mappings: String, mappingsGiven: Bool) -> [PluginSettingsError] {
    var problems: [PluginSettingsError] = []
    if let problem = folderProblem(folder, key: "folder", writing: true) {
      problems.append(problem)
    } else if let mode = writableByAnyone(folder) {
      problems.append(
        PluginSettingsError(
          "folder \(folder): any user may write it (mode \(mode)), so any local user could submit reports through it; "
            + "run chmod o-w \"\(folder)\" (give the people who drop files its group: docs in Plugins/Spool/README.md)"))
    }
    if !mappingsGiven, !directoryExists(mappings) {
      problems.append(
        PluginSettingsError(
          "mappings is not given, and neither \(defaultMappings.joined(separator: " nor ")) is a folder here "
            + "(the working directory is \(FileManager.default.currentDirectoryPath)): give mappings, the folder of the mapping files"))
    } else if let problem = folderProblem(mappings, key: "mappings", writing: false) {
      problems.append(problem)
    } else if let mode = writableByAnyone(mappings) {
      problems.append(
        PluginSettingsError(
          "mappings \(mappings): any user may write it (mode \(mode)), and a mapping decides what every report of its "
            + "files says; run chmod o-w \"\(mappings)\""))
    } else if directoryExists(folder), isWithin(mappings, folder) {
      problems.append(
        PluginSettingsError(
          "mappings \(mappings) is inside the spool folder \(folder), whose folders are read as exports and emptied "
            + "into done/ and failed/: keep the mappings elsewhere"))
    }
    return problems
  }

  /// Why `path`, given as `key`, cannot serve: not there, not a folder, or not readable
  /// (and writable, for the spool folder) by this user — which `vigil rules lint` may not
  /// share with vigild's, so that is said as a problem of a file.
  private static func folderProblem(_ path: String, key: String, writing: Bool) -> PluginSettingsError? {
    var isFolder: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
      return PluginSettingsError("\(key) \(path) cannot be read: no such folder")
    }
    guard isFolder.boolValue else { return PluginSettingsError("\(key) \(path) is not a folder") }
    let needed = writing ? R_OK | W_OK | X_OK : R_OK | X_OK
    guard access(path, needed) == 0 else {
      return PluginSettingsError(
        "\(key) \(path) cannot be \(writing ? "read and written" : "read"): \(String(cString: strerror(errno)))",
        isAboutAFile: true)
    }
    return nil
  }
}
