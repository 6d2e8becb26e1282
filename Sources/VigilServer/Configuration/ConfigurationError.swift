/// One problem in a configuration file, at its key path and position.
public struct ConfigurationError: Error, Equatable, Sendable, CustomStringConvertible {
  public let file: String
  /// Dotted key path (`socket.mode`, `rules.paths[1]`); empty for the document itself.
  public let keyPath: String
  public let line: Int?
  public let column: Int?
  public let message: String

  public init(file: String, keyPath: String, line: Int?, column: Int?, message: String) {
    self.file = file
    self.keyPath = keyPath
    self.line = line
    self.column = column
    self.message = message
  }

  public var description: String {
    var place = file
    if let line { place += ":\(line)" }
    if let column { place += ":\(column)" }
    return keyPath.isEmpty ? "\(place): \(message)" : "\(place): \(keyPath): \(message)"
  }
}

/// Every problem found in one configuration file.
public struct ConfigurationErrors: Error, Equatable, Sendable, CustomStringConvertible {
  public let errors: [ConfigurationError]
  /// The rules directories the file names (or the default), when they were read without a
  /// problem of their own: the checks of the directories themselves can then be listed
  /// with these, every problem at once.
  public var rulesPaths: [String]?
  /// The configuration as read, when its `plugins` section had no problem of its own: the
  /// plugins' settings can then be checked too, and their problems listed with these.
  public var pluginsRead: DaemonConfiguration?

  public init(errors: [ConfigurationError], rulesPaths: [String]? = nil, pluginsRead: DaemonConfiguration? = nil) {
    self.errors = errors
    self.rulesPaths = rulesPaths
    self.pluginsRead = pluginsRead
  }

  public var description: String {
    errors.map(\.description).joined(separator: "\n")
  }
}
