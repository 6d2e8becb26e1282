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
      return try handle.readToEnd() ?? Data()
    } catch {
      throw failure(path, name, String(describing: error))
    }
  }

  private static func failure(_ path: String, _ name: String?, _ reason: String) -> CommandFailure {
    CommandFailure(status: 2, sentence: "cannot read \(name.map { "\($0) " } ?? "")\(path): \(reason)")
  }
}
