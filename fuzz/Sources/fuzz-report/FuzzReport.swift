import Foundation
import VigilFuzzing

#if FUZZING
  import CFuzzerDriver
#endif

/// Built by `fuzz/run` (`-sanitize=fuzzer -DFUZZING`): libFuzzer, fuzzing the target.
/// Built plainly: replays the inputs named on the command line (see FuzzReplay).
@main enum FuzzReport {
  static func main() {
    #if FUZZING
      var argc = CommandLine.argc
      var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
      exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in FuzzTarget.report.fuzzOne(data, size) })
    #else
      FuzzReplay.main(.report)
    #endif
  }
}
