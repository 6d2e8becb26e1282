import Foundation
import VigilCore

/// Text made safe for HTML: every report field is hostile input (docs/console.md,
/// "Hostile reports"). Text goes into element content and quoted attribute values only,
/// escaped here; never into a script, a style, a URL's scheme or an unquoted attribute.
enum HTML {
  static func escape(_ text: String) -> String {
    var out = ""
    out.reserveCapacity(text.utf8.count + 16)
    for scalar in text.unicodeScalars {
      switch scalar {
      case "&": out += "&amp;"
      case "<": out += "&lt;"
      case ">": out += "&gt;"
      case "\"": out += "&quot;"
      case "'": out += "&#39;"
      // Bidirectional overrides and isolates would reorder the page around the text:
      // shown as visible marks instead.
      case "\u{202A}", "\u{202B}", "\u{202C}", "\u{202D}", "\u{202E}", "\u{2066}", "\u{2067}", "\u{2068}",
        "\u{2069}":
        out += "&#x2423;"
      default:
        if scalar.value < 0x20 && scalar != "\n" && scalar != "\t" || (0x7F..<0xA0).contains(scalar.value) {
          out += "&#xFFFD;"
        } else {
          out.unicodeScalars.append(scalar)
        }
      }
    }
    return out
  }

  /// A message — a rule's words with a report's texts in them — escaped, each stretch of
  /// the other direction in a `<bdi>` of its own: in an English message, each right-to-left
  /// stretch, from a right-to-left letter to the last one before a left-to-right letter,
  /// short of a bracket it does not pair (and the reverse in a message mostly in Arabic). In an element `dir="auto"` the
  /// sentence then runs as most of its letters do (the browser looks past a `<bdi>` for
  /// the direction), and the other script sits in it whole: "… in حلب; 3 civilians killed"
  /// no longer shows "3 ;حلب", nor a message that starts with an Arabic name the rule's
  /// English right to left. A message in one direction only is left as it is.
  /// `direction`, the way the message runs (its rule's words': `MessageDirections`); nil,
  /// the way most of its letters run.
  /// The brackets a stretch of the other direction holds only in pairs: each opener's closer.
  static let closingBracket: [Unicode.Scalar: Unicode.Scalar] = ["(": ")", "[": "]", "{": "}", "\u{FD3E}": "\u{FD3F}"]
  /// Each closer's opener.
  static let openingBracket: [Unicode.Scalar: Unicode.Scalar] = [")": "(", "]": "[", "}": "{", "\u{FD3F}": "\u{FD3E}"]

  static func isolatingRightToLeft(_ text: String, direction: WritingDirection? = nil) -> String {
    let scalars = Array(text.unicodeScalars)
    let rightToLeft = scalars.filter(WritingDirection.isRightToLeftLetter).count
    let leftToRight = scalars.filter(WritingDirection.isLeftToRightLetter).count
    guard rightToLeft > 0, leftToRight > 0 else { return escape(text) }
    // The other direction's letters are isolated, stretch by stretch.
    let mostlyRightToLeft = direction.map { $0 == .rightToLeft } ?? (rightToLeft > leftToRight)
    func isolated(_ scalar: Unicode.Scalar) -> Bool {
      mostlyRightToLeft ? WritingDirection.isLeftToRightLetter(scalar) : WritingDirection.isRightToLeftLetter(scalar)
    }
    func other(_ scalar: Unicode.Scalar) -> Bool {
      mostlyRightToLeft ? WritingDirection.isRightToLeftLetter(scalar) : WritingDirection.isLeftToRightLetter(scalar)
    }
    var out = ""
    var index = 0
    while index < scalars.count {
      guard isolated(scalars[index]) else {
        var plain = String.UnicodeScalarView()
        while index < scalars.count, !isolated(scalars[index]) {
          plain.append(scalars[index])
          index += 1
        }
        out += escape(String(plain))
        continue
      }
      // To the last of its letters before a letter of the other direction, short of the
      // first bracket that is not paired within it: a rule's own "(" between two values
      // ("Besieged مضايا (ريف دمشق): siege") taken into the isolate had no partner there and
      // showed turned round, the pair enclosing the wrong words. A value's own brackets,
      // paired within the stretch ("مضايا (الزبداني) (ريف دمشق)"), stay in it.
      var end = index
      var probe = index
      while probe < scalars.count, !other(scalars[probe]) {
        if isolated(scalars[probe]) { end = probe }
        probe += 1
      }
      var opened: [Int] = []
      var pairedClosers: Set<Int> = []
      var unpaired: Int?
      for position in index...end {
        let scalar = scalars[position]
        if Self.closingBracket[scalar] != nil {
          opened.append(position)
        } else if let opener = Self.openingBracket[scalar] {
          guard let last = opened.last, scalars[last] == opener else {
            unpaired = position
            break
          }
          opened.removeLast()
          pairedClosers.insert(position)
        }
      }
      if let cut = [unpaired, opened.first].compactMap({ $0 }).min() {
        end = (index..<cut).last { isolated(scalars[$0]) || pairedClosers.contains($0) } ?? index
      }
      // The letter's own marks (vowel signs) after it go with it.
      while end + 1 < scalars.count, scalars[end + 1].properties.generalCategory == .nonspacingMark { end += 1 }
      var run = String.UnicodeScalarView()
      run.append(contentsOf: scalars[index...end])
      out += "<bdi>" + escape(String(run)) + "</bdi>"
      index = end + 1
    }
    return out
  }

  /// A query string's value, percent-encoded.
  static func query(_ text: String) -> String {
    var allowed = CharacterSet.alphanumerics
    allowed.insert(charactersIn: "-._~")
    return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
  }

  /// Text in its own element, with the direction the browser finds in it (`dir="auto"`:
  /// Arabic right to left, English left to right), isolated from the text around it.
  static func text(_ text: String, tag: String = "span", className: String? = nil) -> String {
    let classAttribute = className.map { " class=\"\($0)\"" } ?? ""
    return "<\(tag)\(classAttribute) dir=\"auto\">\(escape(text))</\(tag)>"
  }

  /// A page: the layout every page shares, with its navigation.
  static func page(title: String, current: String, node: String, body: String, script: Bool = true) -> String {
    let links = [("/", "Overview"), ("/alerts", "Alerts"), ("/rules", "Rules"), ("/health", "Health")]
      .map { href, name in
        "<a href=\"\(href)\"\(href == current ? " aria-current=\"page\"" : "")>\(name)</a>"
      }.joined()
    return """
      <!doctype html>
      <html lang="en" dir="ltr">
      <head>
      <meta charset="utf-8">
      <meta name="viewport" content="width=device-width, initial-scale=1">
      <title>\(escape(title)) · Vigil</title>
      <link rel="stylesheet" href="/assets/console.css">
      <link rel="icon" href="data:,">
      \(script ? "<script src=\"/assets/console.js\" defer></script>" : "")
      </head>
      <body>
      <header><span class="brand">Vigil</span> <span class="node" dir="auto">\(escape(node))</span>
      <nav>\(links)</nav></header>
      <main>
      \(body)
      </main>
      <footer>Vigil console · read-only · ISSG Vienna statement of 14 November 2015</footer>
      </body>
      </html>

      """
  }
}
