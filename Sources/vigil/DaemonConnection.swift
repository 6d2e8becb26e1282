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
      let code = errno
      let reason = String(cString: strerror(code))
      close(descriptor)
      // Refused by the socket's mode: the daemon may well run; the user is not let in.
      let hint =
        code == EACCES
        ? "the socket's group may use it (vigil, docs/install.md): is this user in it?"
        : "is it running? (--socket or VIGIL_SOCKET)"
      throw CommandFailure(status: 2, sentence: "cannot reach vigild at \(path) (\(reason)); \(hint)")
    }
  }

  deinit {
    close(descriptor)
  }

  /// How long a one-request command waits for its answer: a reload of a large rule set
  /// whose pattern windows are rebuilt from the journal answers when it is done, so well
  /// above the seconds that takes; a daemon that accepted and never answers (stopped with
  /// SIGSTOP, wedged) fails the command with exit 2 rather than hanging it. `VIGIL_TIMEOUT`
  /// (seconds) sets another.
  static let answerWithin: Double = {
    guard let given = ProcessInfo.processInfo.environment["VIGIL_TIMEOUT"] else { return 120 }
    guard let seconds = Double(given), seconds > 0, seconds.isFinite else {
      FileHandle.standardError.write(Data("vigil: warning: VIGIL_TIMEOUT '\(given)' is not a number of seconds above 0; 120 s it is\n".utf8))
      return 120
    }
    return seconds
  }()

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

  /// Whether the last `readLine(within:)` gave up waiting.
  private(set) var timedOut = false

  /// The next response line, without its newline; nil once the daemon has closed, or when
  /// none came within `seconds` (`timedOut`).
  func readLine(within seconds: Double? = nil) -> [UInt8]? {
    let deadline = seconds.map { Date().addingTimeInterval($0) }
    timedOut = false
    // Where the search for the newline goes on: a long line (a `parked` answer of megabytes)
    // is looked through once, not again from its start after every read.
    var searched = start
    while true {
      if let newline = buffer[searched...].firstIndex(of: UInt8(ascii: "\n")) {
        let line = Array(buffer[start..<newline])
        start = newline + 1
        if start > 65_536 {
          buffer.removeFirst(start)
          start = 0
        }
        return line
      }
      searched = buffer.count
      if let deadline {
        var ready = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        let remaining = deadline.timeIntervalSinceNow
        let count = remaining > 0 ? poll(&ready, 1, Int32(min(remaining * 1000, 86_400_000).rounded(.up))) : 0
        if count < 0, errno == EINTR { continue }
        if count == 0 {
          timedOut = true
          return nil
        }
      }
      var chunk = [UInt8](repeating: 0, count: 65_536)
      let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
      if count < 0, errno == EINTR { continue }
      guard count > 0 else { return nil }
      buffer += chunk[0..<count]
    }
  }

  /// One request, one response, as a JSON object; an error response (`"ok":false`) is a
  /// failure that says it (`refusal(of:)`).
  func request(_ line: String, within seconds: Double = DaemonConnection.answerWithin) throws(CommandFailure) -> [String: Any] {
    let (_, object) = try exchange(line, within: seconds)
    if let refusal = Self.refusal(of: object) { throw refusal }
    return object
  }

  /// One request, and its response as the line sent and as a JSON object.
  func exchange(_ line: String, within seconds: Double = DaemonConnection.answerWithin) throws(CommandFailure) -> (
    line: [UInt8], object: [String: Any]
  ) {
    // A daemon that refuses the connection (`overloaded`) answers and closes before reading
    // the request, so the send may fail with its answer waiting to be read.
    _ = send(Array((line + "\n").utf8))
    let answer = readLine(within: seconds)
    if timedOut {
      throw CommandFailure(
        status: 2,
        sentence: "vigild at \(path) took the connection but did not answer within \(seconds.formatted(.number.precision(.fractionLength(0...1)))) s "
          + "(is it stopped, or stuck? its log says)")
    }
    guard let response = answer,
      let object = try? JSONSerialization.jsonObject(with: Data(response)) as? [String: Any]
    else {
      throw CommandFailure(status: 2, sentence: "vigild at \(path) closed the connection without answering")
    }
    return (response, object)
  }

  /// What an error response means to the user: `overloaded` (too many connections, or the
  /// daemon stopping) leaves it unreachable for now, exit 2; any other (`forbidden`) is a
  /// refusal, exit 1. Nil for a response that is no error.
  static func refusal(of response: [String: Any]) -> CommandFailure? {
    guard response["ok"] as? Bool != true else { return nil }
    let error = response["error"] as? [String: Any] ?? [:]
    let code = error["code"] as? String ?? "?"
    return CommandFailure(
      status: code == "overloaded" ? 2 : 1, sentence: "refused (\(code)): \(error["message"] as? String ?? "")")
  }
}
