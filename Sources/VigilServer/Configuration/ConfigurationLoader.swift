import Foundation
import VigilCore
import Yams

/// Reads `vigild.yaml` text into a `DaemonConfiguration`, collecting every problem with
/// its key path and position. Scalars are read from their source text, so YAML 1.1's
/// guesses (`0660` as the number 432, `no` as false) never change what a key means.
public enum ConfigurationLoader {
  /// - Parameters:
  ///   - file: the name used in error messages.
  ///   - knownPlugins: the plugins this daemon links; any other name under `plugins` is an error.
  ///   - withoutSettings: those of them that read no settings; any setting given one is an error.
  ///   - enabledByDefault: those on when the file names no plugins.
  public static func load(
    yaml: String, file: String, knownPlugins: [String], withoutSettings: [String] = [], enabledByDefault: [String] = []
  ) throws(ConfigurationErrors) -> DaemonConfiguration {
    let root: Node?
    do {
      root = try Yams.compose(yaml: yaml)
    } catch {
      let (line, column, problem) = YAMLProblem.describe(error)
      throw ConfigurationErrors(errors: [
        ConfigurationError(file: file, keyPath: "", line: line, column: column, message: "invalid YAML: \(problem)")
      ])
    }
    var reader = Reader(file: file, knownPlugins: knownPlugins, withoutSettings: withoutSettings)
    var configuration = DaemonConfiguration()
    configuration.plugins = enabledByDefault.map { DaemonConfiguration.Plugin(name: $0) }
    if let root, !reader.isNull(root) {
      reader.read(root, into: &configuration)
    }
    guard reader.errors.isEmpty else {
      // In the order of the file, whichever check found them.
      let ordered = reader.errors.enumerated().sorted {
        ($0.element.line ?? 0, $0.element.column ?? 0, $0.offset) < (
          $1.element.line ?? 0, $1.element.column ?? 0, $1.offset
        )
      }
      // A problem in `rules` (a misspelt `pahts` too) leaves the directories unknown, but
      // not one in its other known settings: a bad `poll_s` beside a missing directory is
      // two problems to list (audit 50).
      let otherRulesSettings = ["rules.watch", "rules.poll_s", "rules.lateness_horizon_days"]
      let pathsRead = !reader.errors.contains {
        $0.keyPath.isEmpty || $0.keyPath == "rules" || ($0.keyPath.hasPrefix("rules.") && !otherRulesSettings.contains($0.keyPath))
      }
      let pluginsRead = !reader.errors.contains { $0.keyPath.isEmpty || $0.keyPath == "plugins" || $0.keyPath.hasPrefix("plugins.") }
      throw ConfigurationErrors(
        errors: ordered.map(\.element), rulesPaths: pathsRead ? configuration.rules.paths : nil,
        pluginsRead: pluginsRead ? configuration : nil)
    }
    return configuration
  }
}

private struct Reader {
  let file: String
  let knownPlugins: [String]
  let withoutSettings: [String]
  var errors: [ConfigurationError] = []

  init(file: String, knownPlugins: [String], withoutSettings: [String]) {
    self.file = file
    self.knownPlugins = knownPlugins
    self.withoutSettings = withoutSettings
  }

  mutating func read(_ root: Node, into configuration: inout DaemonConfiguration) {
    let keys = ["node", "socket", "rules", "state_dir", "alerts", "durability", "limits", "http", "plugins"]
    for (key, value) in members(root, "", known: keys) {
      switch key {
      case "node": configuration.node = node(value, key) ?? configuration.node
      case "socket": readSocket(value, into: &configuration.socket)
      case "rules": readRules(value, into: &configuration.rules)
      case "state_dir": configuration.stateDirectory = path(value, key) ?? configuration.stateDirectory
      case "alerts": readAlerts(value, into: &configuration.alerts)
      case "durability":
        configuration.durability = word(value, key, DaemonConfiguration.Durability.self) ?? configuration.durability
      case "limits": readLimits(value, into: &configuration.limits)
      case "http": readHTTP(value, into: &configuration.http)
      default: configuration.plugins = plugins(value, key) ?? configuration.plugins
      }
    }
  }

  mutating func readSocket(_ node: Node, into socket: inout DaemonConfiguration.Socket) {
    let keys = ["path", "mode", "group", "admin_uids", "admin_gids", "threads"]
    for (key, value) in members(node, "socket", known: keys) {
      let path = "socket." + key
      switch key {
      case "threads":
        guard let threads = integer(value, path, minimum: 0) else { continue }
        guard threads <= DaemonConfiguration.Socket.mostThreads else {
          report(path, value, "expected at most \(DaemonConfiguration.Socket.mostThreads) threads, got \(shown(value))")
          continue
        }
        socket.threads = threads
      case "path": socket.path = socketPath(value, path) ?? socket.path
      case "mode": socket.mode = mode(value, path) ?? socket.mode
      case "group": socket.group = string(value, path, allowEmpty: true) ?? socket.group
      case "admin_uids": socket.adminUIDs = ids(value, path) ?? socket.adminUIDs
      default: socket.adminGIDs = ids(value, path) ?? socket.adminGIDs
      }
    }
  }

  mutating func readRules(_ node: Node, into rules: inout DaemonConfiguration.Rules) {
    for (key, value) in members(node, "rules", known: ["paths", "watch", "poll_s", "lateness_horizon_days"]) {
      let path = "rules." + key
      switch key {
      case "paths": rules.paths = paths(value, path) ?? rules.paths
      case "watch": rules.watch = bool(value, path) ?? rules.watch
      case "lateness_horizon_days":
        guard let days = integer(value, path, minimum: 1) else { continue }
        guard days <= 3650 else {
          report(path, value, "expected at most 3650 days (ten years)")
          continue
        }
        rules.latenessHorizonDays = days
      default: rules.pollSeconds = seconds(value, path) ?? rules.pollSeconds
      }
    }
  }

  mutating func readAlerts(_ node: Node, into alerts: inout DaemonConfiguration.Alerts) {
    for (key, value) in members(node, "alerts", known: ["path", "rotate_bytes", "keep"]) {
      let path = "alerts." + key
      switch key {
      case "path": alerts.path = self.path(value, path) ?? alerts.path
      case "rotate_bytes": alerts.rotateBytes = integer(value, path, minimum: 0) ?? alerts.rotateBytes
      default:
        // The daemon and `vigil` list every kept file's name: a bound keeps that small.
        guard let keep = integer(value, path, minimum: 1) else { continue }
        guard keep <= DaemonConfiguration.Alerts.mostKept else {
          report(path, value, "expected at most \(DaemonConfiguration.Alerts.mostKept) rotated files, got \(shown(value))")
          continue
        }
        alerts.keep = keep
      }
    }
  }

  mutating func readHTTP(_ node: Node, into http: inout DaemonConfiguration.HTTP) {
    for (key, value) in members(node, "http", known: ["listen", "token_file", "index_limit", "max_connections", "idle_s"]) {
      let path = "http." + key
      switch key {
      case "listen":
        guard let text = string(value, path) else { continue }
        switch HTTPAddress.parse(text) {
        case .success(let address): http.listen = address
        case .failure(let problem): report(path, value, problem.description)
        }
      case "token_file":
        // Empty: no token (loopback only).
        guard let text = string(value, path, allowEmpty: true) else { continue }
        http.tokenFile = text.isEmpty ? "" : self.path(value, path) ?? http.tokenFile
      case "max_connections": http.maxConnections = integer(value, path, minimum: 1) ?? http.maxConnections
      case "idle_s": http.idleSeconds = seconds(value, path, within: 1...86_400) ?? http.idleSeconds
      default: http.indexLimit = integer(value, path, minimum: 0) ?? http.indexLimit
      }
    }
  }

  mutating func readLimits(_ node: Node, into limits: inout DaemonConfiguration.Limits) {
    let keys = ["max_line_bytes", "max_connections", "max_pending_bytes", "idle_line_s"]
    for (key, value) in members(node, "limits", known: keys) {
      let path = "limits." + key
      switch key {
      case "max_line_bytes": limits.maxLineBytes = integer(value, path, minimum: 1) ?? limits.maxLineBytes
      case "max_connections": limits.maxConnections = integer(value, path, minimum: 1) ?? limits.maxConnections
      case "max_pending_bytes": limits.maxPendingBytes = integer(value, path, minimum: 1) ?? limits.maxPendingBytes
      default: limits.idleLineSeconds = seconds(value, path) ?? limits.idleLineSeconds
      }
    }
  }

  mutating func plugins(_ node: Node, _ path: String) -> [DaemonConfiguration.Plugin]? {
    let entries = members(node, path, known: knownPlugins)
    guard case .mapping = node else { return nil }
    return entries.map { name, settings in
      let settingsPath = path + "." + name
      if !isNull(settings), settings.mapping == nil {
        report(settingsPath, settings, "expected a mapping of the plugin's settings, got \(shown(settings))")
      } else if withoutSettings.contains(name), let first = settings.mapping?.first {
        report(
          settingsPath + "." + (first.key.scalar?.string ?? "?"), first.key,
          "unknown setting: the \(name) plugin takes none (enable it with {})")
      }
      // A setting left empty (`batch: ~`, `rules:`) keeps its default, as the core keys do.
      let given = settings.mapping.map { Node.mapping(Node.Mapping($0.filter { !isNull($0.value) })) } ?? settings
      var plugin = DaemonConfiguration.Plugin(name: name, settings: isNull(settings) ? .mapping([]) : value(given))
      let key = node.mapping?.first { $0.key.scalar?.string == name }?.key
      plugin.places = Self.places(of: settings, at: key)
      plugin.emptyKeys = (settings.mapping ?? [:]).filter { isNull($0.value) }.compactMap { $0.key.scalar?.string }
      return plugin
    }
  }

  /// Where a plugin's key and its settings' keys are, by key path (`""` the plugin's).
  static func places(of settings: Node, at key: Node?) -> [String: DaemonConfiguration.Place] {
    var places: [String: DaemonConfiguration.Place] = [:]
    func place(_ node: Node) -> DaemonConfiguration.Place? {
      node.mark.map { DaemonConfiguration.Place(line: $0.line, column: $0.column) }
    }
    func walk(_ node: Node, _ path: String) {
      for (keyNode, value) in node.mapping ?? [:] {
        guard let name = keyNode.scalar?.string else { continue }
        let keyPath = path.isEmpty ? name : path + "." + name
        places[keyPath] = place(keyNode)
        walk(value, keyPath)
      }
    }
    if let key { places[""] = place(key) }
    walk(settings, "")
    return places
  }

  // MARK: Structure

  /// The members of a mapping whose keys are known; unknown keys are reported (Yams
  /// itself refuses repeated keys). Members whose value is null keep their defaults, so
  /// they are left out.
  mutating func members(_ node: Node, _ path: String, known: [String]) -> [(String, Node)] {
    if isNull(node) { return [] }
    guard let mapping = node.mapping else {
      report(path, node, "expected a mapping, got \(shown(node))")
      return []
    }
    var result: [(String, Node)] = []
    for (keyNode, value) in mapping {
      guard let key = keyNode.scalar?.string else {
        report(path, keyNode, "expected a plain key, got \(shown(keyNode))")
        continue
      }
      let keyPath = path.isEmpty ? key : path + "." + key
      guard known.contains(key) else {
        let choices = known.isEmpty ? "none are known" : "known: " + known.joined(separator: ", ")
        report(keyPath, keyNode, "unknown key (\(choices))")
        continue
      }
      if !isNull(value) || path == "plugins" {
        result.append((key, value))
      }
    }
    return result
  }

  func isNull(_ node: Node) -> Bool {
    guard let scalar = node.scalar, scalar.style == .plain || scalar.style == .any else { return false }
    return ["", "~", "null", "Null", "NULL"].contains(scalar.string)
  }

  func value(_ node: Node) -> ConfigurationValue {
    switch node {
    case .scalar(let scalar): .scalar(scalar.string)
    case .sequence(let sequence): .sequence(sequence.map(value))
    case .mapping(let mapping):
      .mapping(mapping.map { ConfigurationValue.Member(key: $0.key.scalar?.string ?? "", value: value($0.value)) })
    case .alias: .scalar("")
    }
  }

  // MARK: Scalars

  mutating func string(_ node: Node, _ path: String, allowEmpty: Bool = false) -> String? {
    guard let scalar = node.scalar else {
      report(path, node, "expected a string, got \(shown(node))")
      return nil
    }
    if !allowEmpty, scalar.string.allSatisfy(\.isWhitespace) {
      report(path, node, "expected a non-empty string")
      return nil
    }
    return scalar.string
  }

  /// A node name: what a shared store keys this daemon's records by.
  mutating func node(_ node: Node, _ path: String) -> String? {
    guard let text = string(node, path) else { return nil }
    guard let problem = DaemonConfiguration.problem(inNodeName: text) else { return text }
    report(path, node, problem)
    return nil
  }

  mutating func path(_ node: Node, _ path: String) -> String? {
    guard let text = string(node, path) else { return nil }
    if text.utf8.contains(0) {
      report(path, node, "expected a path, got a string containing NUL")
      return nil
    }
    return text
  }

  /// A path a socket can be bound and reached at (a client could not reach a longer one).
  mutating func socketPath(_ node: Node, _ path: String) -> String? {
    guard let text = self.path(node, path) else { return nil }
    guard let problem = UnixSocket.problem(withPath: text) else { return text }
    report(path, node, problem)
    return nil
  }

  mutating func paths(_ node: Node, _ path: String) -> [String]? {
    guard let sequence = node.sequence else {
      report(path, node, "expected a list of directories, got \(shown(node))")
      return nil
    }
    guard !sequence.isEmpty else {
      report(path, node, "expected at least one rules directory")
      return nil
    }
    let paths = sequence.enumerated().compactMap { index, element in self.path(element, "\(path)[\(index)]") }
    return paths.count == sequence.count ? paths : nil
  }

  mutating func word<Word: RawRepresentable<String> & CaseIterable>(
    _ node: Node, _ path: String, _ type: Word.Type
  ) -> Word? {
    let allowed = Word.allCases.map(\.rawValue).joined(separator: ", ")
    guard let text = node.scalar?.string, let word = Word(rawValue: text) else {
      report(path, node, "expected one of (\(allowed)), got \(shown(node))")
      return nil
    }
    return word
  }

  mutating func bool(_ node: Node, _ path: String) -> Bool? {
    switch node.scalar?.string.lowercased() {
    case "true", "yes", "on": return true
    case "false", "no", "off": return false
    default:
      report(path, node, "expected true or false, got \(shown(node))")
      return nil
    }
  }

  mutating func integer(_ node: Node, _ path: String, minimum: Int) -> Int? {
    let digits = node.scalar?.string.filter { $0 != "_" } ?? ""
    guard let value = Int(digits), value >= minimum, digits.first != "+" else {
      // All digits, and past what a whole number holds here: too large, not too small.
      if Int(digits) == nil, !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }) {
        report(path, node, "expected a whole number of at least \(minimum), got \(shown(node)), which is too large")
      } else {
        report(path, node, "expected a whole number of at least \(minimum), got \(shown(node))")
      }
      return nil
    }
    return value
  }

  /// A number of seconds: more than 0 and at most a year (a time kept as nanoseconds or
  /// milliseconds in 64 bits overflows far above that), or within `range`.
  mutating func seconds(_ node: Node, _ path: String, within range: ClosedRange<Double>? = nil) -> Double? {
    guard let text = node.scalar?.string, let value = Double(text), value.isFinite, value > 0,
      value <= 31_536_000, range?.contains(value) ?? true,
      text.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") })
    else {
      let expected =
        range.map { "from \(Self.plain($0.lowerBound)) to \(Self.plain($0.upperBound))" }
        ?? "greater than 0 and at most 31536000 (a year)"
      report(path, node, "expected a number of seconds \(expected), got \(shown(node))")
      return nil
    }
    return value
  }

  private static func plain(_ value: Double) -> String {
    value == value.rounded() ? String(Int(value)) : String(value)
  }

  /// A file mode in octal, as chmod takes it: `"0660"`, `0660`, `660` or `0o660`.
  mutating func mode(_ node: Node, _ path: String) -> UInt32? {
    var text = node.scalar?.string ?? ""
    if text.hasPrefix("0o") { text.removeFirst(2) }
    guard !text.isEmpty, text.count <= 4, let value = UInt32(text, radix: 8), value <= 0o777 else {
      report(path, node, "expected an octal file mode from 0000 to 0777 such as \"0660\", got \(shown(node))")
      return nil
    }
    return value
  }

  mutating func ids(_ node: Node, _ path: String) -> [UInt32]? {
    guard let sequence = node.sequence else {
      report(path, node, "expected a list of numeric ids, got \(shown(node))")
      return nil
    }
    var ids: [UInt32] = []
    for (index, element) in sequence.enumerated() {
      guard let text = element.scalar?.string, let id = UInt32(text), id != UInt32.max else {
        report("\(path)[\(index)]", element, "expected a numeric id from 0 to 4294967294, got \(shown(element))")
        continue
      }
      ids.append(id)
    }
    return ids.count == sequence.count ? ids : nil
  }

  // MARK: Errors

  mutating func report(_ path: String, _ node: Node, _ message: String) {
    errors.append(
      ConfigurationError(file: file, keyPath: path, line: node.mark?.line, column: node.mark?.column, message: message))
  }

  func shown(_ node: Node) -> String {
    switch node {
    case .scalar(let scalar):
      let text = scalar.string.count > 40 ? String(scalar.string.prefix(40)) + "…" : scalar.string
      return "\"" + text.replacingOccurrences(of: "\"", with: "\\\"") + "\""
    case .mapping: return "a mapping"
    case .sequence: return "a list"
    case .alias: return "an alias"
    }
  }
}
