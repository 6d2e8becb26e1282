import Glibc
import NIOCore

/// Who is on the other end of a Unix socket, as `SO_PEERCRED` says (Linux's `struct
/// ucred`, which Glibc does not export to Swift: the same layout).
struct PeerCredentials: Sendable {
  var pid: Int32 = 0
  var uid: UInt32 = 0
  var gid: UInt32 = 0

  static func of(_ channel: Channel) -> EventLoopFuture<PeerCredentials>? {
    guard let provider = channel as? SocketOptionProvider else { return nil }
    return provider.unsafeGetSocketOption(level: SocketOptionLevel(SOL_SOCKET), name: SocketOptionName(SO_PEERCRED))
  }
}
