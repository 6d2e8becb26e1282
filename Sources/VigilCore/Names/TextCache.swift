import NIOConcurrencyHelpers

/// Remembers a value computed from a text, up to a bound: names come back report after
/// report (the same groups, agencies and crossings), and matching one costs a microsecond
/// or more against the 2 µs a whole rule set may take per report. Keyed by the text's
/// bytes, so a lookup needs no `String`; a full cache is emptied and starts again.
public final class TextCache<Value: Sendable>: Sendable {
  private let entries = NIOLockedValueBox<[ReportText: Value]>([:])
  private let limit: Int

  public init(limit: Int = 50_000) {
    self.limit = limit
  }

  public func value(for text: ReportText, compute: (ReportText) -> Value) -> Value {
    if let known = entries.withLockedValue({ $0[text] }) { return known }
    let value = compute(text)
    // A compact copy as the key: the report's text keeps its whole line alive.
    let key = ReportText(text.string)
    entries.withLockedValue { entries in
      if entries.count >= limit { entries.removeAll(keepingCapacity: true) }
      entries[key] = value
    }
    return value
  }
}
