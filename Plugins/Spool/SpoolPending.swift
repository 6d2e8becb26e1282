import Foundation
import VigilCore

/// The hidden `.NAME.<kind>.pending` text beside a file moved to done/ or failed/ before
/// its verdicts or reason were put in place.
enum SpoolPending {
  static let suffix = ".pending"

  static func path(for target: String, kind: String) -> String {
    let folder = FolderPath.of(target)
    return folder + "/." + (target as NSString).lastPathComponent + "." + kind + suffix
  }

  /// Puts in place the texts a crash left hidden: those whose file was moved already, and
  /// the verdicts of a file replaced or removed during its pass, which have no file.
  static func settle(in folder: String) {
    guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return }
    for name in names where name.hasPrefix(".") && name.hasSuffix(suffix) {
      let visible = String(name.dropFirst().dropLast(suffix.count))  // NAME.<kind>
      guard let dot = visible.lastIndex(of: ".") else { continue }
      let file = folder + "/" + visible[..<dot]
      let alone = visible.wholeMatch(of: #/.+\.(replaced|removed)(\.[0-9]+)?\.verdicts/#) != nil
      guard alone || FileManager.default.fileExists(atPath: file),
        !FileManager.default.fileExists(atPath: folder + "/" + visible)
      else { continue }
      try? FileManager.default.moveItem(atPath: folder + "/" + name, toPath: folder + "/" + visible)
    }
  }
}
