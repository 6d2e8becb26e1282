import Foundation

/// Tells systemd the daemon is ready (`Type=notify`): `READY=1` as a datagram to the
/// socket in `NOTIFY_SOCKET`, when that is set.
enum SystemdNotifier {
  static func ready() {
    guard let path = ProcessInfo.processInfo.environment["NOTIFY_SOCKET"], !path.isEmpty else { return }
    let descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
    guard descriptor >= 0 else { return }
    defer { close(descriptor) }
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    // An abstract socket is written with a leading '@' and sent with a leading NUL.
    let bytes = Array(path.utf8).enumerated().map { $0 == 0 && $1 == UInt8(ascii: "@") ? 0 : $1 }
    withUnsafeMutableBytes(of: &address.sun_path) { buffer in
      for (offset, byte) in bytes.prefix(buffer.count - 1).enumerated() { buffer[offset] = byte }
    }
    let message = Array("READY=1".utf8)
    let length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count)
    _ = withUnsafePointer(to: &address) { pointer in
      pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
        message.withUnsafeBytes { sendto(descriptor, $0.baseAddress, $0.count, 0, address, length) }
      }
    }
  }
}
