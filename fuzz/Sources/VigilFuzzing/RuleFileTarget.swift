import VigilCore
import VigilPlugins
import VigilServer

/// A rule file as an author saves it, loaded with every plugin (YAML, items, plugins'
/// items, macros, conditions, outputs, examples), and the same bytes as the daemon's
/// configuration file. Promises: a refused file is refused with messages at places inside
/// it; an accepted set evaluates the sample reports without trapping.
enum RuleFileTarget {
  static func exercise(_ input: UnsafeBufferPointer<UInt8>) throws(FuzzFinding) {
    let bytes = Array(input)
    // YAML (libyaml, 1.1) breaks lines at LF, CR, CRLF, NEL, LS and PS; counting each of
    // their bytes once (CRLF twice) gives an upper bound.
    let lineCount = bytes.count { $0 == 0x0A || $0 == 0x0D || $0 == 0x85 || $0 == 0xA8 || $0 == 0xA9 } + 1
    switch ShippedRules.loader.load([RuleSource(path: "/fuzz/x.yaml", name: "x.yaml", contents: bytes)]) {
    case .success(let set):
      for report in ConditionTarget.sampleReports {
        _ = set.evaluate(report)
      }
    case .failure(let refusal):
      try promise(!refusal.errors.isEmpty, "a refusal without errors for \(shown(input))")
      for error in refusal.errors {
        try promise(!error.message.isEmpty, "an error without a message for \(shown(input))")
        try promise(
          error.position.line >= 1 && error.position.line <= lineCount + 1 && error.position.column >= 1,
          "an error at \(error.position), outside the \(lineCount) lines of \(shown(input)): \(error.message)")
      }
    }
    do {
      _ = try ConfigurationLoader.load(
        yaml: String(decoding: bytes, as: UTF8.self), file: "vigild.yaml", knownPlugins: BuiltInPlugins.all.map(\.name))
    } catch {
      for problem in error.errors {
        try promise(!problem.message.isEmpty, "a configuration error without a message for \(shown(input))")
      }
    }
  }
}
