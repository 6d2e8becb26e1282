/// Splits `vigil submit`/`check` input into reports, as it streams in: NDJSON (one report
/// per line), one JSON object (possibly spread over many lines) or several one after
/// another, however each is laid out, or a JSON array of them. Each value comes out as one
/// line — the newlines between its tokens turned into spaces, which JSON allows — with the
/// line it started on. The daemon does the validating: a line that is not JSON goes out as
/// it is and comes back as `invalid_json`.
///
/// A broken report costs only itself. A value still open at the end of a line goes on to
/// the next only if that line's first word can continue it — what JSON allows at that
/// point (a `,` or the closing bracket after a member's value, a key after a `,`, a value
/// after a `:`…); one it cannot (the next report's `{` after a member's value) means the
/// open one was cut short there. So an NDJSON line missing its `}` is refused alone, and a
/// report spread over lines is read whole however it is indented. A string cannot hold a
/// raw newline: one left open ends at the end of its line, and its report goes on to the
/// lines that can continue it (a key among them), to be refused whole.
///
/// This is framing only (the JSON grammar's next step outside strings, not its values),
/// so it is written here: the JSON libraries at hand parse whole documents, not a 100 MB
/// stream value by value.
struct ReportSplitter {
  private enum Mode {
    /// Before the first value is complete.
    case undecided
    /// The first value fitted on its line: every non-blank line is one report (NDJSON),
    /// whatever else is on it; a value still open at the end of its line may go on to the
    /// next lines, as in `.values`.
    case lines
    /// The first value spanned lines: values follow each other, however laid out.
    case values
    /// The input is one JSON array: its elements are the reports.
    case array
  }

  /// What JSON allows next inside the open value (outside strings).
  private enum Expected {
    case keyOrClose, key, colon, value, valueOrClose, commaOrClose
  }

  private var mode = Mode.undecided
  private var line = 1
  private var value: [UInt8] = []
  private var valueLine = 1
  /// The open `{` and `[` of the value being collected, innermost last.
  private var containers: [UInt8] = []
  private var expected = Expected.value
  private var inString = false
  private var escaped = false
  /// A string of the value was left open at the end of a line: the value is broken, and
  /// goes on to the next lines that may continue it, or that start with a key.
  private var broken = false
  /// A byte other than white space has come on the current line.
  private var lineStarted = false
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
        for held in Self.utf8ByteOrderMark.prefix(matched) { advance(held, emit: emit) }
      }
      advance(byte, emit: emit)
    }
  }

  /// The end of the input: whatever is left is one (broken) value. Gives the line of an
  /// array's `[` that no `]` closed: the input was cut short.
  mutating func finish(emit: ([UInt8], Int) -> Void) -> Int? {
    if let matched = byteOrderMark {
      byteOrderMark = nil
      for held in Self.utf8ByteOrderMark.prefix(matched) { advance(held, emit: emit) }
    }
    if value.contains(where: { !Self.isSpace($0) }) { emit(value, valueLine) }
    value = []
    return mode == .array && !arrayClosed ? arrayLine : nil
  }

  private mutating func advance(_ byte: UInt8, emit: ([UInt8], Int) -> Void) {
    take(byte, emit: emit)
    if byte == UInt8(ascii: "\n") {
      line += 1
      lineStarted = false
    } else if !Self.isSpace(byte) {
      lineStarted = true
    }
  }

  private mutating func take(_ byte: UInt8, emit: ([UInt8], Int) -> Void) {
    if !lineStarted, !Self.isSpace(byte), !containers.isEmpty, valueLine < line, !continues(byte) {
      // The value begun on an earlier line cannot go on with this line's first word: it
      // was cut short, and this line starts the next.
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
        guard breakString() else {
          complete(emit: emit, startedOnOneLine: true)
          return
        }
        value.append(UInt8(ascii: " "))
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
    follow(byte)
    value.append(Self.isSpace(byte) ? UInt8(ascii: " ") : byte)
    if containers.isEmpty { complete(emit: emit, startedOnOneLine: valueLine == line) }
  }

  /// NDJSON: a line is one report, unless the value on it is still open at its end.
  private mutating func takeInLine(_ byte: UInt8, emit: ([UInt8], Int) -> Void) {
    if byte == UInt8(ascii: "\n") {
      guard value.contains(where: { !Self.isSpace($0) }) else {
        value = []
        return
      }
      if containers.isEmpty || (inString && !breakString()) {
        complete(emit: emit, startedOnOneLine: true)
      } else {
        value.append(UInt8(ascii: " "))
      }
      return
    }
    if value.isEmpty { startValue(scalar: false) }
    if byte == UInt8(ascii: "\r") { return }
    if inString {
      takeInString(byte)
      return
    }
    follow(byte)
    value.append(byte)
  }

  /// Whether `byte`, the first word of a line, can go on with the open value: what JSON
  /// allows next there, or, in a value already broken by a string left open, a key.
  private func continues(_ byte: UInt8) -> Bool {
    let closer = containers.last == UInt8(ascii: "{") ? UInt8(ascii: "}") : UInt8(ascii: "]")
    let fits =
      switch expected {
      case .keyOrClose: byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "}")
      case .key: byte == UInt8(ascii: "\"")
      case .colon: byte == UInt8(ascii: ":")
      case .value: Self.startsAValue(byte)
      case .valueOrClose: Self.startsAValue(byte) || byte == UInt8(ascii: "]")
      case .commaOrClose: byte == UInt8(ascii: ",") || byte == closer
      }
    return fits || (broken && (byte == UInt8(ascii: "\"") || byte == UInt8(ascii: ",") || byte == closer))
  }

  private static func startsAValue(_ byte: UInt8) -> Bool {
    switch byte {
    case UInt8(ascii: "{"), UInt8(ascii: "["), UInt8(ascii: "\""), UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"),
      UInt8(ascii: "t"), UInt8(ascii: "f"), UInt8(ascii: "n"):
      true
    default: false
    }
  }

  /// A string left open at the end of its line, inside an object or array: ended there,
  /// the value marked broken (true). At the top level there is nothing to go on with (false).
  private mutating func breakString() -> Bool {
    guard !containers.isEmpty else { return false }
    inString = false
    escaped = false
    broken = true
    expected = expected == .key || expected == .keyOrClose ? .colon : .commaOrClose
    return true
  }

  /// The JSON grammar's next step for a byte outside strings.
  private mutating func follow(_ byte: UInt8) {
    switch byte {
    case UInt8(ascii: "\""): inString = true
    case UInt8(ascii: "{"):
      containers.append(byte)
      expected = .keyOrClose
    case UInt8(ascii: "["):
      containers.append(byte)
      expected = .valueOrClose
    case UInt8(ascii: "}"), UInt8(ascii: "]"):
      if !containers.isEmpty { containers.removeLast() }
      expected = .commaOrClose
    case UInt8(ascii: ":"): expected = .value
    case UInt8(ascii: ","): expected = containers.last == UInt8(ascii: "{") ? .key : .value
    default:
      // A number or a literal (true, false, null): a value.
      if !Self.isSpace(byte), expected == .value || expected == .valueOrClose { expected = .commaOrClose }
    }
  }

  private mutating func startValue(scalar: Bool) {
    valueLine = line
    self.scalar = scalar
    containers = []
    expected = .value
    inString = false
    escaped = false
    broken = false
  }

  private mutating func takeInString(_ byte: UInt8) {
    if escaped {
      escaped = false
    } else if byte == UInt8(ascii: "\\") {
      escaped = true
    } else if byte == UInt8(ascii: "\"") {
      inString = false
      // A key's end, or a value's.
      expected = expected == .key || expected == .keyOrClose ? .colon : .commaOrClose
    }
    value.append(byte)
  }

  private mutating func complete(emit: ([UInt8], Int) -> Void, startedOnOneLine: Bool) {
    emit(value, valueLine)
    value = []
    scalar = false
    inString = false
    escaped = false
    broken = false
    containers = []
    expected = .value
    if mode == .undecided { mode = startedOnOneLine ? .lines : .values }
  }

  private static func isSpace(_ byte: UInt8) -> Bool {
    byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
  }
}
