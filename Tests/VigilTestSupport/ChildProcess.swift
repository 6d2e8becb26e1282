import Foundation

/// Runs the `vigild` built next to the test binary. A daemon that starts is stopped with
/// SIGTERM as soon as it logs that it is ready, so the run ends either way.
public enum Vigild {
  public static func run(_ arguments: [String], in directory: String? = nil) throws -> ChildProcess.Run {
    try ChildProcess.run("vigild", arguments, in: directory, stopWhenReady: true)
  }
}

/// Runs the `vigil` built next to the test binary.
public enum Vigil {
  public static func run(_ arguments: [String], in directory: String? = nil) throws -> ChildProcess.Run {
    try ChildProcess.run("vigil", arguments, in: directory)
  }
}

/// A program (one of the package's, or an absolute path) run to its end as a child process.
public enum ChildProcess {
  public struct Run {
    public let status: Int32
    public let standardOutput: String
    public let standardError: String
  }

  public static func run(
    _ program: String, _ arguments: [String], in directory: String? = nil, stopWhenReady: Bool = false,
    standardInput: FileHandle = .nullDevice
  ) throws -> Run {
    let process = Process()
    // A bare name is one of the package's programs, built next to the test binary.
    process.executableURL =
      program.hasPrefix("/")
      ? URL(fileURLWithPath: program)
      : URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent(program)
    process.arguments = arguments
    if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
    let output = Pipe()
    let error = Pipe()
    process.standardOutput = output
    process.standardError = error
    process.standardInput = standardInput
    try process.run()
    // Read both pipes before waiting, so a chatty child never blocks on a full pipe.
    let errorData = ReadInBackground(error.fileHandleForReading)
    if stopWhenReady {
      let deadline = Date().addingTimeInterval(30)
      while process.isRunning, Date() < deadline, !errorData.sofar().contains("ready on") {
        Thread.sleep(forTimeInterval: 0.05)
      }
      if process.isRunning { kill(process.processIdentifier, SIGTERM) }
    }
    let outputData = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return Run(
      status: process.terminationStatus, standardOutput: String(decoding: outputData, as: UTF8.self),
      standardError: String(decoding: errorData.wait(), as: UTF8.self))
  }
}

/// Reads a file handle to its end on another thread.
/// Stops the process `pid` (SIGSTOP) and waits until it is stopped. The signal is only
/// queued when `kill` returns: a process running on the other core goes on a moment, and a
/// test that changes files "between two of its reads" must not begin before it has stopped.
public func stopProcess(_ pid: pid_t) -> Bool {
  guard kill(pid, SIGSTOP) == 0 else { return false }
  return eventually {
    let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
    guard let close = stat.lastIndex(of: ")") else { return false }
    let state = stat[close...].dropFirst().drop { $0 == " " }.first
    return state == "T" || state == "t"
  }
}

public final class ReadInBackground: @unchecked Sendable {
  private let done = DispatchSemaphore(value: 0)
  private let lock = NSLock()
  private var data = Data()
  private let descriptor: Int32

  public init(_ handle: FileHandle) {
    descriptor = handle.fileDescriptor
    Thread.detachNewThread { [self] in
      while true {
        let chunk = handle.availableData
        if chunk.isEmpty { break }
        lock.withLock { data.append(chunk) }
      }
      done.signal()
    }
  }

  /// What has been read so far, as text — once the pipe holds nothing the reading thread
  /// has yet to take (for up to 5 s): a daemon logs a line before it answers, but on a
  /// loaded machine this thread may not have run since, and a test that got the answer
  /// found the line missing.
  public func sofar() -> String {
    let deadline = Date().addingTimeInterval(5)
    var pending: Int32 = 0
    while ioctl(descriptor, UInt(FIONREAD), &pending) == 0, pending > 0, Date() < deadline {
      usleep(1000)
    }
    return lock.withLock { String(decoding: data, as: UTF8.self) }
  }

  /// Everything, once the handle's end is reached (at once on later calls).
  public func wait() -> Data {
    done.wait()
    done.signal()
    return lock.withLock { data }
  }
}

/// A directory under /tmp, removed when the value goes away.
public final class TemporaryDirectory {
  public let path: String

  public init() throws {
    var template = Array("/tmp/vigil-test-XXXXXX".utf8CString)
    guard let created = mkdtemp(&template) else { throw CocoaError(.fileWriteUnknown) }
    path = String(cString: created)
  }

  deinit {
    try? FileManager.default.removeItem(atPath: path)
  }
}
