import Foundation
import VigilImport

/// `-` among `vigil import`'s files: standard input, read by the mapping's `format:` (it has
/// no name to tell one). CSV and JSON are read as they stream; a workbook is a zip archive,
/// read from its end, so one that comes down a pipe is first copied to a temporary file,
/// removed when the import is done.
struct ImportStandardInput {
  /// How verdicts and messages name it, as `vigil submit` does.
  static let name = "<stdin>"

  /// The path the table readers open.
  let path: String
  /// The copy of a piped workbook, removed by `remove()`.
  private let copy: String?

  init(mapping: Mapping) throws(CommandFailure) {
    guard let format = mapping.format else {
      throw CommandFailure(
        status: 2,
        sentence: "\(Self.name): standard input has no name to tell its format: say format: in the mapping \(mapping.name) (csv, xlsx, json, ndjson)")
    }
    var status = stat()
    let seekable = fstat(STDIN_FILENO, &status) == 0 && status.st_mode & S_IFMT == S_IFREG
    guard format == "xlsx", !seekable else {
      path = "/dev/stdin"
      copy = nil
      return
    }
    path = try Self.copyToTemporaryFile()
    copy = path
  }

  func remove() {
    if let copy { unlink(copy) }
  }

  /// A message about the table at `path` as the user knows it.
  func naming(_ message: String) -> String {
    message.replacingOccurrences(of: path, with: Self.name)
  }

  private static func copyToTemporaryFile() throws(CommandFailure) -> String {
    var template = Array((NSTemporaryDirectory() + "/vigil-import-XXXXXX.xlsx").utf8CString)
    let descriptor = template.withUnsafeMutableBufferPointer { mkstemps($0.baseAddress!, 5) }
    guard descriptor >= 0 else {
      throw CommandFailure(status: 2, sentence: "\(name): cannot make a temporary copy of the workbook: \(String(cString: strerror(errno)))")
    }
    defer { close(descriptor) }
    let path = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    do {
      while true {
        let chunk = try InputFile.read(STDIN_FILENO, upTo: 1 << 20)
        if chunk.isEmpty { break }
        try write(chunk, to: descriptor)
      }
    } catch {
      unlink(path)
      throw CommandFailure(status: 2, sentence: "\(name): cannot copy the workbook to \(path): \(error.reason)")
    }
    return path
  }

  private static func write(_ bytes: [UInt8], to descriptor: Int32) throws(InputFile.ReadError) {
    var written = 0
    while written < bytes.count {
      let count = bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress! + written, bytes.count - written) }
      if count < 0 {
        guard errno == EINTR else { throw InputFile.ReadError(reason: String(cString: strerror(errno))) }
        continue
      }
      written += count
    }
  }
}
