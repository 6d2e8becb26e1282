/// A correlation rule (docs/patterns.md): it counts the reports that fired some rules, or
/// that meet a condition, grouped by fields or functions of the report, within a window
/// of incident time. A class, like `Rule`: sets hand patterns around on every report.
public final class Pattern: Sendable {
  /// The three forms: N reports in a window; N distinct values of a field in a window;
  /// reports meeting steps in order of incident time within a window.
  public enum Form: String, Sendable, Equatable { case count, distinct, sequence }

  public let id: String
  public let description: String
  public let priority: Priority
  public let basis: [String]
  public let tags: [String]
  public let enabled: Bool
  public let position: SourcePosition
  public let exampleCount: Int
  /// Everything that decides what the pattern does, as written, to tell a reload (and
  /// `vigil replay`) which patterns changed.
  public let definition: String
  public let form: Form
  /// How many reports (count), distinct values (distinct) or steps (sequence) complete it.
  public let threshold: Int
  /// The window of incident time, in milliseconds, and as written (`30d`).
  public let window: Int64
  public let windowText: String
  let steps: [PatternStep]
  let groupBy: [PatternKey]
  let distinct: PatternKey?
  let output: PatternTemplate
  /// The direction its messages run: its output's own words'.
  public var messageDirection: WritingDirection? { output.ownDirection }
  /// The rules whose alerts count, in any step.
  public let countedRules: Set<String>

  init(
    id: String, description: String, priority: Priority, basis: [String], tags: [String], enabled: Bool,
    position: SourcePosition, exampleCount: Int, definition: String, form: Form, threshold: Int,
    window: PatternDuration, steps: [PatternStep], groupBy: [PatternKey], distinct: PatternKey?,
    output: PatternTemplate
  ) {
    self.id = id
    self.description = description
    self.priority = priority
    self.basis = basis
    self.tags = tags
    self.enabled = enabled
    self.position = position
    self.exampleCount = exampleCount
    self.definition = definition
    self.form = form
    self.threshold = threshold
    self.window = window.milliseconds
    self.windowText = window.text
    self.steps = steps
    self.groupBy = groupBy
    self.distinct = distinct
    self.output = output
    countedRules = Set(steps.flatMap(\.rules))
  }

  /// The same pattern with its examples counted.
  func with(exampleCount: Int) -> Pattern {
    Pattern(
      id: id, description: description, priority: priority, basis: basis, tags: tags, enabled: enabled,
      position: position, exampleCount: exampleCount, definition: definition, form: form, threshold: threshold,
      window: PatternDuration(text: windowText, milliseconds: window), steps: steps, groupBy: groupBy,
      distinct: distinct, output: output)
  }

  /// The names of the group's keys, as written in `group_by`.
  public var groupNames: [String] { groupBy.map(\.text) }

  /// The group's values as `report` writes them, for a message: a key that calls a text
  /// function on a text field shows the field (docs/patterns.md, "Output"). Made only for
  /// a report that completes the pattern, not for every event.
  func shownGroup(_ group: [String], of report: Report) -> [String] {
    zip(groupBy, group).map { key, value in
      key.shown?(report).map(OutputTemplate.show).flatMap { PatternKey.isBlank($0) ? nil : $0 } ?? value
    }
  }

  /// What the report is to this pattern: nil when it is no step of it, or when a key of
  /// its group (or the distinct value) is absent. `fired` are the rules the report fired.
  func event(for report: Report, fired: [RuleMatch], index: Int) -> PatternEvent? {
    var steps: UInt32 = 0
    // Through unretained references (the array holds the steps): `for … in` copied each
    // step, retaining its lists and condition.
    self.steps.withUnsafeBufferPointer { all in
      for number in all.indices
      where Unmanaged.passUnretained(all[number])._withUnsafeGuaranteedRef({ $0.matches(report, fired: fired) }) {
        steps |= 1 << UInt32(number)
      }
    }
    guard steps != 0 else { return nil }
    var group: [String] = []
    group.reserveCapacity(groupBy.count)
    for key in groupBy {
      guard let value = key.value(of: report) else { return nil }
      group.append(value)
    }
    var distinctValue: String?
    if let distinct {
      guard let value = distinct.value(of: report) else { return nil }
      distinctValue = NameNormalizer.words(of: value).joined(separator: " ")
      if distinctValue!.isEmpty { return nil }
    }
    return PatternEvent(pattern: index, group: group, steps: steps, distinct: distinctValue)
  }
}

/// What counts toward a pattern, or toward one step of a sequence: the reports that fired
/// one of `rules` (any report, when none are named) and meet `condition` (when there is one).
/// A class: a report is tested against every step of its type's patterns, and a struct's
/// copy retained its three members.
final class PatternStep: Sendable {
  let rules: [String]
  /// The same rules by number (RuleNumbers): a report's fired rules are told by theirs,
  /// not by comparing ids.
  let ruleNumbers: [UInt32]
  let condition: CompiledCondition?

  init(rules: [String], condition: CompiledCondition?) {
    self.rules = rules
    ruleNumbers = rules.map(RuleNumbers.number(for:))
    self.condition = condition
  }

  func matches(_ report: Report, fired: [RuleMatch]) -> Bool {
    if !ruleNumbers.isEmpty, !firedOneOfItsRules(fired) { return false }
    return condition?.matches(report) ?? true
  }

  private func firedOneOfItsRules(_ fired: [RuleMatch]) -> Bool {
    fired.withUnsafeBufferPointer { fired in
      ruleNumbers.withUnsafeBufferPointer { numbers in
        for index in fired.indices where numbers.contains(fired[index].rule.number) { return true }
        return false
      }
    }
  }
}

/// A key of a group (`place(location.place)`, `location.governorate`) or the field whose
/// values are counted: a field or a call, as written, and how to read it.
struct PatternKey: Sendable {
  let text: String
  let read: @Sendable (Report) -> FieldValue?
  /// For a call on a field: that field, which a message shows in place of the call's value.
  var shown: (@Sendable (Report) -> FieldValue?)? = nil

  /// The value as text, or nil when the report has none (absent, empty, or blank) or it is
  /// a list or an object (under `extra`, which no type check reaches).
  func value(of report: Report) -> String? {
    guard let value = read(report) else { return nil }
    let shown: String
    switch value {
    case .json(.null): return nil
    // A list or an object under `extra` is no one value: as text it would be another
    // value's (`[3,4]` is "3, 4"), so the report is in no group (audit 50).
    case .json(.array), .json(.object): return nil
    case .texts(let texts) where texts.isEmpty: return nil
    default: shown = OutputTemplate.show(value)
    }
    return Self.isBlank(shown) ? nil : shown
  }

  /// Whether the text is empty or only white space. A first byte that is a printable ASCII
  /// character answers at once; walking the `Character`s, as the rest does, breaks the
  /// text into grapheme clusters (some 500 instructions for a place name).
  static func isBlank(_ text: String) -> Bool {
    if let first = text.utf8.first, first > 0x20, first < 0x7F { return false }
    return text.allSatisfy(\.isWhitespace)
  }
}

/// A report as one pattern sees it. Its time and id are the report's.
public struct PatternEvent: Sendable, Equatable {
  /// The pattern's position in the rule set's `patterns`.
  public let pattern: Int
  /// The values of the group's keys, in `group_by` order.
  public let group: [String]
  /// The steps it meets, one bit each (a count or distinct pattern has one step).
  public let steps: UInt32
  /// For a distinct pattern: the value counted, normalised as names are.
  public let distinct: String?
}

/// A span of time as rule files write it: a whole number of days (`30d`) or hours (`12h`).
struct PatternDuration: Sendable, Equatable {
  let text: String
  let milliseconds: Int64

  static let longest: Int64 = 400 * 86_400_000

  init(text: String, milliseconds: Int64) {
    self.text = text
    self.milliseconds = milliseconds
  }

  /// Nil when the text is not `<n>d` or `<n>h` with n ≥ 1, or is longer than 400 days.
  init?(_ text: String) {
    guard let unit = text.last, unit == "d" || unit == "h", text.count >= 2,
      let number = Int64(text.dropLast()), number >= 1, text.dropLast().allSatisfy({ $0.isASCII && $0.isNumber })
    else { return nil }
    // Multiplied with overflow checked: 200000000000d is refused, not a crash.
    let (milliseconds, overflow) = number.multipliedReportingOverflow(by: unit == "d" ? 86_400_000 : 3_600_000)
    guard !overflow, milliseconds <= Self.longest else { return nil }
    self.text = text
    self.milliseconds = milliseconds
  }

  /// "30 days", "12 hours", "1 day".
  var spelled: String {
    let number = text.dropLast()
    let unit = text.last == "d" ? "day" : "hour"
    return "\(number) \(unit)\(number == "1" ? "" : "s")"
  }
}
