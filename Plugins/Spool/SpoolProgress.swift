import Foundation

/// A file's verdicts so far, kept as its pass goes under the spool's hidden `.progress/`
/// (`<mapping>.<name>.verdicts`), so that a pass a crash or a stop cut short is resumed
/// knowing what it had recorded. The first line names the file the progress belongs to
/// (device, inode, size, modification time): a progress a crash left behind after its file
/// had moved to `done/` or `failed/` is then not taken for the progress of a later file of
/// the same name, whose verdicts it would otherwise fill with rows it never had.
enum SpoolProgress {
  static let folder = ".progress"
  private static let suffix = ".verdicts"
  private static let identityPrefix = "# source "

  static func path(spool: String, mapping: String, name: String) -> String {
    spool + "/" + folder + "/" + mapping + "." + name + suffix
  }

  /// The line that names the file at `path` as it is now.
  static func identity(of path: String) -> String {
    var status = stat()
    guard stat(path, &status) == 0 else { return identityPrefix + "unknown" }
    let modified = "\(status.st_mtim.tv_sec).\(status.st_mtim.tv_nsec)"
    return identityPrefix + "\(status.st_dev):\(status.st_ino) size \(status.st_size) modified \(modified)"
  }

  /// A handle appending to the progress at `progressPath` for the file at `source`. A
  /// progress whose first line names another file is discarded first; a new one starts
  /// with `source`'s line. (A progress without that line, from a version before it, is
  /// kept: the file it belongs to cannot be told.)
  static func open(_ progressPath: String, for source: String) -> FileHandle? {
    let identity = identity(of: source)
    if let text = try? String(contentsOfFile: progressPath, encoding: .utf8) {
      let first = text.prefix { $0 != "\n" }
      if first.hasPrefix(identityPrefix), first != identity {
        try? FileManager.default.removeItem(atPath: progressPath)
      }
    }
    if !FileManager.default.fileExists(atPath: progressPath) {
      guard FileManager.default.createFile(atPath: progressPath, contents: Data((identity + "\n").utf8)) else { return nil }
    }
    guard let handle = FileHandle(forWritingAtPath: progressPath) else { return nil }
    _ = try? handle.seekToEnd()
    return handle
  }

  /// Removes the progress of files no longer in the spool: left by a crash after its file
  /// moved and before the progress went, or by a file taken away part-way. Run between
  /// passes, never during one (whose file is still in its folder).
  static func sweep(spool: String) {
    let directory = spool + "/" + folder
    guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return }
    for name in names where name.hasSuffix(suffix) {
      // `<mapping>.<name>`, and either may hold dots: the file is there under one split or none.
      let stem = name.dropLast(suffix.count)
      let stillThere = stem.indices.contains { dot in
        guard stem[dot] == ".", dot != stem.startIndex else { return false }
        let mapping = stem[..<dot]
        guard !mapping.hasPrefix("."), mapping != "done", mapping != "failed" else { return false }
        return FileManager.default.fileExists(atPath: spool + "/" + mapping + "/" + stem[stem.index(after: dot)...])
      }
      if !stillThere { try? FileManager.default.removeItem(atPath: directory + "/" + name) }
    }
  }
}
