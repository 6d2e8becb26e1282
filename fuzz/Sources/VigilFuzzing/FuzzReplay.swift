import Foundation

/// A fuzz target's executable when built without libFuzzer: runs the inputs given (files,
/// or directories of files) through the target once each, as the regression tests do —
/// to reproduce a finding under a debugger, or to check a corpus.
public enum FuzzReplay {
  public static func main(_ target: FuzzTarget) -> Never {
    let paths = CommandLine.arguments.dropFirst()
    guard !paths.isEmpty, !paths.contains(where: { $0 == "-h" || $0 == "--help" }) else {
      print("usage: \(target.rawValue) FILE|DIR...\n(built with fuzz/run it is a libFuzzer binary)")
      exit(paths.isEmpty ? 2 : 0)
    }
    var inputs = 0
    for path in paths {
      // A directory's README (fuzz/regressions/*/README.md) is not an input.
      for file in files(at: path) where file == path || !file.hasSuffix("/README.md") {
        guard let data = FileManager.default.contents(atPath: file) else {
          FileHandle.standardError.write(Data("\(target.rawValue): cannot read \(file)\n".utf8))
          exit(2)
        }
        do {
          try Array(data).withUnsafeBufferPointer { input throws(FuzzFinding) in try target.exercise(input) }
        } catch {
          FileHandle.standardError.write(Data("\(target.rawValue): \(file): \(error)\n".utf8))
          exit(1)
        }
        inputs += 1
      }
    }
    print("\(target.rawValue): \(inputs) inputs, no finding")
    exit(0)
  }

  /// The file itself, or the regular files of a directory (not its subdirectories), by name.
  public static func files(at path: String) -> [String] {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
      return [path]
    }
    let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
    return names.sorted().map { path + "/" + $0 }.filter { file in
      var nested: ObjCBool = false
      return FileManager.default.fileExists(atPath: file, isDirectory: &nested) && !nested.boolValue
    }
  }
}
