/// The targets `fuzz/run` builds, by the name of their executable.
public enum FuzzTarget: String, CaseIterable, Sendable {
  case report = "fuzz-report"
  case condition = "fuzz-condition"
  case rules = "fuzz-rules"

  /// Runs one input through the target.
  public func exercise(_ input: UnsafeBufferPointer<UInt8>) throws(FuzzFinding) {
    switch self {
    case .report: try ReportTarget.exercise(input)
    case .condition: try ConditionTarget.exercise(input)
    case .rules: try RuleFileTarget.exercise(input)
    }
  }

  /// What libFuzzer calls (`LLVMFuzzerTestOneInput`): a finding becomes a crash, which the
  /// fuzzer records with its input.
  public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    do {
      try exercise(UnsafeBufferPointer(start: data, count: size))
    } catch {
      fatalError("\(rawValue): \(error)")
    }
    return 0
  }
}
