import Foundation

public func verifyChain(contentsOf paths: [String]) throws -> String {
  try verifyChainOf(paths)
}

/// Checks the alert log's chain with Python's hashlib (independent of our code), through
/// the files given, oldest first.
public func verifyChain(_ paths: String...) throws -> String {
  try verifyChainOf(paths)
}

private func verifyChainOf(_ paths: [String]) throws -> String {
  let script = """
    import hashlib, json, sys
    prev = "0" * 64
    number = 0
    lines = [line for path in sys.argv[1:] for line in open(path, encoding="utf-8")]
    for number, line in enumerate(lines, 1):
        line = line.rstrip("\\n")
        record = json.loads(line)
        digest = hashlib.sha256((prev + line[:line.rindex(',"hash":')]).encode("utf-8")).hexdigest()
        if list(record)[-1] != "hash" or record["prev"] != prev or record["seq"] != number or digest != record["hash"]:
            print("bad", number); sys.exit()
        prev = digest
    print("ok", number)
    """
  let process = Process()
  process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
  process.arguments = ["python3", "-c", script] + paths
  let output = Pipe()
  process.standardOutput = output
  try process.run()
  let data = output.fileHandleForReading.readDataToEndOfFile()
  process.waitUntilExit()
  return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
}
