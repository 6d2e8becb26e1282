import Crypto
import Foundation
import VigilServer
import VigilCore

/// Who may read the console (docs/console.md, "Access"). On a loopback address anyone on the
/// machine may, as with the socket's own file mode; on any other address vigild needs an
/// access token, read from `http.token_file`, given as `Authorization: Bearer <token>` or
/// through the login form, which sets an HttpOnly, SameSite=Strict cookie. Both are compared
/// in constant time.
public struct ConsoleAccess: Sendable {
  /// The token; nil: no token is asked for (a loopback address without `token_file`).
  let token: [UInt8]?
  /// The cookie's value: an HMAC of the token, so the cookie is not the token itself.
  let session: [UInt8]?
  /// Whether requests must be addressed to the machine itself: a console that asks for no
  /// token trusts whoever reaches it, so a page elsewhere must not reach it by giving its own
  /// host name this machine's address (DNS rebinding).
  var loopbackHostsOnly = false
  static let cookieName = "vigil_console"

  public struct Refusal: Error, CustomStringConvertible {
    public let description: String
  }

  /// The access the configuration asks for; a refusal says why vigild cannot start.
  public static func load(_ http: DaemonConfiguration.HTTP) throws(Refusal) -> ConsoleAccess {
    guard let listen = http.listen else { return ConsoleAccess(token: nil, session: nil) }
    guard !http.tokenFile.isEmpty else {
      if listen.isLoopback { return ConsoleAccess(token: nil, session: nil, loopbackHostsOnly: true) }
      throw Refusal(
        description: """
          http.listen: the console would listen on \(listen), which is not a loopback address, without an access token: \
          set http.token_file to a file holding one (or listen on 127.0.0.1, or --http off)
          """)
    }
    let data: [UInt8]
    switch SettingsFile.read(http.tokenFile) {
    case .success(let bytes): data = bytes
    case .failure(let problem):
      throw Refusal(
        description: "http.token_file: cannot read the console's access token from \(http.tokenFile) (\(problem.reason))")
    }
    let token = Array(String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines).utf8)
    guard token.count >= 16 else {
      throw Refusal(
        description:
          "http.token_file: the access token in \(http.tokenFile) is \(token.count) bytes; use at least 16 (e.g. openssl rand -hex 32)")
    }
    let key = SymmetricKey(data: token)
    let session = Array(HMAC<SHA256>.authenticationCode(for: Array("vigil console session".utf8), using: key))
    return ConsoleAccess(token: token, session: session.map { $0 }.hexBytes)
  }

  var required: Bool { token != nil }

  /// Whether a request's bearer header or cookie carries the token.
  func admits(authorization: String?, cookie: String?) -> Bool {
    guard let token, let session else { return true }
    if let authorization, authorization.lowercased().hasPrefix("bearer ") {
      let given = Array(authorization.dropFirst("bearer ".count).trimmingCharacters(in: .whitespaces).utf8)
      if Self.constantTimeEqual(given, token) { return true }
    }
    if let value = Self.cookie(Self.cookieName, in: cookie), Self.constantTimeEqual(Array(value.utf8), session) {
      return true
    }
    return false
  }

  /// Whether a request's `Host` (its authority) may be answered: any, unless the console is
  /// open to loopback without a token; then only a name of this machine — a loopback address
  /// in any of its forms (`127.0.0.1`, `127.1`, `[::1]`, `[::ffff:127.0.0.1]`), `localhost`
  /// (or a name under it) and the other names systems give it (`localhost.localdomain`,
  /// `ip6-localhost`, `ip6-loopback`), or the machine's own host name — with any port, a
  /// trailing dot or not, or none given (HTTP/1.0).
  func admits(host authority: String?) -> Bool {
    guard loopbackHostsOnly, let authority, !authority.isEmpty else { return true }
    var host = Substring(authority.lowercased())
    // After the host, nothing or a port: digits, at most 65535 (RFC 3986 §3.2.3).
    func isPort(_ rest: Substring) -> Bool {
      guard let colon = rest.first else { return true }
      let digits = rest.dropFirst()
      // An empty port is allowed ("host:"), as RFC 3986 allows it.
      guard colon == ":", digits.count <= 5, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return false }
      return digits.isEmpty || Int(digits)! <= 65535
    }
    if host.hasPrefix("[") {
      guard let close = host.firstIndex(of: "]"), isPort(host[host.index(after: close)...]) else { return false }
      return HTTPAddress.isLoopbackIPv6(String(host[host.index(after: host.startIndex)..<close]))
    }
    if let colon = host.lastIndex(of: ":") {
      guard isPort(host[colon...]) else { return false }
      host = host[..<colon]
    }
    if host.hasSuffix("."), host.count > 1 { host = host.dropLast() }
    // A name under localhost has labels, none of them empty ("a.localhost", not ".localhost").
    let underLocalhost =
      host.hasSuffix(".localhost") && !host.dropLast(".localhost".count).isEmpty
      && !host.dropLast(".localhost".count).split(separator: ".", omittingEmptySubsequences: false).contains(where: \.isEmpty)
    if host == "localhost" || underLocalhost || Self.otherLoopbackNames.contains(String(host)) { return true }
    if let own = Self.hostName, host == own || host == own.prefix(while: { $0 != "." }) { return true }
    return HTTPAddress.isLoopbackIPv4(String(host))
  }

  static let otherLoopbackNames: Set<String> = ["localhost.localdomain", "ip6-localhost", "ip6-loopback"]

  /// The machine's own name, lowercased (Debian maps it to 127.0.1.1).
  static let hostName: String? = {
    var buffer = [CChar](repeating: 0, count: 256)
    guard gethostname(&buffer, buffer.count) == 0 else { return nil }
    let name = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self).lowercased()
    return name.isEmpty ? nil : name
  }()

  /// Whether a token typed into the login form is the token.
  func matches(_ given: String) -> Bool {
    guard let token else { return true }
    return Self.constantTimeEqual(Array(given.trimmingCharacters(in: .whitespacesAndNewlines).utf8), token)
  }

  /// The `Set-Cookie` value after a good login.
  var sessionCookie: String {
    "\(Self.cookieName)=\(String(decoding: session ?? [], as: UTF8.self)); Path=/; HttpOnly; SameSite=Strict"
  }

  /// Compares every byte whatever the first difference, so the time taken says nothing of
  /// how much of a guess was right (only the length, which the token's file fixes).
  static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    var difference = UInt8(a.count == b.count ? 0 : 1)
    for index in 0..<max(a.count, b.count) {
      difference |= (index < a.count ? a[index] : 0) ^ (index < b.count ? b[index] : 0)
    }
    return difference == 0
  }

  static func cookie(_ name: String, in header: String?) -> String? {
    guard let header else { return nil }
    for part in header.split(separator: ";") {
      let pair = part.trimmingCharacters(in: .whitespaces)
      if pair.hasPrefix(name + "=") { return String(pair.dropFirst(name.count + 1)) }
    }
    return nil
  }
}

extension Array where Element == UInt8 {
  /// The bytes as lower-case hex text, as bytes.
  var hexBytes: [UInt8] {
    Array(map { String(format: "%02x", $0) }.joined().utf8)
  }
}
