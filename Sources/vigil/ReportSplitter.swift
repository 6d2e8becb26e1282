/// Splits `vigil submit`/`check` input into reports, as it streams in: NDJSON (one report
/// per line), one JSON object (possibly spread over many lines), or a JSON array of them.
/// Each value comes out as one line — the newlines between its tokens turned into spaces,
/// which JSON allows — with the line it started on. The daemon does the validating: a
/// line that is not JSON goes out as it is and comes back as `invalid_json`.
///
/// This is framing only (a depth count outside strings), so it is written here: the JSON
/// libraries at hand parse whole documents, not a 100 MB stream value by value.
struct ReportSplitter {
  private enum Mode {
    /// Before the first value is complete.
    case undecided
    /// The first value fitted on its line: every non-blank line is one report (NDJSON).
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
      if byte == UInt8(ascii: "\n") { line += 1 }
    }
  }

  /// The end of the input: whatever is left is one (broken) value. Gives the line of an
  /// array's `[` that no `]` closed: the input was cut short.
  mutating func finish(emit: ([UInt8], Int) -> Void) -> Int? {
    if let matched = byteOrderMark {
      byteOrderMark = nil
      for held in Self.utf8ByteOrderMark.prefix(matched) { take(held, emit: emit) }
    }
    if !value.isEmpty { emit(value, valueLine) }
    value = []
    return mode == .array && !arrayClosed ? arrayLine : nil
  }

  private mutating func take(_ byte: UInt8, emit: ([UInt8], Int) -> Void) {
    let newline = byte == UInt8(ascii: "\n")
    if mode == .lines {
      if newline {
        if value.contains(where: { !Self.isSpace($0) }) { emit(value, valueLine) }
        value = []
      } else {
        if value.isEmpty { valueLine = line }
        if byte != UInt8(ascii: "\r") { value.append(byte) }
      }
      return
    }
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
      valueLine = line
      scalar = byte != UInt8(ascii: "{") && byte != UInt8(ascii: "[")
      depth = 0
      inString = false
      escaped = false
    }
    if inString {
      if newline {
        // A string cannot hold a raw newline: this value is broken; the daemon will say how.
        complete(emit: emit, startedOnOneLine: true)
        return
      }
      if escaped {
        escaped = false
      } else if byte == UInt8(ascii: "\\") {
        escaped = true
      } else if byte == UInt8(ascii: "\"") {
        inString = false
      }
      value.append(byte)
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
    switch byte {
    case UInt8(ascii: "\""): inString = true
    case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
    case UInt8(ascii: "}"), UInt8(ascii: "]"): depth -= 1
    default: break
    }
    value.append(Self.isSpace(byte) ? UInt8(ascii: " ") : byte)
    if depth == 0 { complete(emit: emit, startedOnOneLine: valueLine == line) }
  }

  private mutating func complete(emit: ([UInt8], Int) -> Void, startedOnOneLine: Bool) {
    emit(value, valueLine)
    value = []
    scalar = false
    inString = false
    if mode == .undecided { mode = startedOnOneLine ? .lines : .values }
  }

  private static func isSpace(_ byte: UInt8) -> Bool {
    byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
  }
}
