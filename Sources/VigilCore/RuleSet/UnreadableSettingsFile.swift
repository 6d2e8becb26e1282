import Foundation

extension PluginSettingsError {
  /// A file the settings name that cannot be read. It is `isAboutAFile` — this user's
  /// problem, perhaps not vigild's — when it is there, or when a folder on its way may not
  /// be entered (EACCES); a file that is not there (ENOENT, ENOTDIR) is an error for any user.
  public static func unreadable(_ description: String, path: String) -> PluginSettingsError {
    var status = stat()
    let there = stat(path, &status) == 0 || (errno != ENOENT && errno != ENOTDIR)
    return PluginSettingsError(description, isAboutAFile: there)
  }
}
