import Foundation
import VigilImport

/// `-` among `vigil import`'s files: standard input, read by the mapping's `format:` (it has
/// no name to tell one). CSV is read as it streams. A workbook is a zip archive, read from
/// its end, and a JSON export is read twice (its columns are bound from every record
/// first): one that comes down a pipe is first copied to a temporary file, removed when the
/// import is done — or interrupted (SIGINT, SIGTERM, SIGHUP): the copy is incident data.
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
    guard format != "csv", !seekable else {
      path = "/dev/stdin"
      copy = nil
      return
    }
    path = try Self.copyToTemporaryFile(suffix: "." + format)
    copy = path
  }

  func remove() {
    guard let copy else { return }
    TemporaryCopies.remove(copy)
  }

  /// A message about the table at `path` as the user knows it.
  func naming(_ message: String) -> String {
    message.replacingOccurrences(of: path, with: Self.name)
  }

  private static func copyToTemporaryFile(suffix: String) throws(CommandFailure) -> String {
    var template = Array((NSTemporaryDirectory() + "/vigil-import-XXXXXX" + suffix).utf8CString)
    let descriptor = template.withUnsafeMutableBufferPointer { mkstemps($0.baseAddress!, Int32(suffix.utf8.count)) }
    guard descriptor >= 0 else {
      throw CommandFailure(status: 2, sentence: "\(name): cannot make a temporary copy of the input: \(String(cString: strerror(errno)))")
    }
    defer { close(descriptor) }
    let path = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    TemporaryCopies.hold(path)
    do {
      while true {
        let chunk = try InputFile.read(STDIN_FILENO, upTo: 1 << 20)
        if chunk.isEmpty { break }
        try write(chunk, to: descriptor)
      }
    } catch {
      TemporaryCopies.remove(path)
      throw CommandFailure(status: 2, sentence: "\(name): cannot copy the input to \(path): \(error.reason)")
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
