import Foundation
import Testing
import VigilTestSupport

/// The web console in a real browser: `Tests/Browser/console_test.py` starts the `vigild`
/// built next to this test binary with its console on a loopback port, submits reports over
/// the socket, and checks the pages in headless Chromium through Selenium (each of its
/// checks prints PASS or FAIL with its reason). It needs chromium, chromium-driver and
/// python3-selenium, which `scripts/install-browser-test-tools` installs (the test runs it,
/// through scripts/install-test-tools, when one is missing); without them it fails, it
/// never skips.
@Suite("The web console in headless Chromium (Tests/Browser/console_test.py)", .onThreadsOfTheirOwn)
struct ConsoleBrowserTests {
  static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()
  static let script = root.appendingPathComponent("Tests/Browser/console_test.py").path
  /// The `vigild` built next to the test binary, as `ChildProcess` runs it.
  static let vigild = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    .appendingPathComponent("vigild").path
  /// Debian's python3-selenium is installed for the system's interpreter; another `python3`
  /// first on the PATH (pyenv, a venv) may not see it (the script adds its path then).
  static let python = FileManager.default.isExecutableFile(atPath: "/usr/bin/python3") ? "/usr/bin/python3" : "python3"
  static let timeout: TimeInterval = 300

  /// What the browser tier needs that is missing, named for the message.
  static func missingTools() -> [String] {
    var missing: [String] = []
    for (path, package) in [("/usr/bin/chromium", "chromium"), ("/usr/bin/chromedriver", "chromium-driver")]
    where !FileManager.default.isExecutableFile(atPath: path) {
      missing.append("\(package) (\(path))")
    }
    let probe = Process()
    probe.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    probe.arguments = [
      python, "-c", "import sys; sys.path.append('/usr/lib/python3/dist-packages'); import selenium",
    ]
    probe.standardOutput = FileHandle.nullDevice
    probe.standardError = FileHandle.nullDevice
    if (try? probe.run()) == nil {
      missing.append("python3")
    } else {
      probe.waitUntilExit()
      if probe.terminationStatus != 0 { missing.append("python3-selenium (\(python) cannot import selenium)") }
    }
    return missing
  }

  @Test(.timeLimit(.minutes(10)))
  func theConsolePassesItsBrowserTests() throws {
    let installFailure = Self.missingTools().isEmpty ? nil : TestTools.install()
    let missing = Self.missingTools()
    #expect(
      missing.isEmpty,
      "the browser tests need \(missing.joined(separator: ", ")), which scripts/install-test-tools did not install: \(installFailure ?? "")")
    guard missing.isEmpty else { return }
    #expect(FileManager.default.isExecutableFile(atPath: Self.vigild), "no vigild at \(Self.vigild)")

    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = [Self.python, Self.script, "--vigild", Self.vigild]
    process.currentDirectoryURL = Self.root
    var environment = ProcessInfo.processInfo.environment
    environment["PYTHONUNBUFFERED"] = "1"
    process.environment = environment
    // One pipe for both, so the output reads in the order it was written.
    let output = Pipe()
    process.standardOutput = output
    process.standardError = output
    process.standardInput = FileHandle.nullDevice
    try process.run()
    let collected = ReadInBackground(output.fileHandleForReading)

    let finished = eventually(within: Self.timeout) { !process.isRunning }
    if !finished {
      // SIGTERM lets the script stop the daemons it started and remove its directory.
      kill(process.processIdentifier, SIGTERM)
      if !eventually(within: 20, { !process.isRunning }) { kill(process.processIdentifier, SIGKILL) }
    }
    process.waitUntilExit()
    let text = String(decoding: collected.wait(), as: UTF8.self)
    #expect(finished, "console_test.py did not finish within \(Int(Self.timeout)) s; its output:\n\(text)")
    #expect(
      process.terminationReason == .exit && process.terminationStatus == 0,
      "console_test.py exited with status \(process.terminationStatus); its output:\n\(text)")
  }
}
