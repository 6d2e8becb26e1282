import Foundation
import VigilCore

/// A file that only grows, one whole line at a time, written with POSIX calls so that
/// `fsync` means what it says. Opening it cuts a torn last line (one without its newline,
/// left by a crash in the middle of a write).
final class AppendOnlyFile {
  typealias Failure = AppendOnlyFileFailure

  let path: String
  private var descriptor: Int32
  /// Bytes cut from the end when the file was opened (a torn last line), else 0.
  private(set) var cutBytes = 0
  /// The last whole line when the file was opened, without its newline.
  private(set) var lastLine: [UInt8]?

  /// Whether the file is locked (`flock`) while open, so that no other process appends to it.
  private let exclusive: Bool

  /// Where the bytes of a torn last line are kept when it is cut (`<path>.torn`, appended
  /// to): the spec cuts such a line, and a line that lost only its newline by someone's
  /// hand is then still there to be read.
  var tornPath: String { path + ".torn" }

  /// - Parameter exclusive: lock the file while it is open (and each file `reopen` opens),
  ///   and refuse it when another process holds it.
  init(path: String, exclusive: Bool = false) throws(Failure) {
    self.path = path
    self.exclusive = exclusive
    descriptor = try Self.open(path, exclusive: exclusive)
    do {
      try recover()
    } catch {
      close(descriptor)
      throw error
    }
  }

  /// `flock(LOCK_EX)` without blocking, tried again for up to a second while another holds
  /// it; whether it was taken (else `errno` says why not).
  private static func lock(_ descriptor: Int32) -> Bool {
    for attempt in 0..<20 {
      if flock(descriptor, LOCK_EX | LOCK_NB) == 0 { return true }
      guard errno == EWOULDBLOCK, attempt < 19 else { return false }
      usleep(50_000)
    }
    return false
  }

  private static func open(_ path: String, exclusive: Bool) throws(Failure) -> Int32 {
    let descriptor = Glibc.open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0o640)
    guard descriptor >= 0 else { throw failure("cannot open \(path)") }
    // Before anything is read or cut: a file another process appends to is left as it is.
    // A lock held for a moment is waited for: a child forked by another thread holds a copy
    // of every descriptor until it execs (O_CLOEXEC closes them only then), so the lock of
    // one just closed can outlive it briefly (seen once in 700 tests, with many spawning).
    if exclusive, !Self.lock(descriptor) {
      let reason = errno == EWOULDBLOCK ? "it is locked by another writer" : String(cString: strerror(errno))
      close(descriptor)
      throw Failure(
        description: "cannot append to \(path): \(reason) (another vigild writing the same file? each needs its own)")
    }
    // The folder's entries (the file just made, a rotation's renames) reach the disk before
    // anything is acknowledged from the file: a sync of the file alone does not promise its
    // name survives a power failure. At start, and at each rotation or reopen: rare.
    syncFolder(of: path)
    return descriptor
  }

  /// Syncs the folder that holds `path` (what a file system that cannot sync a folder
  /// refuses is left at that).
  static func syncFolder(of path: String) {
    let folder = FolderPath.of(path)
    let descriptor = Glibc.open(folder.isEmpty ? "." : folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    guard descriptor >= 0 else { return }
    _ = fsync(descriptor)
    close(descriptor)
  }

  /// Opens the path again (after the file was rotated away): the new file, or the same.
  func reopen() throws(Failure) {
    // The same file still at the path (a reopen without a rotation) is kept open as it is:
    // opened again, it could not take the lock this descriptor holds.
    var atPath = stat()
    var open = stat()
    if stat(path, &atPath) == 0, fstat(descriptor, &open) == 0, atPath.st_dev == open.st_dev, atPath.st_ino == open.st_ino {
      return try recover()
    }
    let created = stat(path, &atPath) != 0
    let reopened = try Self.open(path, exclusive: exclusive)
    // A file made here (a rotation, or a log moved away without another put in its place)
    // gets the mode and group of the one it follows: a log made readable by the analysts'
    // group stays so (the umask would make it the daemon's alone). Not a file another made.
    if created, fstat(descriptor, &open) == 0 {
      var made = stat()
      // Only a group the daemon belongs to can be given, and the shipped unit's system call
      // filter refuses chown altogether: said, since the old file's readers lose the new.
      if fchown(reopened, uid_t.max, open.st_gid) != 0, fstat(reopened, &made) == 0, made.st_gid != open.st_gid {
        let reason = String(cString: strerror(errno))
        groupNotKept =
          "the new \(path) could not take the group \(open.st_gid) of the file before it (\(reason)), so that group "
          + "cannot read it; make the log's folder setgid to that group (chmod g+s), whose new files take its group, "
          + "or let logrotate's create make the new file"
      }
      _ = fchmod(reopened, open.st_mode & 0o777)
    }
    close(descriptor)
    descriptor = reopened
    try recover()
  }

  /// Why the last file `reopen` made could not take the group of the one before, once:
  /// nil when it did, or when it was said already.
  private var groupNotKept: String?

  func takeGroupNotKept() -> String? {
    defer { groupNotKept = nil }
    return groupNotKept
  }

  /// The inode of the file being appended to (it changes at `reopen`).
  var inode: UInt64 {
    var status = stat()
    return fstat(descriptor, &status) == 0 ? UInt64(status.st_ino) : 0
  }

  /// The file's size in bytes.
  var size: Int64 {
    Int64(lseek(descriptor, 0, SEEK_END))
  }

  deinit {
    close(descriptor)
  }

  /// Appends the bytes written (whole lines), retrying partial writes; nothing is synced.
  /// When a write fails (a full disk), the file is cut back to where it was, so no torn
  /// line stays behind it.
  func append(_ out: borrowing JSONBytes) throws(Failure) {
    if let failure = out.withWritten({ tryAppend(UnsafeRawBufferPointer($0)) }) { throw failure }
  }

  /// As `append`, the failure given back rather than thrown (a typed throw cannot cross
  /// `withWritten`'s closure).
  private func tryAppend(_ bytes: UnsafeRawBufferPointer) -> Failure? {
    guard let base = bytes.baseAddress else { return nil }
    let start = lseek(descriptor, 0, SEEK_END)
    var written = 0
    while written < bytes.count {
      let result = write(descriptor, base + written, bytes.count - written)
      if result < 0 {
        if errno == EINTR { continue }
        let failure = Self.failure("cannot write to \(path)")
        if start >= 0 { _ = ftruncate(descriptor, start) }
        return failure
      }
      written += result
    }
    return nil
  }

  /// Cuts the file back to `size` (undoing appends of a group commit that failed).
  func cutBack(to size: Int64) {
    _ = ftruncate(descriptor, off_t(size))
  }

  /// The line that starts at `offset`, without its newline (read with `pread`, so from
  /// the file being written even if its path now names another).
  func line(at offset: Int64) throws(Failure) -> [UInt8] {
    try Self.line(in: descriptor, named: path, at: offset)
  }

  /// Another descriptor of the file being written, to read it once the path names another
  /// (closed on exec, as the first); -1 when none can be made.
  func readingDescriptor() -> Int32 {
    fcntl(descriptor, F_DUPFD_CLOEXEC, 0)
  }

  /// The line that starts at `offset` of an open file, without its newline.
  static func line(in descriptor: Int32, named path: String, at offset: Int64) throws(Failure) -> [UInt8] {
    var line: [UInt8] = []
    var at = off_t(offset)
    var chunk = [UInt8](repeating: 0, count: 4096)
    while true {
      let read = chunk.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, $0.count, at) }
      if read < 0, errno == EINTR { continue }
      guard read >= 0 else { throw failure("cannot read \(path)") }
      guard read > 0 else {
        throw Failure(description: "\(path) ends at \(at) without a whole line at offset \(offset)")
      }
      if let end = chunk[..<read].firstIndex(of: UInt8(ascii: "\n")) {
        line.append(contentsOf: chunk[..<end])
        return line
      }
      line.append(contentsOf: chunk[..<read])
      at += off_t(read)
    }
  }

  func sync() throws(Failure) {
    guard fsync(descriptor) == 0 else { throw Self.failure("cannot sync \(path)") }
  }

  /// Starts writing what was appended to the disk, without waiting: a hint, whose
  /// failure the `sync` that must follow reports.
  func startWriteback() {
    _ = Self.syncFileRange?(descriptor, 0, 0, 2)  // SYNC_FILE_RANGE_WRITE
  }

  /// glibc's `sync_file_range`, which Swift's Glibc module leaves out (it is declared only
  /// under `_GNU_SOURCE`); nil where the C library has none.
  private static let syncFileRange: (@convention(c) (Int32, Int64, Int64, UInt32) -> Int32)? = {
    guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "sync_file_range") else { return nil }
    return unsafeBitCast(symbol, to: (@convention(c) (Int32, Int64, Int64, UInt32) -> Int32).self)
  }()

  /// Cuts a last line without its newline (its bytes kept in `tornPath` first), and
  /// remembers the last whole line.
  private func recover() throws(Failure) {
    let size = lseek(descriptor, 0, SEEK_END)
    guard size >= 0 else { throw Self.failure("cannot read \(path)") }
    guard size > 0 else { return }
    // Read backwards in chunks until two newlines (or the start) frame the last line.
    var tail: [UInt8] = []
    var offset = size
    var newlines = 0
    while offset > 0, newlines < 2 {
      let chunk = min(Int64(65_536), Int64(offset))
      offset -= off_t(chunk)
      var buffer = [UInt8](repeating: 0, count: Int(chunk))
      let read = buffer.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, Int(chunk), offset) }
      guard read == Int(chunk) else { throw Self.failure("cannot read \(path)") }
      newlines += buffer.count { $0 == UInt8(ascii: "\n") }
      tail = buffer + tail
    }
    if tail.last != UInt8(ascii: "\n") {
      let keep = tail.lastIndex(of: UInt8(ascii: "\n")).map { $0 + 1 } ?? 0
      cutBytes = tail.count - keep
      // Kept aside before the cut: what a crash tore is of no use, but a line that lost
      // only its newline (copied or edited by hand) is a record still.
      Self.keep(Array(tail[keep...]), in: tornPath)
      tail.removeSubrange(keep...)
      guard ftruncate(descriptor, off_t(size) - off_t(cutBytes)) == 0, fsync(descriptor) == 0 else {
        throw Self.failure("cannot cut the torn last line of \(path)")
      }
    }
    guard tail.last == UInt8(ascii: "\n") else { return }
    tail.removeLast()
    let start = tail.lastIndex(of: UInt8(ascii: "\n")).map { $0 + 1 } ?? 0
    lastLine = Array(tail[start...])
  }

  /// Appends `bytes` and a newline to the file at `path`, synced; a failure leaves only
  /// the cut unrecorded.
  private static func keep(_ bytes: [UInt8], in path: String) {
    let descriptor = Glibc.open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o640)
    guard descriptor >= 0 else { return }
    defer { close(descriptor) }
    let line = bytes + [UInt8(ascii: "\n")]
    _ = line.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
    _ = fsync(descriptor)
  }

  private static func failure(_ what: String) -> Failure {
    Failure(description: "\(what): \(String(cString: strerror(errno)))")
  }
}
