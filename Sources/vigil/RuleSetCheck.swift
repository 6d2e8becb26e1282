import VigilCore

/// The outcome of loading a rule set offline, as `rules lint` and `rules test` print it.
struct RuleSetCheck {
  let result: Result<RuleSet, RuleSetErrors>
  let files: Int
  /// Whether the examples were run (`rules test`).
  let examples: Bool
  /// How many of the errors are the configuration's (a plugin's settings), not the rules':
  /// a reload does not read those, so a running vigild would take the rules.
  var configurationErrors = 0
  /// The configuration's warnings (a file the settings name that this user cannot read).
  var configurationWarnings: [RuleError] = []

  var errors: [RuleError] {
    if case .failure(let errors) = result { return errors.errors }
    return []
  }

  func print(json: Bool) {
    var warnings = configurationWarnings
    switch result {
    case .success(let set): warnings += set.warnings
    case .failure(let failure): warnings += failure.warnings
    }
    for error in errors { line(error, severity: "error", json: json) }
    for warning in warnings { line(warning, severity: "warning", json: json) }
    if examples, !json, case .success(let set) = result {
      for pattern in set.patterns {
        Swift.print(
          TerminalText.safe("pattern \(pattern.id) (\(pattern.form.rawValue), \(pattern.windowText)): "
            + "\(plural(pattern.exampleCount, "example")) pass\(pattern.enabled ? "" : "; disabled")"))
      }
    }
    Swift.print(json ? summaryJSON(warnings: warnings.count) : summary(warnings: warnings.count))
  }

  private func line(_ problem: RuleError, severity: String, json: Bool) {
    if json {
      Swift.print(
        "{\"file\":\(JSONText.string(problem.position.file)),\"line\":\(problem.position.line),"
          + "\"column\":\(problem.position.column),\"severity\":\"\(severity)\",\"kind\":\"\(problem.kind.rawValue)\","
          + "\"message\":\(JSONText.string(problem.message))}")
    } else {
      // A rule file's text quoted in a message (an unknown value, a name) is shown safe,
      // as a report's is: a bidi override in a rule file cannot turn the line round.
      let place = problem.position.file.isEmpty ? "" : "\(problem.position): "
      Swift.print(TerminalText.safe(severity == "error" ? problem.description : "\(place)warning: \(problem.message)"))
    }
  }

  private func summary(warnings: Int) -> String {
    switch result {
    case .success(let set):
      let exampleCount = set.rules.reduce(0) { $0 + $1.exampleCount } + set.patterns.reduce(0) { $0 + $1.exampleCount }
      let checked = examples ? "; all \(exampleCount) examples pass" : ""
      let warned = warnings == 0 ? "" : "; \(plural(warnings, "warning"))"
      let patterns =
        set.patterns.isEmpty ? "" : " and \(plural(set.patterns.count, "pattern")) (\(set.enabledPatternCount) enabled)"
      return
        "ok: \(plural(set.rules.count, "rule")) (\(set.enabledRuleCount) enabled)\(patterns) in \(plural(files, "file"))"
        + "\(checked)\(warned); revision \(set.revision)"
    case .failure(let failure):
      let failedExamples = failure.errors.count { $0.kind == .example }
      let others = failure.errors.count - failedExamples
      var parts: [String] = []
      if failedExamples > 0 { parts.append("\(plural(failedExamples, "example")) failed") }
      if others > 0 { parts.append(plural(others, "error")) }
      // The files the errors are in, of those read: "1 error in 1 of 10 files".
      let erring = Set(failure.errors.map(\.position.file).filter { !$0.isEmpty }).count
      let place = erring == 0 || files == 1 ? plural(files, "file") : "\(erring) of \(plural(files, "file"))"
      if configurationErrors == failure.errors.count {
        return "rejected: \(parts.joined(separator: ", ")) in the configuration; vigild would not start on it "
          + "(the rules load: a running vigild's reload would take them)"
      }
      return
        "rejected: \(parts.joined(separator: ", "))\(files == 0 ? "" : " in \(place)"); "
        + "vigild would not start with it, and a running vigild would keep its old rules"
    }
  }

  private func plural(_ count: Int, _ noun: String) -> String {
    "\(count) \(noun)\(count == 1 ? "" : "s")"
  }

  private func summaryJSON(warnings: Int) -> String {
    switch result {
    case .success(let set):
      let exampleCount = set.rules.reduce(0) { $0 + $1.exampleCount } + set.patterns.reduce(0) { $0 + $1.exampleCount }
      return "{\"ok\":true,\"rules\":\(set.rules.count),\"enabled\":\(set.enabledRuleCount),"
        + "\"patterns\":\(set.patterns.count),\"patterns_enabled\":\(set.enabledPatternCount),\"files\":\(files),"
        + "\"examples\":\(exampleCount),\"warnings\":\(warnings),\"revision\":\"\(set.revision)\"}"
    case .failure(let failure):
      let failedExamples = failure.errors.count { $0.kind == .example }
      return "{\"ok\":false,\"errors\":\(failure.errors.count - failedExamples),\"failed_examples\":\(failedExamples),"
        + "\"files\":\(files)}"
    }
  }
}
