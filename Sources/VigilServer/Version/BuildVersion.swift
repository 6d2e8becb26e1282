/// What `--version` prints: the release (`RequestResponder.version`, which the status op reports too)
/// and the git revision the binary was built from, which BuildTools/GitRevision writes into
/// this module at build time.
public enum BuildVersion {
  public static let release = RequestResponder.version

  /// A short commit id, with "-dirty" when the work tree had changes; "unknown" outside git.
  public static let revision = gitRevision

  /// `vigild 0.1.0 (git 7ca9d41)`.
  public static func line(for command: String) -> String {
    "\(command) \(release) (git \(revision))"
  }
}
