import Foundation
import VigilFuzzing

#if FUZZING
  import CFuzzerDriver
#endif

/// Built by `fuzz/run` (`-sanitize=fuzzer -DFUZZING`): libFuzzer, fuzzing the target.
/// Built plainly: replays the inputs named on the command line (see FuzzReplay).
@main enum FuzzRules {
  static func main() {
    #if FUZZING
      var argc = CommandLine.argc
      var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
      exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in FuzzTarget.rules.fuzzOne(data, size) })
    #else
      FuzzReplay.main(.rules)
    #endif
  }
}
