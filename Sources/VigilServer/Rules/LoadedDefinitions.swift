import Foundation
import VigilCore

/// The definitions of the rule set last loaded (`RuleSet.definitionDigests`), kept in the
/// state directory so that the start's `vigil.ruleset_loaded` counts rules added, removed
/// and changed against the set the run before it had in force, as a reload's does.
/// One line per rule or pattern: `<digest> <id>`.
public enum LoadedDefinitions {
  public static func path(stateDirectory: String) -> String { stateDirectory + "/ruleset.loaded" }

  /// What the file holds; empty when there is none (the first start) or it is unreadable.
  public static func read(_ path: String) -> [String: String] {
    guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [:] }
    var digests: [String: String] = [:]
    for line in text.split(separator: "\n") {
      let parts = line.split(separator: " ", maxSplits: 1)
      if parts.count == 2 { digests[String(parts[1])] = String(parts[0]) }
    }
    return digests
  }

  /// Replaces the file (written aside, then renamed in); a failure is logged, and the
  /// daemon writes the set in force again as it stops (`owed`), so that the counts of the
  /// next start are not against an older set. Whether it was written.
  @discardableResult
  public static func write(_ digests: [String: String], to path: String, log: (String) -> Void) -> Bool {
    let text = digests.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)\n" }.joined()
    do {
      try text.write(toFile: path, atomically: true, encoding: .utf8)
      return true
    } catch {
      log(
        "cannot write \(path) (the rule set's definitions, for the next start's counts): \(error.localizedDescription); "
          + "it is written again as vigild stops")
      return false
    }
  }
}
