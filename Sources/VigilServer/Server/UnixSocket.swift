import Glibc

/// Connecting a socket to a Unix socket path: the daemon (probing for a live daemon on a
/// socket file) and `vigil` share it.
public enum UnixSocket {
  /// The most bytes a socket's path can have: what `sun_path` holds, less its closing zero.
  public static let longestPath = MemoryLayout.size(ofValue: sockaddr_un().sun_path) - 1

  /// Why `path` cannot be where a socket is reached, or nil when it can.
  public static func problem(withPath path: String) -> String? {
    if path.isEmpty { return "expected a path, got nothing" }
    let length = path.utf8.count
    return length > longestPath ? "\(length) bytes long, more than the \(longestPath) a Unix socket's path can have" : nil
  }

  /// The longest path SwiftNIO's `SocketAddress(unixDomainSocketPath:)` takes: 103 bytes,
  /// what Darwin's `sun_path` holds, where Linux's holds 107.
  public static let longestNIOPath = 103

  /// A stream socket bound to `path` (up to `longestPath` bytes), not yet listening, for
  /// NIO's `withBoundSocket`: the paths from 104 to 107 bytes that NIO's own binding
  /// refuses. The descriptor, else -1 with `errno` set.
  public static func bound(to path: String) -> Int32 {
    let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    guard descriptor >= 0 else { return -1 }
    let bound = withAddress(of: path) { Glibc.bind(descriptor, $0, $1) }
    guard bound == 0 else {
      let failed = errno
      close(descriptor)
      errno = failed
      return -1
    }
    return descriptor
  }

  /// `connect(2)` to `path`; 0 on success, else -1 with `errno` set. Paths longer than
  /// `sun_path` holds (107 bytes) are cut, so check the length first where it matters.
  public static func connect(_ descriptor: Int32, to path: String) -> Int32 {
    withAddress(of: path) { Glibc.connect(descriptor, $0, $1) }
  }

  /// Calls `body` with the `sockaddr_un` of `path` (cut to what `sun_path` holds) and its
  /// length, as bind(2) and connect(2) take them.
  private static func withAddress(
    of path: String, _ body: (UnsafePointer<sockaddr>, socklen_t) -> Int32
  ) -> Int32 {
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    withUnsafeMutableBytes(of: &address.sun_path) { buffer in
      for (offset, byte) in path.utf8.prefix(buffer.count - 1).enumerated() { buffer[offset] = byte }
    }
    return withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
    }
  }
}
