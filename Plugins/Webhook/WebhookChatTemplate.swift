import VigilCore

/// The `text` of format `chat`: words with placeholders in braces, filled from an alert
/// record, for chat tools whose incoming webhooks take `{"text": …}` (Mattermost, Slack and
/// the tools compatible with them).
struct WebhookChatTemplate: Equatable {
  enum Part: Equatable {
    case literal(String)
    case placeholder(String)
  }

  static let placeholders = ["priority", "rule", "message", "basis", "report_id", "seq", "node", "time"]

  let parts: [Part]

  /// Reads a template. A word in braces that is no placeholder (`{mesage}`) is refused, so
  /// a typo is found at start rather than in every alert; other braces are kept as written.
  init(_ text: String) throws(PluginSettingsError) {
    var parts: [Part] = []
    var literal = ""
    var rest = Substring(text)
    while let open = rest.firstIndex(of: "{") {
      literal += rest[..<open]
      let afterOpen = rest.index(after: open)
      // A word: a letter, then letters, digits, `_`, `-` or `.` (`{report-id}`, `{seq2}`
      // are typos to refuse too, not text to send).
      // Words and the spaces between them are a typo too (`{ message }`, `{report id}`).
      let braced = rest[afterOpen...].prefix {
        $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" || $0 == "." || $0 == " " || $0 == "\t"
      }
      let close = braced.endIndex
      let words = braced.split(whereSeparator: { $0 == " " || $0 == "\t" })
      guard words.first?.first?.isLetter == true, close < rest.endIndex, rest[close] == "}" else {
        literal.append("{")
        rest = rest[afterOpen...]
        continue
      }
      let name = words.count == 1 ? words[0] : braced
      guard words.count == 1, name.count == braced.count, Self.placeholders.contains(String(name)) else {
        let meant = words.joined(separator: "_")
        let hint = Self.placeholders.contains(meant) ? ": write {\(meant)}, without spaces" : ""
        throw PluginSettingsError(
          "text: {\(braced)} is not a placeholder\(hint) (known: \(Self.placeholders.map { "{\($0)}" }.joined(separator: " ")))")
      }
      if !literal.isEmpty { parts.append(.literal(literal)) }
      literal = ""
      parts.append(.placeholder(String(name)))
      rest = rest[rest.index(after: close)...]
    }
    literal += rest
    if !literal.isEmpty { parts.append(.literal(literal)) }
    self.parts = parts
  }

  /// The text for one alert record (its alert-log line). A field the record lacks (a
  /// `report_id` of Vigil's own records) is left empty.
  func render(line: String, seq: UInt64, node: String) -> String {
    let record: JSONObject? =
      if case .object(let object)? = try? JSONValue.parse(Array(line.utf8)) { object } else { nil }
    return parts.map { part in
      switch part {
      case .literal(let text): text
      case .placeholder("seq"): String(seq)
      case .placeholder("node"): node
      case .placeholder(let name): Self.inert(record.map { Self.text(of: $0[name]) } ?? "")
      }
    }.joined()
  }

  /// A field's text made inert for chat markup: `&`, `<` and `>` as the entities Slack's
  /// text asks for (and Mattermost's Markdown reads back as the characters), so a report
  /// cannot write `<!channel>` or a link `<https://…|a trusted name>`; an `@` before a
  /// letter gets a word joiner (U+2060) after it, so `@here`, `@channel`, `@all` or a
  /// user's name in a report notify nobody; and so does a `]` before `(`, so Markdown's
  /// `[a trusted name](https://…)` and `![](https://…)` stay text, and a `]` before `[`,
  /// so a reference link `[a trusted name][1]` does too. Line breaks and other control
  /// characters (U+2028 and U+2029 too) become spaces: a report's text stays on the
  /// message's line, and cannot start a line of its own that looks like another alert, or
  /// a Markdown heading, list or link definition. The template's own words are left as
  /// written: they are the operator's.
  static func inert(_ text: String) -> String {
    guard
      text.unicodeScalars.contains(where: { "&<>@]".unicodeScalars.contains($0) || isLineBreaking($0) || isBidiControl($0) })
    else {
      return text
    }
    var out = String.UnicodeScalarView()
    let scalars = Array(text.unicodeScalars)
    for (index, scalar) in scalars.enumerated() {
      switch scalar {
      case "&": out.append(contentsOf: "&amp;".unicodeScalars)
      case "<": out.append(contentsOf: "&lt;".unicodeScalars)
      case ">": out.append(contentsOf: "&gt;".unicodeScalars)
      case "@":
        out.append(scalar)
        if index + 1 < scalars.count, scalars[index + 1].properties.isAlphabetic { out.append("\u{2060}") }
      case "]":
        // `[name](url)` and `![](url)`: Mattermost's Markdown links and images need `](`.
        out.append(scalar)
        if index + 1 < scalars.count, scalars[index + 1] == "(" || scalars[index + 1] == "[" { out.append("\u{2060}") }
      case _ where isLineBreaking(scalar): out.append(" ")
      // An override or isolate from a report would turn the rest of the message, the
      // template's words and the basis among them, around it: shown as `␣`, as `vigil` and
      // the console show it.
      case _ where isBidiControl(scalar): out.append("\u{2423}")
      default: out.append(scalar)
      }
    }
    return String(out)
  }

  /// A bidirectional embedding, override or isolate (U+202A–202E, U+2066–2069).
  private static func isBidiControl(_ scalar: Unicode.Scalar) -> Bool {
    (0x202A...0x202E).contains(scalar.value) || (0x2066...0x2069).contains(scalar.value)
  }

  /// A control character (C0, DEL, C1) or a line or paragraph separator.
  private static func isLineBreaking(_ scalar: Unicode.Scalar) -> Bool {
    scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) || scalar.value == 0x2028 || scalar.value == 0x2029
  }

  /// A field as words: a list (`basis`) joined with semicolons (as the rule catalogue
  /// writes it: an entry such as "UNSCR 2139 OP8, OP10" has commas of its own), null as
  /// nothing.
  private static func text(of value: JSONValue?) -> String {
    switch value {
    case .string(let text)?: text
    case .array(let items)?: items.map { text(of: $0) }.joined(separator: "; ")
    case .number(let number)?: number == number.rounded() && abs(number) < 1e15 ? String(Int64(number)) : String(number)
    case .bool(let flag)?: String(flag)
    case .object?, .null?, nil: ""
    }
  }
}
