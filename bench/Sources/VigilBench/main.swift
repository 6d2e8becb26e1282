import Foundation
import VigilCore
import VigilServer

/// Benchmarks of the engine's pure parts. Run through the bench/ scripts, which build in
/// release mode.
///
///   VigilBench parse FILE [ROUNDS]         parse + validate every line of FILE, ROUNDS times,
///                                          and print the best round's reports per second
///   VigilBench rules DIR FILE [ROUNDS]     evaluate the rules of DIR on every report of FILE
///   VigilBench load-rules COUNT [ROUNDS]   load and compile COUNT generated rules
///   VigilBench generate-rules COUNT        print COUNT generated rules (YAML)
///   VigilBench console-index [COUNT]       the console's index: memory and query times
let arguments = Array(CommandLine.arguments.dropFirst())

func fail(_ message: String) -> Never {
  FileHandle.standardError.write(Data((message + "\n").utf8))
  exit(2)
}

func contents(_ path: String) -> Data {
  guard let data = FileManager.default.contents(atPath: path) else { fail("cannot read \(path)") }
  return data
}

switch (arguments.first, arguments.count) {
case ("parse", 2...):
  print(ParseBenchmark(data: contents(arguments[1])).run(rounds: arguments.count > 2 ? Int(arguments[2]) ?? 5 : 5))
case ("rules", 3...):
  let rules: [RuleSource]
  do {
    rules = try RuleDirectories.read([arguments[1]])
  } catch {
    fail(error.description)
  }
  print(
    RulesBenchmark().evaluate(
      rules: rules, workload: contents(arguments[2]), rounds: arguments.count > 3 ? Int(arguments[3]) ?? 5 : 5))
case ("load-rules", 2...):
  print(
    RulesBenchmark().load(count: Int(arguments[1]) ?? 1000, rounds: arguments.count > 2 ? Int(arguments[2]) ?? 5 : 5))
case ("console-index", _):
  print(ConsoleIndexBenchmark().run(count: arguments.count > 1 ? Int(arguments[1]) ?? 1_000_000 : 1_000_000))
case ("generate-rules", 2...):
  print(RulesBenchmark().generatedRules(Int(arguments[1]) ?? 1000), terminator: "")
default:
  fail(
    "usage: VigilBench parse FILE [ROUNDS] | rules DIR FILE [ROUNDS] | load-rules COUNT [ROUNDS] | generate-rules COUNT | console-index [COUNT]")
}
