import Foundation

/// A file a command was told to read: opened, or refused in one sentence that says why
/// (exit status 2, an unreadable file). A directory opens for reading on Linux and only
/// fails at the first read, so it is refused here, before anything is sent or printed.
enum InputFile {
  /// A descriptor open for reading on `path`, which the caller closes.
  static func open(_ path: String, naming name: String? = nil) throws(CommandFailure) -> Int32 {
    let descriptor = Glibc.open(path, O_RDONLY | O_CLOEXEC)
    guard descriptor >= 0 else { throw failure(path, name, String(cString: strerror(errno))) }
    var status = stat()
    if fstat(descriptor, &status) == 0, status.st_mode & S_IFMT == S_IFDIR {
      close(descriptor)
      throw failure(path, name, "it is a directory")
    }
    return descriptor
  }

  /// The whole of the file at `path`.
  static func contents(_ path: String, naming name: String? = nil) throws(CommandFailure) -> Data {
    let handle = FileHandle(fileDescriptor: try open(path, naming: name), closeOnDealloc: true)
    do {
      return Data(try readToEnd(handle.fileDescriptor))
    } catch {
      throw failure(path, name, error.reason)
    }
  }

  /// The compression a file's first bytes show (logrotate's `compress` makes gzip; its
  /// `compresscmd` may make the others), or nil: a compressed log is no JSON lines, and
  /// calling its first line altered would cry tampering over an intact log.
  static func compression(of start: some Collection<UInt8>) -> String? {
    let magics: [(String, [UInt8])] = [
      ("gzip", [0x1F, 0x8B]), ("xz", [0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00]), ("zstd", [0x28, 0xB5, 0x2F, 0xFD]),
      ("bzip2", Array("BZh".utf8)),
    ]
    return magics.first { start.starts(with: $0.1) }?.0
  }

  /// Refuses a compressed file, saying how to read it.
  static func refuseCompressed(_ start: some Collection<UInt8>, path: String) throws(CommandFailure) {
    guard let format = compression(of: start) else { return }
    let tool = ["gzip": "gunzip", "xz": "unxz", "zstd": "unzstd", "bzip2": "bunzip2"][format] ?? format
    throw CommandFailure(
      status: 2, sentence: "cannot read \(path): it is compressed (\(format)); decompress it (`\(tool) -k \(path)`) and name that file")
  }

  /// Refuses the file open on `descriptor` if it is compressed (read at its start, the
  /// descriptor's offset untouched).
  static func refuseCompressed(_ descriptor: Int32, path: String) throws(CommandFailure) {
    var start = [UInt8](repeating: 0, count: 6)
    let got = start.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, 6, 0) }
    try refuseCompressed(start.prefix(max(got, 0)), path: path)
  }

  /// Why a read failed, as `strerror` says it ("Input/output error").
  struct ReadError: Error {
    let reason: String
  }

  /// What is left to read from `descriptor`, up to its end.
  static func readToEnd(_ descriptor: Int32) throws(ReadError) -> [UInt8] {
    var bytes: [UInt8] = []
    while true {
      let chunk = try read(descriptor, upTo: 1 << 20)
      if chunk.isEmpty { return bytes }
      bytes += chunk
    }
  }

  /// Up to `count` bytes from `descriptor`, none at its end. Read with read(2), so that a
  /// read error (EIO from a failing disk or a file system gone away) is a sentence: where
  /// Foundation's `FileHandle.readData(ofLength:)` and `readDataToEndOfFile()` meet one,
  /// they stop the program (`try!` inside).
  static func read(_ descriptor: Int32, upTo count: Int) throws(ReadError) -> [UInt8] {
    var bytes = [UInt8](repeating: 0, count: count)
    while true {
      let got = bytes.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, count) }
      if got >= 0 {
        bytes.removeLast(count - got)
        return bytes
      }
      guard errno == EINTR else { throw ReadError(reason: String(cString: strerror(errno))) }
    }
  }

  private static func failure(_ path: String, _ name: String?, _ reason: String) -> CommandFailure {
    // Arguments reach a Swift program as Unicode text: a name's bytes that are not UTF-8
    // arrive as U+FFFD, and that name is not the file's.
    let hint =
      path.unicodeScalars.contains("\u{FFFD}")
      ? " (the name is not valid UTF-8, which vigil cannot pass on; rename the file, or give it on standard input)" : ""
    return CommandFailure(status: 2, sentence: "cannot read \(name.map { "\($0) " } ?? "")\(path): \(reason)\(hint)")
  }
}
