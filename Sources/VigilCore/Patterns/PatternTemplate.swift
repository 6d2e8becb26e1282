/// A pattern's `output` (docs/patterns.md, "Output"): text with `%count`, `%group`,
/// `%group1` … `%group9`, `%from`, `%to` and `%window` replaced by what the completed
/// pattern holds, and `%%` by `%`. Any other `%` is an error at load.
struct PatternTemplate: Sendable {
  enum Piece: Sendable, Equatable {
    case text(String)
    case count, group, from, to, window
    /// `%groupN`: the N-th key of the group, from 1.
    case groupKey(Int)
  }

  /// What a template is filled with.
  struct Values {
    let count: Int
    let group: [String]
    let from: String
    let to: String
    let window: String
  }

  static let placeholders = ["count", "group", "group1", "from", "to", "window"]

  let pieces: [Piece]

  /// The direction of the template's own words (`OutputTemplate.ownDirection`).
  var ownDirection: WritingDirection? {
    let text = pieces.map { if case .text(let text) = $0 { text } else { "" } }.joined()
    return WritingDirection.ofLetters(in: text.unicodeScalars)
  }

  /// Errors carry the offset (in Unicode scalars) of the offending `%`.
  init(_ template: String, groupKeys: Int) throws(ConditionError) {
    let scalars = Array(template.unicodeScalars)
    var pieces: [Piece] = []
    var text = ""
    var index = 0
    var errors: [ConditionError] = []
    while index < scalars.count {
      guard scalars[index] == "%" else {
        text.unicodeScalars.append(scalars[index])
        index += 1
        continue
      }
      if index + 1 < scalars.count, scalars[index + 1] == "%" {
        text += "%"
        index += 2
        continue
      }
      // A name runs as a rule output's path does (letters, digits, `_` and `.`, not ending
      // in `.`), so that `%group_1` or `%to.x` is refused as the slip it is, not shown as
      // the group and "_1"; `%to.` ends a sentence.
      var end = index + 1
      while end < scalars.count,
        scalars[end].properties.isAlphabetic || scalars[end].properties.numericType == .decimal || scalars[end] == "_"
          || scalars[end] == "."
      {
        end += 1
      }
      while end > index + 1, scalars[end - 1] == "." { end -= 1 }
      var name = ""
      name.unicodeScalars.append(contentsOf: scalars[(index + 1)..<end])
      let piece: Piece
      do throws(ConditionError) {
      switch name {
      case "count": piece = .count
      case "group":
        // Without group_by every report is in one group, which has no values to show.
        guard groupKeys > 0 else {
          throw ConditionError(index, end, "%group: the pattern has no group_by, so its group has no values to show")
        }
        piece = .group
      case "from": piece = .from
      case "to": piece = .to
      case "window": piece = .window
      default:
        if name.hasPrefix("group"), let number = Int(name.dropFirst(5)), (1...9).contains(number) {
          guard number <= groupKeys else {
            throw ConditionError(
              index, end, "%\(name): the pattern groups by \(groupKeys) key\(groupKeys == 1 ? "" : "s")")
          }
          piece = .groupKey(number)
        } else {
          throw ConditionError(
            index, max(end, index + 1),
            "'%\(name)' is not a pattern's placeholder (known: %count, %group, %group1 … %group9, %from, %to, "
              + "%window; '%%' for '%')")
        }
      }
      } catch {
        // Every placeholder the template gets wrong is said, not the first alone.
        errors.append(error)
        index = max(end, index + 1)
        continue
      }
      if !text.isEmpty { pieces.append(.text(text)) }
      text = ""
      pieces.append(piece)
      index = end
    }
    if let errors = ConditionError.together(errors) { throw errors }
    if !text.isEmpty { pieces.append(.text(text)) }
    self.pieces = pieces
  }

  func render(_ values: Values) -> String {
    var message = ""
    for piece in pieces {
      switch piece {
      case .text(let text): message += text
      case .count: message += String(values.count)
      case .group: message += values.group.joined(separator: ", ")
      case .groupKey(let number): message += values.group[number - 1]
      case .from: message += values.from
      case .to: message += values.to
      case .window: message += values.window
      }
    }
    return message
  }
}
