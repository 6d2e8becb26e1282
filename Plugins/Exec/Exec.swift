import Foundation
import Glibc
import VigilCore

/// A sink that runs a command for each batch of alerts, the records on its standard input,
/// one JSON line each; exit status 0 means delivered, anything else (or running past
/// `timeout_s`) means the batch is retried later. Settings:
///
/// ```yaml
/// plugins:
///   exec:
///     command: [/usr/local/bin/forward-alerts, --to, ops]   # required
///     timeout_s: 30                                         # optional
/// ```
public struct Exec: AlertSink {
  public let name = "exec"

  public init() {}

  public func destination(settings: ConfigurationValue, node: String) throws(PluginSettingsError) -> any AlertDestination {
    guard case .mapping(let members) = settings else {
      throw PluginSettingsError("the settings must be a mapping with command (and timeout_s)")
    }
    var command: [String] = []
    var timeout = 30.0
    // Every setting's problem, said at once: not one per restart.
    var problems: [PluginSettingsError] = []
    var commandGiven = false
    for member in members {
      switch (member.key, member.value) {
      case ("command", .sequence(let words)):
        commandGiven = true
        command = words.compactMap { if case .scalar(let word) = $0 { word } else { nil } }
        if command.count != words.count || command.isEmpty || command[0].isEmpty {
          problems.append(PluginSettingsError("command must be a list of words, the program first"))
        }
      case ("command", _):
        commandGiven = true
        problems.append(PluginSettingsError("command must be a list of words, the program first: [/path/to/program, arg]"))
      case ("timeout_s", .scalar(let text)):
        guard let seconds = Double(text), seconds > 0, seconds <= 86_400 else {
          problems.append(
            PluginSettingsError("timeout_s must be a number of seconds above 0 and at most 86400 (a day), got \(text)"))
          continue
        }
        timeout = seconds
      default:
        problems.append(
          PluginSettingsError("unknown setting \(member.key) (known: command, timeout_s, and min_priority, rules, tags)"))
      }
    }
    if !commandGiven { problems.append(PluginSettingsError("command is required: the program to run for each batch")) }
    if let problem = PluginSettingsError.together(problems) { throw problem }
    return ExecDestination(command: command, timeout: timeout)
  }
}

/// Runs the command once per batch.
///
/// It is spawned with `posix_spawnp` (the program found on `PATH` unless it names a path) in
/// a process group of its own, with an empty signal mask and the default actions for the
/// signals vigild blocks or ignores, its standard input a file holding the batch and its
/// standard error another, both unlinked as soon as they are open. On timeout the whole
/// group is killed, so a script's children go with it; after a normal exit whatever the
/// command left running is left alone.
struct ExecDestination: AlertDestination {
  let command: [String]
  let timeout: Double
  /// The command's process group while it runs, for `stop`.
  private let running = ExecRunning()

  init(command: [String], timeout: Double) {
    self.command = command
    self.timeout = timeout
  }

  /// vigild is stopping: the command running now, and its group, are killed (the batch
  /// comes again at the next start).
  func stop() {
    running.killAll()
  }

  struct Failure: Error, CustomStringConvertible {
    let description: String
  }

  /// How much of the end of its standard error a failure shows.
  static let stderrTail = 300

  func deliver(_ alerts: [RecordedAlert]) throws {
    let program = command[0]
    // The batch goes through a file, not a pipe: a command that never reads cannot block
    // the delivery past its timeout. Its standard error goes to a file too: a pipe nobody
    // reads while it runs would block a chatty command until its timeout.
    let input = try Self.unlinkedTemporaryFile()
    defer { close(input) }
    let errors = try Self.unlinkedTemporaryFile()
    defer { close(errors) }
    try Self.write(Array(alerts.map { $0.line + "\n" }.joined().utf8), to: input)
    guard lseek(input, 0, SEEK_SET) == 0 else {
      throw Failure(description: "cannot rewind the batch file: \(Self.describe(errno))")
    }

    let pid = try spawn(input: input, errors: errors)
    running.add(pid)
    defer { running.remove(pid) }
    var status: Int32 = 0
    let deadline = ContinuousClock.now + .seconds(timeout)
    while true {
      let waited = waitpid(pid, &status, WNOHANG)
      if waited == pid { break }
      if waited < 0 {
        if errno == EINTR { continue }
        // Reaped by someone else (SIGCHLD ignored?): its pid, and so its group's id, may
        // be another's by now, so nothing is killed.
        throw Failure(description: "cannot wait for \(program): \(Self.describe(errno))")
      }
      if ContinuousClock.now >= deadline {
        // The whole group, while the child is not yet reaped (so its pid, the group's id,
        // cannot have been reused): a script's children too.
        kill(-pid, SIGKILL)
        while waitpid(pid, &status, 0) < 0, errno == EINTR {}
        // What it said before it hung is often why (a name it could not resolve).
        let said = Self.tail(of: errors)
        throw Failure(
          description: "\(program) ran past timeout_s (\(Self.seconds(timeout)) s) and was killed"
            + (said.isEmpty ? "" : ": \(said)"))
      }
      Self.keepOnlyTheEnd(of: errors)
      usleep(10_000)
    }

    let termination = status & 0x7f
    if termination == 0 {
      let code = (status >> 8) & 0xff
      guard code != 0 else { return }
      let said = Self.tail(of: errors)
      throw Failure(description: "\(program) exited with status \(code)" + (said.isEmpty ? "" : ": \(said)"))
    }
    let said = Self.tail(of: errors)
    let name = strsignal(termination).map { String(cString: $0) } ?? "signal \(termination)"
    throw Failure(
      description: "\(program) was killed by signal \(termination) (\(name))" + (said.isEmpty ? "" : ": \(said)"))
  }

  /// Starts the command: its own process group, nothing blocked, default signal actions,
  /// standard input from `input`, output to /dev/null, standard error to `errors`, and no
  /// other descriptor of vigild's.
  private func spawn(input: Int32, errors: Int32) throws -> pid_t {
    var actions = posix_spawn_file_actions_t()
    guard posix_spawn_file_actions_init(&actions) == 0 else {
      throw Failure(description: "cannot run \(command[0]): cannot set up its descriptors")
    }
    defer { posix_spawn_file_actions_destroy(&actions) }
    var attributes = posix_spawnattr_t()
    guard posix_spawnattr_init(&attributes) == 0 else {
      throw Failure(description: "cannot run \(command[0]): cannot set up its attributes")
    }
    defer { posix_spawnattr_destroy(&attributes) }

    var none = sigset_t()
    sigemptyset(&none)
    var defaults = sigset_t()
    sigemptyset(&defaults)
    // Every signal a process may catch or ignore (SIGKILL and SIGSTOP it may not), the
    // real-time ones too.
    for signalNumber: Int32 in 1...64 where signalNumber != SIGKILL && signalNumber != SIGSTOP {
      sigaddset(&defaults, signalNumber)
    }
    // And the two glibc keeps for its threads (32 and 33), which `sigaddset` refuses to
    // name: posix_spawn would otherwise leave them ignored in the command, and ignored
    // they stay across exec. Their bits are set by hand (signal n is bit n − 1).
    withUnsafeMutableBytes(of: &defaults) { bytes in
      let words = bytes.bindMemory(to: UInt.self)
      words[0] |= (1 << 31) | (1 << 32)
    }
    let flags = POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF
    var results = [
      posix_spawnattr_setflags(&attributes, Int16(flags)),
      posix_spawnattr_setpgroup(&attributes, 0),
      posix_spawnattr_setsigmask(&attributes, &none),
      posix_spawnattr_setsigdefault(&attributes, &defaults),
      posix_spawn_file_actions_adddup2(&actions, input, 0),
      posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0),
      posix_spawn_file_actions_adddup2(&actions, errors, 2),
    ]
    // Descriptors of vigild's that lack close-on-exec stay out of it.
    if let closeFrom = Self.closeFrom { results.append(closeFrom(&actions, 3)) }
    if let failed = results.first(where: { $0 != 0 }) {
      throw Failure(description: "cannot run \(command[0]): \(Self.describe(failed))")
    }

    let arguments: [UnsafeMutablePointer<CChar>?] = command.map { strdup($0) } + [nil]
    defer { for argument in arguments { free(argument) } }
    var pid: pid_t = 0
    // posix_spawnp reports a program it cannot find or execute as its result (glibc waits
    // for the exec), so there is no exit status 127 to interpret.
    let result = posix_spawnp(&pid, command[0], &actions, &attributes, arguments, environ)
    guard result == 0 else {
      let hint = command[0].contains("/") ? "" : " (looked for on PATH)"
      throw Failure(description: "cannot run \(command[0]): \(Self.describe(result))\(hint)")
    }
    return pid
  }

  /// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34 and later), which Swift's
  /// Glibc module does not declare (it is under _GNU_SOURCE); nil where there is none.
  private static let closeFrom: CloseFrom? = {
    guard let symbol = dlsym(dlopen(nil, RTLD_NOW), "posix_spawn_file_actions_addclosefrom_np") else { return nil }
    return unsafeBitCast(symbol, to: CloseFrom.self)
  }()
  private typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>?, Int32) -> Int32

  /// A new file in `TMPDIR` (or /tmp), private, random name, unlinked at once: the
  /// descriptor stays valid and nothing is left visible, whatever happens next.
  static func unlinkedTemporaryFile() throws -> Int32 {
    var directory = ProcessInfo.processInfo.environment["TMPDIR"] ?? ""
    if directory.isEmpty { directory = "/tmp" }
    while directory.count > 1, directory.hasSuffix("/") { directory.removeLast() }
    var lastError: Int32 = 0
    for _ in 0..<16 {
      let path = directory + "/vigil-exec-" + String(UInt64.random(in: .min ... .max), radix: 36)
      let opened = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o600)
      guard opened >= 0 else {
        lastError = errno
        if lastError == EEXIST || lastError == EINTR { continue }
        break
      }
      unlink(path)
      // Above the standard three, so that dup2 onto 0 or 2 always copies it (a copy onto
      // itself would keep close-on-exec).
      guard opened <= 2 else { return opened }
      let moved = fcntl(opened, F_DUPFD_CLOEXEC, 3)
      lastError = errno
      close(opened)
      if moved >= 0 { return moved }
      break
    }
    throw Failure(description: "cannot create a temporary file in \(directory): \(describe(lastError))")
  }

  static func write(_ bytes: [UInt8], to descriptor: Int32) throws {
    var done = 0
    while done < bytes.count {
      let count = bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress! + done, $0.count - done) }
      if count < 0, errno == EINTR { continue }
      guard count > 0 else { throw Failure(description: "cannot write the batch file: \(describe(errno))") }
      done += count
    }
  }

  /// How much of a command's standard error is kept on disk while it runs: a command that
  /// writes without end there fills no disk.
  static let stderrKept: off_t = 1 << 20

  /// Past `stderrKept`, the start of the standard error file is given back to the file
  /// system (a hole punched in it, the size kept, so the command's writes go on where they
  /// were): only its end is ever shown.
  static func keepOnlyTheEnd(of descriptor: Int32) {
    var information = stat()
    guard fstat(descriptor, &information) == 0, off_t(information.st_blocks) * 512 > stderrKept else { return }
    let end = (information.st_size - 65_536) / 4096 * 4096
    guard end > 0 else { return }
    // FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE; a file system without holes keeps it all.
    _ = punchHole?(descriptor, 0x02 | 0x01, 0, end)
  }

  /// glibc's `fallocate`, which Swift's Glibc module does not declare (it is under
  /// _GNU_SOURCE).
  private static let punchHole: Fallocate? = {
    guard let symbol = dlsym(dlopen(nil, RTLD_NOW), "fallocate") else { return nil }
    return unsafeBitCast(symbol, to: Fallocate.self)
  }()
  private typealias Fallocate = @convention(c) (Int32, Int32, off_t, off_t) -> Int32

  /// The last bytes the command wrote to its standard error, trimmed, on one line: line
  /// breaks as spaces, other control characters (a terminal's escapes, NUL) replaced, as it
  /// is shown in status and in vigild's log.
  static func tail(of descriptor: Int32) -> String {
    var information = stat()
    guard fstat(descriptor, &information) == 0 else { return "" }
    let size = Int(information.st_size)
    guard size > 0, lseek(descriptor, off_t(max(0, size - stderrTail)), SEEK_SET) >= 0 else { return "" }
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    while bytes.count < stderrTail {
      let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
      if count < 0, errno == EINTR { continue }
      guard count > 0 else { break }
      bytes += buffer[0..<count]
    }
    // The cut may fall inside a character (Arabic takes two bytes): its continuation bytes
    // are left out, not shown as a U+FFFD the command never wrote.
    let tail = bytes.suffix(stderrTail).drop { $0 & 0xC0 == 0x80 }
    let text = String(decoding: tail, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    var shown = String.UnicodeScalarView()
    for scalar in text.unicodeScalars {
      switch scalar.value {
      case 0x09, 0x0A, 0x0D: shown.append(" ")
      case 0x00..<0x20, 0x7F..<0xA0: shown.append("\u{FFFD}")
      default: shown.append(scalar)
      }
    }
    return String(shown)
  }

  static func describe(_ error: Int32) -> String {
    String(cString: strerror(error))
  }

  /// 30 as "30", 0.5 as "0.5".
  static func seconds(_ value: Double) -> String {
    value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value)
  }
}

/// The process groups of the commands running now.
final class ExecRunning: @unchecked Sendable {
  private let lock = NSLock()
  /// Guarded by `lock`. A group is removed only after its leader is reaped, so a group id
  /// here cannot have been reused.
  private var groups: Set<pid_t> = []

  func add(_ group: pid_t) {
    lock.withLock { _ = groups.insert(group) }
  }

  func remove(_ group: pid_t) {
    lock.withLock { _ = groups.remove(group) }
  }

  func killAll() {
    lock.withLock {
      for group in groups { kill(-group, SIGKILL) }
    }
  }
}
