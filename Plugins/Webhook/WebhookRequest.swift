import Crypto
import VigilCore

/// One POST as the webhook sink sends it, for one record or a batch: its body and headers,
/// built without I/O. The receiver's checks rest on these headers (docs/webhooks.md): the
/// signature says who sent the body, the idempotency keys which records it carries.
struct WebhookRequest: Equatable {
  let body: [UInt8]
  /// In the order sent; the sink's extra headers (`headers:`) come last.
  let headers: [Header]
  /// The records it carries, in `seq` order.
  let seqs: [UInt64]

  struct Header: Equatable {
    let name: String
    let value: String
  }

  /// With `batch` above 1 the body is a JSON array even when it carries one record, so a
  /// receiver reads one shape.
  init(records: [RecordedAlert], settings: WebhookSettings, node: String) {
    let asArray = settings.batch > 1
    switch settings.format {
    case .record:
      let lines = records.map(\.line)
      body = Array((asArray ? "[" + lines.joined(separator: ",") + "]" : lines.joined()).utf8)
    case .chat(let template):
      let texts = records.map { template.render(line: $0.line, seq: $0.seq, node: node) }
      body = Array("{\"text\":\(JSONText.string(texts.joined(separator: "\n")))}".utf8)
    }
    seqs = records.map(\.seq)
    var headers = [
      Header(name: "Content-Type", value: "application/json"),
      Header(name: "User-Agent", value: "vigild"),
      Header(name: "X-Vigil-Node", value: node),
      Header(name: "X-Vigil-Signature-256", value: Self.signature(of: body, secret: settings.secret)),
      Header(name: "Idempotency-Key", value: Self.idempotencyKey(node: node, seqs: seqs)),
    ]
    if asArray {
      headers.append(
        Header(name: "X-Vigil-Idempotency-Keys", value: seqs.map { "\(node):\($0)" }.joined(separator: ",")))
    }
    self.headers = headers + settings.headers.map { Header(name: $0.name, value: $0.value) }
  }

  /// `sha256=` and the lowercase hex HMAC-SHA256 of the body, as GitHub's
  /// `X-Hub-Signature-256`.
  static func signature(of body: [UInt8], secret: [UInt8]) -> String {
    let code = HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: secret))
    return "sha256=" + code.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
  }

  /// `node:seq` for one record, `node:first-last` for several that follow each other;
  /// records that do not (parked ones sent again together) as their runs joined by `+`
  /// (`node:11+13+15-17`), so the key never names a record the body lacks. Derived from
  /// what the records are, never from the attempt, so a redelivery carries the key the
  /// first try did.
  static func idempotencyKey(node: String, seqs: [UInt64]) -> String {
    var runs: [(first: UInt64, last: UInt64)] = []
    for seq in seqs {
      if let run = runs.last, seq == run.last + 1 {
        runs[runs.count - 1].last = seq
      } else {
        runs.append((seq, seq))
      }
    }
    let text = runs.map { $0.first == $0.last ? "\($0.first)" : "\($0.first)-\($0.last)" }.joined(separator: "+")
    return "\(node):\(text.isEmpty ? "0" : text)"
  }
}
