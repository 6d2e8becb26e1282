import Foundation
import Testing
import VigilTestSupport

/// Every kind of bad line, through the real socket of the real daemon: each gets its exact
/// error code (and field), nothing else is lost, the connection goes on, and the daemon's
/// memory comes back (docs/protocol.md, docs/reports.md).
@Suite("vigild end to end: the bad input catalogue", .onThreadsOfTheirOwn)
struct BadInputCatalogueTests {
  static let good = #"{"id":"OK-1","occurred_at":"2016-03-04","type":"attack"}"#

  /// A report with one member replaced (or added) by raw JSON text.
  static func report(_ member: String) -> String {
    #"{"id":"B-1","occurred_at":"2016-03-04T06:40:00+02:00","type":"attack",\#(member)}"#
  }

  /// (name, line bytes, expected code, expected field)
  static let cases: [(String, [UInt8], String, String?)] = [
    ("not JSON", Array("hello".utf8), "invalid_json", nil),
    ("truncated", Array(#"{"id":"#.utf8), "invalid_json", nil),
    ("an array", Array("[1,2]".utf8), "not_an_object", nil),
    ("a string", Array(#""report""#.utf8), "not_an_object", nil),
    ("a number", Array("42".utf8), "not_an_object", nil),
    ("invalid UTF-8", Array(#"{"id":"B-1","narrative":""#.utf8) + [0xFF, 0xFE] + Array(#""}"#.utf8), "invalid_json", nil),
    ("a raw NUL byte", Array(#"{"id":"B-"#.utf8) + [0] + Array(#"1"}"#.utf8), "invalid_json", nil),
    ("an escaped NUL", Array(report(#""narrative":"a\u0000b""#).utf8), "invalid_report", "narrative"),
    ("a lone surrogate", Array(report(#""narrative":"\ud800""#).utf8), "invalid_json", nil),
    ("a duplicate key", Array(report(#""type":"trade""#).utf8), "invalid_json", nil),
    ("1e999", Array(report(#""casualties":{"killed":1e999}"#).utf8), "invalid_json", nil),
    ("100,000 nested brackets", Array((String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)).utf8), "invalid_json", nil),
    ("nesting of 65 objects", Array((#"{"extra":"# + String(repeating: #"{"a":"#, count: 64) + "1" + String(repeating: "}", count: 65)).utf8), "invalid_json", nil),
    ("an enum in the wrong case", Array(#"{"id":"B-1","occurred_at":"2016-03-04","type":"Attack"}"#.utf8), "invalid_report", "type"),
    ("a misspelt enum", Array(report(#""confidence":"sure""#).utf8), "invalid_report", "confidence"),
    ("no id", Array(#"{"occurred_at":"2016-03-04","type":"attack"}"#.utf8), "invalid_report", "id"),
    ("an id with a space", Array(#"{"id":"B 1","occurred_at":"2016-03-04","type":"attack"}"#.utf8), "invalid_report", "id"),
    ("a timestamp without an offset", Array(#"{"id":"B-1","occurred_at":"2016-03-04T06:40:00","type":"attack"}"#.utf8), "invalid_report", "occurred_at"),
    ("a number for a timestamp", Array(#"{"id":"B-1","occurred_at":20160304,"type":"attack"}"#.utf8), "invalid_report", "occurred_at"),
    ("a string for a bool", Array(report(#""location":{"populated":"yes"}"#).utf8), "invalid_report", "location.populated"),
    ("lat out of range", Array(report(#""location":{"lat":91,"lon":36}"#).utf8), "invalid_report", "location.lat"),
    ("lat without lon", Array(report(#""location":{"lat":33.5}"#).utf8), "invalid_report", "location.lon"),
    ("a negative count", Array(report(#""casualties":{"killed":-1}"#).utf8), "invalid_report", "casualties.killed"),
    ("a fractional count", Array(report(#""casualties":{"injured":2.5}"#).utf8), "invalid_report", "casualties.injured"),
    ("a string for weapons", Array(report(#""weapons":"barrel_bomb""#).utf8), "invalid_report", "weapons"),
    ("an unknown weapon", Array(report(#""weapons":["tank","laser"]"#).utf8), "invalid_report", "weapons[1]"),
    ("an actor with neither member", Array(report(#""perpetrator":{}"#).utf8), "invalid_report", "perpetrator"),
    ("a number for a name", Array(report(#""perpetrator":{"name":7}"#).utf8), "invalid_report", "perpetrator.name"),
    ("an empty string", Array(report(#""source":{"org":"  "}"#).utf8), "invalid_report", "source.org"),
    ("an op that is not a string", Array(#"{"op":1}"#.utf8), "invalid_request", nil),
    ("submit without a report", Array(#"{"op":"submit"}"#.utf8), "invalid_request", nil),
    ("an unknown op", Array(#"{"op":"frobnicate"}"#.utf8), "unknown_op", nil),
  ]

  static func rss(_ pid: Int32) -> Int {
    let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
    let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
    return Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0
  }

  @Test func everyBadLineGetsItsErrorAndTheConnectionGoesOn() throws {
    let daemon = try RunningDaemon(rules: DaemonEndToEndTests.rules)
    let client = try UnixSocketClient(path: daemon.socketPath)
    // Warm up, then take the baseline.
    try client.send(Array((Self.good + "\n").utf8))
    #expect(client.readLine()?.contains(#""report_id":"OK-1""#) == true)
    let baseline = Self.rss(daemon.process.processIdentifier)
    for round in 0..<3 {
      for (name, line, code, field) in Self.cases {
        try client.send(line + [10])
        let answer = client.readLine() ?? ""
        let object = (try? JSONSerialization.jsonObject(with: Data(answer.utf8)) as? [String: Any]) ?? [:]
        let error = object["error"] as? [String: Any]
        #expect(object["ok"] as? Bool == false, "\(name): \(answer)")
        #expect(error?["code"] as? String == code, "\(name): \(answer)")
        #expect(error?["field"] as? String == field, "\(name): \(answer)")
        #expect((error?["message"] as? String)?.isEmpty == false, "\(name)")
      }
      // A 2 MiB line is too_large, in its place; the next line is served.
      try client.send(Array(Self.report(#""narrative":""# + String(repeating: "x", count: 2 << 20) + #"""#).utf8) + [10])
      #expect(client.readLine()?.contains(#""code":"too_large""#) == true)
      // A blank line as long is skipped without a response, as a short one is: the ping
      // after it has the next answer.
      try client.send(Array((String(repeating: " \t", count: 1 << 20) + "\r\n" + #"{"op":"ping"}"# + "\n").utf8))
      #expect(client.readLine() == #"{"ok":true,"op":"pong"}"#)
      // Thousands of unknown fields: accepted, each reported back as a warning.
      let unknown = (0..<3000).map { #""unknown_\#($0)":\#($0)"# }.joined(separator: ",")
      try client.send(Array(#"{"id":"U-\#(round)","occurred_at":"2016-03-04","type":"siege",\#(unknown)}"#.utf8) + [10])
      let warned = client.readLine() ?? ""
      #expect(warned.contains(#""ok":true"#) && warned.contains(#"unknown field \"unknown_2999\""#))
      try client.send(Array((Self.good + "\n").utf8))
      #expect(client.readLine()?.contains(#""duplicate":true"#) == true)
    }
    // Memory back near where it was (generous: the allocator keeps some). Not under
    // AddressSanitizer (scripts/sanitize), whose quarantine holds freed memory on purpose.
    if ProcessInfo.processInfo.environment["VIGIL_SANITIZER"] != "address" {
      #expect(Self.rss(daemon.process.processIdentifier) < baseline + 32 * 1024)
    }
    // A last line without its newline, then EOF: still answered.
    try client.send(Array(#"{"op":"ping"}"#.utf8))
    client.closeWriting()
    #expect(client.readLine() == #"{"ok":true,"op":"pong"}"#)
    expectCleanStop(daemon)
    // Nothing of the bad lines was recorded: the journal has OK-1 and the U- reports.
    let journal = try String(contentsOfFile: daemon.directory.path + "/var/lib/vigil/reports.jsonl", encoding: .utf8)
    #expect(journal.split(separator: "\n").count == 4)
  }
}
