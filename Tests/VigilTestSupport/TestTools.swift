import Foundation

/// What the test suite starts besides vigild and vigil (PostgreSQL, Prometheus, Chromium …),
/// installed by `scripts/install-test-tools` when a test finds one missing: `swift test`
/// then works on a fresh Debian machine, as .ci/run does (which runs the script first).
public enum TestTools {
  /// The repository's root, from this file's place in it.
  public static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

  /// Runs the script once for the whole test process, however many tests ask; nil when it
  /// succeeded, else what it printed (for the failing test's message).
  public static func install() -> String? { installation }

  private static let installation: String? = {
    let script = root.appendingPathComponent("scripts/install-test-tools").path
    guard let run = try? ChildProcess.run("/usr/bin/env", ["bash", script], in: root.path) else {
      return "cannot run \(script)"
    }
    return run.status == 0 ? nil : "\(script) failed (exit \(run.status)): \(run.standardOutput)\(run.standardError)"
  }()
}
