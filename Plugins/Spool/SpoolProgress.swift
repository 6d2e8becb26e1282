import Foundation

/// A file's verdicts so far, kept as its pass goes under the spool's hidden `.progress/`
/// (`<mapping>.<name>.verdicts`, the mapping's dots escaped), so that a pass a crash or a stop cut short is resumed
/// knowing what it had recorded. The first line names the file the progress belongs to
/// (inode, size, modification time): a progress a crash left behind after its file
/// had moved to `done/` or `failed/` is then not taken for the progress of a later file of
/// the same name, whose verdicts it would otherwise fill with rows it never had.
enum SpoolProgress {
  static let folder = ".progress"
  private static let suffix = ".verdicts"
  private static let identityPrefix = "# source "

  /// `<mapping>.<name>.verdicts`, the mapping's own dots (and `%`) written `%2E` (`%25`):
  /// `t.a` + `b.ndjson` and `t` + `a.b.ndjson` were one progress, and the second file's
  /// pass threw the first's away (its accepted rows then said `duplicate`).
  static func path(spool: String, mapping: String, name: String) -> String {
    spool + "/" + folder + "/" + escaped(mapping) + "." + name + suffix
  }

  static func escaped(_ mapping: String) -> String {
    mapping.replacingOccurrences(of: "%", with: "%25").replacingOccurrences(of: ".", with: "%2E")
  }

  static func unescaped(_ mapping: Substring) -> String {
    mapping.replacingOccurrences(of: "%2E", with: ".").replacingOccurrences(of: "%25", with: "%")
  }

  /// The line that names the file at `path` as it is now. Not its device: that number can
  /// change with a reboot or a remount (btrfs, NFS, overlayfs), which is when a progress
  /// must be resumed; the progress lives in the same spool anyway.
  static func identity(of path: String) -> String {
    var status = stat()
    guard stat(path, &status) == 0 else { return identityPrefix + "unknown" }
    let modified = "\(status.st_mtim.tv_sec).\(status.st_mtim.tv_nsec)"
    return identityPrefix + "inode \(status.st_ino) size \(status.st_size) modified \(modified)"
  }

  /// The inode of the file at `path`, nil when there is none.
  static func inode(of path: String) -> UInt64? {
    var status = stat()
    return stat(path, &status) == 0 ? UInt64(status.st_ino) : nil
  }

  /// Removes the progress at `progressPath` when its first line names another file than
  /// `source` as it is now. (A progress without that line, from a version before it, is
  /// kept: the file it belongs to cannot be told.)
  static func discardIfNotOf(_ source: String, at progressPath: String) {
    guard let bytes = FileManager.default.contents(atPath: progressPath) else { return }
    let first = String(decoding: bytes.prefix { $0 != UInt8(ascii: "\n") }, as: UTF8.self)
    if first.hasPrefix(identityPrefix), first != identity(of: source) {
      try? FileManager.default.removeItem(atPath: progressPath)
    }
  }

  /// A handle appending to the progress at `progressPath` for the file at `source`; a new
  /// one starts with `source`'s line.
  static func open(_ progressPath: String, for source: String) -> FileHandle? {
    if !FileManager.default.fileExists(atPath: progressPath) {
      let first = Data((identity(of: source) + "\n").utf8)
      guard FileManager.default.createFile(atPath: progressPath, contents: first) else { return nil }
    }
    guard let handle = FileHandle(forWritingAtPath: progressPath) else { return nil }
    _ = try? handle.seekToEnd()
    return handle
  }

  /// Removes the progress of files no longer in the spool: left by a crash after its file
  /// moved and before the progress went, or by a file taken away part-way. Run between
  /// passes, never during one (whose file is still in its folder).
  static func sweep(spool: String, keeping kept: Set<String> = []) {
    let directory = spool + "/" + folder
    guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return }
    for name in names where name.hasSuffix(suffix) && !kept.contains(directory + "/" + name) {
      // `<mapping>.<name>`, the mapping's dots escaped: the first dot ends it. (One from
      // before the escaping may split at a later dot: the file is there under one split or none.)
      let stem = name.dropLast(suffix.count)
      let stillThere = stem.indices.contains { dot in
        guard stem[dot] == ".", dot != stem.startIndex else { return false }
        let mapping = unescaped(stem[..<dot])
        guard !mapping.hasPrefix("."), mapping != "done", mapping != "failed" else { return false }
        return FileManager.default.fileExists(atPath: spool + "/" + mapping + "/" + stem[stem.index(after: dot)...])
      }
      if !stillThere { try? FileManager.default.removeItem(atPath: directory + "/" + name) }
    }
  }
}
