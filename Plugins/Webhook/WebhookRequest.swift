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
  init(records: [RecordedAlert], settings: WebhookSettings, node: String, secret: [UInt8]) {
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
      Header(name: "X-Vigil-Signature-256", value: Self.signature(of: body, secret: secret)),
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

  /// `node:seq` for one record, `node:first-last` for several that follow each other; for
  /// records that do not (a filter passed over some, parked ones sent again together),
  /// `node:first-last+` and 16 hex digits of a SHA-256 of their seqs, so a key never stands
  /// for records the body lacks, and stays short whatever the batch. Derived from what the
  /// records are, never from the attempt, so a redelivery carries the key the first try did.
  static func idempotencyKey(node: String, seqs: [UInt64]) -> String {
    guard let first = seqs.first, let last = seqs.last else { return "\(node):0" }
    guard seqs.count > 1 else { return "\(node):\(first)" }
    let range = "\(node):\(first)-\(last)"
    if last - first + 1 == UInt64(seqs.count) { return range }
    let digest = SHA256.hash(data: Array(seqs.map(String.init).joined(separator: ",").utf8))
    return range + "+" + digest.prefix(8).map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
  }
}
