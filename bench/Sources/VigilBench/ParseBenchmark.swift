import Foundation
import VigilCore

/// Times `ReportParser.parse` over every line of a workload on one core.
struct ParseBenchmark {
  let data: Data

  func run(rounds: Int) -> String {
    let bytes = [UInt8](data)
    let lines = lineRanges(bytes)
    var best = Double.infinity
    var accepted = 0
    var refused = 0
    var warnings = 0
    bytes.withUnsafeBufferPointer { buffer in
      for _ in 0..<rounds {
        accepted = 0
        refused = 0
        warnings = 0
        let start = ContinuousClock.now
        for range in lines {
          switch ReportParser.parse(UnsafeBufferPointer(rebasing: buffer[range])) {
          case .success(let parsed):
            accepted += 1
            warnings += parsed.warnings.count
          case .failure:
            refused += 1
          }
        }
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        best = min(best, seconds)
      }
    }
    // VIGIL_BENCH_PARSE_ONLY=1 skips the breakdown below, for profilers.
    let breakdownRounds = ProcessInfo.processInfo.environment["VIGIL_BENCH_PARSE_ONLY"] == nil ? rounds : 0
    var scanBest = Double.infinity
    bytes.withUnsafeBufferPointer { buffer in
      for _ in 0..<breakdownRounds {
        let start = ContinuousClock.now
        for range in lines {
          _ = try? JSONScanner.scan(UnsafeBufferPointer(rebasing: buffer[range]))
        }
        let elapsed = ContinuousClock.now - start
        scanBest = min(scanBest, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
      }
    }
    // The complete parser's validation alone, on tapes scanned beforehand (a slice of the
    // workload, to bound memory).
    var decodeBest = Double.infinity
    var decoded = 0
    let sample = Array(lines.prefix(20_000))
    bytes.withUnsafeBufferPointer { buffer in
      // Lines that are not JSON have no tape and drop out of this part.
      let tapes = sample.prefix(breakdownRounds == 0 ? 0 : sample.count).compactMap { range in
        (try? JSONScanner.scan(UnsafeBufferPointer(rebasing: buffer[range]))).map { (range, $0) }
      }
      decoded = tapes.count
      for _ in 0..<breakdownRounds {
        let start = ContinuousClock.now
        for (range, tape) in tapes {
          _ = ReportParser.decode(tape: tape, line: UnsafeBufferPointer(rebasing: buffer[range]), at: 0)
        }
        let elapsed = ContinuousClock.now - start
        decodeBest = min(decodeBest, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
      }
    }
    let perSecond = Double(lines.count) / best
    let mebibytes = Double(bytes.count) / 1_048_576 / best
    return """
      parse+validate: \(lines.count) reports, \(bytes.count / max(lines.count, 1)) bytes each on average
      accepted=\(accepted) refused=\(refused) warnings=\(warnings)
      best of \(rounds) rounds: \(String(format: "%.3f", best)) s
      the complete parser (what the fast path falls back to), in parts:
        JSON scan to a tape: \(Int(Double(lines.count) / scanBest)) lines per second
        validation of a tape: \(Int(Double(decoded) / decodeBest)) reports per second
      reports_per_s=\(Int(perSecond)) (\(String(format: "%.0f", mebibytes)) MiB/s, \(String(format: "%.2f", 1e6 / perSecond)) µs per report)
      """
  }

  private func lineRanges(_ bytes: [UInt8]) -> [Range<Int>] {
    var ranges: [Range<Int>] = []
    var start = 0
    for (index, byte) in bytes.enumerated() where byte == UInt8(ascii: "\n") {
      if index > start { ranges.append(start..<index) }
      start = index + 1
    }
    if start < bytes.count { ranges.append(start..<bytes.count) }
    return ranges
  }
}
