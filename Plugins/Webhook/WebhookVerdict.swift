import Foundation

/// What an HTTP answer means for the records a request carried: delivered, to be tried
/// again (the whole batch, later), or refused for good (parked). Redirects are not
/// followed: a webhook that moved is a configuration to fix, and a retry would not fix it.
enum WebhookVerdict: Equatable {
  case delivered
  /// A pause the receiver asked for (429 or 503 with `Retry-After`), in seconds, or nil
  /// for Vigil's usual back-off.
  case retry(reason: String, after: Double?)
  case refused(reason: String)

  /// How much of a refusing answer's body its reason quotes.
  static let quotedBodyLength = 200

  /// - Parameters:
  ///   - retryAfter: the answer's `Retry-After` header, if any.
  ///   - body: the start of the answer's body, for the reason.
  ///   - receiver: how errors name the receiver (its host: a webhook's path often holds a
  ///     token, which logs and `status` must not show).
  static func of(
    status: Int, retryAfter: String?, body: [UInt8], receiver: String, now: Date = Date()
  ) -> WebhookVerdict {
    let quoted = quote(body)
    let answered = "HTTP \(status)" + (quoted.isEmpty ? "" : ": \(quoted)")
    switch status {
    case 200..<300:
      return .delivered
    case 408, 429, 500..<600:
      let wait =
        (status == 429 || status == 503) ? retryAfter.flatMap { WebhookRetryAfter.seconds(in: $0, now: now) } : nil
      return .retry(reason: "the webhook at \(receiver) answered \(answered)", after: wait)
    case 300..<400:
      // Not followed: a signed request sent on to another address is not what was set up.
      return .refused(reason: answered + " (a redirect, which is not followed: set url to the address it points at)")
    default:
      return .refused(reason: answered)
    }
  }

  /// The body's first characters on one line, for a reason that stays one sentence: its
  /// lines joined by spaces and its tabs as spaces, its other control characters (an escape sequence a receiver
  /// sends to a terminal that shows vigild's log) as U+FFFD, as vigild shows what it
  /// quotes from others, so an operator sees that they were sent.
  static func quote(_ body: [UInt8]) -> String {
    let text = String(decoding: body, as: UTF8.self)
    let oneLine = text.split(whereSeparator: \.isNewline).joined(separator: " ")
    let plain = String(
      String.UnicodeScalarView(
        oneLine.unicodeScalars.map {
          $0 == "\t" ? " " : $0.value < 0x20 || (0x7F...0x9F).contains($0.value) ? "\u{FFFD}" : $0
        }))
    return String(plain.trimmingCharacters(in: .whitespaces).prefix(quotedBodyLength))
  }
}
