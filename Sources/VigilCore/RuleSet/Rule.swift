/// One compiled rule: what a monitor reads about it, and how it checks a report. A class:
/// rule sets hand rules around on every report, and a reference costs one count.
public final class Rule: Sendable {
  public let id: String
  /// The id's number (RuleNumbers), which its alerts carry.
  public let number: UInt32
  public let description: String
  public let priority: Priority
  /// Where the obligation comes from (`ISSG ¶7`, `UNSCR 2139 OP3`); copied into every alert.
  public let basis: [String]
  public let tags: [String]
  public let enabled: Bool
  /// Where the rule starts.
  public let position: SourcePosition
  /// How many examples the rule carries (all of them passed, or the set would not load).
  public let exampleCount: Int
  /// The condition and output as written, to tell a reload which rules changed.
  public let definition: String
  let condition: CompiledCondition
  let output: OutputTemplate
  /// The direction its messages run: its output's own words'.
  public var messageDirection: WritingDirection? { output.ownDirection }

  init(
    id: String, description: String, priority: Priority, basis: [String], tags: [String], enabled: Bool,
    position: SourcePosition, exampleCount: Int, definition: String, condition: CompiledCondition,
    output: OutputTemplate
  ) {
    self.id = id
    number = RuleNumbers.number(for: id)
    self.description = description
    self.priority = priority
    self.basis = basis
    self.tags = tags
    self.enabled = enabled
    self.position = position
    self.exampleCount = exampleCount
    self.definition = definition
    self.condition = condition
    self.output = output
  }

  public func matches(_ report: Report) -> Bool {
    condition.matches(report)
  }

  /// The rule's output for a report it matched.
  public func message(for report: Report) -> String {
    output.render(report)
  }
}

/// A rule that fired on a report, with its rendered message.
public struct RuleMatch: Sendable {
  public let rule: Rule
  /// The message as UTF-8 (`OutputTemplate.renderText`).
  public let messageText: ReportText

  public init(rule: Rule, messageText: ReportText) {
    self.rule = rule
    self.messageText = messageText
  }

  public init(rule: Rule, message: String) {
    self.init(rule: rule, messageText: ReportText(message))
  }

  public var message: String { messageText.string }
}
