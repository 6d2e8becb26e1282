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
  /// In any form the system reads: `localhost` in any case;
  /// an IPv4 address in 127.0.0.0/8 as inet_aton reads it (`127.1`); `::1`, or an IPv4
  /// loopback address mapped into IPv6 (`::ffff:127.0.0.1`).
  public var isLoopback: Bool {
    // Not `localhost.`: the system resolves a name with a trailing dot through DNS, not
    // the hosts file, and the console would listen wherever DNS says, without a token.
    let name = host.lowercased()
    return name == "localhost" || Self.isLoopbackIPv6(name) || Self.isLoopbackIPv4(name)
  }

  /// An IPv6 address (without brackets) that is `::1`, or an IPv4 loopback address mapped
  /// into IPv6 (`::ffff:127.0.0.1`).
  public static func isLoopbackIPv6(_ literal: String) -> Bool {
    var address = in6_addr()
    guard inet_pton(AF_INET6, literal, &address) == 1 else { return false }
    let bytes = withUnsafeBytes(of: &address) { Array($0) }
    let loopback = bytes[0..<15].allSatisfy { $0 == 0 } && bytes[15] == 1
    let mapped = bytes[0..<10].allSatisfy { $0 == 0 } && bytes[10] == 0xFF && bytes[11] == 0xFF && bytes[12] == 127
    return loopback || mapped
  }

  /// An IPv4 address in 127.0.0.0/8, in every form inet_aton reads (and a browser sends:
  /// `127.1`, `0x7f.1`).
  public static func isLoopbackIPv4(_ text: String) -> Bool {
    var address = in_addr()
    guard text.allSatisfy({ $0.isASCII && ($0.isHexDigit || $0 == "." || $0 == "x") }), inet_aton(text, &address) == 1
    else { return false }
    return UInt32(bigEndian: address.s_addr) >> 24 == 127
  }

  public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
