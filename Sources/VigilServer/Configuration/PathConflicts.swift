import Foundation

extension DaemonConfiguration {
  /// The files the daemon keeps in its state directory, by name: the journal (and its
  /// rotated files, `reports.jsonl.1` …), the alert log's head, the loaded rule set's
  /// definitions, the seqs of the alert files rotation removed, the lock, and the sinks'
  /// cursors.
  static let stateFileNames = ["reports.jsonl", "alerts.head", "ruleset.loaded", "alerts.pruned", "vigild.lock", "sinks"]

  /// An alert log or a socket placed on one of the daemon's own files, found before
  /// anything is opened: an alert log at the journal's path interleaved reports and alert
  /// records in one file, and one at `alerts.head` had its first record overwritten.
  /// `configurationFile`, the file this configuration was read from: an alert log there
  /// appended records to it, and the next start could not read it.
  public func pathConflicts(configurationFile: String? = nil) -> [String] {
    let state = Self.resolved(stateDirectory)
    let alertLog = Self.resolved(alerts.path)
    let socketPath = Self.resolved(socket.path)
    func stateFile(_ path: String) -> String? {
      // Anything under the sinks' folder is theirs (a cursor's rename would replace it).
      if path.hasPrefix(state + "/sinks/") { return "sinks" }
      let url = URL(fileURLWithPath: path)
      guard url.deletingLastPathComponent().path == state else { return nil }
      let name = url.lastPathComponent
      return Self.stateFileNames.first { name == $0 || name.hasPrefix($0 + ".") && $0 == "reports.jsonl" }
    }
    var problems: [String] = []
    if let name = stateFile(alertLog) {
      problems.append(
        "alerts.path: \(alerts.path) is the daemon's own \(name) in its state directory \(stateDirectory); "
          + "give the alert log a name of its own")
    } else if alertLog == state {
      problems.append("alerts.path: \(alerts.path) is the state directory itself")
    }
    if socketPath == alertLog {
      problems.append("socket.path: \(socket.path) is the alert log's path too; give each its own")
    } else if let name = stateFile(socketPath) {
      problems.append(
        "socket.path: \(socket.path) is the daemon's own \(name) in its state directory \(stateDirectory)")
    } else if socketPath == state {
      problems.append("socket.path: \(socket.path) is the state directory itself")
    }
    if let configurationFile, Self.resolved(configurationFile) == alertLog {
      problems.append("alerts.path: \(alerts.path) is the configuration file itself; give the alert log a name of its own")
    }
    if let configurationFile, Self.resolved(configurationFile) == socketPath {
      problems.append("socket.path: \(socket.path) is the configuration file itself")
    }
    return problems
  }

  /// The daemon's own files and folders at or under `folder`, each as `what (its key)`.
  func filesWithin(_ folder: String) -> [String] {
    let root = Self.resolved(folder)
    let inside = { (path: String) in
      let path = Self.resolved(path)
      return path == root || path.hasPrefix(root == "/" ? "/" : root + "/")
    }
    var found: [String] = []
    if inside(stateDirectory) { found.append("the state directory \(stateDirectory) (state_dir)") }
    if inside(alerts.path) { found.append("the alert log \(alerts.path) (alerts.path)") }
    if inside(socket.path) { found.append("the socket \(socket.path) (socket.path)") }
    for (index, path) in rules.paths.enumerated() where inside(path) {
      found.append("the rules directory \(path) (rules.paths[\(index)])")
    }
    return found
  }

  /// An absolute path with `.` and `..` gone and the symbolic links of the part that
  /// exists followed, so that two spellings of one file compare equal. Foundation follows
  /// none when the last component does not exist yet (a first start), so the deepest
  /// folder that exists is resolved and the rest put back.
  static func resolved(_ path: String, links: Int = 0) -> String {
    var existing = URL(fileURLWithPath: path).standardizedFileURL
    var rest: [String] = []
    while !FileManager.default.fileExists(atPath: existing.path), existing.path != "/" {
      // A link whose target is not there yet (a first start) points at what will be made
      // there — the file, or a folder the path goes on in (`stlink/alerts.head`, `stlink`
      // a link to the state directory to be made): followed, the rest put back under it.
      if links < 16, let target = try? FileManager.default.destinationOfSymbolicLink(atPath: existing.path) {
        let followed = URL(fileURLWithPath: target, relativeTo: existing.deletingLastPathComponent()).standardizedFileURL
        return resolved(([followed.path] + rest).joined(separator: "/"), links: links + 1)
      }
      rest.insert(existing.lastPathComponent, at: 0)
      existing.deleteLastPathComponent()
    }
    var url = existing.resolvingSymlinksInPath()
    for component in rest { url.appendPathComponent(component) }
    return url.standardizedFileURL.path
  }
}
