import Foundation

/// The last lines of a file, read from its end back: what start-up recovery needs of a
/// journal or alert log without reading it whole.
enum FileTail {
  /// The file's last complete lines (without their newlines), in file order: from the end
  /// back, as long as `wanted` says yes to each; the first line it says no to ends them.
  /// At most `limit` lines. Empty when the file cannot be read.
  static func lines(of path: String, limit: Int = 100_000, while wanted: ([UInt8]) -> Bool) -> [[UInt8]] {
    run(of: path, limit: limit, while: wanted).lines
  }

  /// The same, and the line that ended them — nil when every line back to the file's start
  /// was wanted (or the file could not be read), so that what came before may be in an
  /// older file.
  /// `maxBytes` bounds how far back it reads: past it, the run ends as at the file's start.
  static func run(
    of path: String, limit: Int = 100_000, maxBytes: Int64 = .max, while wanted: ([UInt8]) -> Bool
  ) -> (lines: [[UInt8]], before: [UInt8]?) {
    guard let file = fopen(path, "rb") else { return ([], nil) }
    defer { fclose(file) }
    // A regular file only: a folder opens too, and reports a size it cannot be read to.
    var status = stat()
    guard fstat(fileno(file), &status) == 0, status.st_mode & S_IFMT == S_IFREG else { return ([], nil) }
    guard fseeko(file, 0, SEEK_END) == 0 else { return ([], nil) }
    let size = Int64(ftello(file))
    var window: Int64 = 1 << 20
    while true {
      let start = max(0, size - window)
      var read: [[UInt8]] = []
      FileLines.forEach(in: file, from: start, to: size) { line, _ in read.append(Array(line)) }
      // A window that starts inside a line cut it: its first line is not whole.
      if start > 0, !read.isEmpty { read.removeFirst() }
      var taken: [[UInt8]] = []
      for line in read.reversed() {
        guard taken.count < limit, wanted(line) else { return (taken.reversed(), line) }
        taken.append(line)
      }
      // Every line of the window is wanted: the run may go on before it.
      guard start > 0, taken.count < limit, window < maxBytes else { return (taken.reversed(), nil) }
      window = min(maxBytes, window > size / 4 ? size : window * 4)
    }
  }
}
