import Foundation

/// The real datasets of `../shared/data/` (its SOURCES.md), always present for developers
/// and CI: a test that needs one fails with a clear message when it is missing, never
/// skips. Found, in order, at `$VIGIL_SHARED_DATA`, at `shared/data` beside the project
/// root or beside any folder above it (a clone made elsewhere), and at this workplace's
/// `/work/shared/data`.
public enum SharedData {
  public static let folder: String? = {
    let fileManager = FileManager.default
    var candidates: [String] = []
    if let given = ProcessInfo.processInfo.environment["VIGIL_SHARED_DATA"], !given.isEmpty { candidates.append(given) }
    var directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent()
    while directory.path != "/" {
      candidates.append(directory.deletingLastPathComponent().appendingPathComponent("shared/data").path)
      directory = directory.deletingLastPathComponent()
    }
    candidates.append("/work/shared/data")
    return candidates.first { fileManager.fileExists(atPath: $0 + "/SOURCES.md") }
  }()

  /// The dataset's path, or nil (the test should then record the failure `missing(name)`).
  public static func path(_ name: String) -> String? {
    folder.map { $0 + "/" + name }.flatMap { FileManager.default.fileExists(atPath: $0) ? $0 : nil }
  }

  /// Why a dataset cannot be found.
  public static func missing(_ name: String) -> String {
    "the real dataset \(name) is missing: looked in $VIGIL_SHARED_DATA, shared/data beside the project and its parents, "
      + "and /work/shared/data (see ../shared/data/SOURCES.md)"
  }
}
