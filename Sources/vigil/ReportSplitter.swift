/// Splits `vigil submit`/`check` input into reports, as it streams in: NDJSON (one report
/// per line), one JSON object (possibly spread over many lines) or several one after
/// another, however each is laid out, or a JSON array of them. Each value comes out as one
/// line — the newlines between its tokens turned into spaces, which JSON allows — with the
/// line it started on. The daemon does the validating: a line that is not JSON goes out as
/// it is and comes back as `invalid_json`.
///
/// A broken report costs only itself: a string cannot hold a raw newline, so one left open
/// ends its report at the end of the line; and an object still open when a line begins
/// with `{` in its first column was cut short there, as every JSON writer indents the inner
/// lines of an object it spreads over many.
///
/// This is framing only (a depth count outside strings), so it is written here: the JSON
/// libraries at hand parse whole documents, not a 100 MB stream value by value.
struct ReportSplitter {
  private enum Mode {
    /// Before the first value is complete.
    case undecided
    /// The first value fitted on its line: every non-blank line is one report (NDJSON),
    /// whatever else is on it; a value still open at the end of its line goes on to the
    /// next lines, as in `.values`.
    case lines
    /// The first value spanned lines: values follow each other, however laid out.
    case values
    /// The input is one JSON array: its elements are the reports.
    case array
  }

  private var mode = Mode.undecided
  private var line = 1
  private var value: [UInt8] = []
  private var valueLine = 1
  private var depth = 0
  private var inString = false
  private var escaped = false
  /// The next byte is the first of a line.
  private var atLineStart = true
  /// Collecting something that is not an object or array (a bare word, a number…).
  private var scalar = false
  /// In `.array` mode: the line of its `[`, and whether its `]` came.
  private var arrayLine = 0
  private var arrayClosed = false

  /// How much of a byte-order mark the input has begun with, until it is known (nil then).
  /// Windows editors (Notepad) start UTF-8 files with one: it is no part of a report.
  private var byteOrderMark: Int? = 0
  private static let utf8ByteOrderMark: [UInt8] = [0xEF, 0xBB, 0xBF]

  mutating func feed(_ bytes: some Sequence<UInt8>, emit: ([UInt8], Int) -> Void) {
    for byte in bytes {
      if let matched = byteOrderMark {
        if byte == Self.utf8ByteOrderMark[matched] {
          byteOrderMark = matched + 1 == Self.utf8ByteOrderMark.count ? nil : matched + 1
          continue
        }
        // Not a mark after all: the bytes held back are the input's.
        byteOrderMark = nil
        for held in Self.utf8ByteOrderMark.prefix(matched) { take(held, emit: emit) }
      }
      take(byte, emit: emit)
      atLineStart = byte == UInt8(ascii: "\n")
      if atLineStart { line += 1 }
    }
  }

  /// The end of the input: whatever is left is one (broken) value. Gives the line of an
  /// array's `[` that no `]` closed: the input was cut short.
  mutating func finish(emit: ([UInt8], Int) -> Void) -> Int? {
    if let matched = byteOrderMark {
      byteOrderMark = nil
      for held in Self.utf8ByteOrderMark.prefix(matched) { take(held, emit: emit) }
    }
    if value.contains(where: { !Self.isSpace($0) }) { emit(value, valueLine) }
    value = []
    return mode == .array && !arrayClosed ? arrayLine : nil
  }

  private mutating func take(_ byte: UInt8, emit: ([UInt8], Int) -> Void) {
    if atLineStart, byte == UInt8(ascii: "{"), depth > 0, !value.isEmpty, !scalar {
      // An object begun on an earlier line is still open: it was cut short.
      complete(emit: emit, startedOnOneLine: false)
    }
    if mode == .lines {
      takeInLine(byte, emit: emit)
      return
    }
    let newline = byte == UInt8(ascii: "\n")
    if value.isEmpty {
      // Between values.
      if Self.isSpace(byte) { return }
      if mode == .array, byte == UInt8(ascii: ",") || byte == UInt8(ascii: "]") {
        if byte == UInt8(ascii: "]") { arrayClosed = true }
        return
      }
      if mode == .undecided, byte == UInt8(ascii: "[") {
        mode = .array
        arrayLine = line
        return
      }
      startValue(scalar: byte != UInt8(ascii: "{") && byte != UInt8(ascii: "["))
    }
    if inString {
      if newline {
        // A string cannot hold a raw newline: this value is broken; the daemon will say how.
        complete(emit: emit, startedOnOneLine: true)
        return
      }
      takeInString(byte)
      return
    }
    if scalar {
      let ends = newline || (mode == .array && (byte == UInt8(ascii: ",") || byte == UInt8(ascii: "]")))
      if ends {
        if mode == .array, byte == UInt8(ascii: "]") { arrayClosed = true }
        complete(emit: emit, startedOnOneLine: true)
        return
      }
      if byte == UInt8(ascii: "\"") { inString = true }
      if byte != UInt8(ascii: "\r") { value.append(byte) }
      return
    }
    countDepth(byte)
    value.append(Self.isSpace(byte) ? UInt8(ascii: " ") : byte)
    if depth == 0 { complete(emit: emit, startedOnOneLine: valueLine == line) }
  }

  /// NDJSON: a line is one report, unless the value on it is still open at its end.
  private mutating func takeInLine(_ byte: UInt8, emit: ([UInt8], Int) -> Void) {
    if byte == UInt8(ascii: "\n") {
      guard value.contains(where: { !Self.isSpace($0) }) else {
        value = []
        return
      }
      if depth > 0, !inString {
        value.append(UInt8(ascii: " "))
      } else {
        complete(emit: emit, startedOnOneLine: true)
      }
      return
    }
    if value.isEmpty { startValue(scalar: false) }
    if byte == UInt8(ascii: "\r") { return }
    if inString {
      takeInString(byte)
      return
    }
    countDepth(byte)
    value.append(byte)
  }

  private mutating func startValue(scalar: Bool) {
    valueLine = line
    self.scalar = scalar
    depth = 0
    inString = false
    escaped = false
  }

  private mutating func takeInString(_ byte: UInt8) {
    if escaped {
      escaped = false
    } else if byte == UInt8(ascii: "\\") {
      escaped = true
    } else if byte == UInt8(ascii: "\"") {
      inString = false
    }
    value.append(byte)
  }

  private mutating func countDepth(_ byte: UInt8) {
    switch byte {
    case UInt8(ascii: "\""): inString = true
    case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
    case UInt8(ascii: "}"), UInt8(ascii: "]"): depth -= 1
    default: break
    }
  }

  private mutating func complete(emit: ([UInt8], Int) -> Void, startedOnOneLine: Bool) {
    emit(value, valueLine)
    value = []
    scalar = false
    inString = false
    depth = 0
    if mode == .undecided { mode = startedOnOneLine ? .lines : .values }
  }

  private static func isSpace(_ byte: UInt8) -> Bool {
    byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
  }
}
