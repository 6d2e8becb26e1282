import Foundation

/// The `Retry-After` header of an answer (RFC 9110 §10.2.3): how many seconds the receiver
/// asked the sender to wait, given as seconds or as an HTTP date.
enum WebhookRetryAfter {
  /// The seconds to wait from `now`, or nil for a value that is neither form. A date in
  /// the past means no wait.
  static func seconds(in value: String, now: Date = Date()) -> Double? {
    // asctime pads a day below 10 with a second space: one space between words throughout.
    let text = value.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
    if !text.isEmpty, text.allSatisfy(\.isASCII), text.allSatisfy(\.isNumber) {
      return Double(text)
    }
    for format in dateFormats {
      if let date = formatter(format).date(from: text) { return max(0, date.timeIntervalSince(now)) }
    }
    return nil
  }

  /// The preferred IMF-fixdate, then the two obsolete forms a recipient must still accept.
  private static let dateFormats = [
    "EEE, dd MMM yyyy HH:mm:ss 'GMT'", "EEEE, dd-MMM-yy HH:mm:ss 'GMT'", "EEE MMM d HH:mm:ss yyyy",
  ]

  /// A new formatter each time: `DateFormatter` is not safe to share across threads, and a
  /// `Retry-After` is rare.
  private static func formatter(_ format: String) -> DateFormatter {
    let formatter = DateFormatter()
    formatter.locale = Locale(identifier: "en_US_POSIX")
    formatter.timeZone = TimeZone(identifier: "GMT")
    formatter.dateFormat = format
    return formatter
  }
}
