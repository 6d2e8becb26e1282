import Foundation
import Glibc
import VigilServer

/// A connection to `vigild`'s Unix socket: lines out, lines in (docs/protocol.md). Blocking;
/// `send` and `readLine` may run on two threads at once (pipelining).
final class DaemonConnection: @unchecked Sendable {
  let path: String
  private let descriptor: Int32
  // Touched only by the reading thread.
  private var buffer: [UInt8] = []
  private var start = 0

  /// Connects, or fails with the reason in one sentence (exit status 2).
  init(path: String) throws(CommandFailure) {
    self.path = path
    descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
    guard path.utf8.count < MemoryLayout.size(ofValue: sockaddr_un().sun_path) else {
      close(descriptor)
      throw CommandFailure(status: 2, sentence: "the socket path \(path) is longer than 107 bytes")
    }
    let connected = UnixSocket.connect(descriptor, to: path)
    guard connected == 0 else {
      let reason = String(cString: strerror(errno))
      close(descriptor)
      throw CommandFailure(
        status: 2, sentence: "cannot reach vigild at \(path) (\(reason)); is it running? (--socket or VIGIL_SOCKET)")
    }
  }

  deinit {
    close(descriptor)
  }

  /// Writes all of `bytes`; false once the daemon has closed the connection.
  @discardableResult
  func send(_ bytes: [UInt8]) -> Bool {
    var sent = 0
    while sent < bytes.count {
      let result = bytes.withUnsafeBytes {
        Glibc.send(descriptor, $0.baseAddress! + sent, bytes.count - sent, Int32(MSG_NOSIGNAL))
      }
      if result < 0, errno == EINTR { continue }
      guard result > 0 else { return false }
      sent += result
    }
    return true
  }

  /// No more requests: the daemon answers what it has, then closes.
  func finishSending() {
    shutdown(descriptor, Int32(SHUT_WR))
  }

  /// The next response line, without its newline; nil once the daemon has closed.
  func readLine() -> [UInt8]? {
    while true {
      if let newline = buffer[start...].firstIndex(of: UInt8(ascii: "\n")) {
        let line = Array(buffer[start..<newline])
        start = newline + 1
        if start > 65_536 {
          buffer.removeFirst(start)
          start = 0
        }
        return line
      }
      var chunk = [UInt8](repeating: 0, count: 65_536)
      let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
      if count < 0, errno == EINTR { continue }
      guard count > 0 else { return nil }
      buffer += chunk[0..<count]
    }
  }

  /// One request, one response, as a JSON object.
  func request(_ line: String) throws(CommandFailure) -> [String: Any] {
    guard send(Array((line + "\n").utf8)), let response = readLine(),
      let object = try? JSONSerialization.jsonObject(with: Data(response)) as? [String: Any]
    else {
      throw CommandFailure(status: 2, sentence: "vigild at \(path) closed the connection without answering")
    }
    return object
  }
}
