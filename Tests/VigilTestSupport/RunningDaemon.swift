import Foundation
import Testing

/// A real `vigild` started as a child process in a temporary directory, and a real Unix
/// socket client to talk to it.
public final class RunningDaemon {
  public let directory: TemporaryDirectory
  public let process = Process()
  public let socketPath: String
  private let errors = Pipe()
  /// The daemon's standard error, read as it comes: a daemon that writes more than a pipe
  /// holds (a sanitizer's report) would otherwise block on it instead of failing the test.
  private var errorsRead: ReadInBackground?
  private let wrapped: Bool

  /// Whether vigild's arguments ask for the console: `--http`, or a configuration file with
  /// an `http` section (without one vigild would listen on the default 127.0.0.1:8470).
  /// (A relative path is the daemon's: it runs in `directory`.)
  static func asksForTheConsole(_ arguments: [String], in directory: String) -> Bool {
    if arguments.contains(where: { $0 == "--http" || $0.hasPrefix("--http=") }) { return true }
    let configuration: String? =
      if let flag = arguments.firstIndex(of: "--config"), flag + 1 < arguments.count {
        arguments[flag + 1]
      } else {
        arguments.first { $0.hasPrefix("--config=") }.map { String($0.dropFirst("--config=".count)) }
      }
    guard let configuration else { return false }
    let path = configuration.hasPrefix("/") ? configuration : directory + "/" + configuration
    guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return false }
    return text.split(separator: "\n").contains { $0.hasPrefix("http:") }
  }

  /// Starts `vigild` with `arguments` in a directory holding `rules` (file name → text)
  /// under `Rules/`, and waits until its socket accepts connections. `wrapper` runs it
  /// under another program (`strace -f -o FILE`), which must run it as its only child.
  /// `readyWithin`: how long it may take to start (a daemon rebuilding from a large journal
  /// on a loaded machine takes longer than the usual deadline).
  public init(
    rules: [String: String], arguments: [String] = [], directory: TemporaryDirectory? = nil,
    environment: [String: String] = [:], wrapper: [String] = [], readyWithin: TimeInterval = 30
  ) throws {
    self.directory = try directory ?? TemporaryDirectory()
    socketPath = self.directory.path + "/v.sock"
    let rulesDirectory = self.directory.path + "/Rules"
    try? FileManager.default.createDirectory(atPath: rulesDirectory, withIntermediateDirectories: true)
    for (name, text) in rules {
      try text.write(toFile: rulesDirectory + "/" + name, atomically: true, encoding: .utf8)
    }
    let vigild = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
      .appendingPathComponent("vigild")
    // Many daemons run at once in the tests: none listens for the console unless the test
    // asks (with --http, or a configuration file's http section).
    let arguments = Self.asksForTheConsole(arguments, in: self.directory.path) ? arguments : arguments + ["--http", "off"]
    if wrapper.isEmpty {
      process.executableURL = vigild
      process.arguments = ["--socket", socketPath] + arguments
    } else {
      process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
      process.arguments = wrapper + [vigild.path, "--socket", socketPath] + arguments
    }
    wrapped = !wrapper.isEmpty
    // NIO's strict mode: a task scheduled on a loop that has stopped crashes the daemon
    // instead of printing a line, so every test's stop checks for it.
    let strict = ["SWIFTNIO_STRICT": "1"]
    process.environment = ProcessInfo.processInfo.environment.merging(strict.merging(environment) { _, new in new }) {
      _, new in new
    }
    process.currentDirectoryURL = URL(fileURLWithPath: self.directory.path)
    process.standardError = errors
    process.standardOutput = FileHandle.nullDevice
    try process.run()
    errorsRead = ReadInBackground(errors.fileHandleForReading)
    let deadline = Date().addingTimeInterval(readyWithin)
    while Date() < deadline {
      if process.isRunning == false { break }
      if (try? UnixSocketClient(path: socketPath)) != nil { return }
      Thread.sleep(forTimeInterval: 0.05)
    }
    throw CocoaError(.fileReadUnknown, userInfo: ["log": log()])
  }

  /// Sends the lines, half-closes, and reads every response line until the daemon closes.
  public func exchange(_ lines: [String]) throws -> [String] {
    let client = try UnixSocketClient(path: socketPath)
    try client.send(Array(lines.map { $0 + "\n" }.joined().utf8))
    client.closeWriting()
    return client.readAll().split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
  }

  public func exchange(_ line: String) throws -> [String: Any] {
    let response = try exchange([line]).first ?? ""
    return (try JSONSerialization.jsonObject(with: Data(response.utf8)) as? [String: Any]) ?? [:]
  }

  /// The daemon's process: the child started, or the wrapper's child.
  public var daemonID: pid_t {
    guard wrapped else { return process.processIdentifier }
    let pid = process.processIdentifier
    let children = (try? String(contentsOfFile: "/proc/\(pid)/task/\(pid)/children", encoding: .utf8)) ?? ""
    return children.split(separator: " ").first.flatMap { pid_t($0) } ?? pid
  }

  /// Sends a signal and waits for the process to end; gives its exit status.
  @discardableResult
  public func stop(signal: Int32 = SIGTERM) -> Int32 {
    kill(daemonID, signal)
    process.waitUntilExit()
    return process.terminationStatus
  }

  /// Sends SIGTERM and gives the daemon `seconds` to exit: its exit status, or nil when it
  /// did not (it is then killed), so a stop that hangs fails a test instead of holding the run.
  public func stop(within seconds: TimeInterval) -> Int32? {
    kill(daemonID, SIGTERM)
    let exited = DispatchSemaphore(value: 0)
    let process = self.process
    Thread.detachNewThread {
      process.waitUntilExit()
      exited.signal()
    }
    if exited.wait(timeout: .now() + seconds) == .success { return process.terminationStatus }
    kill(daemonID, SIGKILL)
    _ = exited.wait(timeout: .now() + 30)
    return nil
  }

  /// What the daemon has logged so far; all of it once it has ended.
  public func log() -> String {
    guard let errorsRead else { return "" }
    if process.isRunning { return errorsRead.sofar() }
    return String(decoding: errorsRead.wait(), as: UTF8.self)
  }

  deinit {
    if process.isRunning {
      if wrapped { kill(daemonID, SIGKILL) }
      kill(process.processIdentifier, SIGKILL)
      process.waitUntilExit()
    }
  }
}

/// Whether every line of a vigild log is one whole event, with its time and level
/// (docs/vigild.md, "one line per event"): no error continued on lines of its own.
public func isOneLinePerEvent(_ log: String) -> Bool {
  let event = #/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4} (trace|debug|info|notice|warning|error|critical) /#
  return log.split(separator: "\n").allSatisfy { $0.prefixMatch(of: event) != nil }
}

/// A blocking client of a Unix stream socket.
public final class UnixSocketClient: @unchecked Sendable {
  private let descriptor: Int32
  /// Bytes read past the last line `readLine` gave.
  private var unread: [UInt8] = []

  public init(path: String) throws {
    descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    withUnsafeMutableBytes(of: &address.sun_path) { buffer in
      for (offset, byte) in path.utf8.prefix(buffer.count - 1).enumerated() { buffer[offset] = byte }
    }
    let connected = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
      }
    }
    // No close here: a class whose init throws once every property is set is
    // deinitialized, and deinit closes it. (Closing here too closed the number twice —
    // by then perhaps another thread's pipe, which made a parallel test's spawn fail.)
    guard connected == 0 else { throw CocoaError(.fileReadNoSuchFile) }
  }

  deinit {
    close(descriptor)
  }

  /// Throws once the daemon has closed the connection (no SIGPIPE).
  public func send(_ bytes: [UInt8]) throws {
    var sent = 0
    while sent < bytes.count {
      let result = bytes.withUnsafeBytes {
        Glibc.send(descriptor, $0.baseAddress! + sent, bytes.count - sent, Int32(MSG_NOSIGNAL))
      }
      guard result > 0 else { throw CocoaError(.fileWriteUnknown) }
      sent += result
    }
  }

  public func closeWriting() {
    shutdown(descriptor, Int32(SHUT_WR))
  }

  /// The next line (without its `\n`), nil at EOF or when none comes within `timeout`.
  public func readLine(timeout: TimeInterval = 30) -> String? {
    let deadline = Date().addingTimeInterval(timeout)
    while true {
      if let newline = unread.firstIndex(of: UInt8(ascii: "\n")) {
        let line = String(decoding: unread[..<newline], as: UTF8.self)
        unread.removeSubrange(...newline)
        return line
      }
      let left = deadline.timeIntervalSinceNow
      guard left > 0 else { return nil }
      var descriptors = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
      guard poll(&descriptors, 1, Int32(min(left, 1) * 1000)) > 0 else { continue }
      var buffer = [UInt8](repeating: 0, count: 65_536)
      let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
      guard count > 0 else { return nil }
      unread += buffer[0..<count]
    }
  }

  /// Whether the daemon has closed the connection within `timeout` (reading what it sent).
  public func closedByPeer(within timeout: TimeInterval) -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
      var descriptors = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
      guard poll(&descriptors, 1, 200) > 0 else { continue }
      var buffer = [UInt8](repeating: 0, count: 65_536)
      let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
      if count <= 0 { return true }
      unread += buffer[0..<count]
    }
    return false
  }

  public func readAll() -> String {
    var data = unread
    unread = []
    var buffer = [UInt8](repeating: 0, count: 65_536)
    while true {
      let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
      if count <= 0 { break }
      data += buffer[0..<count]
    }
    return String(decoding: data, as: UTF8.self)
  }
}

/// Stops the daemon with SIGTERM and expects exit status 0, showing its log otherwise
/// (a sanitizer's report, a crash).
public func expectCleanStop(_ daemon: RunningDaemon, sourceLocation: SourceLocation = #_sourceLocation) {
  let status = daemon.stop()
  #expect(status == 0, "vigild's log: \(daemon.log().suffix(8000))", sourceLocation: sourceLocation)
}
