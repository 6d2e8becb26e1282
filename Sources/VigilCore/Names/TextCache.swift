import NIOConcurrencyHelpers

/// Remembers a value computed from a text, up to a bound: names come back report after
/// report (the same groups, agencies and crossings), and matching one costs a microsecond
/// or more against the 2 µs a whole rule set may take per report. Keyed by the text's
/// bytes, so a lookup needs no `String`; a full cache is emptied and starts again.
///
/// Inlinable, so that each plugin's use is specialized for its value: called generically
/// across the module boundary, every lookup instantiated the metadata of its dictionary
/// and optional at run time, about 1,400 instructions of some 3,200 a call.
public final class TextCache<Value: Sendable>: Sendable {
  @usableFromInline let entries = NIOLockedValueBox<[ReportText: Value]>([:])
  @usableFromInline let limit: Int

  public init(limit: Int = 50_000) {
    self.limit = limit
  }

  @inlinable
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
