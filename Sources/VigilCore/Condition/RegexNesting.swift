/// Finds the shape of regular expression that can take exponential time in a backtracking
/// engine such as ICU's: a group repeated without bound (`*`, `+`, `{n,}`) whose body
/// itself repeats without bound or offers alternatives — `(a+)+`, `(a|a)*`, `(\w+\s?)*`.
/// On a text that almost matches, each added character can double the work: with
/// `(a|a)*ab`, 30 characters held a connection for 6 s (measured here). NSRegularExpression
/// has no time limit on Linux, so such a rule is warned about at load, with the group.
public enum RegexNesting {
  /// The first such group as written, or nil.
  public static func repeatedRepetition(in pattern: String) -> String? {
    let characters = Array(pattern)
    // Per open group: where it starts, and whether its body repeats or alternates.
    var open: [(start: Int, risky: Bool)] = []
    var index = 0
    while index < characters.count {
      let character = characters[index]
      switch character {
      case "\\":
        index += 2
        continue
      case "[":
        index = endOfClass(characters, from: index)
      case "(":
        open.append((index, false))
      case "|":
        if !open.isEmpty { open[open.count - 1].risky = true }
      case ")":
        guard let group = open.popLast() else { break }
        let repeats = unboundedQuantifier(characters, at: index + 1)
        if repeats && group.risky {
          // With its quantifier: `(a|a)*`, `(?:ab|cd){2,}`.
          let quantifierEnd = characters[index + 1] == "{" ? characters[(index + 1)...].firstIndex(of: "}")! : index + 1
          return String(characters[group.start...quantifierEnd])
        }
        // A group that repeats, or holds what does, makes the group around it risky too.
        if (repeats || group.risky), !open.isEmpty { open[open.count - 1].risky = true }
      default:
        if unboundedQuantifier(characters, at: index), index > 0, !open.isEmpty, characters[index - 1] != "(" {
          open[open.count - 1].risky = true
        }
      }
      index += 1
    }
    return nil
  }

  /// Whether an unbounded quantifier starts at `index`: `*`, `+` or `{n,}` (`{n,m}` is
  /// bounded; `?` too).
  private static func unboundedQuantifier(_ characters: [Character], at index: Int) -> Bool {
    guard index < characters.count else { return false }
    switch characters[index] {
    case "*", "+": return true
    case "{":
      var end = index + 1
      while end < characters.count, characters[end] != "}" { end += 1 }
      guard end < characters.count else { return false }
      let inside = String(characters[(index + 1)..<end])
      return inside.hasSuffix(",") && Int(inside.dropLast()) != nil
    default: return false
    }
  }

  /// The index of the `]` closing the class opened at `start` (a `]` first in it is a
  /// member; escapes are skipped), or the last index when none does.
  private static func endOfClass(_ characters: [Character], from start: Int) -> Int {
    var index = start + 1
    if index < characters.count, characters[index] == "^" { index += 1 }
    if index < characters.count, characters[index] == "]" { index += 1 }
    while index < characters.count {
      if characters[index] == "\\" {
        index += 2
        continue
      }
      if characters[index] == "]" { return index }
      index += 1
    }
    return characters.count - 1
  }
}
