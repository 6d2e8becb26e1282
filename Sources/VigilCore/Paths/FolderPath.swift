/// The folder part of a file path, as `NSString.deletingLastPathComponent` gives it
/// (`a/b` → `a`, `/a` → `/`, `a` → ``). Foundation's own crashes on some short relative
/// paths here (swift-corelibs-foundation 6.3: `vigild --socket s` died with SIGILL in
/// `String._startOfLastPathComponent`), so this is plain string work.
public enum FolderPath {
  public static func of(_ path: String) -> String {
    var text = Substring(path)
    // Trailing slashes name no component: `a/b/` is `a/b`.
    while text.count > 1, text.hasSuffix("/") { text = text.dropLast() }
    guard let slash = text.lastIndex(of: "/") else { return "" }
    var folder = text[..<slash]
    while folder.count > 1, folder.hasSuffix("/") { folder = folder.dropLast() }
    return folder.isEmpty ? "/" : String(folder)
  }
}
