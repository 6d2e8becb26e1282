import Foundation
import Crypto

/// Loads rule files as ONE rule set (docs/rules.md), in stages as Falco does: read the YAML,
/// collect the items, let plugins read theirs, compile macros and rules, run every rule's
/// examples. It collects every error of a load, each at its `file:line:column`; a set with
/// any error is rejected whole.
public struct RuleSetLoader: Sendable {
  public static let builtInItemKinds = ["list", "macro", "rule", "pattern"]
  static let ruleKeys = ["rule", "desc", "condition", "output", "priority", "basis", "tags", "enabled", "examples"]

  private let plugins: [any RulePlugin]
  /// Rule plugins there are but the configuration leaves off: an item of one of their
  /// kinds is refused as such (their plugin named), not as an item of no kind.
  public var disabledPlugins: [any RulePlugin] = []
  private let settings: [String: ConfigurationValue]
  private let functions: [ConditionFunction]
  private let latenessHorizon: Int64
  private let examplesReceivedAt: Int64

  /// - Parameters:
  ///   - plugins: the enabled plugins, with their settings by plugin name.
  ///   - functions: functions available without a plugin.
  ///   - latenessHorizon: the daemon's (`rules.lateness_horizon_days`, in milliseconds),
  ///     with which patterns' examples are counted, as the daemon would count them.
  ///   - examplesReceivedAt: when the patterns' example reports are taken to arrive (ms
  ///     since 1970; by default, now): a report dated after it does not move the newest
  ///     incident time, as in the daemon (docs/patterns.md, "Late reports").
  public init(
    plugins: [any RulePlugin] = [], settings: [String: ConfigurationValue] = [:],
    functions: [ConditionFunction] = BuiltInFunctions.all, latenessHorizon: Int64 = PatternWindows.defaultHorizon,
    examplesReceivedAt: Int64 = Int64(Date().timeIntervalSince1970 * 1000)
  ) {
    self.plugins = plugins
    self.settings = settings
    self.functions = functions
    self.latenessHorizon = latenessHorizon
    self.examplesReceivedAt = examplesReceivedAt
  }

  /// `sources` in load order: directory by directory as configured, by name within one.
  public func load(_ sources: [RuleSource]) -> Result<RuleSet, RuleSetErrors> {
    var loading = Loading(
      pluginKinds: Set(plugins.flatMap(\.itemKinds)), latenessHorizon: latenessHorizon, examplesReceivedAt: examplesReceivedAt)
    for plugin in disabledPlugins {
      for kind in plugin.itemKinds { loading.disabledKinds[kind] = plugin.name }
      // Its functions' names, to say where a call of one comes from.
      if case .success(let functions) = plugin.prepare(items: [], settings: .mapping([])) {
        for function in functions { loading.disabledFunctions[function.name] = plugin.name }
      }
    }
    // Two things of one name: the second would be dropped without a word.
    var kindOwners = Dictionary(RuleSetLoader.builtInItemKinds.map { ($0, "Vigil itself") }, uniquingKeysWith: { a, _ in a })
    for plugin in plugins {
      for kind in plugin.itemKinds {
        if let owner = kindOwners[kind] {
          loading.errors.append(
            RuleError(
              SourcePosition(file: "", line: 0, column: 0),
              "plugin \(plugin.name) reads items of kind `\(kind)`, which \(owner) reads too: rename one"))
        } else {
          kindOwners[kind] = "plugin \(plugin.name)"
        }
      }
    }
    var functionOwners = Dictionary(self.functions.map { ($0.name, "a built-in function") }, uniquingKeysWith: { a, _ in a })
    func owned(_ added: [ConditionFunction], by plugin: any RulePlugin) {
      for function in added {
        if let owner = functionOwners[function.name] {
          loading.errors.append(
            RuleError(
              SourcePosition(file: "", line: 0, column: 0),
              "plugin \(plugin.name) gives a function \(function.name), the name of \(owner): rename one"))
        } else {
          functionOwners[function.name] = "a function of plugin \(plugin.name)"
        }
      }
    }
    for source in sources {
      if source.nameIsNotUTF8 {
        loading.errors.append(
          RuleError(
            SourcePosition(file: source.path, line: 1, column: 1),
            "the rule file's name is not valid UTF-8 (shown with \u{FFFD}); rename it: no rule set loads with it"))
      }
      loading.read(source)
    }
    // A file that could not be read is missing its rules and items: examples judged
    // without them fail for that, and would bury the one error that matters (a syntax
    // error in control.yaml read as a dozen failing ceasefire examples).
    if !loading.unreadFiles.isEmpty { loading.examplesWithheld = true }
    var functions = self.functions
    // Each plugin's function names and its items as written, for the rules' dependencies.
    var pluginUses: [(functions: Set<String>, items: String)] = []
    var pluginsFailed = false
    for plugin in plugins {
      let items = plugin.itemKinds.flatMap { loading.pluginItems[$0] ?? [] }
      switch plugin.prepare(items: items, settings: settings[plugin.name] ?? .mapping([])) {
      case .success(let added):
        owned(added, by: plugin)
        functions += added
        var content = ""
        for item in items { item.appendContent(to: &content) }
        pluginUses.append((Set(added.map(\.name)), content))
      case .failure(let errors):
        pluginsFailed = true
        loading.errors += errors.errors
        // The set is rejected for those; the conditions are still checked, with the
        // plugin's functions as they are with no items, so that a rule calling one is not
        // reported for a function that "does not exist" (an error that is not one).
        // Without closed answers either: a place key compared with place() is none of no
        // places, an error that is not one.
        if case .success(let standIns) = plugin.prepare(items: [], settings: settings[plugin.name] ?? .mapping([])) {
          functions += standIns.map(\.withoutClosedAnswers)
        }
        // Nor are examples run: their verdicts would be those of the missing items (one
        // bad control entry made 16 examples of other rules fail).
        loading.examplesWithheld = true
      }
    }
    // Items naming what other plugins' items define, checked against every plugin's
    // functions; not against stand-ins of a plugin whose items failed (a designation
    // misread would make every designated holder "unknown").
    if !pluginsFailed {
      for case let plugin as any CrossCheckedRulePlugin in plugins {
        let items = plugin.itemKinds.flatMap { loading.pluginItems[$0] ?? [] }
        let others = loading.pluginItems.filter { !plugin.itemKinds.contains($0.key) }
        loading.errors += plugin.check(items: items, against: functions, others: others)
      }
    }
    let rules = loading.compile(functions: functions)
    guard loading.errors.isEmpty else {
      return .failure(
        RuleSetErrors(
          errors: loading.ordered(loading.errors, sources: sources),
          warnings: loading.ordered(loading.warnings, sources: sources)))
    }
    let warnings = loading.ordered(loading.warnings, sources: sources)
    return .success(
      RuleSet(
        revision: Self.revision(of: sources), rules: rules, patterns: loading.patterns, warnings: warnings,
        patternBasis: Self.patternBasis(
          loading.patternDependencies, named: loading.namedDependencies, patterns: loading.patterns, rules: rules),
        ruleDependencies: Self.ruleDependencies(rules, named: loading.namedDependencies, plugins: pluginUses)))
  }

  /// For each rule that uses any, a digest of the lists and macros its condition and output
  /// name (through macros too) and of the items of each plugin one of whose functions they
  /// call: what else decides what the rule fires on and says. Found by the words of the
  /// texts, as `patternBasis` finds them (a word that only looks like a name counts a rule
  /// changed that was not, never the reverse). The lists and macros are taken by name, so
  /// one moved to another file changes nothing.
  static func ruleDependencies(
    _ rules: [Rule], named: [(name: String, content: String)], plugins: [(functions: Set<String>, items: String)]
  ) -> [String: String] {
    let functions = plugins.map(\.functions)
    let closure = NamedClosure(named, plugins: functions)
    let pluginDigests = plugins.map { plugin in
      Array(SHA256.hash(data: Array("\(plugin.functions.sorted().joined(separator: ","))\u{0}\(plugin.items)".utf8)))
    }
    var dependencies: [String: String] = [:]
    for rule in rules {
      let words = NamedClosure.words(of: rule.definition)
      let included = closure.closure(of: words)
      var used = Set(NamedClosure.plugins(named: words, among: functions))
      for index in included { used.formUnion(closure.pluginUses[index]) }
      guard !included.isEmpty || !used.isEmpty else { continue }
      var hash = SHA256()
      for index in included.sorted(by: { named[$0].name < named[$1].name }) { hash.update(data: closure.digests[index]) }
      for plugin in used.sorted() { hash.update(data: pluginDigests[plugin]) }
      dependencies[rule.id] = hex(hash.finalize())
    }
    return dependencies
  }

  /// What the patterns' windows depend on: the patterns, the plugins' items, the rules the
  /// patterns count (their condition, output and `enabled`), and the lists and macros any
  /// of those name, directly or through another macro (a name found as a word of their
  /// text: a word that only looks like one makes a rebuild that was not needed, never the
  /// reverse). Two sets with the same basis count every report alike, so a reload that
  /// keeps it keeps the windows.
  static func patternBasis(
    _ dependencies: String, named: [(name: String, content: String)], patterns: [Pattern], rules: [Rule]
  ) -> String {
    guard !patterns.isEmpty else { return "" }
    var hash = SHA256()
    hash.update(data: Array(dependencies.utf8))
    let counted = Set(patterns.flatMap(\.countedRules))
    var texts = patterns.map(\.definition)
    for rule in rules where counted.contains(rule.id) {
      hash.update(data: Array("\u{0}\(rule.id)\u{0}\(rule.enabled)\u{0}\(rule.definition)".utf8))
      texts.append(rule.definition)
    }
    let closure = NamedClosure(named)
    for index in closure.closure(of: texts.reduce(into: Set<Substring>()) { $0.formUnion(NamedClosure.words(of: $1)) }) {
      hash.update(data: Array("\u{0}\(named[index].name)\u{0}\(named[index].content)".utf8))
    }
    return hex(hash.finalize())
  }

  /// `sha256:` + the hex SHA-256 over each file's name, a NUL, its bytes and a NUL.
  public static func revision(of sources: [RuleSource]) -> String {
    var hash = SHA256()
    for source in sources {
      hash.update(data: Array(source.name.utf8) + [0])
      hash.update(data: source.contents)
      hash.update(data: [0])
    }
    return "sha256:" + hex(hash.finalize())
  }

  static func hex(_ digest: SHA256.Digest) -> String {
    digest.map { byte in
      let hex = String(byte, radix: 16)
      return hex.count == 1 ? "0" + hex : hex
    }.joined()
  }
}

/// The state of one load.
struct Loading {
  struct Named {
    let position: SourcePosition
    let kind: String
  }

  struct MacroItem {
    let name: String
    let condition: RuleNode.Scalar
  }

  let pluginKinds: Set<String>
  /// The item kinds of plugins left off, with their plugin's name.
  var disabledKinds: [String: String] = [:]
  /// The functions of plugins left off, with their plugin's name.
  var disabledFunctions: [String: String] = [:]
  /// How late a report may come to count, in the patterns' examples.
  let latenessHorizon: Int64
  /// When the examples' reports arrive (ms since 1970).
  let examplesReceivedAt: Int64
  var errors: [RuleError] = []
  /// A plugin's items have errors: examples are read and counted, not judged.
  var examplesWithheld = false
  var warnings: [RuleError] = []
  var lists: [String: [String]] = [:]
  var macros: [MacroItem] = []
  /// Macros whose item is broken (no condition, or not a value): their uses are not errors.
  var brokenMacroNames = Set<String>()
  /// The macros as parsed, and those standing in for broken ones (`standInCondition`), for
  /// telling which rules depend on a stand-in.
  var macroSyntax: [String: ConditionSyntax] = [:]
  var standInMacros = Set<String>()
  var ruleItems: [[RuleNode.Member]] = []
  var rulePositions: [SourcePosition] = []
  var patternItems: [(members: [RuleNode.Member], position: SourcePosition)] = []
  var patterns: [Pattern] = []
  /// The content of the patterns and plugins' items, and of each list and macro by name,
  /// for `RuleSet.patternBasis`.
  var patternDependencies = ""
  var namedDependencies: [(name: String, content: String)] = []
  var pluginItems: [String: [RuleNode]] = [:]
  /// The files that could not be read as YAML (or as a list of items): their rules are
  /// missing, so a pattern naming one is not told that no such rule exists.
  var unreadFiles: [String] = []
  /// Lists and macros share one namespace; rules have their own.
  var names: [String: Named] = [:]
  var ruleIDs: [String: SourcePosition] = [:]
  /// Each id lowercased, with the id and where it is defined.
  var ruleIDsByCase: [String: (String, SourcePosition)] = [:]
  /// Each file's text, for mapping positions inside scalars when a message needs one.
  var texts: [String: String] = [:]
  /// Each file's lines, split once when a message first needs them: split again for every
  /// message, a file with 2,000 of them took 20 s to load.
  private let locators = ScalarLocator.Cache()

  init(
    pluginKinds: Set<String>, latenessHorizon: Int64 = PatternWindows.defaultHorizon,
    examplesReceivedAt: Int64 = Int64(Date().timeIntervalSince1970 * 1000)
  ) {
    self.pluginKinds = pluginKinds
    self.latenessHorizon = latenessHorizon
    self.examplesReceivedAt = examplesReceivedAt
  }

  mutating func fail(_ position: SourcePosition, _ message: String, kind: RuleError.Kind = .definition) {
    errors.append(RuleError(position, message, kind: kind))
  }

  // MARK: Reading files

  mutating func read(_ source: RuleSource) {
    let start = SourcePosition(file: source.path, line: 1, column: 1)
    guard let text = String(validating: source.contents, as: UTF8.self) else {
      unreadFiles.append(source.path)
      let place = TextPlace.firstInvalidUTF8(in: source.contents).map {
        SourcePosition(file: source.path, line: $0.line, column: $0.column)
      }
      return fail(place ?? start, "the file is not UTF-8 text: the bytes here are not UTF-8")
    }
    texts[source.path] = text
    // No byte but white space: what a save cut short leaves (the file truncated, then the
    // disk full or the writer gone), far more often than an intent. Loaded as an empty
    // list, its rules dropped out of force with nothing but "1 removed" to say so (audit
    // 43). A file meant to define nothing says so with `[]` or a comment.
    // (A byte order mark first, as Notepad saves, is no content either.)
    let body = text.utf8.starts(with: [0xEF, 0xBB, 0xBF]) ? text.utf8.dropFirst(3) : text.utf8.dropFirst(0)
    if body.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }) {
      unreadFiles.append(source.path)
      // At its start, a place inside it (as every error of a file's text is: the fuzzer
      // holds the loader to that).
      return fail(
        start,
        "the file is empty (a save cut short?); a rule file is a YAML list of items: for one that defines nothing, "
          + "write [] or a comment")
    }
    let node: RuleNode
    do {
      // A key given twice is an error, and the file is read on, so that its other errors
      // come with it; its examples are not judged (which of the two values was meant?).
      var repeated: [RuleError] = []
      let root = try YAMLReader.read(source.contents, file: source.path, problems: &repeated)
      if !repeated.isEmpty {
        errors += repeated
        examplesWithheld = true
      }
      guard let root else { return }
      node = root
    } catch {
      unreadFiles.append(source.path)
      return errors.append(error)
    }
    if node.isNull { return }
    guard case .sequence(let items, _) = node else {
      unreadFiles.append(source.path)
      return fail(
        node.position, "a rule file is a list of items (`- rule: …`, `- list: …`, `- macro: …`), got \(node.kindName)")
    }
    for item in items { collect(item) }
  }

  private mutating func collect(_ item: RuleNode) {
    guard case .mapping(let members, let position) = item else {
      return fail(item.position, "an item is a mapping such as `- rule: …`, got \(item.kindName)")
    }
    let kinds = members.map(\.key).filter { RuleSetLoader.builtInItemKinds.contains($0) || pluginKinds.contains($0) }
    let disabled = disabledKinds
    if kinds.isEmpty, let (kind, plugin) = members.compactMap({ member in disabled[member.key].map { (member.key, $0) } }).first {
      return fail(
        position,
        "`\(kind)` items come from the \(plugin) plugin, which the configuration does not enable (a configuration "
          + "that names plugins enables those it names only: add `\(plugin): {}` under `plugins`)")
    }
    guard kinds.count == 1, let kind = kinds.first else {
      let known = (RuleSetLoader.builtInItemKinds + pluginKinds.sorted()).joined(separator: ", ")
      guard kinds.isEmpty else {
        return fail(position, "an item needs exactly one of \(known); found \(kinds.joined(separator: " and "))")
      }
      // The keys it has, and the kind one of them nearly is (`rules:` for `rule:`): every
      // other unknown key is named, and "found none" read as if the item had no key.
      let keys = members.map(\.key)
      let allKinds = RuleSetLoader.builtInItemKinds + pluginKinds.sorted()
      let near = keys.lazy.compactMap { key in
        allKinds.first { ConditionCompiler.editDistance($0, key) <= 2 }.map { "`\($0)` for `\(key)`?" }
      }.first
      return fail(
        position,
        "an item needs exactly one of \(known); none is among its keys (\(keys.joined(separator: ", ")))"
          + (near.map { ": did you mean \($0)" } ?? ""))
    }
    // What can change what the patterns count (docs/patterns.md, "Restarts and
    // reloads"): patterns and plugins' items always; lists and macros when named.
    switch kind {
    case "rule": break
    case "list", "macro":
      var content = ""
      item.appendContent(to: &content)
      if case .scalar(let name)? = members.first(where: { $0.key == kind })?.value {
        namedDependencies.append((name.text, content))
      }
    default: item.appendContent(to: &patternDependencies)
    }
    switch kind {
    case "list": collectList(members, position)
    case "macro": collectMacro(members, position)
    case "rule":
      ruleItems.append(members)
      rulePositions.append(position)
    case "pattern":
      patternItems.append((members, position))
    default: pluginItems[kind, default: []].append(item)
    }
  }

  private mutating func collectList(_ members: [RuleNode.Member], _ position: SourcePosition) {
    let keysFine = checkKeys(members, known: ["list", "items"], required: ["list", "items"], what: "list", at: position)
    // Named (or said to be defined twice) whatever else is wrong with it, and its items
    // checked even when its name is taken: every problem of the item at once.
    let registered = self.name(members, "list", kind: "list")
    guard keysFine, case .scalar(let written)? = members.first(where: { $0.key == "list" })?.value else { return }
    let name = written.text
    guard case .sequence(let elements, _) = members.first(where: { $0.key == "items" })!.value else {
      return fail(members.first { $0.key == "items" }!.value.position, "list \(name): items must be a list of values")
    }
    var items: [String] = []
    for element in elements {
      guard case .scalar(let scalar) = element else {
        fail(element.position, "list \(name): each item must be a value, got \(element.kindName)")
        continue
      }
      items.append(scalar.text)
    }
    if registered != nil { lists[name] = items }
  }

  private mutating func collectMacro(_ members: [RuleNode.Member], _ position: SourcePosition) {
    let keysFine = checkKeys(
      members, known: ["macro", "condition"], required: ["macro", "condition"], what: "macro", at: position)
    // Named (or said to be defined twice) whatever else is wrong with it.
    let known = Set(names.keys)
    let registered = self.name(members, "macro", kind: "macro")
    guard keysFine else {
      // Its error is said here: the rules that use it must not be told it does not exist.
      if case .scalar(let named)? = members.first(where: { $0.key == "macro" })?.value, !known.contains(named.text) {
        brokenMacroNames.insert(named.text)
      }
      return
    }
    guard let name = registered else { return }
    guard let condition = scalar(members, "condition", owner: "macro \(name)") else {
      brokenMacroNames.insert(name)
      return
    }
    macros.append(MacroItem(name: name, condition: condition))
  }

  /// The item's name, registered in the namespace of lists and macros.
  private mutating func name(_ members: [RuleNode.Member], _ key: String, kind: String) -> String? {
    guard let scalar = scalar(members, key, owner: "a \(kind)") else { return nil }
    let name = scalar.text
    guard name.first.map({ $0.isLetter || $0 == "_" }) == true,
      name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" })
    else {
      fail(scalar.position, "\(kind) name '\(name)' must be letters, digits and '_', starting with a letter")
      return nil
    }
    // A word of the condition language is read as that word, never as the name: a list or
    // macro so named could not be used (audit 52).
    if ConditionToken.Keyword(rawValue: name.lowercased()) != nil || ["true", "false"].contains(name.lowercased()) {
      fail(scalar.position, "\(kind) name '\(name)' is a word of the condition language; name the \(kind) otherwise")
      return nil
    }
    if let earlier = names[name] {
      fail(scalar.position, "\(name) is already defined as a \(earlier.kind) at \(earlier.position)")
      return nil
    }
    names[name] = Named(position: scalar.position, kind: kind)
    return name
  }

  // MARK: Compiling

  /// What a broken macro stands for while the rest is compiled, so the rules using it do
  /// not report it again (as missing, or as its error); the set is rejected by the macro's
  /// own error.
  static let standInCondition = ConditionSyntax.predicate(
    .init(subject: .field(.init(text: "id", start: 0, end: 0)), test: .exists, start: 0, end: 0))

  mutating func compile(functions: [ConditionFunction]) -> [Rule] {
    var parsedMacros: [String: ConditionSyntax] = [:]
    var macroScalars: [String: RuleNode.Scalar] = [:]
    var brokenMacros = Set<String>()
    for macro in macros {
      macroScalars[macro.name] = macro.condition
      do {
        parsedMacros[macro.name] = try ConditionParser.parse(macro.condition.text)
      } catch {
        fail(locate(error.start, in: macro.condition), "macro \(macro.name): \(error.message)")
        parsedMacros[macro.name] = Self.standInCondition
        brokenMacros.insert(macro.name)
      }
    }
    for name in brokenMacroNames where parsedMacros[name] == nil {
      parsedMacros[name] = Self.standInCondition
      brokenMacros.insert(name)
    }
    macroSyntax = parsedMacros
    standInMacros = brokenMacros
    var compiler = ConditionCompiler(lists: lists, macros: parsedMacros, functions: functions)
    compiler.disabledFunctions = disabledFunctions
    for macro in macros where !brokenMacros.contains(macro.name) {
      do {
        let compiled = try compiler.compile(.reference(.init(text: macro.name, start: 0, end: 0)))
        for warning in compiled.warnings {
          guard let owner = warning.macro, let scalar = macroScalars[owner] else { continue }
          warnings.append(RuleError(locate(warning.start, in: scalar), "macro \(owner): \(warning.message)"))
        }
      } catch {
        for each in error.all {
          let owner = each.macro ?? macro.name
          guard let scalar = macroScalars[owner] else { continue }
          fail(locate(each.start, in: scalar), "macro \(owner): \(each.message)")
        }
      }
    }
    var rules: [Rule] = []
    for (members, position) in zip(ruleItems, rulePositions) {
      if let rule = compileRule(members, position, compiler: compiler) { rules.append(rule) }
    }
    for (members, position) in patternItems {
      if let pattern = compilePattern(members, position, compiler: compiler, rules: rules) { patterns.append(pattern) }
    }
    return rules
  }

  /// The longest rule or pattern id.
  static let longestID = 100

  /// Checks an id of a rule or pattern (they share one namespace: both name alerts).
  mutating func register(id idScalar: RuleNode.Scalar, kind: String) {
    let id = idScalar.text
    let idPattern = id.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { part in
      !part.isEmpty && part.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") }
    }
    if !idPattern {
      fail(
        idScalar.position,
        "\(kind) id '\(id)' must be dotted words of ASCII letters, digits, '_' and '-' (weapons.barrel_bomb)")
    } else if id.utf8.count > Self.longestID {
      // An example's own id is `example:<id>:<n>`, which a report id holds at 128.
      fail(idScalar.position, "\(kind) id '\(id.prefix(40))…' is \(id.utf8.count) characters; at most \(Self.longestID)")
    } else if id.lowercased().hasPrefix("vigil.") {
      fail(idScalar.position, "\(kind) ids starting with 'vigil.' are reserved for Vigil's own records")
    } else if let earlier = ruleIDs[id] {
      fail(idScalar.position, "\(kind) \(id) is already defined at \(earlier)")
    } else if let (other, earlier) = ruleIDsByCase[id.lowercased()] {
      // Told apart only by case: a subscriber's glob, a spreadsheet's filter or a reader
      // would take the two alerts for one rule's (audit 43).
      fail(idScalar.position, "\(kind) id \(id) differs from \(other), defined at \(earlier), only in case")
    } else {
      ruleIDs[id] = idScalar.position
      ruleIDsByCase[id.lowercased()] = (id, idScalar.position)
    }
  }

  private mutating func compileRule(
    _ members: [RuleNode.Member], _ position: SourcePosition, compiler: ConditionCompiler
  ) -> Rule? {
    let required = ["rule", "desc", "condition", "output", "priority"]
    let keysFine = checkKeys(members, known: RuleSetLoader.ruleKeys, required: required, what: "rule", at: position)
    guard let idScalar = scalar(members, "rule", owner: "a rule") else { return nil }
    let id = idScalar.text
    register(id: idScalar, kind: "rule")
    // A key missing or unknown does not stop the others' checks: every error at once.
    let owner = "rule \(id)"
    let (description, priority, basis, tags, enabled) = describingMembers(members, owner: owner, kind: "rule")
    let condition = compileCondition(members, owner: owner, compiler: compiler)
    let output = compileOutput(members, owner: owner, compiler: compiler)
    guard keysFine, let description, let priority, let basis, let tags, let enabled, let condition, let output
    else {
      // The examples cannot be run on a broken rule, but how they are written can be checked.
      _ = runExamples(members, id: id, rule: nil)
      return nil
    }
    let definition = ["condition", "output"].map { key in
      guard case .scalar(let scalar)? = members.first(where: { $0.key == key })?.value else { return "" }
      return scalar.text
    }.joined(separator: "\u{0}")
    let rule = Rule(
      id: id, description: description.text, priority: priority, basis: basis, tags: tags, enabled: enabled,
      position: position, exampleCount: 0, definition: definition, condition: condition, output: output)
    // A rule that uses a broken macro holds by its stand-in: its examples would be judged
    // by that, and fail for the macro's error (checked for form only).
    let judged = definition.split(separator: "\u{0}").first.flatMap { try? ConditionParser.parse(String($0)) }
      .map { !usesStandIn($0) } ?? true
    return Rule(
      id: id, description: description.text, priority: priority, basis: basis, tags: tags, enabled: enabled,
      position: position, exampleCount: runExamples(members, id: id, rule: judged ? rule : nil), definition: definition,
      condition: condition, output: output)
  }

  /// The members every rule and pattern has besides what it matches: desc, priority,
  /// basis, tags, enabled, each checked (nil when missing or wrong, its error recorded).
  mutating func describingMembers(_ members: [RuleNode.Member], owner: String, kind: String) -> (
    description: RuleNode.Scalar?, priority: Priority?, basis: [String]?, tags: [String]?, enabled: Bool?
  ) {
    let description = scalar(members, "desc", owner: owner)
    if let description, description.text.allSatisfy(\.isWhitespace) {
      fail(description.position, "\(owner): desc must say what the \(kind) detects")
    }
    let priorityScalar = scalar(members, "priority", owner: owner)
    let priority = priorityScalar.flatMap { Priority(rawValue: $0.text) }
    if let priorityScalar, priority == nil {
      let allowed = Priority.allCases.map(\.rawValue).joined(separator: ", ")
      fail(priorityScalar.position, "\(owner): priority must be one of \(allowed), got '\(priorityScalar.text)'")
    }
    return (
      description, priority, strings(members, "basis", owner: owner), strings(members, "tags", owner: owner),
      flag(members, "enabled", owner: owner)
    )
  }

  mutating func compileCondition(
    _ members: [RuleNode.Member], owner: String, compiler: ConditionCompiler
  ) -> CompiledCondition? {
    guard let scalar = scalar(members, "condition", owner: owner) else { return nil }
    do {
      let compiled = try compiler.compile(try ConditionParser.parse(scalar.text))
      for warning in compiled.warnings where warning.macro == nil {
        warnings.append(RuleError(locate(warning.start, in: scalar), "\(owner): \(warning.message)"))
      }
      return compiled
    } catch {
      // Problems inside a macro are reported once, where the macro is defined.
      for each in error.all where each.macro == nil { fail(locate(each.start, in: scalar), "\(owner): \(each.message)") }
      return nil
    }
  }

  mutating func compileOutput(
    _ members: [RuleNode.Member], owner: String, compiler: ConditionCompiler
  ) -> OutputTemplate? {
    guard let scalar = scalar(members, "output", owner: owner) else { return nil }
    guard !Self.saysNothing(scalar.text) else {
      fail(scalar.position, "\(owner): output must say something: it is the alert's message")
      return nil
    }
    do {
      let template = try OutputTemplate(scalar.text, compiler: compiler)
      guard !template.canSayNothing else {
        fail(
          scalar.position,
          "\(owner): output can say nothing: all it says is in optional segments a report may leave out, and an alert "
            + "needs a message; put some text outside them, or end a segment with an alternative of text "
            + "(%{%perpetrator.name|an unidentified party})")
        return nil
      }
      if template.mayShowNothing {
        warnings.append(
          RuleError(
            scalar.position,
            "\(owner): output may say nothing: a list or extra field that a report gives empty shows nothing; "
              + "put some text beside it (an alert whose message would be empty is given <none>)"))
      }
      return template
    } catch {
      for each in error.all { fail(locate(each.start, in: scalar), "\(owner): output: \(each.message)") }
      return nil
    }
  }

  /// An output that is empty or only white space: an alert with no message.
  static func saysNothing(_ output: String) -> Bool {
    output.unicodeScalars.allSatisfy { $0.properties.isWhitespace }
  }

  /// Whether a condition refers to a broken macro's stand-in, directly or through macros.
  func usesStandIn(_ syntax: ConditionSyntax) -> Bool {
    var seen = Set<String>()
    func walk(_ syntax: ConditionSyntax) -> Bool {
      switch syntax {
      case .or(let parts), .and(let parts): return parts.contains(where: walk)
      case .not(let inner): return walk(inner)
      case .predicate, .call: return false
      case .reference(let name):
        if standInMacros.contains(name.text) { return true }
        guard seen.insert(name.text).inserted, let body = macroSyntax[name.text] else { return false }
        return walk(body)
      }
    }
    return walk(syntax)
  }

  /// Checks each example against the rule (only its form and its report when the rule
  /// itself is broken: `rule` nil); gives how many there were.
  private mutating func runExamples(_ members: [RuleNode.Member], id: String, rule: Rule?) -> Int {
    var count = 0
    let groups = exampleGroups(members, owner: "rule \(id)", keys: ["match", "no_match"], listOf: "reports")
    for (key, reports) in groups {
      for (index, example) in reports.enumerated() {
        count += 1
        let label = "rule \(id): example \(key)[\(index)]"
        guard case .mapping = example else {
          fail(example.position, "\(label) must be a report (a mapping), got \(example.kindName)")
          continue
        }
        // Its id counts the rule's examples through both lists, so no two share one.
        guard let report = exampleReport(example, id: id, index: count - 1, label: label) else { continue }
        guard let rule, !examplesWithheld else { continue }
        if rule.matches(report) != (key == "match") {
          fail(
            example.position, "\(label) \(key == "match" ? "does not match" : "matches, but should not match")",
            kind: .example)
        } else if key == "match", case let absent = rule.output.absentFields(in: report), let missing = absent.first {
          // Every field shown as <none>, not the first alone: one warning, one round of editing.
          var fields: [String] = []
          for field in absent where !fields.contains(field) { fields.append(field) }
          let named = fields.map { "%" + $0 }.joined(separator: ", ")
          warnings.append(
            RuleError(
              example.position,
              "\(label): its message shows <none> for \(named); put \(fields.count == 1 ? "the part" : "each part") in an "
                + "optional segment %{…} or give it a default with %{%\(missing)|…}", kind: .example))
        }
      }
    }
    return count
  }

  /// An item's `examples`: a mapping of the lists named `keys` (a rule's `match` and
  /// `no_match`, a pattern's `fires` and `quiet`). Gives each list with its key; what is
  /// not so is reported for `owner`.
  mutating func exampleGroups(_ members: [RuleNode.Member], owner: String, keys: [String], listOf: String)
    -> [(key: String, items: [RuleNode])]
  {
    guard let examples = members.first(where: { $0.key == "examples" })?.value, !examples.isNull else { return [] }
    guard case .mapping(let groups, _) = examples else {
      fail(examples.position, "\(owner): examples must be a mapping with \(keys.joined(separator: " and ")) lists")
      return []
    }
    var found: [(key: String, items: [RuleNode])] = []
    for group in groups {
      guard keys.contains(group.key) else {
        fail(
          group.keyPosition,
          "\(owner): unknown key '\(group.key)' in examples (known: \(keys.joined(separator: ", ")))")
        continue
      }
      if group.value.isNull { continue }
      guard case .sequence(let items, _) = group.value else {
        fail(group.value.position, "\(owner): examples \(group.key) must be a list of \(listOf)")
        continue
      }
      found.append((group.key, items))
    }
    return found
  }

  /// An example (a YAML mapping) as a report; nil, with the problem reported at the
  /// example under `label`, when it is not a valid report or carries an unknown field.
  mutating func exampleReport(_ example: RuleNode, id: String, index: Int, label: String) -> Report? {
    switch ReportParser.parse(ExampleReport.json(example, ruleID: id, index: index)) {
    case .failure(let error):
      fail(example.position, "\(label) is not a valid report: \(error.message)", kind: .example)
      return nil
    case .success(let parsed):
      if let warning = parsed.warnings.first {
        fail(example.position, "\(label): \(warning)", kind: .example)
        return nil
      }
      return parsed.report
    }
  }

  // MARK: Values

  /// Reports keys the item does not know and required ones it lacks.
  mutating func checkKeys(
    _ members: [RuleNode.Member], known: [String], required: [String], what: String, at position: SourcePosition
  ) -> Bool {
    var fine = true
    for member in members where !known.contains(member.key) {
      fail(member.keyPosition, "unknown key '\(member.key)' in a \(what) (known: \(known.joined(separator: ", ")))")
      fine = false
    }
    // Named when its name is there (`pattern t.x needs 'desc'`): a file of many items
    // otherwise leaves the reader to count lines.
    let name = members.first { $0.key == what }.flatMap { member -> String? in
      guard case .scalar(let scalar) = member.value, !scalar.text.isEmpty else { return nil }
      return scalar.text
    }
    for key in required where !members.contains(where: { $0.key == key }) {
      fail(position, name.map { "\(what) \($0) needs '\(key)'" } ?? "a \(what) needs '\(key)'")
      fine = false
    }
    return fine
  }

  mutating func scalar(_ members: [RuleNode.Member], _ key: String, owner: String) -> RuleNode.Scalar? {
    guard let node = members.first(where: { $0.key == key })?.value else { return nil }
    guard case .scalar(let scalar) = node, !node.isNull else {
      fail(node.position, "\(owner): \(key) must be a value, got \(node.isNull ? "nothing" : node.kindName)")
      return nil
    }
    return scalar
  }

  mutating func strings(_ members: [RuleNode.Member], _ key: String, owner: String) -> [String]? {
    guard let node = members.first(where: { $0.key == key })?.value, !node.isNull else { return [] }
    guard case .sequence(let elements, _) = node else {
      let example = ["basis": #"["ISSG ¶7"]"#, "tags": "[ceasefire, medical]", "rules": "[access.denied, access.obstructed]"][
        key, default: "[a, b]"]
      fail(node.position, "\(owner): \(key) must be a list, such as \(example); got \(node.kindName)")
      return nil
    }
    var values: [String] = []
    var wrong = false
    // Every wrong element is said, not only the first.
    for element in elements {
      guard case .scalar(let scalar) = element else {
        fail(element.position, "\(owner): each of \(key) must be a value, got \(element.kindName)")
        wrong = true
        continue
      }
      // A tag is a word to filter by (`subscribe`'s `tags`): one that is empty or
      // holds white space could never be asked for.
      if key == "tags", scalar.text.isEmpty || scalar.text.contains(where: \.isWhitespace) {
        fail(scalar.position, "\(owner): a tag is one word, without spaces, such as humanitarian_access; got '\(scalar.text)'")
        wrong = true
        continue
      }
      values.append(scalar.text)
    }
    return wrong ? nil : values
  }

  mutating func flag(_ members: [RuleNode.Member], _ key: String, owner: String) -> Bool? {
    guard let node = members.first(where: { $0.key == key })?.value, !node.isNull else { return true }
    guard case .scalar(let scalar) = node, scalar.text == "true" || scalar.text == "false" else {
      fail(node.position, "\(owner): \(key) must be true or false, got \(node.kindName)")
      return nil
    }
    return scalar.text == "true"
  }

  func locate(_ offset: Int, in scalar: RuleNode.Scalar) -> SourcePosition {
    guard let text = texts[scalar.position.file] else { return scalar.position }
    return locators.locator(for: scalar.position.file, text: text).position(of: offset, in: scalar)
  }

  /// Errors or warnings in load order, each once.
  func ordered(_ errors: [RuleError], sources: [RuleSource]) -> [RuleError] {
    let fileOrder = Dictionary(sources.enumerated().map { ($1.path, $0) }, uniquingKeysWith: { first, _ in first })
    var seen = Set<String>()
    return errors.filter { seen.insert($0.description).inserted }.sorted {
      (fileOrder[$0.position.file] ?? 0, $0.position.line, $0.position.column)
        < (fileOrder[$1.position.file] ?? 0, $1.position.line, $1.position.column)
    }
  }
}
