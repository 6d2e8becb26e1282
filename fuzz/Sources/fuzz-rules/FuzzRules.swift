import VigilFuzzing

/// `fuzz/run` builds this as a libFuzzer binary; built plainly it replays inputs.
@main enum FuzzRules {
  static func main() { FuzzTarget.rules.main() }
}
