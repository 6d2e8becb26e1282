import Foundation
import NIOConcurrencyHelpers
import VigilCore

/// Where the configuration comes from, and the command-line flags that override it
/// (docs/vigild.md: each flag overrides its key; `--rules` replaces `rules.paths`).
public struct ConfigurationSource: Sendable {
  public static let defaultPath = "Config/vigild.yaml"

  /// `--config`: must be readable when given.
  public var explicitPath: String?
  public var socketPath: String?
  public var rulesPaths: [String] = []
  public var stateDirectory: String?
  public var alertLogPath: String?
  public var durability: DaemonConfiguration.Durability?
  /// `--http`: the console's address, or `off` (nil inside).
  public var http: HTTPAddress??

  public init() {}

  /// The file read: the explicit one, else the default one if it exists, else none (the
  /// built-in defaults). A symbolic link there whose target is gone is the default one, and
  /// an error to read: starting on the defaults would be silent about it.
  public var path: String? {
    var status = stat()
    return explicitPath ?? (lstat(Self.defaultPath, &status) == 0 ? Self.defaultPath : nil)
  }

  /// Reads the file (`path`) and applies the overrides.
  public func load(knownPlugins: [String], withoutSettings: [String] = [], enabledByDefault: [String] = []) throws
    -> DaemonConfiguration
  {
    var configuration = DaemonConfiguration()
    configuration.plugins = enabledByDefault.map { DaemonConfiguration.Plugin(name: $0) }
    if let path {
      let text = try Self.text(of: path)
      do {
        configuration = try ConfigurationLoader.load(
          yaml: text, file: path, knownPlugins: knownPlugins, withoutSettings: withoutSettings,
          enabledByDefault: enabledByDefault)
      } catch {
        var errors = error
        if !rulesPaths.isEmpty { errors.rulesPaths = rulesPaths }
        throw errors
      }
    }
    if let socketPath { configuration.socket.path = socketPath }
    if !rulesPaths.isEmpty { configuration.rules.paths = rulesPaths }
    if let stateDirectory { configuration.stateDirectory = stateDirectory }
    if let alertLogPath { configuration.alerts.path = alertLogPath }
    if let durability { configuration.durability = durability }
    if let http { configuration.http.listen = http }
    return configuration
  }

  /// The most a configuration may hold: read from a stream (a pipe, `<(…)`), nothing else
  /// bounds it.
  static let largest = 16 << 20

  /// The file's text. Read as a stream, not by its size: `/dev/null` (an empty
  /// configuration: the built-in defaults) and a named pipe or process substitution
  /// (`--config <(generate)`) report none.
  static func text(of path: String) throws -> String {
    // A stream gives its text once: a command that reads the configuration twice (the
    // socket's path, then the rest) gets the same text again, not an empty second read.
    var status = stat()
    let isStream = stat(path, &status) == 0 && status.st_mode & S_IFMT != S_IFREG
    if isStream, let read = streamed.withLockedValue({ $0[path] }) { return read }
    let text = try readText(of: path)
    if isStream { streamed.withLockedValue { $0[path] = text } }
    return text
  }

  /// What was read from configurations that are streams, by path.
  private static let streamed = NIOLockedValueBox<[String: String]>([:])

  private static func readText(of path: String) throws -> String {
    guard let handle = FileHandle(forReadingAtPath: path) else {
      throw ConfigurationFileError(path: path, reason: reason(path: path))
    }
    defer { try? handle.close() }
    var bytes = Data()
    do {
      while bytes.count <= largest, let chunk = try handle.read(upToCount: 1 << 16), !chunk.isEmpty {
        bytes.append(chunk)
      }
    } catch {
      throw ConfigurationFileError(path: path, reason: reason(path: path, error: error))
    }
    guard bytes.count <= largest else {
      throw ConfigurationFileError(path: path, reason: "it holds more than \(largest >> 20) MiB")
    }
    guard let text = String(validating: bytes, as: UTF8.self) else {
      let offset = TextPlace.firstInvalidUTF8Offset(in: bytes) ?? 0
      let place = TextPlace.of(offset: offset, in: [UInt8](bytes))
      throw ConfigurationFileError(
        path: path, reason: "not UTF-8 text (the byte at offset \(offset), line \(place.line) column \(place.column), is not)")
    }
    // A byte order mark (Windows' Notepad writes one), which YAML allows and libyaml read
    // as an indentation of the first key.
    return text.hasPrefix("\u{FEFF}") ? String(text.dropFirst()) : text
  }

  private static func reason(path: String, error: (any Error)? = nil) -> String {
    var isDirectory: ObjCBool = false
    if !FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
      if let target = try? FileManager.default.destinationOfSymbolicLink(atPath: path) {
        var status = stat()
        if stat(path, &status) != 0, errno == ELOOP { return "it is a symbolic link to \(target), in a loop of links" }
        return "it is a symbolic link to \(target), which does not exist"
      }
      return "no such file"
    }
    if isDirectory.boolValue { return "it is a directory" }
    if !FileManager.default.isReadableFile(atPath: path) { return "permission denied" }
    return error.map { "\($0.localizedDescription)" } ?? "it cannot be opened"
  }
}

/// The configuration file itself could not be read.
public struct ConfigurationFileError: Error, CustomStringConvertible {
  public let path: String
  public let reason: String

  public var description: String { "cannot read the configuration \(path): \(reason)" }
}
