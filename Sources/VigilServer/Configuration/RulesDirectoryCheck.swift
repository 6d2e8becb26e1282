import Foundation
import VigilCore

/// docs/vigild.md: an unreadable path in the configuration is a start-up error that names its
/// key. The rules directories must exist now; the state directory and the alert log's
/// directory are created when the daemon starts.
public enum RulesDirectoryCheck {
  /// One sentence for each rules directory that cannot be read, naming its key.
  public static func problems(in configuration: DaemonConfiguration) -> [String] {
    problems(inPaths: configuration.rules.paths)
      + amongRules(
        configuration.alerts.path, key: "alerts.path", configuration,
        because: "each record written would reload the rules; put the alert log elsewhere")
      + amongRules(
        configuration.socket.path, key: "socket.path", configuration,
        because: "every reload would fail on it, and a socket a crash left there would stop the next start; "
          + "put the socket elsewhere")
  }

  /// A file named as a rule file in a rules directory would be read as one. An alert log
  /// there: each record written would reload the rules, each reload fail (the log is no
  /// rule set), and each failure write another record. A socket: no reload could read it.
  /// So is a file a rule file links to, or one that links to a rule file (a symlink counts
  /// as its target): the alert log at the target of `Rules/refugees.yaml` took its records
  /// into the rules, as a loop.
  static func amongRules(_ path: String, key: String, _ configuration: DaemonConfiguration, because: String) -> [String] {
    let name = (path as NSString).lastPathComponent
    let folder = resolved(FolderPath.of(path).isEmpty ? "." : FolderPath.of(path))
    let inDirectory = configuration.rules.paths.enumerated().compactMap { index, directory in
      RuleDirectories.isRuleFile(name) && resolved(directory) == folder
        ? "\(key) \"\(path)\" is in the rules directory \"\(directory)\" (rules.paths[\(index)]) with a name "
          + "rule files have: \(because)" : nil
    }
    guard inDirectory.isEmpty else { return inDirectory }
    let target = DaemonConfiguration.resolved(path)
    return configuration.rules.paths.enumerated().flatMap { index, directory -> [String] in
      let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter(RuleDirectories.isRuleFile)
      return names.sorted().compactMap { name -> String? in
        let file = (directory as NSString).appendingPathComponent(name)
        guard DaemonConfiguration.resolved(file) == target else { return nil }
        // Either way round: a rule file that links to it, or it a link to a rule file.
        let linked = (try? FileManager.default.destinationOfSymbolicLink(atPath: file)) != nil
        return linked
          ? "\(key) \"\(path)\" is the file the rule file \"\(file)\" (rules.paths[\(index)]) links to: \(because)"
          : "\(key) \"\(path)\" links to the rule file \"\(file)\" (rules.paths[\(index)]): \(because)"
      }
    }
  }

  /// A directory's path with symbolic links resolved, when it exists; else made absolute.
  private static func resolved(_ path: String) -> String {
    if let real = realpath(path, nil) {
      defer { free(real) }
      return String(cString: real)
    }
    let absolute = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
    return (absolute as NSString).standardizingPath
  }

  /// The same for the directories `paths` (`rules.paths`, in order).
  public static func problems(inPaths paths: [String]) -> [String] {
    paths.enumerated().compactMap { index, path in
      let key = "rules.paths[\(index)]"
      var isDirectory: ObjCBool = false
      guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
        // A name whose bytes are not UTF-8 arrives with them replaced: not this directory.
        let hint = path.unicodeScalars.contains("\u{FFFD}") ? " (the name is not valid UTF-8; rename the directory)" : ""
        return "\(key): cannot read the rules directory \"\(path)\": no such directory\(hint)"
      }
      guard isDirectory.boolValue else {
        return "\(key): cannot read the rules directory \"\(path)\": it is not a directory"
      }
      guard FileManager.default.isReadableFile(atPath: path), FileManager.default.isExecutableFile(atPath: path) else {
        return "\(key): cannot read the rules directory \"\(path)\": permission denied"
      }
      if let problem = worldWritable(path, what: "the rules directory", key: key) { return problem }
      let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
      for name in names.sorted() where RuleDirectories.isRuleFile(name) {
        if let problem = worldWritable(path + "/" + name, what: "the rule file", key: key) { return problem }
      }
      return nil
    }
  }

  /// Rules decide what is reported as a breach: a file or directory any user may write is
  /// refused at start, as is such a configuration (the check follows symlinks).
  public static func worldWritable(_ path: String, what: String, key: String?) -> String? {
    var status = stat()
    guard stat(path, &status) == 0 else { return nil }
    guard status.st_mode & S_IWOTH != 0 else { return writableFolder(above: path, what: what, key: key) }
    // `/dev/null` (`--config /dev/null`: the built-in defaults) is writable by all, and
    // stays empty whatever is written to it.
    var null = stat()
    if status.st_mode & S_IFMT == S_IFCHR, stat("/dev/null", &null) == 0, null.st_rdev == status.st_rdev { return nil }
    let mode = String(status.st_mode & 0o7777, radix: 8)
    return (key.map { "\($0): " } ?? "")
      + "refusing \(what) \"\(path)\": any user may write it (mode \(mode)); run chmod o-w \"\(path)\""
  }

  /// A folder above the file (where it really is, its links followed) that any user may
  /// write, without the sticky bit (`/tmp` has it: there no one may rename another's
  /// entries): whoever writes it can rename the file or folder away and put theirs in its
  /// place, so it is refused as a file any user may write is.
  ///
  /// Both ways to it are looked at: the folders of the path as given (a symbolic link in a
  /// folder any user may write can be replaced by one to other rules) and those of where
  /// it really is.
  static func writableFolder(above path: String, what: String, key: String?) -> String? {
    guard let real = realpath(path, nil) else { return nil }
    let resolved = String(cString: real)
    free(real)
    // Made absolute and rid of `.` and `..` by its text alone (Foundation's
    // `standardizingPath` follows the links, which is what is not wanted here).
    var components: [Substring] = []
    for component in (path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path).split(separator: "/") {
      if component == "." { continue }
      if component == ".." { _ = components.popLast() } else { components.append(component) }
    }
    let given = "/" + components.joined(separator: "/")
    for start in given == resolved ? [resolved] : [given, resolved] {
      var folder = start
      while folder != "/" {
        folder = (folder as NSString).deletingLastPathComponent
        var status = stat()
        guard stat(folder, &status) == 0 else { break }
        if status.st_mode & S_IWOTH != 0, status.st_mode & S_ISVTX == 0 {
          let mode = String(status.st_mode & 0o7777, radix: 8)
          return (key.map { "\($0): " } ?? "")
            + "refusing \(what) \"\(path)\": the folder \"\(folder)\" it is in may be written by any user (mode \(mode), "
            + "without the sticky bit), who could put another in its place; run chmod o-w \"\(folder)\""
        }
      }
    }
    return nil
  }
}
