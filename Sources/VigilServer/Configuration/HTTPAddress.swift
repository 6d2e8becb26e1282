import Foundation

/// Where the console listens (docs/console.md): a host and a TCP port, written
/// `127.0.0.1:8470`, `[::1]:8470`, `0.0.0.0:8470`, or `localhost:8470`.
public struct HTTPAddress: Sendable, Equatable, CustomStringConvertible {
  public var host: String
  public var port: Int

  public init(host: String, port: Int) {
    self.host = host
    self.port = port
  }

  public static let standard = HTTPAddress(host: "127.0.0.1", port: 8470)

  /// The address a setting or `--http` gives: nil for `off`; a message saying what is
  /// wrong otherwise.
  public static func parse(_ text: String) -> Result<HTTPAddress?, Problem> {
    let trimmed = text.trimmingCharacters(in: .whitespaces)
    if trimmed == "off" { return .success(nil) }
    let host: Substring
    let port: Substring
    if trimmed.hasPrefix("[") {
      guard let close = trimmed.firstIndex(of: "]"), trimmed[trimmed.index(after: close)...].hasPrefix(":") else {
        return .failure(Problem("expected [IPv6 address]:port, got \(trimmed)"))
      }
      host = trimmed[trimmed.index(after: trimmed.startIndex)..<close]
      port = trimmed[trimmed.index(close, offsetBy: 2)...]
    } else {
      guard let colon = trimmed.lastIndex(of: ":"), !trimmed[..<colon].contains(":") else {
        return .failure(Problem("expected host:port (or off), got \(trimmed.isEmpty ? "nothing" : trimmed)"))
      }
      host = trimmed[..<colon]
      port = trimmed[trimmed.index(after: colon)...]
    }
    guard !host.isEmpty else { return .failure(Problem("expected a host before the port, got \(trimmed)")) }
    guard let number = Int(port), (1...65535).contains(number) else {
      return .failure(Problem("expected a port from 1 to 65535, got \(port.isEmpty ? "nothing" : String(port))"))
    }
    return .success(HTTPAddress(host: String(host), port: number))
  }

  public struct Problem: Error, Equatable, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
  }

  /// Whether only this machine can reach the address: 127.0.0.0/8, ::1, localhost.
  public var isLoopback: Bool {
    host == "localhost" || host == "::1" || host == "0:0:0:0:0:0:0:1"
      || (host.hasPrefix("127.") && host.split(separator: ".").count == 4
        && host.split(separator: ".").allSatisfy { UInt8($0) != nil })
  }

  public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
