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
      // What the braces hold, up to the closing one on the same line. Braces whose text
      // starts with a letter or `_` (after spaces) are meant as a placeholder, and must be
      // one: `{mesage}`, `{report id}`, `{ message }`, `{seq:05d}`, `{rule:upper}`,
      // `{node,}` are typos to refuse, not text to send (audit 50). Other braces (`{"a":
      // 1}`, `{ }`, `{1x}`) are kept as written.
      let braced = rest[afterOpen...].prefix { $0 != "}" && $0 != "{" && $0 != "\n" && $0 != "\r" }
      let close = braced.endIndex
      let first = braced.first { $0 != " " && $0 != "\t" }
      guard close < rest.endIndex, rest[close] == "}", let first, first.isLetter || first == "_" else {
        literal.append("{")
        rest = rest[afterOpen...]
        continue
      }
      guard Self.placeholders.contains(String(braced)) else {
        let words = braced.split(whereSeparator: { $0 == " " || $0 == "\t" })
        let meant = words.joined(separator: "_")
        let named = braced.prefix { $0.isLetter || $0.isNumber || $0 == "_" }
        let hint =
          Self.placeholders.contains(meant)
          ? ": write {\(meant)}, without spaces"
          : Self.placeholders.contains(String(named)) && named.count < braced.count
            ? ": a placeholder takes no format or other words; write {\(named)}" : ""
        throw PluginSettingsError(
          "text: {\(braced)} is not a placeholder\(hint) (known: \(Self.placeholders.map { "{\($0)}" }.joined(separator: " ")))")
      }
      if !literal.isEmpty { parts.append(.literal(literal)) }
      literal = ""
      parts.append(.placeholder(String(braced)))
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
    var rendered = ""
    for part in parts {
      switch part {
      case .literal(let text): rendered += text
      case .placeholder("seq"): rendered += String(seq)
      case .placeholder("node"): rendered += node
      case .placeholder(let name):
        let text = Self.inert(record.map { Self.text(of: $0[name]) } ?? "")
        // At the start of a line (of the message, or of a batch's, which joins its texts
        // with line breaks): a report's `# `, `- `, `1. `, `> `, `[a]: url` or indent would
        // be a heading, a list, a quote, a link's definition or code. A word joiner before
        // it keeps it the line's text (audit 50).
        // (By scalars: "\r\n" is one Character, which `hasSuffix("\n")` would not see.)
        let lineStart = rendered.unicodeScalars.last.map { $0 == "\n" || $0 == "\r" || $0 == "\u{2028}" || $0 == "\u{2029}" } ?? true
        if lineStart, let first = text.unicodeScalars.first,
          first.isASCII && !(first.properties.isAlphabetic) || first.properties.isWhitespace
        {
          rendered += "\u{2060}"
        }
        rendered += text
      }
    }
    return rendered
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
  /// a Markdown heading, list or link definition (nor can one at the start of the
  /// template: `render` puts a word joiner before one that begins a line with a mark, a
  /// digit or a space). The template's own words are left as written: they are the
  /// operator's.
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
