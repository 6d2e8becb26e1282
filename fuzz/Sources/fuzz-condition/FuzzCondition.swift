import VigilFuzzing

/// `fuzz/run` builds this as a libFuzzer binary; built plainly it replays inputs.
@main enum FuzzCondition {
  static func main() { FuzzTarget.condition.main() }
}
