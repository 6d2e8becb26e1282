import Foundation
import VigilCore

/// The records a sink's destination refused for good, kept in
/// `<state_dir>/sinks/<name>.parked` (docs/plugins.md, "Parked records"): one JSON line
/// each, `{"seq":…,"parked_at":…,"conflict":…,"reason":…,"record":{…}}`, the record's own
/// line last and unchanged, so what is sent again is byte for byte what was refused.
/// Written by the sink's thread only; `vigil sinks parked` reads it through the daemon.
struct ParkedRecords {
  struct Entry: Equatable {
    let seq: UInt64
    let parkedAt: String
    let conflict: Bool
    let reason: String
    /// The alert record's line, exactly as the log holds it.
    let record: String

    var line: String {
      "{\"seq\":\(seq),\"parked_at\":\(JSONText.string(parkedAt)),\"conflict\":\(conflict),"
        + "\"reason\":\(JSONText.string(reason)),\"record\":\(record)}"
    }

    init(seq: UInt64, parkedAt: String, conflict: Bool, reason: String, record: String) {
      self.seq = seq
      self.parkedAt = parkedAt
      self.conflict = conflict
      self.reason = reason
      self.record = record
    }

    /// Reads a line `line` wrote; nil for anything else.
    init?(line: String) {
      let marker = ",\"record\":"
      guard let cut = line.range(of: marker), line.hasSuffix("}"),
        case .object(let head)? = try? JSONValue.parse(Array((line[..<cut.lowerBound] + "}").utf8)),
        case .number(let seq)? = head["seq"], seq >= 1, case .string(let parkedAt)? = head["parked_at"],
        case .bool(let conflict)? = head["conflict"], case .string(let reason)? = head["reason"]
      else { return nil }
      let record = String(line[cut.upperBound..<line.index(before: line.endIndex)])
      self.init(seq: UInt64(seq), parkedAt: parkedAt, conflict: conflict, reason: reason, record: record)
    }
  }

  let path: String

  /// What is parked now, oldest first; lines it cannot read are skipped (and kept when the
  /// file is rewritten: see `replace`).
  func load() -> [Entry] {
    guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
    return text.split(separator: "\n").compactMap { Entry(line: String($0)) }
  }

  /// Adds entries, durably.
  func append(_ entries: [Entry]) throws {
    guard !entries.isEmpty else { return }
    let descriptor = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
    guard descriptor >= 0 else { throw PluginSettingsError("cannot open \(path): errno \(errno)") }
    defer { close(descriptor) }
    let bytes = Array(entries.map { $0.line + "\n" }.joined().utf8)
    let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
    guard written == bytes.count, fsync(descriptor) == 0 else {
      throw PluginSettingsError("cannot write \(path): errno \(errno)")
    }
  }

  /// Replaces what is parked with `entries`: a new file, synced, renamed over the old.
  func replace(with entries: [Entry]) throws {
    try ReplacedFile.replace(path, with: entries.map { $0.line + "\n" }.joined(), keeping: "the parked records")
  }
}
