import Foundation
import VigilCore
import VigilPlugins
import VigilServer

/// The rule set in the repository's `Rules/` (or `VIGIL_FUZZ_RULES`), loaded once, with
/// every plugin this build knows enabled.
enum ShippedRules {
  static let directory: String = {
    if let given = ProcessInfo.processInfo.environment["VIGIL_FUZZ_RULES"] { return given }
    // fuzz/Sources/VigilFuzzing/ShippedRules.swift → the repository root.
    var root = URL(fileURLWithPath: #filePath)
    for _ in 0..<4 { root.deleteLastPathComponent() }
    return root.appendingPathComponent("Rules").path
  }()

  static let set: RuleSet = {
    do {
      let sources = try RuleDirectories.read([directory])
      switch loader.load(sources) {
      case .success(let set): return set
      case .failure(let errors): fatalError("the rules in \(directory) do not load:\n\(errors)")
      }
    } catch {
      fatalError("cannot read the rules in \(directory): \(error)")
    }
  }()

  static var loader: RuleSetLoader { RuleSetLoader(plugins: BuiltInPlugins.all.compactMap { $0 as? any RulePlugin }) }
}
