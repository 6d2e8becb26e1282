import VigilCore

/// What `vigil replay` shows of patterns: the completions a rule set would make over the
/// journal that the alert log does not hold (added), and those it holds that the set
/// would not make (removed), by pattern.
struct PatternReplay {
  struct Completion {
    let pattern: String
    let group: [String]
    let from: String
    let to: String
    let reports: [String]

    /// Which completion it is: the pattern and the reports that make it.
    var key: String { pattern + "\u{0}" + reports.sorted().joined(separator: "\u{0}") }

    /// As a line shows it: `Idleb 2016-04-01…2016-04-03`.
    var shown: String { "\(group.joined(separator: "/")) \(from)…\(to)" }

    var json: String {
      "{\"group\":[\(group.map(JSONText.string).joined(separator: ","))],\"from\":\(JSONText.string(from)),"
        + "\"to\":\(JSONText.string(to)),\"reports\":[\(reports.map(JSONText.string).joined(separator: ","))]}"
    }
  }

  struct Change {
    let pattern: String
    var added: [Completion] = []
    var removed: [Completion] = []

    var json: String {
      "{\"pattern\":\(JSONText.string(pattern)),\"added\":[\(added.map(\.json).joined(separator: ","))],"
        + "\"removed\":[\(removed.map(\.json).joined(separator: ","))]}"
    }
  }

  let byPattern: [Change]
  let added: Int
  let removed: Int
  /// Pattern records left out: their reports are not all in the journals read.
  let notCompared: Int

  init(replayed: [String: Completion], recorded: [String: Completion], notCompared: Int = 0) {
    self.notCompared = notCompared
    var changes: [String: Change] = [:]
    for (key, item) in replayed where recorded[key] == nil {
      changes[item.pattern, default: Change(pattern: item.pattern)].added.append(item)
    }
    for (key, item) in recorded where replayed[key] == nil {
      changes[item.pattern, default: Change(pattern: item.pattern)].removed.append(item)
    }
    byPattern = changes.keys.sorted().map { name in
      var change = changes[name]!
      change.added.sort { ($0.from, $0.key) < ($1.from, $1.key) }
      change.removed.sort { ($0.from, $0.key) < ($1.from, $1.key) }
      return change
    }
    added = byPattern.reduce(0) { $0 + $1.added.count }
    removed = byPattern.reduce(0) { $0 + $1.removed.count }
  }
}
