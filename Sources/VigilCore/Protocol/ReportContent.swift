/// What the duplicate rule compares (docs/protocol.md): two reports with one id are the
/// same report when they are the same JSON value — key order, white space and escapes
/// aside, numbers by value. They are compared by their canonical forms (`CanonicalWriter`)
/// only when an id comes again: the daemon keeps where each report is in the journal, not
/// a digest of every report's content (which cost a quarter of the instructions a report
/// took, bench/count-instructions).
public enum ReportContent {
  /// Whether two JSON texts are the same value; false when either is not JSON.
  public static func same(_ first: UnsafeBufferPointer<UInt8>, _ second: UnsafeBufferPointer<UInt8>) -> Bool {
    guard let one = try? canonical(first), let other = try? canonical(second) else { return false }
    return one == other
  }

  public static func same(_ first: ReportText, _ second: ReportText) -> Bool {
    first.withUTF8 { one in second.withUTF8 { other in same(one, other) } }
  }

  /// The canonical form of the JSON text `json`.
  static func canonical(_ json: UnsafeBufferPointer<UInt8>) throws(JSONSyntaxError) -> [UInt8] {
    let tape = try JSONScanner.scan(json)
    var writer = CanonicalWriter(capacity: json.count + 64)
    writer.write(tape, json, at: 0)
    return writer.output
  }

  /// Whether `report` is the same value as the `report` member of a journal line
  /// (`{"received_at":…,"report":{…}}`); nil when the line is not JSON or has no such member.
  public static func same(_ report: ReportText, asJournalLine line: UnsafeBufferPointer<UInt8>) -> Bool? {
    // Most resubmissions are the same bytes (a client sending everything again): the
    // journal writes the report last, as received, so that is one comparison.
    let sentAgain = report.withUTF8 { bytes in
      let member = Array(#","report":"#.utf8)
      let tail = member.count + bytes.count + 1
      guard line.count > tail, line[line.count - 1] == UInt8(ascii: "}"),
        line.starts(with: #"{"received_at":""#.utf8)
      else { return false }
      let start = line.count - tail
      return line[start..<(start + member.count)].elementsEqual(member)
        && line[(start + member.count)..<(line.count - 1)].elementsEqual(bytes)
    }
    if sentAgain { return true }
    guard let tape = try? JSONScanner.scan(line, envelope: JSONScanner.journalEnvelope), tape[0].kind == .object else { return nil }
    var members = Members(nodes: tape.unsafeNodes, object: 0)
    while let (key, value) = members.next() {
      guard JSONString.decode(line, key) == "report" else { continue }
      var journalled = CanonicalWriter(capacity: line.count + 64)
      journalled.write(tape, line, at: value)
      return report.withUTF8 { bytes in (try? canonical(bytes)) == journalled.output }
    }
    return nil
  }
}
