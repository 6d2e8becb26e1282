/// A shell-style pattern that must match a whole value: `*` any run, `?` one character,
/// `[abc]`, `[a-z]`, `[!abc]` or `[^abc]` one character of (or not of) a set.
struct Glob: Sendable {
  private enum Token: Sendable {
    case character(Character)
    case anyOne
    case anyRun
    case set(negated: Bool, members: [ClosedRange<Character>])
  }

  private let tokens: [Token]

  /// Nil, with the reason, when the pattern is malformed.
  init(_ pattern: String) throws(GlobError) {
    var tokens: [Token] = []
    var characters = Array(pattern)[...]
    while let character = characters.popFirst() {
      switch character {
      case "*": tokens.append(.anyRun)
      case "?": tokens.append(.anyOne)
      case "\\":
        guard let escaped = characters.popFirst() else { throw GlobError(reason: "it ends with a lone '\\'") }
        tokens.append(.character(escaped))
      case "[":
        var negated = false
        if let first = characters.first, first == "!" || first == "^" {
          negated = true
          characters.removeFirst()
        }
        var members: [ClosedRange<Character>] = []
        var closed = false
        while let member = characters.popFirst() {
          if member == "]", !members.isEmpty {
            closed = true
            break
          }
          if characters.first == "-", characters.count >= 2,
            characters[characters.index(after: characters.startIndex)] != "]"
          {
            characters.removeFirst()
            let upper = characters.removeFirst()
            guard member <= upper else { throw GlobError(reason: "the range \(member)-\(upper) is reversed") }
            members.append(member...upper)
          } else {
            members.append(member...member)
          }
        }
        guard closed else { throw GlobError(reason: "a '[' is never closed") }
        tokens.append(.set(negated: negated, members: members))
      default: tokens.append(.character(character))
      }
    }
    self.tokens = tokens
  }

  func matches(_ value: String) -> Bool {
    let characters = Array(value)
    var text = 0
    var token = 0
    // Where the last `*` was, and how much of the text it has taken so far.
    var starToken: Int?
    var starText = 0
    while text < characters.count {
      if token < tokens.count {
        switch tokens[token] {
        case .anyRun:
          starToken = token
          starText = text
          token += 1
          continue
        case .anyOne:
          token += 1
          text += 1
          continue
        case .character(let expected) where expected == characters[text]:
          token += 1
          text += 1
          continue
        case .set(let negated, let members) where members.contains { $0.contains(characters[text]) } != negated:
          token += 1
          text += 1
          continue
        default:
          break
        }
      }
      guard let star = starToken else { return false }
      token = star + 1
      starText += 1
      text = starText
    }
    while token < tokens.count, case .anyRun = tokens[token] { token += 1 }
    return token == tokens.count
  }
}

struct GlobError: Error {
  let reason: String
}
