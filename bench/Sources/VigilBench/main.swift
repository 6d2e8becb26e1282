import Foundation
import VigilCore

/// Benchmarks of the engine's pure parts. Run through the bench/ scripts, which build in
/// release mode: `bench/run-parse [COUNT] [SEED]`.
///
///   VigilBench parse FILE [ROUNDS]   parse + validate every line of FILE, ROUNDS times,
///                                    and print the best round's reports per second.
let arguments = CommandLine.arguments.dropFirst()
guard arguments.first == "parse", arguments.count >= 2 else {
  FileHandle.standardError.write(Data("usage: VigilBench parse FILE [ROUNDS]\n".utf8))
  exit(2)
}
let path = arguments[arguments.startIndex + 1]
let rounds = arguments.count > 2 ? Int(arguments[arguments.startIndex + 2]) ?? 5 : 5
guard let data = FileManager.default.contents(atPath: path) else {
  FileHandle.standardError.write(Data("cannot read \(path)\n".utf8))
  exit(2)
}
print(ParseBenchmark(data: data).run(rounds: rounds))
