/// A broken promise found by a fuzz target: the input is answered, but wrongly (a crash is
/// found by the fuzzer itself). The libFuzzer entry points turn it into a crash so the
/// fuzzer keeps the input; the regression tests report it as a failure.
public struct FuzzFinding: Error, CustomStringConvertible {
  public let description: String

  init(_ description: String) {
    self.description = description
  }
}

/// Checks a promise; throws the finding when it is broken.
func promise(_ holds: Bool, _ what: @autoclosure () -> String) throws(FuzzFinding) {
  if !holds { throw FuzzFinding(what()) }
}

/// The first bytes of an input, readable in a finding.
func shown(_ bytes: some Collection<UInt8>) -> String {
  String(decoding: bytes.prefix(200), as: UTF8.self).debugDescription
}
