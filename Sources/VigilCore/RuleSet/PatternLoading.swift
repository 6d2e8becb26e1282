/// Loading `pattern:` items (docs/patterns.md): checked like rules — every key, every
/// condition, every key of the group, every named rule — and proved by their examples.
extension Loading {
  static let patternKeys = [
    "pattern", "desc", "priority", "basis", "tags", "enabled", "rules", "condition", "sequence", "group_by",
    "distinct", "count", "window", "output", "examples",
  ]

  mutating func compilePattern(
    _ members: [RuleNode.Member], _ position: SourcePosition, compiler: ConditionCompiler, rules: [Rule]
  ) -> Pattern? {
    let required = ["pattern", "desc", "priority", "window", "output"]
    let keysFine = checkKeys(members, known: Self.patternKeys, required: required, what: "pattern", at: position)
    guard let idScalar = scalar(members, "pattern", owner: "a pattern") else { return nil }
    register(id: idScalar, kind: "pattern")
    // As for a rule: a key missing or unknown does not stop the others' checks.
    let id = idScalar.text
    let owner = "pattern \(id)"
    let (description, priority, basis, tags, enabled) = describingMembers(members, owner: owner, kind: "pattern")
    let window = patternWindow(members, owner: owner)
    let groupBy = patternKeys(members, owner: owner, compiler: compiler)
    var distinct = members.contains { $0.key == "distinct" } ? patternKey(members, "distinct", owner: owner, compiler: compiler) : nil
    // A key of the group has one value within it: counting its distinct values could never
    // reach the count (2 at least), and the pattern would never fire.
    if let counted = distinct, let groupBy, groupBy.contains(where: { $0.text == counted.text }),
      let node = members.first(where: { $0.key == "distinct" })?.value
    {
      fail(
        node.position,
        "\(owner): distinct counts \(counted.text), which group_by also names: it has one value in a group, "
          + "so the count could never be reached; count another field, or leave it out of group_by")
      distinct = nil
    }
    let shape = patternShape(members, owner: owner, compiler: compiler, rules: rules, position: position)
    var output: PatternTemplate?
    let outputScalar = scalar(members, "output", owner: owner)
    if let outputScalar, Self.saysNothing(outputScalar.text) {
      fail(outputScalar.position, "\(owner): output must say something: it is the alert's message")
    } else if let outputScalar {
      var keyCount = 0
      if case .sequence(let keys, _)? = members.first(where: { $0.key == "group_by" })?.value { keyCount = keys.count }
      do {
        output = try PatternTemplate(outputScalar.text, groupKeys: keyCount)
      } catch {
        for each in error.all { fail(locate(each.start, in: outputScalar), "\(owner): output: \(each.message)") }
      }
    }
    guard keysFine, let description, let priority, let basis, let tags, let enabled, let window, let groupBy, let shape,
      members.contains(where: { $0.key == "distinct" }) == (distinct != nil), let output
    else {
      // The examples cannot be run on a broken pattern, but how they are written can be checked.
      checkPatternExamplesForm(members, id: id)
      return nil
    }
    let form: Pattern.Form = shape.sequence ? .sequence : distinct == nil ? .count : .distinct
    let definition = Self.patternDefinitionKeys.map { key in
      members.first { $0.key == key }.map { Self.text(of: $0.value) } ?? ""
    }.joined(separator: "\u{0}")
    let pattern = Pattern(
      id: id, description: description.text, priority: priority, basis: basis, tags: tags, enabled: enabled,
      position: position, exampleCount: 0, definition: definition, form: form, threshold: shape.threshold,
      window: window, steps: shape.steps, groupBy: groupBy, distinct: distinct, output: output)
    return pattern.with(exampleCount: runPatternExamples(members, pattern: pattern, rules: rules))
  }

  /// The keys whose text decides what a pattern does.
  static let patternDefinitionKeys = [
    "rules", "condition", "sequence", "group_by", "distinct", "count", "window", "output", "enabled",
  ]

  /// A node's text, flattened: to compare two loads of a pattern.
  private static func text(of node: RuleNode) -> String {
    switch node {
    case .scalar(let scalar): scalar.text
    case .sequence(let elements, _): "[" + elements.map(text(of:)).joined(separator: ",") + "]"
    case .mapping(let members, _): "{" + members.map { $0.key + ":" + text(of: $0.value) }.joined(separator: ",") + "}"
    }
  }

  private mutating func patternWindow(_ members: [RuleNode.Member], owner: String) -> PatternDuration? {
    guard let scalar = scalar(members, "window", owner: owner) else { return nil }
    guard let window = PatternDuration(scalar.text) else {
      fail(
        scalar.position,
        "\(owner): window must be a number of days or hours, such as 30d or 12h, at most 400 days; got '\(scalar.text)'")
      return nil
    }
    return window
  }

  /// What counts, and how many complete the pattern: `rules`/`condition` with `count`, or
  /// `sequence` (whose steps each have their own).
  private mutating func patternShape(
    _ members: [RuleNode.Member], owner: String, compiler: ConditionCompiler, rules: [Rule], position: SourcePosition
  ) -> (steps: [PatternStep], threshold: Int, sequence: Bool)? {
    if let sequence = members.first(where: { $0.key == "sequence" }) {
      // Every problem of the pattern is said in one load: the keys that do not go with a
      // sequence, its length, and each step's own.
      var fine = true
      for key in ["rules", "condition", "count", "distinct"] {
        if let member = members.first(where: { $0.key == key }) {
          fail(
            member.keyPosition,
            "\(owner): '\(key)' does not go with 'sequence'; each step says what it counts, and every step must be met")
          fine = false
        }
      }
      guard case .sequence(let items, _) = sequence.value, items.count >= 2 else {
        fail(sequence.value.position, "\(owner): sequence must be a list of two or more steps, each with rules or a condition")
        return nil
      }
      guard items.count <= 16 else {
        fail(sequence.value.position, "\(owner): a sequence has at most 16 steps")
        return nil
      }
      var steps: [PatternStep] = []
      for (index, item) in items.enumerated() {
        guard case .mapping(let stepMembers, let stepPosition) = item else {
          fail(item.position, "\(owner): step \(index + 1) must be a mapping with rules and/or condition")
          fine = false
          continue
        }
        guard checkKeys(stepMembers, known: ["rules", "condition"], required: [], what: "step", at: stepPosition),
          let step = patternStep(stepMembers, owner: "\(owner): step \(index + 1)", compiler: compiler, rules: rules, position: stepPosition)
        else {
          fine = false
          continue
        }
        steps.append(step)
      }
      return fine ? (steps, steps.count, true) : nil
    }
    let step = patternStep(members, owner: owner, compiler: compiler, rules: rules, position: position)
    guard let countNode = members.first(where: { $0.key == "count" })?.value else {
      fail(position, "\(owner): a pattern needs 'count' (how many reports complete it) or 'sequence'")
      return nil
    }
    guard case .scalar(let count) = countNode, let threshold = Int(count.text), (2...1000).contains(threshold) else {
      fail(countNode.position, "\(owner): count must be a whole number from 2 to 1000, got \(countNode.kindName)")
      return nil
    }
    return step.map { ([$0], threshold, false) }
  }

  /// Whether a `pattern:` item has this id (patterns and rules share one namespace).
  private func declaresPattern(_ id: String) -> Bool {
    patternItems.contains { item in
      item.members.contains { member in
        if member.key == "pattern", case .scalar(let scalar) = member.value { return scalar.text == id }
        return false
      }
    }
  }

  /// `rules` and/or `condition`: at least one.
  private mutating func patternStep(
    _ members: [RuleNode.Member], owner: String, compiler: ConditionCompiler, rules: [Rule], position: SourcePosition
  ) -> PatternStep? {
    let hasCondition = members.contains { $0.key == "condition" }
    guard hasCondition || members.contains(where: { $0.key == "rules" }) else {
      fail(position, "\(owner): say what counts with 'rules' (the rules whose alerts count), 'condition', or both")
      return nil
    }
    guard let named = strings(members, "rules", owner: owner) else { return nil }
    var fine = true
    let ruleNode = members.first { $0.key == "rules" }?.value
    for (index, name) in named.enumerated() {
      if named[..<index].contains(name) {
        var where_ = ruleNode?.position ?? position
        if case .sequence(let elements, _)? = ruleNode, index < elements.count { where_ = elements[index].position }
        fail(where_, "\(owner): rules names '\(name)' twice")
        fine = false
        continue
      }
      guard let rule = rules.first(where: { $0.id == name }) else {
        var where_ = ruleNode?.position ?? position
        if case .sequence(let elements, _)? = ruleNode, index < elements.count { where_ = elements[index].position }
        // A rule with errors of its own, or a file that could not be read, may be why it is
        // missing: say so rather than that it does not exist.
        if let defined = ruleIDs[name], !declaresPattern(name) {
          fail(where_, "\(owner): rule '\(name)' (\(defined)) did not load: see its own errors")
        } else if declaresPattern(name) {
          fail(where_, "\(owner): '\(name)' is a pattern, not a rule: a pattern counts the alerts of rules, not another pattern's")
        } else if !unreadFiles.isEmpty {
          let files = unreadFiles.joined(separator: ", ")
          fail(
            where_,
            "\(owner): no rule is named '\(name)' among the rules loaded; it may be in \(files), which could not be "
              + "read (see \(unreadFiles.count == 1 ? "its error" : "their errors"))")
        } else {
          // Its family: the rules whose first part (up to the first dot) is the name's.
          let family = name.split(separator: ".", maxSplits: 1).first.map { $0 + "." } ?? name
          let known = rules.map(\.id).filter { $0.hasPrefix(family) }
          fail(
            where_,
            "\(owner): no rule is named '\(name)'"
              + (known.isEmpty ? "" : " (rules of that family: \(known.prefix(8).joined(separator: ", ")))"))
        }
        fine = false
        continue
      }
      if !rule.enabled {
        warnings.append(RuleError(ruleNode?.position ?? position, "\(owner): rule \(name) is disabled, so its alerts never count"))
      }
    }
    if named.isEmpty, ruleNode != nil, !hasCondition {
      fail(ruleNode!.position, "\(owner): rules must name at least one rule")
      fine = false
    }
    var condition: CompiledCondition?
    if hasCondition {
      guard let compiled = compileCondition(members, owner: owner, compiler: compiler) else { return nil }
      condition = compiled
    }
    return fine ? PatternStep(rules: named, condition: condition) : nil
  }

  private mutating func patternKeys(
    _ members: [RuleNode.Member], owner: String, compiler: ConditionCompiler
  ) -> [PatternKey]? {
    guard let node = members.first(where: { $0.key == "group_by" })?.value, !node.isNull else { return [] }
    guard case .sequence(let elements, _) = node else {
      fail(node.position, "\(owner): group_by must be a list of fields or calls, such as [governorate(location)]; got \(node.kindName)")
      return nil
    }
    guard elements.count <= 9 else {
      fail(node.position, "\(owner): group_by takes at most 9 keys")
      return nil
    }
    var keys: [PatternKey] = []
    var repeated = false
    for element in elements {
      guard case .scalar(let scalar) = element, !element.isNull else {
        fail(element.position, "\(owner): each of group_by must be a field or a call, got \(element.kindName)")
        continue
      }
      guard let key = compileKey(scalar, owner: "\(owner): group_by", compiler: compiler) else { continue }
      // The same key twice groups nothing more: a slip for another key, most likely.
      if keys.contains(where: { $0.text == key.text }) {
        fail(scalar.position, "\(owner): group_by names \(key.text) twice")
        repeated = true
      }
      keys.append(key)
    }
    return keys.count == elements.count && !repeated ? keys : nil
  }

  private mutating func patternKey(
    _ members: [RuleNode.Member], _ name: String, owner: String, compiler: ConditionCompiler
  ) -> PatternKey? {
    guard let scalar = scalar(members, name, owner: owner) else { return nil }
    return compileKey(scalar, owner: "\(owner): \(name)", compiler: compiler)
  }

  /// A field path or a call of the set's functions, checked as in a condition.
  private mutating func compileKey(
    _ scalar: RuleNode.Scalar, owner: String, compiler: ConditionCompiler
  ) -> PatternKey? {
    let text = scalar.text.trimmingCharacters(in: .whitespaces)
    if text.contains("(") {
      do {
        guard case .call(let call) = try ConditionParser.parse(text) else {
          fail(scalar.position, "\(owner): '\(text)' is not one field or one call")
          return nil
        }
        // A message shows the group as the report wrote it: the text of the call's field
        // (`Madaya` for `place_or_text(access.destination)`, whose value is the key `madaya`).
        var shown: (@Sendable (Report) -> FieldValue?)?
        // Only for a function from a text to a text (a name's key, a normalised name): the
        // field is then what the value stands for; `days_between(a, b)` is not `a`.
        if case .word(let name)? = call.arguments.first, let field = ReportSchema.field(name.text),
          field.type == .text, compiler.functions[call.function.text]?.result == .text
        {
          shown = field.read
        }
        // `party(actor)`: the actor's party as written, else its name (`الحكومة`, not the
        // normalised `حكومه` it groups by).
        if call.function.text == BuiltInFunctions.party.name, case .word(let name)? = call.arguments.first,
          let party = ReportSchema.field(name.text + ".party"), let actorName = ReportSchema.field(name.text + ".name")
        {
          // The party `party()` took: one with no words to group by (`?`) gives way to the name.
          shown = { report in
            if case .text(let text)? = party.read(report), !NameNormalizer.words(of: text.string).isEmpty {
              return .text(text)
            }
            return actorName.read(report)
          }
        }
        return PatternKey(text: text, read: try compiler.value(of: call), shown: shown)
      } catch {
        fail(locate(error.start, in: scalar), "\(owner): \(error.message)")
        return nil
      }
    }
    guard let field = ReportSchema.field(text) else {
      fail(scalar.position, "\(owner): unknown field \(text)\(ConditionCompiler.suggestion(for: text))")
      return nil
    }
    guard field.type != .object else {
      fail(scalar.position, "\(owner): \(text) is an object; name one of its fields, or call a function on it")
      return nil
    }
    // A list as a key would make [a, b] and [b, a] two groups, and a group of two values.
    if case .words = field.type {
      fail(scalar.position, "\(owner): \(text) holds a list; a key is one value: a field of one value, or a call")
      return nil
    }
    guard field.type != .texts else {
      fail(scalar.position, "\(owner): \(text) holds a list; a key is one value: a field of one value, or a call")
      return nil
    }
    return PatternKey(text: text, read: field.read)
  }

  /// A broken pattern's examples, for their form alone: each case a list of reports, each
  /// report a valid one.
  private mutating func checkPatternExamplesForm(_ members: [RuleNode.Member], id: String) {
    let groups = exampleGroups(
      members, owner: "pattern \(id)", keys: ["fires", "quiet"], listOf: "cases, each a list of reports")
    for (key, cases) in groups {
      for (caseIndex, example) in cases.enumerated() {
        let label = "pattern \(id): example \(key)[\(caseIndex)]"
        guard case .sequence(let reports, _) = example, !reports.isEmpty else {
          fail(example.position, "\(label) must be a list of reports, in the order they arrive")
          continue
        }
        for (index, node) in reports.enumerated() {
          guard case .mapping = node else {
            fail(node.position, "\(label): report \(index + 1) must be a mapping, got \(node.kindName)")
            break
          }
          if exampleReport(node, id: "\(id):\(caseIndex)", index: index, label: "\(label): report \(index + 1)") == nil {
            break
          }
        }
      }
    }
  }

  /// Runs the pattern's examples: each `fires` case must complete it exactly once, on its
  /// last report; each `quiet` case never. Gives how many cases there were.
  private mutating func runPatternExamples(_ members: [RuleNode.Member], pattern: Pattern, rules: [Rule]) -> Int {
    let named = Set(pattern.steps.flatMap(\.rules))
    let counted = rules.filter { named.contains($0.id) }
    var count = 0
    let groups = exampleGroups(
      members, owner: "pattern \(pattern.id)", keys: ["fires", "quiet"], listOf: "cases, each a list of reports")
    for (key, cases) in groups {
      for (caseIndex, example) in cases.enumerated() {
        count += 1
        let label = "pattern \(pattern.id): example \(key)[\(caseIndex)]"
        guard case .sequence(let reports, _) = example, !reports.isEmpty else {
          fail(example.position, "\(label) must be a list of reports, in the order they arrive")
          continue
        }
        // Judged with the default horizon: an example is about the pattern, the same for every
        // configuration. Counted with the configured one too, where it differs, so that an
        // example the daemon would not bear out is said (a warning).
        var windows = PatternWindows()
        var configured = latenessHorizon == PatternWindows.defaultHorizon ? nil : PatternWindows(horizon: latenessHorizon)
        var firedConfigured: [Int] = []
        var recorded = Set<String>()
        var fired: [Int] = []
        var broken = false
        for (index, node) in reports.enumerated() {
          guard case .mapping = node else {
            fail(node.position, "\(label): report \(index + 1) must be a mapping, got \(node.kindName)")
            broken = true
            break
          }
          guard
            let report = exampleReport(
              node, id: "\(pattern.id):\(caseIndex)", index: index, label: "\(label): report \(index + 1)")
          else {
            broken = true
            break
          }
          // A report whose id came before is not counted, as vigild would not record it
          // (already recorded, or an id_conflict).
          guard recorded.insert(report.id).inserted else { continue }
          let matches = counted.filter { $0.matches(report) }.map { RuleMatch(rule: $0, message: "") }
          let events = pattern.event(for: report, fired: matches, index: 0).map { [$0] } ?? []
          let observation = windows.observe(events, report: report, receivedAt: examplesReceivedAt, patterns: [pattern]) { _ in [] }
          windows.settle()
          if !observation.completions.isEmpty { fired.append(index) }
          if configured != nil {
            let seen = configured!.observe(events, report: report, receivedAt: examplesReceivedAt, patterns: [pattern]) { _ in [] }
            configured!.settle()
            if !seen.completions.isEmpty { firedConfigured.append(index) }
          }
        }
        if broken || examplesWithheld { continue }
        if configured != nil, firedConfigured != fired {
          let days = latenessHorizon / 86_400_000
          let outcome =
            firedConfigured.isEmpty
            ? "does not fire" : "fires on report \(firedConfigured.map { String($0 + 1) }.joined(separator: ", "))"
          warnings.append(
            RuleError(
              example.position,
              "\(label) \(outcome) with rules.lateness_horizon_days: \(days) (examples are judged with the default, "
                + "\(PatternWindows.defaultHorizon / 86_400_000)): "
                + (latenessHorizon < PatternWindows.defaultHorizon
                  ? "a report in it comes too late for this configuration"
                  : "a report in it that comes too late by the default counts in this configuration")))
        }
        let last = reports.count - 1
        switch (key, fired) {
        case ("fires", [last]), ("quiet", []): break
        case ("fires", []):
          fail(example.position, "\(label) does not fire", kind: .example)
        case ("fires", _):
          fail(
            example.position,
            "\(label) fires on report\(fired.count == 1 ? "" : "s") \(fired.map { String($0 + 1) }.joined(separator: ", ")); "
              + "it must fire once, on its last report (\(reports.count))", kind: .example)
        default:
          fail(
            example.position,
            "\(label) fires on report \(fired.map { String($0 + 1) }.joined(separator: ", ")), but should not fire",
            kind: .example)
        }
      }
    }
    return count
  }
}
