import Foundation
import VigilCore

/// What `vigil sinks resend` asked a sink to offer again and it has not done yet, kept in
/// `<state_dir>/sinks/<name>.resend` so that a stop before the sink's next round does not
/// forget it: `{"seqs":"all"}` or `{"seqs":[12,40]}`. Removed once done.
struct ResendRequest {
  let path: String

  /// What was asked: every parked record (nil inside) or these seqs; nil when nothing is
  /// asked (no file, or one not written by `save`).
  func load() -> Set<UInt64>?? {
    guard let bytes = FileManager.default.contents(atPath: path),
      case .object(let members)? = try? JSONValue.parse(Array(bytes))
    else { return nil }
    switch members["seqs"] {
    case .string("all")?: return .some(nil)
    case .array(let items)?:
      var seqs = Set<UInt64>()
      for case .number(let seq) in items where seq >= 1 && seq == seq.rounded() { seqs.insert(UInt64(seq)) }
      return .some(seqs)
    default: return nil
    }
  }

  /// Keeps `asked` (nil: every parked record), durably: a new file, synced, renamed over.
  func save(_ asked: Set<UInt64>?) throws {
    let text = asked.map { "{\"seqs\":[" + $0.sorted().map(String.init).joined(separator: ",") + "]}\n" } ?? "{\"seqs\":\"all\"}\n"
    try ReplacedFile.replace(path, with: text, keeping: "the resend asked for")
  }

  /// Forgets it: the resend is done.
  func remove() { unlink(path) }
}
