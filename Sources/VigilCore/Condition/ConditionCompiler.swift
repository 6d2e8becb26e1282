import NIOConcurrencyHelpers
/// Resolves a condition's names (fields, lists, macros, functions), checks every operator
/// and literal against the field's type (docs/rules.md), and compiles it to a closure.
public struct ConditionCompiler: Sendable {
  /// Named lists, with their items as text.
  public var lists: [String: [String]]
  /// Named macros, as parsed.
  public var macros: [String: ConditionSyntax]
  public var functions: [String: ConditionFunction]
  /// Functions of plugins the configuration leaves off, with their plugin's name: a call of
  /// one says which plugin to enable.
  public var disabledFunctions: [String: String] = [:]

  public init(
    lists: [String: [String]] = [:], macros: [String: ConditionSyntax] = [:], functions: [ConditionFunction] = []
  ) {
    self.lists = lists
    self.macros = macros
    self.functions = Dictionary(functions.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
  }

  /// Compiles a condition. Errors inside a macro it uses carry that macro's name, and
  /// positions in the macro's own text.
  public func compile(_ syntax: ConditionSyntax) throws(ConditionError) -> CompiledCondition {
    var expanding: [String] = []
    return try compile(syntax, expanding: &expanding)
  }

  public func compile(_ text: String) throws(ConditionError) -> CompiledCondition {
    try compile(try ConditionParser.parse(text))
  }

  /// The operands of an `and` or an `or`, each compiled; when any fails, every operand's
  /// problems together.
  private func compileEach(_ operands: [ConditionSyntax], expanding: inout [String]) throws(ConditionError)
    -> [CompiledCondition]
  {
    var parts: [CompiledCondition] = []
    var errors: [ConditionError] = []
    for operand in operands {
      do {
        parts.append(try compile(operand, expanding: &expanding))
      } catch {
        errors += error.all
      }
    }
    if let error = ConditionError.together(errors) { throw error }
    return parts
  }

  private func compile(_ syntax: ConditionSyntax, expanding: inout [String]) throws(ConditionError) -> CompiledCondition
  {
    switch syntax {
    case .or(let operands):
      let parts = try compileEach(operands, expanding: &expanding)
      return CompiledCondition(
        evaluate: Self.any(parts),
        pinnedValues: Self.disjunctionPins(parts),
        warnings: parts.flatMap(\.warnings))
    case .and(let operands):
      let parts = try compileEach(operands, expanding: &expanding)
      return CompiledCondition(
        evaluate: Self.all(parts),
        pinnedValues: Self.conjunctionPins(parts),
        warnings: parts.flatMap(\.warnings),
        conjuncts: parts.flatMap { $0.conjuncts ?? [$0] })
    case .not(let operand):
      let inner = try compile(operand, expanding: &expanding)
      let evaluate = inner.evaluate
      return CompiledCondition(evaluate: { !evaluate($0) }, warnings: inner.warnings)
    case .reference(let name):
      return try macro(name, expanding: &expanding)
    case .call(let call):
      let (function, arguments, unlisted, notes) = try resolve(call)
      guard function.result == .bool else {
        throw ConditionError(
          call.function.start, call.end,
          "\(call.function.text)(…) gives \(function.result.fieldType.name), not true or false: compare it with a value"
        )
      }
      let evaluation = function.prepare(arguments)
      // As for `in ( … )`: a word with `_` that names no list is likelier a misspelt list.
      let warnings = unlisted.filter { $0.text.contains("_") }.map { name in
        ConditionError(
          name.start, name.end,
          "'\(name.text)' names no list, so \(function.name)(…) looks for it as one value; is it a misspelt list name?")
      }
      return CompiledCondition(evaluate: { report in evaluation(report) == .bool(true) }, warnings: warnings + notes)
    case .predicate(let predicate):
      return try compile(predicate)
    }
  }

  /// Whether any of the parts holds. Each part's closure is taken from its struct, where
  /// it is kept as it is: an array of closures keeps them in a generic representation, and
  /// each call then went through a reabstraction thunk (a tenth of a rule set's
  /// evaluation, Callgrind). Two or three operands, most `or`s and `and`s, are captured
  /// one by one.
  private static func any(_ parts: [CompiledCondition]) -> @Sendable (Report) -> Bool {
    switch parts.count {
    case 1: return parts[0].evaluate
    case 2:
      let (a, b) = (parts[0].evaluate, parts[1].evaluate)
      return { a($0) || b($0) }
    case 3:
      let (a, b, c) = (parts[0].evaluate, parts[1].evaluate, parts[2].evaluate)
      return { a($0) || b($0) || c($0) }
    default:
      let tests = parts.map { Test(evaluate: $0.evaluate) }
      return { report in tests.contains { $0.evaluate(report) } }
    }
  }

  /// Whether all of the parts hold (as `any`).
  static func all(_ parts: [CompiledCondition]) -> @Sendable (Report) -> Bool {
    switch parts.count {
    case 1: return parts[0].evaluate
    case 2:
      let (a, b) = (parts[0].evaluate, parts[1].evaluate)
      return { a($0) && b($0) }
    case 3:
      let (a, b, c) = (parts[0].evaluate, parts[1].evaluate, parts[2].evaluate)
      return { a($0) && b($0) && c($0) }
    default:
      let tests = parts.map { Test(evaluate: $0.evaluate) }
      return { report in tests.allSatisfy { $0.evaluate(report) } }
    }
  }

  /// A closure in a struct, so that an array of them keeps it as it is.
  private struct Test: Sendable {
    let evaluate: @Sendable (Report) -> Bool
  }

  /// How many macros a condition may go through, one inside another.
  static let deepestMacro = 16

  private func macro(_ name: ConditionSyntax.Name, expanding: inout [String]) throws(ConditionError)
    -> CompiledCondition
  {
    guard let body = macros[name.text] else {
      if ReportSchema.field(name.text) != nil {
        throw ConditionError(
          name.start, name.end, "expected an operator after the field \(name.text) (such as '=', 'in' or 'exists')")
      }
      throw ConditionError(name.start, name.end, "no macro named \(name.text), and it is not a field")
    }
    if let cycleStart = expanding.firstIndex(of: name.text) {
      let cycle = (expanding[cycleStart...] + [name.text]).joined(separator: " → ")
      throw ConditionError(name.start, name.end, "macros refer to each other in a loop: \(cycle)")
    }
    // A macro of a macro … nests its condition as deep as the chain: past a few levels a
    // slip, and a chain of thousands exhausted the stack (and the time) of vigild's reload.
    guard expanding.count < Self.deepestMacro else {
      throw ConditionError(
        name.start, name.end,
        "macros nest at most \(Self.deepestMacro) deep: \(expanding.first ?? "") → … → \(name.text)")
    }
    expanding.append(name.text)
    defer { expanding.removeLast() }
    do {
      var compiled = try compile(body, expanding: &expanding)
      compiled.warnings = compiled.warnings.map { $0.inMacro(name.text) }
      return compiled
    } catch {
      throw error.inMacro(name.text)
    }
  }

  // MARK: Predicates

  private func compile(_ predicate: ConditionSyntax.Predicate) throws(ConditionError) -> CompiledCondition {
    let type: FieldType
    let read: @Sendable (Report) -> FieldValue?
    let subjectName: String
    var fromFunction = false
    var answers: ConditionFunction.Answers?
    // The field whose values `=` and `in` pin: one that holds a single text or word.
    var pinnable: String?
    switch predicate.subject {
    case .field(let name):
      guard let field = ReportSchema.field(name.text) else {
        throw ConditionError(name.start, name.end, "unknown field \(name.text)\(Self.suggestion(for: name.text))")
      }
      type = field.type
      read = field.read
      subjectName = name.text
      switch field.type {
      case .text, .word: pinnable = name.text
      default: break
      }
    case .call(let call):
      let (function, arguments, _, _) = try resolve(call)
      type = function.result.fieldType
      read = function.prepare(arguments)
      subjectName = "\(call.function.text)(…)"
      fromFunction = true
      answers = function.answers
    }
    switch predicate.test {
    case .exists:
      return CompiledCondition(evaluate: { read($0) != nil })
    case .compare(let comparison, let written):
      let literal = try Self.answer(written, of: answers, comparison == .equal || comparison == .notEqual, subjectName)
      let test = try ValueTest.comparison(
        comparison, literal, type: type, subject: subjectName, fromFunction: fromFunction)
      let pinned = comparison == .equal ? pinnable.map { [$0: Set([ValueKey(literal.text)])] } ?? [:] : [:]
      var warnings =
        comparison == .equal || comparison == .notEqual
        ? Self.unnormalizedWarnings(predicate.subject, [(literal.text, literal)]) : []
      if comparison == .matches, let group = RegexNesting.repeatedRepetition(in: literal.text) {
        warnings.append(
          ConditionError(
            literal.start, literal.end,
            "the regular expression repeats a group that itself repeats or has alternatives (\(group)): on a text "
              + "that almost matches, its time can double with each character, and every report waits for it; "
              + "write it without the nesting (`(a|b)+` as `[ab]+`, `(a+)+` as `a+`)"))
      }
      return CompiledCondition(
        evaluate: { report in
          guard let value = read(report) else { return false }
          return test(value)
        },
        pinnedValues: pinned, warnings: warnings, exactPin: pinned.first.map { ($0.key, $0.value) })
    case .member(let membership, let items):
      var values = try expand(items)
      if membership != .intersects, let answers {
        var mistakes: [ConditionError] = []
        values = values.compactMap { item in
          // `iin` compares case aside: a value in another case stands for its answer too.
          let caseFolded =
            membership == .iin ? answers.allowed.first { $0.caseInsensitiveCompare(item.text) == .orderedSame } : nil
          guard let answer = answers.canonical(item.text) ?? caseFolded else {
            mistakes.append(
              ConditionError(
                item.literal.start, item.literal.end,
                "\(subjectName) answers \(answers.described); '\(item.text)'"
                  + "\(item.list.map { " (in list \($0))" } ?? "") is none of them"))
            return nil
          }
          return ValueTest.Item(text: answer, literal: item.literal, list: item.list)
        }
        if let mistakes = ConditionError.together(mistakes) { throw mistakes }
      }
      let test = try ValueTest.membership(
        membership, values, type: type, subject: subjectName, fromFunction: fromFunction)
      var warnings: [ConditionError] = []
      // Only free text invites the mistake; a function's answer (a place key, say) is compared
      // with words on purpose.
      if case .field = predicate.subject, type == .text || type == .texts || type == .dynamic {
        for item in values where item.list == nil && item.literal.kind == .word && item.text.contains("_") {
          warnings.append(
            ConditionError(
              item.literal.start, item.literal.end,
              "'\(item.text)' names no list, so it is compared as text; is it a misspelt list name?"))
        }
      }
      // `iin` compares case aside: a value that differs from its normal form only in case holds.
      warnings += Self.unnormalizedWarnings(predicate.subject, values.map { ($0.text, $0.literal) }, caseAside: membership == .iin)
      let pinned = membership != .iin ? pinnable.map { [$0: Set(values.map { ValueKey($0.text) })] } ?? [:] : [:]
      return CompiledCondition(
        evaluate: { report in
          guard let value = read(report) else { return false }
          return test(value)
        },
        pinnedValues: pinned, warnings: warnings, exactPin: pinned.first.map { ($0.key, $0.value) })
    }
  }

  /// `normalized(…)` gives text as name matching reads it (`رقه`, `madaya`): a value
  /// compared with it that is not so written can never be it, and is warned of with the
  /// form that can.
  private static func unnormalizedWarnings(
    _ subject: ConditionSyntax.Subject, _ values: [(text: String, literal: ConditionSyntax.Literal)],
    caseAside: Bool = false
  ) -> [ConditionError] {
    // `party(…)` normalises as `normalized(…)` does: `party(perpetrator) = Government`
    // could never hold either.
    let normalising = [BuiltInFunctions.normalized.name, BuiltInFunctions.party.name]
    guard case .call(let call) = subject, normalising.contains(call.function.text) else { return [] }
    return values.compactMap { value in
      let normal = NameNormalizer.words(of: value.text).joined(separator: " ")
      guard normal != (caseAside ? value.text.lowercased() : value.text) else { return nil }
      return ConditionError(
        value.literal.start, value.literal.end,
        "\(call.function.text)(…) gives text as name matching reads it, so '\(value.text)' can never be its value; "
          + (normal.isEmpty ? "it has no words" : "write '\(normal)'"))
    }
  }

  /// The value a function of closed answers is compared with, as the answer it stands for;
  /// one that stands for none is an error at its place.
  private static func answer(
    _ literal: ConditionSyntax.Literal, of answers: ConditionFunction.Answers?, _ applies: Bool, _ subject: String
  ) throws(ConditionError) -> ConditionSyntax.Literal {
    guard applies, let answers else { return literal }
    guard let answer = answers.canonical(literal.text) else {
      throw ConditionError(
        literal.start, literal.end,
        "\(subject) answers \(answers.described); '\(literal.text)' is none of them")
    }
    return ConditionSyntax.Literal(kind: literal.kind, text: answer, start: literal.start, end: literal.end)
  }

  /// What `a and b and …` pins: every field a part pins, to the values that all the parts
  /// pinning it allow.
  private static func conjunctionPins(_ parts: [CompiledCondition]) -> [String: Set<ValueKey>] {
    parts.reduce(into: [:]) { pinned, part in
      pinned.merge(part.pinnedValues) { $0.intersection($1) }
    }
  }

  /// What `a or b or …` pins: only the fields every part pins, to the values any part allows.
  private static func disjunctionPins(_ parts: [CompiledCondition]) -> [String: Set<ValueKey>] {
    guard let first = parts.first?.pinnedValues else { return [:] }
    return parts.dropFirst().reduce(first) { pinned, part in
      pinned.reduce(into: [:]) { kept, entry in
        if let values = part.pinnedValues[entry.key] { kept[entry.key] = entry.value.union(values) }
      }
    }
  }

  /// The items of `( … )`, with list names replaced by the lists' items.
  private func expand(_ items: [ConditionSyntax.Literal]) throws(ConditionError) -> [ValueTest.Item] {
    var expanded: [ValueTest.Item] = []
    for item in items {
      if item.kind == .word, let list = lists[item.text] {
        expanded += list.map { ValueTest.Item(text: $0, literal: item, list: item.text) }
      } else {
        expanded.append(ValueTest.Item(text: item.text, literal: item, list: nil))
      }
    }
    return expanded
  }

  // MARK: Calls

  /// A call whose answer is shown rather than tested (in an output template): checked as
  /// in a condition, and prepared.
  public func value(of call: ConditionSyntax.Call) throws(ConditionError) -> @Sendable (Report) -> FieldValue? {
    let (function, arguments, _, _) = try resolve(call)
    return function.prepare(arguments)
  }

  /// The function a call names and its arguments, and the bare words given for values
  /// that name no list (taken as one value each).
  private func resolve(_ call: ConditionSyntax.Call) throws(ConditionError) -> (
    ConditionFunction, [ConditionFunction.Argument], [ConditionSyntax.Name], [ConditionError]
  ) {
    guard let function = functions[call.function.text] else {
      if let plugin = disabledFunctions[call.function.text] {
        throw ConditionError(
          call.function.start, call.function.end,
          "\(call.function.text)(…) comes from the \(plugin) plugin, which the configuration does not enable (add "
            + "`\(plugin): {}` under `plugins`)")
      }
      let known = functions.keys.sorted()
      let hint = known.isEmpty ? "" : " (known: \(known.joined(separator: ", ")))"
      throw ConditionError(call.function.start, call.function.end, "no function named \(call.function.text)\(hint)")
    }
    guard call.arguments.count == function.parameters.count else {
      let expected = function.parameters.count
      throw ConditionError(
        call.function.start, call.end,
        "\(function.name)(…) takes \(expected) argument\(expected == 1 ? "" : "s"), got \(call.arguments.count)")
    }
    var arguments: [ConditionFunction.Argument] = []
    var unlisted: [ConditionSyntax.Name] = []
    var notes: [ConditionError] = []
    for (argument, parameter) in zip(call.arguments, function.parameters) {
      switch (parameter, argument) {
      case (.field(let expected), .word(let name)):
        guard let field = ReportSchema.field(name.text) else {
          // A time or a number written bare is a value, not a field that does not exist.
          let number = name.text.first.map { $0.isNumber || $0 == "-" } == true && Double(name.text) != nil
          if Timestamp(name.text) != nil || number {
            throw ConditionError(
              name.start, name.end, "\(function.name)(…) expects a field here, got a value (\(name.text))")
          }
          throw ConditionError(name.start, name.end, "unknown field \(name.text)\(Self.suggestion(for: name.text))")
        }
        // A text parameter also takes a list of texts; the function looks at each.
        let fits = field.type == expected || field.type == .dynamic || (expected == .text && field.type == .texts)
        if let expected, !fits {
          throw ConditionError(
            name.start, name.end,
            "\(function.name)(…) expects \(expected.name) here; \(name.text) is \(field.type.name)")
        }
        if let expected, field.type == .dynamic {
          arguments.append(.field(ExtraArgument.field(field, readAs: expected)))
        } else {
          arguments.append(.field(field))
        }
      case (.actor, .word(let name)):
        let actors = ReportSchema.paths.filter(Self.isActor)
        guard let field = ReportSchema.field(name.text), Self.isActor(name.text) else {
          throw ConditionError(
            name.start, name.end,
            "\(function.name)(…) expects an actor here (\(actors.joined(separator: ", "))); \(name.text) is not one")
        }
        arguments.append(.field(field))
      case (.object(let members), .word(let name)):
        let fits = { (path: String) in
          ReportSchema.field(path)?.type == .object
            && members.allSatisfy { ReportSchema.field(path + "." + $0).map { $0.type != .dynamic } ?? false }
        }
        guard let field = ReportSchema.field(name.text), fits(name.text) else {
          let candidates = ReportSchema.paths.filter(fits)
          throw ConditionError(
            name.start, name.end,
            "\(function.name)(…) expects an object with \(members.joined(separator: ", ")) here "
              + "(\(candidates.joined(separator: ", "))); \(name.text) is not one")
        }
        arguments.append(.field(field))
      case (.field, .literal(let literal)), (.actor, .literal(let literal)), (.object, .literal(let literal)):
        throw ConditionError(literal.start, literal.end, "\(function.name)(…) expects a field here, got a value")
      case (.literal, .word(let name)):
        arguments.append(.literal(name.text))
      case (.literal, .literal(let literal)):
        arguments.append(.literal(literal.text))
      case (.values, .word(let name)):
        let values = lists[name.text] ?? [name.text]
        if function.valuesAreNames {
          notes += Self.checkNames(values, list: lists[name.text] == nil ? nil : name.text, at: name.start, name.end)
        }
        arguments.append(.values(values))
        if lists[name.text] == nil { unlisted.append(name) }
      case (.values, .literal(let literal)):
        if function.valuesAreNames { notes += Self.checkNames([literal.text], list: nil, at: literal.start, literal.end) }
        arguments.append(.values([literal.text]))
      }
    }
    return (function, arguments, unlisted, notes)
  }

  /// Names a function matches after normalisation: one with no word left (`'!!!'`, or
  /// `al`, an article normalisation drops) could never match.
  private static func checkNames(_ names: [String], list: String?, at start: Int, _ end: Int) -> [ConditionError] {
    names.filter { NameNormalizer.words(of: $0).isEmpty }.map { name in
      ConditionError(
        start, end,
        "the name '\(name)'\(list.map { " (from the list \($0))" } ?? "") has no word left to match once normalised "
          + "(letters or digits, articles such as al- dropped), so it can never be mentioned")
    }
  }

  /// Whether the path is an actor's: an object with a `name` and a `party`.
  static func isActor(_ path: String) -> Bool {
    // Not `extra`, under which any member is (of no type the schema knows).
    ReportSchema.field(path)?.type == .object && ReportSchema.field(path + ".name").map { $0.type != .dynamic } ?? false
      && ReportSchema.field(path + ".party") != nil
  }

  /// " (did you mean location.place?)" for a near miss of a known path; otherwise, when
  /// the path's group is known, the fields it has (" (displacement has: count, …)").
  static func suggestion(for path: String) -> String {
    // One misspelling repeated over thousands of rules (a copied condition) is worked out
    // once: each took an edit distance to every path of the schema.
    if let known = suggestions.withLockedValue({ $0[path] }) { return known }
    let made = makeSuggestion(for: path)
    suggestions.withLockedValue { cache in
      if cache.count >= 1_000 { cache.removeAll() }
      cache[path] = made
    }
    return made
  }

  private static let suggestions = NIOLockedValueBox<[String: String]>([:])

  private static func makeSuggestion(for path: String) -> String {
    let close = ReportSchema.paths.filter { editDistance($0, path) <= 2 }
    if !close.isEmpty { return " (did you mean \(close.joined(separator: " or "))?)" }
    guard let dot = path.lastIndex(of: ".") else { return "" }
    let group = String(path[..<dot])
    let members = ReportSchema.paths.filter { $0.hasPrefix(group + ".") }.map { String($0.dropFirst(group.count + 1)) }
    return members.isEmpty ? "" : " (\(group) has: \(members.joined(separator: ", ")))"
  }

  static func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a.unicodeScalars)
    let b = Array(b.unicodeScalars)
    var row = Array(0...b.count)
    for i in 1...max(a.count, 1) where i <= a.count {
      var previous = row[0]
      row[0] = i
      for j in 1...max(b.count, 1) where j <= b.count {
        let current = row[j]
        row[j] = min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] == b[j - 1] ? 0 : 1))
        previous = current
      }
    }
    return row[b.count]
  }
}
