import ArgumentParser
import Foundation
import VigilCore

struct Verify: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Verify the alert log's hash chain; name the first line altered, inserted, deleted or reordered.",
    discussion: """
      Give rotated files oldest first; the chain runs across them. Without FILE: the \
      configuration's alert log with its rotated files. Exit 1 when it is broken.
      Example: vigil verify var/log/vigil/alerts.jsonl.2 var/log/vigil/alerts.jsonl.1 var/log/vigil/alerts.jsonl
      """)

  @Option(help: ArgumentHelp("Configuration file (default: Config/vigild.yaml if present).", valueName: "FILE"))
  var config: String?
  @Flag(help: "One JSON object with the outcome.") var json = false
  @Argument(help: ArgumentHelp("Alert log files, oldest first (default: the configuration's).", valueName: "FILE"))
  var files: [String] = []

  func run() throws {
    var verifier = ChainVerifier()
    for file in try logFiles() {
      guard let data = FileManager.default.contents(atPath: file) else {
        throw CommandFailure(status: 2, sentence: "cannot read \(file)")
      }
      var number = 0
      for line in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
        number += 1
        if line.isEmpty { continue }
        if let problem = verifier.take(Array(line)) {
          if json {
            print(
              "{\"ok\":false,\"file\":\(JSONText.string(file)),\"line\":\(number),\"problem\":\(JSONText.string(problem))}")
          } else {
            print("\(file):\(number): \(problem)")
          }
          throw ExitCode(1)
        }
      }
    }
    let first = verifier.firstSeq ?? 0
    if json {
      print("{\"ok\":true,\"records\":\(verifier.records),\"first_seq\":\(first),\"last_seq\":\(verifier.lastSeq)}")
      return
    }
    guard verifier.records > 0 else {
      print("ok: no records")
      return
    }
    print("ok: \(verifier.records) records, seq \(first)–\(verifier.lastSeq), chain intact")
    if first > 1 {
      print("verified from seq \(first): the records before it are not in these files (rotated away)")
    }
  }

  /// The files given, else the configured alert log after its rotated files that exist.
  private func logFiles() throws -> [String] {
    guard files.isEmpty else { return files }
    var options = DaemonOptions()
    options.config = config
    let alerts = try options.configuration().alerts
    let rotated = (1...max(alerts.keep, 1)).reversed().map { "\(alerts.path).\($0)" }
    return rotated.filter { FileManager.default.fileExists(atPath: $0) } + [alerts.path]
  }
}
