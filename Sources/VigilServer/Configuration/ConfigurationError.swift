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

  public var description: String {
    errors.map(\.description).joined(separator: "\n")
  }
}
