import Foundation
import Glibc
import NIOConcurrencyHelpers
import VigilCore

/// Watches the rules directories and calls `onChange` when the rule files change (docs/rules.md,
/// "Reload"): inotify on each directory (and on the directories that symlinked rule files
/// point into), debounced so a burst of events — an editor's save is several — becomes one
/// call at most 200 ms after its last event (and no later than a second after its first,
/// so a steady stream of edits cannot starve it); and a poll every `pollSeconds` of the
/// files' sizes, mtimes and resolved symlink targets, which catches symlink swaps (how
/// Kubernetes updates a ConfigMap) and filesystems without inotify. It runs on its own
/// thread; `onChange` runs there too, one call at a time.
public final class RuleWatcher: @unchecked Sendable {
  static let quietPeriod = 0.2
  static let longestDelay = 1.0
  /// How long a rule file written in place, and not closed yet, is waited for: its writer
  /// may pause between two writes, and what it wrote so far can be a valid set that lacks
  /// the rest (rules silently out of force until the next load).
  static let longestWhileWritten = 10.0
  private static let events = UInt32(
    IN_CREATE | IN_DELETE | IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO | IN_ATTRIB | IN_DELETE_SELF
      | IN_MOVE_SELF)

  private let directories: [String]
  private let pollSeconds: Double
  private let onChange: @Sendable () -> Void
  private let inotify: Int32
  /// Written to by `stop()` to wake the thread.
  private let wakeUp: (read: Int32, write: Int32)
  // Touched only on the watcher's thread (after `start`).
  private var watches: [String: Int32] = [:]
  private var fingerprint: [String] = []
  /// Whether the events since the last reload named a rule file (see `run`).
  private var ruleFileTouched = false
  /// Rule files modified and not closed since (by watch and name): being written in place.
  private var beingWritten: Set<String> = []
  private let finished = DispatchSemaphore(value: 0)
  /// The files as a reload (by any trigger) read them, for the watcher's thread to take
  /// as its own: what changes after that reload is a change, even one made before the
  /// watcher looked again.
  private let atLastReading = NIOLockedValueBox<[String]?>(nil)

  /// Notes the files as they are now, as a reload is about to read them.
  public func noteReading() {
    let now = Self.fingerprint(of: directories)
    atLastReading.withLockedValue { $0 = now }
  }

  /// Takes the files as they are now as the state already loaded, and begins collecting
  /// events: create it before loading the rule set, so no change in between is missed.
  public init(directories: [String], pollSeconds: Double, onChange: @escaping @Sendable () -> Void) {
    self.directories = directories
    self.pollSeconds = max(pollSeconds, 0.1)
    self.onChange = onChange
    inotify = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
    var ends: [Int32] = [0, 0]
    _ = pipe(&ends)
    for end in ends { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
    wakeUp = (ends[0], ends[1])
    fingerprint = Self.fingerprint(of: directories)
    updateWatches()
  }

  deinit {
    if inotify >= 0 { close(inotify) }
    close(wakeUp.read)
    close(wakeUp.write)
  }

  /// Starts reacting, on the watcher's own thread.
  public func start() {
    let thread = Thread { [self] in
      run()
      finished.signal()
    }
    thread.name = "vigild rule watcher"
    thread.start()
  }

  /// Stops the thread (after the `onChange` it may be in).
  public func stop() {
    var byte: UInt8 = 1
    _ = write(wakeUp.write, &byte, 1)
    finished.wait()
  }

  private func run() {
    var firstEvent: Double?
    var lastEvent = 0.0
    var nextPoll = now() + pollSeconds
    while true {
      var deadline = nextPoll
      if let firstEvent {
        deadline = min(
          deadline,
          beingWritten.isEmpty
            ? min(lastEvent + Self.quietPeriod, firstEvent + Self.longestDelay) : firstEvent + Self.longestWhileWritten)
      }
      var descriptors = [
        pollfd(fd: wakeUp.read, events: Int16(POLLIN), revents: 0),
        pollfd(fd: inotify, events: Int16(POLLIN), revents: 0),
      ]
      let timeout = Int32(max(0, min((deadline - now()) * 1000, 60_000)).rounded(.up))
      _ = poll(&descriptors, inotify >= 0 ? 2 : 1, timeout)
      if descriptors[0].revents != 0 { return }
      if descriptors[1].revents != 0, let events = readEvents() {
        lastEvent = now()
        if firstEvent == nil { firstEvent = lastEvent }
        if events == .ruleFiles { ruleFileTouched = true }
      }
      if let taken = atLastReading.withLockedValue({ value in defer { value = nil }; return value }) { fingerprint = taken }
      let time = now()
      // A rule file still open after a write is waited for (up to `longestWhileWritten`):
      // the burst is not over until its writer closes it.
      let due = { (first: Double) in
        self.beingWritten.isEmpty
          ? time >= lastEvent + Self.quietPeriod || time >= first + Self.longestDelay
          : time >= first + Self.longestWhileWritten
      }
      if let first = firstEvent, due(first) {
        beingWritten.removeAll()
        firstEvent = nil
        let current = Self.fingerprint(of: directories)
        updateWatches()
        // Only other names changed (a README, an alert log or a state folder placed there,
        // a symlink swapped as Kubernetes does): a reload only when that changed which
        // files the rules are, so that status's last reload does not move with each commit
        // of an alert log kept beside the rules. A rule file's own event always reloads:
        // two saves within one tick of the clock look the same to a fingerprint.
        if ruleFileTouched || current != fingerprint {
          fingerprint = current
          onChange()
        }
        ruleFileTouched = false
      }
      // Not while a rule file is being written: its close (or `longestWhileWritten`) loads it.
      if now() >= nextPoll {
        nextPoll = now() + pollSeconds
        let current = Self.fingerprint(of: directories)
        updateWatches()
        if current != fingerprint, beingWritten.isEmpty {
          fingerprint = current
          onChange()
        }
      }
    }
  }

  /// What a batch of inotify events touched.
  private enum Touched {
    /// A rule file's name, or a watched directory itself, or events were lost.
    case ruleFiles
    /// Only other names (editor leftovers are no event at all).
    case otherNames
  }

  /// Drains the inotify queue; what the events touched, nil when nothing that matters.
  private func readEvents() -> Touched? {
    var relevant: Touched?
    var buffer = [UInt8](repeating: 0, count: 64 * 1024)
    while true {
      let count = buffer.withUnsafeMutableBytes { read(inotify, $0.baseAddress, $0.count) }
      guard count > 0 else { return relevant }
      var offset = 0
      // struct inotify_event: wd, mask, cookie, len (4 bytes each), then `len` bytes of name.
      while offset + 16 <= count {
        let (mask, length) = buffer.withUnsafeBytes {
          ($0.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self),
           Int($0.loadUnaligned(fromByteOffset: offset + 12, as: UInt32.self)))
        }
        let watch = buffer.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset, as: Int32.self) }
        let nameBytes = buffer[(offset + 16)..<min(offset + 16 + length, count)].prefix { $0 != 0 }
        let name = String(decoding: nameBytes, as: UTF8.self)
        offset += 16 + length
        if RuleDirectories.isRuleFile(name) {
          let key = "\(watch)/\(name)"
          if mask & UInt32(IN_MODIFY) != 0 { beingWritten.insert(key) }
          if mask & UInt32(IN_CLOSE_WRITE | IN_DELETE | IN_MOVED_FROM) != 0 { beingWritten.remove(key) }
        }
        if mask & UInt32(IN_Q_OVERFLOW) != 0 || mask & UInt32(IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF) != 0 {
          relevant = .ruleFiles  // events were lost, or a watched directory went: look again
        } else if RuleDirectories.isRuleFile(name) {
          relevant = .ruleFiles
        } else if !RuleDirectories.isEditorLeftover(name), relevant == nil {
          relevant = .otherNames
        }
      }
    }
  }

  /// Watches each rules directory and the directories symlinked rule files point into;
  /// drops watches no longer needed (a directory that went, an old symlink target).
  private func updateWatches() {
    guard inotify >= 0 else { return }
    var wanted = Set(directories)
    for directory in directories {
      let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
      for name in names where RuleDirectories.isRuleFile(name) {
        let path = directory + "/" + name
        if let target = Self.resolvedPath(path), target != path {
          wanted.insert(FolderPath.of(target))
        }
      }
    }
    for (path, descriptor) in watches where !wanted.contains(path) {
      inotify_rm_watch(inotify, descriptor)
      watches[path] = nil
    }
    for path in wanted {
      // Added again every time: a directory deleted and created anew needs a new watch.
      let descriptor = inotify_add_watch(inotify, path, Self.events)
      watches[path] = descriptor >= 0 ? descriptor : nil
    }
  }

  /// What the rule files look like now: for each directory its resolved path, and for each
  /// rule file its size, mtime, inode and, for a symlink, its resolved target's.
  static func fingerprint(of directories: [String]) -> [String] {
    var lines: [String] = []
    for directory in directories {
      // Its mode, and whether a folder above it may be written by any user: a rules
      // directory refused for that is loaded again once it is put right.
      var status = stat()
      let mode = stat(directory, &status) == 0 ? String(status.st_mode, radix: 8) : "-"
      let exposed = RulesDirectoryCheck.writableFolder(above: directory, what: "", key: nil) != nil
      lines.append("dir \(directory) -> \(resolvedPath(directory) ?? "missing") \(mode) \(exposed)")
      let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter(
        RuleDirectories.isRuleFile
      ).sorted()
      for name in names {
        let path = directory + "/" + name
        var link = stat()
        var target = stat()
        guard lstat(path, &link) == 0 else { continue }
        let followed = stat(path, &target) == 0
        lines.append(
          "\(name) \(describe(link)) -> \(resolvedPath(path) ?? "dangling") \(followed ? describe(target) : "")")
      }
    }
    return lines
  }

  /// A file's inode, size, mtime, and mode (a `chmod o-w` after a refusal is a change).
  private static func describe(_ status: stat) -> String {
    "\(status.st_ino):\(status.st_size):\(status.st_mtim.tv_sec).\(status.st_mtim.tv_nsec):\(String(status.st_mode, radix: 8))"
  }

  private static func resolvedPath(_ path: String) -> String? {
    guard let resolved = realpath(path, nil) else { return nil }
    defer { free(resolved) }
    return String(cString: resolved)
  }

  private func now() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
  }
}
