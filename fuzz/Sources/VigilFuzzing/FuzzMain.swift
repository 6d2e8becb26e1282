import Foundation

#if FUZZING
  import CFuzzerDriver
#endif

extension FuzzTarget {
  /// A target executable's `main`. Built by `fuzz/run` (with libFuzzer and `-DFUZZING`,
  /// fuzz/build-flags): libFuzzer, fuzzing the target. Built plainly: replays the inputs named on the
  /// command line (see FuzzReplay).
  public func main() -> Never {
    #if FUZZING
      var argc = CommandLine.argc
      var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
      // libFuzzer takes a C function pointer: one closure per target, capturing nothing.
      switch self {
      case .report: exit(LLVMFuzzerRunDriver(&argc, &argv) { FuzzTarget.report.fuzzOne($0, $1) })
      case .condition: exit(LLVMFuzzerRunDriver(&argc, &argv) { FuzzTarget.condition.fuzzOne($0, $1) })
      case .rules: exit(LLVMFuzzerRunDriver(&argc, &argv) { FuzzTarget.rules.fuzzOne($0, $1) })
      }
    #else
      FuzzReplay.main(self)
    #endif
  }
}
