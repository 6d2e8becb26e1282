import VigilFuzzing

/// `fuzz/run` builds this as a libFuzzer binary; built plainly it replays inputs.
@main enum FuzzReport {
  static func main() { FuzzTarget.report.main() }
}
