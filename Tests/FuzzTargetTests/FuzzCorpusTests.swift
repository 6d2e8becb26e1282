import Foundation
import Testing
import VigilFuzzing

/// The fuzz targets of `fuzz/run`, called directly rather than by libFuzzer: every seed `fuzz/seeds.py` writes
/// (the generator's reports, the shipped rules and their conditions) and every input kept
/// in `fuzz/regressions/` — each a crash or broken promise once found — must go through
/// its target without a finding.
@Suite("Fuzz targets: seeds and regressions")
struct FuzzCorpusTests {
  static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

  static let seeds: URL = {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-fuzz-seeds-\(getpid())")
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = [
      "python3", root.appendingPathComponent("fuzz/seeds.py").path, directory.path,
      root.appendingPathComponent("../shared").path,
    ]
    do {
      try process.run()
      process.waitUntilExit()
    } catch {
      Issue.record("cannot run fuzz/seeds.py: \(error)")
    }
    return directory
  }()

  @Test(arguments: FuzzTarget.allCases)
  func seedsAndRegressionsGoThroughWithoutAFinding(target: FuzzTarget) throws {
    let files = FuzzReplay.files(at: Self.seeds.appendingPathComponent(target.rawValue).path)
    // A seed script that wrote next to nothing would make this test prove nothing.
    #expect(files.count >= 8, "only \(files.count) seeds for \(target.rawValue)")
    for file in files {
      let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: file)))
      #expect(throws: Never.self, "\(file)") {
        try bytes.withUnsafeBufferPointer { input throws(FuzzFinding) in try target.exercise(input) }
      }
    }
  }

  @Test(arguments: FuzzTarget.allCases)
  func theSeedsIncludeEveryKeptRegression(target: FuzzTarget) throws {
    let kept = FuzzReplay.files(at: Self.root.appendingPathComponent("fuzz/regressions/\(target.rawValue)").path)
    let seeded = Set(FuzzReplay.files(at: Self.seeds.appendingPathComponent(target.rawValue).path).map {
      URL(fileURLWithPath: $0).lastPathComponent
    })
    #expect(kept.contains { $0.hasSuffix("/README.md") }, "fuzz/regressions/\(target.rawValue)/ is missing")
    for file in kept where !file.hasSuffix("/README.md") {
      #expect(seeded.contains("regression-" + URL(fileURLWithPath: file).lastPathComponent))
    }
  }
}
