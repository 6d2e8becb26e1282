import ArgumentParser
import Foundation
import VigilCore

/// `vigil sinks`: the alert records a sink's destination refused for good, which Vigil
/// parked, and sending them again once the destination is fixed (docs/vigil.md,
/// docs/protocol.md "Parked records").
struct SinksCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "sinks",
    abstract: "List the alert records sinks parked, and send them again.",
    subcommands: [Parked.self, Resend.self])

  struct Parked: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "List the records each sink's destination refused for good (every sink's, or one's).",
      discussion: "Example: vigil sinks parked webhook")

    @OptionGroup var daemon: DaemonOptions
    @Flag(help: "The daemon's raw response.") var json = false
    @Argument(help: ArgumentHelp("Only this sink's records.", valueName: "NAME")) var name: String?

    func run() throws {
      var request = #"{"op":"parked""#
      if let name { request += ",\"sink\":" + JSONText.string(name) }
      guard let response = try SinksCommand.answer(daemon, request + "}", json: json) else { return }
      let entries = (response["parked"] as? [[String: Any]]) ?? []
      if entries.isEmpty { print("no parked records") }
      for entry in entries { print(Self.describe(entry)) }
    }

    /// `webhook #12 parked 2026-…Z, refused: HTTP 400: … — weapons.barrel_bomb (critical): …`
    /// A record's message and a destination's reason are outside text: made safe for a terminal.
    static func describe(_ entry: [String: Any]) -> String {
      let seq = (entry["seq"] as? NSNumber)?.stringValue ?? "?"
      let kind = entry["conflict"] as? Bool == true ? "conflict" : "refused"
      return TerminalText.safe(describeRaw(entry, seq: seq, kind: kind))
    }

    private static func describeRaw(_ entry: [String: Any], seq: String, kind: String) -> String {
      let record = entry["record"] as? [String: Any] ?? [:]
      return "\(entry["sink"] as? String ?? "?") #\(seq) parked \(entry["parked_at"] as? String ?? "?"), "
        + "\(kind): \(entry["reason"] as? String ?? "") — \(record["rule"] as? String ?? "?") "
        + "(\(record["priority"] as? String ?? "?")): \(record["message"] as? String ?? "")"
    }
  }

  struct Resend: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Have a sink send its parked records again, at its next round (all, or those of --seq).",
      discussion: """
        Records the destination refuses again stay parked. Only the daemon's administrators may ask.
        Example: vigil sinks resend webhook --seq 12
        """)

    @OptionGroup var daemon: DaemonOptions
    @Flag(help: "The daemon's raw response.") var json = false
    @Option(help: ArgumentHelp("Only the parked record with this seq (repeatable).", valueName: "N")) var seq:
      [UInt64] = []
    @Argument(help: ArgumentHelp("The sink, as `vigil sinks parked` names it.", valueName: "NAME")) var name: String

    func validate() throws {
      if seq.contains(0) { throw ValidationError("--seq must be an alert's seq, 1 or more") }
    }

    func run() throws {
      var request = #"{"op":"resend","sink":"# + JSONText.string(name)
      if !seq.isEmpty { request += ",\"seqs\":[" + seq.map(String.init).joined(separator: ",") + "]" }
      guard let response = try SinksCommand.answer(daemon, request + "}", json: json) else { return }
      let parked = (response["parked"] as? NSNumber)?.intValue ?? 0
      let asked = seq.isEmpty ? "every parked record" : "seq " + seq.map(String.init).joined(separator: ", ")
      print(
        "sink \(name) sends \(asked) again at its next round (\(parked) parked when asked); "
          + "vigil sinks parked \(name) shows what stays parked")
    }
  }

  /// One request, answered: with `json`, the response line is printed as it came (an error
  /// response with its exit status) and nil is returned; otherwise the response, once it
  /// says ok.
  static func answer(_ daemon: DaemonOptions, _ request: String, json: Bool) throws -> [String: Any]? {
    let (line, response) = try daemon.connect().exchange(request)
    let refusal = DaemonConnection.refusal(of: response)
    guard json else {
      if let refusal { throw refusal }
      return response
    }
    print(String(decoding: line, as: UTF8.self))
    if let refusal { throw ExitCode(refusal.status) }
    return nil
  }
}
