import Foundation
import VigilCore
import VigilServer

/// A line as the daemon reads it from a client: the request parser, the report parser and
/// validator, the duplicate rule's comparison, the shipped rules' evaluation and the alert
/// records the matches become. Promises: a refused line is answered with one line of JSON
/// naming a known error; the one-pass fast path never disagrees with the complete parser;
/// an accepted report is the same report as its journal line's copy of itself; every alert
/// record is one line of JSON that the chain verifier accepts.
enum ReportTarget {
  static func exercise(_ input: UnsafeBufferPointer<UInt8>) throws(FuzzFinding) {
    switch RequestParser.parse(input) {
    case .failure(let error):
      try promise(!error.message.isEmpty, "an error without a message for \(shown(input))")
      try checkResponseLine(Response.error(error), for: input)
    case .success(.submit(let parsed, let reportJSON)):
      // Resubmitted, it must be found the same as the journal's copy: a duplicate, not a conflict.
      var journalLine = Array(#"{"received_at":"2016-02-27T00:00:00.000Z","report":"#.utf8)
      reportJSON.withUTF8 { journalLine.append(contentsOf: $0) }
      journalLine.append(UInt8(ascii: "}"))
      try promise(
        journalLine.withUnsafeBufferPointer { ReportContent.same(reportJSON, asJournalLine: $0) } == true,
        "an accepted report is not the same as its journalled copy: \(shown(input))")
      try evaluate(parsed, input)
    case .success(.check(let parsed)):
      try evaluate(parsed, input)
    case .success:
      break
    }
    try fastPathAgrees(input)
  }

  /// When the fast path answers, the complete parser must give the same report, unwarned.
  private static func fastPathAgrees(_ input: UnsafeBufferPointer<UInt8>) throws(FuzzFinding) {
    let line = ReportLine.copying(input)
    var fastPath = ReportFastPath(line: line)
    guard let report = fastPath.report() else { return }
    let complete = ReportParser.parseCompletely(line)
    try promise(
      (try? complete.get()).map { $0.report == report && $0.warnings.isEmpty } == true,
      "the fast path and the complete parser disagree (\(complete)) on \(shown(input))")
  }

  private static func evaluate(_ parsed: ParsedReport, _ input: UnsafeBufferPointer<UInt8>) throws(FuzzFinding) {
    let rules = ShippedRules.set
    var verifier = ChainVerifier()
    var prev = AlertChain.genesis
    for (index, match) in rules.evaluate(parsed.report).enumerated() {
      let record = AlertRecord(
        time: "2016-02-27T00:00:00.000Z", rule: match.rule.id, priority: match.rule.priority,
        reportID: parsed.report.id, occurredAt: parsed.report.occurredAt.text.string, message: match.message,
        basis: match.rule.basis, tags: match.rule.tags, ruleset: rules.revision)
      let (line, hash) = record.line(seq: UInt64(index + 1), prev: prev)
      try checkResponseLine(line, for: input)
      let problem = verifier.take(Array(line.utf8.dropLast()))
      try promise(problem == nil, "the alert record for \(shown(input)) does not verify: \(problem ?? "")")
      prev = hash
    }
  }

  /// One line of JSON, ending with its only newline, parsed as an object by Foundation.
  private static func checkResponseLine(_ line: String, for input: UnsafeBufferPointer<UInt8>) throws(FuzzFinding) {
    let bytes = Array(line.utf8)
    try promise(bytes.last == 0x0A, "a line without its newline for \(shown(input))")
    try promise(
      bytes.firstIndex(of: 0x0A) == bytes.count - 1, "a line with a newline inside it for \(shown(input))")
    let object = try? JSONSerialization.jsonObject(with: Data(bytes))
    try promise(object is [String: Any], "a line that is not a JSON object: \(shown(bytes)) for \(shown(input))")
  }
}
