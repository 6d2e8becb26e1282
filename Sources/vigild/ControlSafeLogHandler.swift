import Logging

/// vigild's log handler: standard error, with control characters in a message or its
/// metadata shown as U+FFFD. Messages quote what others wrote — a webhook receiver's
/// answer, a database's error, a file's name — and an escape sequence or a carriage return
/// in one would otherwise reach the terminal that shows the log: clear it, recolour it,
/// or overwrite the line with one that looks like vigild's own. Line breaks and tabs stay,
/// for the messages that list several lines of their own.
struct ControlSafeLogHandler: LogHandler {
  private var inner: StreamLogHandler

  init(label: String) {
    inner = StreamLogHandler.standardError(label: label)
  }

  var logLevel: Logger.Level {
    get { inner.logLevel }
    set { inner.logLevel = newValue }
  }

  var metadata: Logger.Metadata {
    get { inner.metadata }
    set { inner.metadata = newValue }
  }

  subscript(metadataKey key: String) -> Logger.Metadata.Value? {
    get { inner[metadataKey: key] }
    set { inner[metadataKey: key] = newValue }
  }

  func log(event: LogEvent) {
    var event = event
    event.message = "\(Self.safe(event.message.description))"
    if let metadata = event.metadata {
      event.metadata = metadata.mapValues { .string(Self.safe($0.description)) }
    }
    inner.log(event: event)
  }

  static func safe(_ text: String) -> String {
    guard text.unicodeScalars.contains(where: isUnsafe) else { return text }
    return String(String.UnicodeScalarView(text.unicodeScalars.map { isUnsafe($0) ? "\u{FFFD}" : $0 }))
  }

  private static func isUnsafe(_ scalar: Unicode.Scalar) -> Bool {
    (scalar.value < 0x20 && scalar != "\n" && scalar != "\t") || (0x7F...0x9F).contains(scalar.value)
  }
}
