import Foundation

/// Where the sign-in form sends a browser back to: the page that asked for the token, not
/// the overview. It travels as `next` (`/login?next=/alerts%3Frule%3Dx`), so it is taken only
/// as a path on this console: an absolute path of printable ASCII (a page's own link is
/// percent-encoded), not `//host` or `/\host`, which browsers read as another site.
enum SignInReturn {
  static let longest = 2048

  /// `given` if it is a path on this console to go back to; nil otherwise.
  static func path(_ given: String?) -> String? {
    guard let given, given.utf8.count <= longest, given.hasPrefix("/"), !given.hasPrefix("//"), !given.hasPrefix("/\\"),
      given.utf8.allSatisfy({ (0x21...0x7E).contains($0) && $0 != UInt8(ascii: "\\") })
    else { return nil }
    let path = given.split(separator: "?", maxSplits: 1).first.map(String.init) ?? given
    return path == "/login" ? nil : given
  }

  /// The sign-in link for a page at `target` (its path and query as requested).
  static func link(from target: String) -> String {
    guard let target = path(target), target != "/" else { return "/login" }
    return "/login?next=" + (target.addingPercentEncoding(withAllowedCharacters: safe) ?? "")
  }

  /// What a query value may hold unencoded (RFC 3986 unreserved, and `/`).
  private static let safe = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~/")
}
