import Foundation
import VigilCore

/// Reads the rule files of the configured directories, in load order (docs/rules.md): directory
/// by directory as given, by file name within one; `*.yaml` and `*.yml` only; no
/// recursion; hidden files and editor leftovers skipped; a symlink counts as its target.
public enum RuleDirectories {
  /// One sentence for a directory or file that could not be read.
  public struct ReadError: Error, CustomStringConvertible {
    public let description: String
    /// Read, but refused (a file any user may write): the set would be rejected, where
    /// an unreadable one could not be looked at.
    public var refused = false
    /// The directory or file it is about, as the configuration and load order name it:
    /// the `file` of the error a reload answers with and records.
    public var path = ""
  }

  public static func read(_ directories: [String]) throws(ReadError) -> [RuleSource] {
    var sources: [RuleSource] = []
    var seen: [String: String] = [:]
    for directory in directories {
      // The same directory twice would define each of its rules twice, "at" one place.
      let canonical = URL(fileURLWithPath: directory).resolvingSymlinksInPath().standardizedFileURL.path
      if let earlier = seen[canonical] {
        // A problem of the configuration's list, not of the directory: no `path`.
        throw ReadError(description: "the rules directory \(directory) is given twice (also as \(earlier))", refused: true)
      }
      seen[canonical] = directory
      let names: [String]
      do {
        names = try FileManager.default.contentsOfDirectory(atPath: directory)
      } catch {
        throw ReadError(description: "cannot read the rules directory \(directory): \(reason(error))", path: directory)
      }
      for name in names.filter(isRuleFile).sorted(by: { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }) {
        let path = (directory as NSString).appendingPathComponent(name)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else {
          // A name whose bytes are not UTF-8 arrives with them replaced, naming no file: it is
          // read by its bytes, and the set refused for its name with the other files' errors
          // (thrown alone, it hid them all until the file was renamed).
          if name.unicodeScalars.contains("\u{FFFD}") {
            for (raw, contents) in undecodableRuleFiles(in: directory) where String(decoding: raw, as: UTF8.self) == name {
              sources.append(RuleSource(path: path, name: name, contents: contents, nameIsNotUTF8: true))
            }
            continue
          }
          // A symlink whose target is gone (a release folder deleted, a typo in `ln -s`):
          // its rules would drop out of force without a word. Refused like a file that
          // cannot be read, the set in force staying (audit 43).
          if let link = danglingLink(path) {
            // A problem of the set (what is in the directory), as a file any user may write
            // is: `vigil rules lint` says it with the summary, exit 1 (audit 53).
            throw ReadError(
              description: "cannot read the rule file \(path): it is a symbolic link to \(link.target), which \(link.why)",
              refused: true, path: path)
          }
          continue  // a directory named like a rule file
        }
        guard let contents = FileManager.default.contents(atPath: path) else {
          // Why: what it is when not a file, else as the system says it ("Permission denied").
          var status = stat()
          let kind = stat(path, &status) == 0 ? status.st_mode & S_IFMT : S_IFREG
          let descriptor = kind == S_IFREG ? open(path, O_RDONLY | O_NONBLOCK) : -1
          let why =
            switch kind {
            case S_IFSOCK: "it is a socket, not a file"
            case S_IFIFO: "it is a named pipe, not a file"
            case S_IFCHR, S_IFBLK: "it is a device, not a file"
            default: descriptor < 0 ? String(cString: strerror(errno)) : "it could not be read whole"
            }
          if descriptor >= 0 { close(descriptor) }
          // Something that is no file is a problem of the set; a file this user may not
          // read (vigild's user may) is not.
          throw ReadError(description: "cannot read the rule file \(path): \(why)", refused: kind != S_IFREG, path: path)
        }
        sources.append(RuleSource(path: path, name: name, contents: [UInt8](contents)))
      }
    }
    return sources
  }

  /// Where `path` points, and why that cannot be read, when it is a symbolic link whose
  /// target cannot be reached (gone, a loop, a folder that cannot be searched).
  private static func danglingLink(_ path: String) -> (target: String, why: String)? {
    var status = stat()
    guard lstat(path, &status) == 0, status.st_mode & S_IFMT == S_IFLNK, stat(path, &status) != 0 else { return nil }
    let why = errno == ENOENT ? "does not exist" : "cannot be reached (\(String(cString: strerror(errno))))"
    let target = (try? FileManager.default.destinationOfSymbolicLink(atPath: path)) ?? "?"
    return (target, why)
  }

  /// The rule files of `directory` whose names are not UTF-8: each name's bytes, and the
  /// file's contents (read by those bytes, which no `String` path can name).
  private static func undecodableRuleFiles(in directory: String) -> [(name: [UInt8], contents: [UInt8])] {
    guard let stream = opendir(directory) else { return [] }
    defer { closedir(stream) }
    var found: [(name: [UInt8], contents: [UInt8])] = []
    while let entry = readdir(stream) {
      let raw = withUnsafeBytes(of: entry.pointee.d_name) { Array($0.prefix { $0 != 0 }) }
      guard String(validating: raw, as: UTF8.self) == nil, isRuleFile(String(decoding: raw, as: UTF8.self)) else { continue }
      let descriptor = openat(dirfd(stream), raw.map { CChar(bitPattern: $0) } + [0], O_RDONLY | O_CLOEXEC | O_NONBLOCK)
      guard descriptor >= 0 else { continue }
      defer { close(descriptor) }
      var status = stat()
      guard fstat(descriptor, &status) == 0, status.st_mode & S_IFMT == S_IFREG,
        let contents = try? FileHandle(fileDescriptor: descriptor, closeOnDealloc: false).readToEnd() ?? Data()
      else { continue }
      found.append((raw, [UInt8](contents)))
    }
    return found
  }

  /// `*.yaml` or `*.yml`, and not a hidden file or an editor's temporary or backup file.
  public static func isRuleFile(_ name: String) -> Bool {
    guard name.hasSuffix(".yaml") || name.hasSuffix(".yml") else { return false }
    return !name.hasPrefix(".") && !name.hasSuffix("~") && !name.hasSuffix(".swp") && name != "4913"
  }

  /// An editor's swap, lock, backup or probe file (`.x.swp`, `.#x`, `x~`, vim's `4913`):
  /// changes to these never trigger a reload.
  public static func isEditorLeftover(_ name: String) -> Bool {
    name.hasPrefix(".#") || name.hasSuffix("~") || name == "4913"
      || (name.hasPrefix(".") && [".swp", ".swx", ".swo"].contains { name.hasSuffix($0) })
  }

  private static func reason(_ error: any Error) -> String {
    let code = (error as NSError).code
    switch code {
    case NSFileReadNoSuchFileError: return "no such directory"
    case NSFileReadNoPermissionError: return "permission denied"
    default: return "not a readable directory"
    }
  }
}
