/// Functions every rule set may call, whatever plugins are enabled.
public enum BuiltInFunctions {
  public static let all = [
    among, daysBetween, daysBetweenOr, mentions.matchingNames(), mentionsPart.matchingNames(), normalized, party,
  ]

  /// `among(field, values)`: the field's values that are among `values` (a list, or one
  /// value), in the report's order, joined with ", " as an output shows a list; nothing
  /// when none is. For a message that names only what made the rule fire:
  /// `%among(weapons, indiscriminate_weapons)` shows "mortar" of `[small_arms, mortar]`.
  public static let among = ConditionFunction(
    name: "among", parameters: [.field(nil), .values], result: .text
  ) { (arguments: [ConditionFunction.Argument]) -> ConditionFunction.Evaluation in
    guard case .field(let field) = arguments[0], case .values(let values) = arguments[1] else { return { _ in nil } }
    let wanted = Set(values)
    return { report in
      let found: [String]
      switch field.read(report) {
      case .weapons(let weapons)?: found = weapons.map(\.rawValue).filter(wanted.contains)
      case .victims(let victims)?: found = victims.map(\.rawValue).filter(wanted.contains)
      case .texts(let texts)?: found = texts.map(\.string).filter(wanted.contains)
      case .text(let text)?: found = wanted.contains(text.string) ? [text.string] : []
      case .string(let word)?: found = wanted.contains(word) ? [word] : []
      default: found = []
      }
      return found.isEmpty ? nil : .text(ReportText(found.joined(separator: ", ")))
    }
  }

  /// `days_between(from, to)`: the elapsed time from one timestamp to another, in days of
  /// 86,400 s (negative when `to` is earlier); nothing when either is absent.
  public static let daysBetween = ConditionFunction(
    name: "days_between", parameters: [.field(.timestamp), .field(.timestamp)], result: .number
  ) { report, arguments in
    guard let from = timestamp(arguments[0], report), let to = timestamp(arguments[1], report) else { return nil }
    return .number(days(from, to))
  }

  /// `days_between_or(from, to, otherwise)`: the same, measured to `otherwise` when `to`
  /// is absent (`days_between_or(access.submitted_at, reported_at, occurred_at)`).
  public static let daysBetweenOr = ConditionFunction(
    name: "days_between_or", parameters: [.field(.timestamp), .field(.timestamp), .field(.timestamp)],
    result: .number
  ) { report, arguments in
    guard let from = timestamp(arguments[0], report),
      let to = timestamp(arguments[1], report) ?? timestamp(arguments[2], report)
    else { return nil }
    return .number(days(from, to))
  }

  /// `mentions(field, names)`: whether a text names one of `names` (a list, or one value)
  /// as docs/rules.md's name matching says: whole words, in any spelling the normalisation
  /// folds. `mentions(access.requested_by, un_agencies)` holds for "UN OCHA", not "UNRWA"
  /// against "UN".
  public static let mentions = ConditionFunction(
    name: "mentions", parameters: [.field(.text), .values], result: .bool
  ) { (arguments: [ConditionFunction.Argument]) -> ConditionFunction.Evaluation in
    guard case .field(let field) = arguments[0], case .values(let names) = arguments[1] else { return { _ in nil } }
    let aliases = names.map(Alias.init)
    let verdicts = TextCache<Bool>()
    return { report in
      .bool(
        texts(field, report).contains { text in
          verdicts.value(for: text) { text in
            let words = NameNormalizer.words(of: text.string)
            return aliases.contains { $0.occurs(in: words) }
          }
        })
    }
  }

  /// `mentions_part(field, parts)`: whether, after the same normalisation, a text contains
  /// one of `parts` anywhere, inside words too: "burns kits" contains "burn", "مستلزمات
  /// طبية" contains "طبي". On a list of texts, any of them.
  public static let mentionsPart = ConditionFunction(
    name: "mentions_part", parameters: [.field(.text), .values], result: .bool
  ) { (arguments: [ConditionFunction.Argument]) -> ConditionFunction.Evaluation in
    guard case .field(let field) = arguments[0], case .values(let parts) = arguments[1] else { return { _ in nil } }
    let normalised = parts.map { Array(NameNormalizer.words(of: $0).joined(separator: " ").utf8) }.filter {
      !$0.isEmpty
    }
    let verdicts = TextCache<Bool>()
    return { report in
      .bool(
        texts(field, report).contains { text in
          verdicts.value(for: text) { text in
            let words = Array(NameNormalizer.words(of: text.string).joined(separator: " ").utf8)
            return normalised.contains { part in
              words.count >= part.count
                && (0...(words.count - part.count)).contains { words[$0..<$0 + part.count].elementsEqual(part) }
            }
          }
        })
    }
  }

  /// `normalized(field)`: a text as name matching reads it, its words joined by spaces:
  /// "Jabhat al-Nusra", "jabhat  AL NUSRA" and "جبهة النصرة" give one value each spelling
  /// folds to. Nothing when the text has no words. Patterns group free text by it.
  public static let normalized = ConditionFunction(
    name: "normalized", parameters: [.field(.text)], result: .text
  ) { (arguments: [ConditionFunction.Argument]) -> ConditionFunction.Evaluation in
    guard case .field(let field) = arguments[0] else { return { _ in nil } }
    let found = TextCache<ReportText?>()
    return { report in
      guard case .text(let text)? = field.read(report) else { return nil }
      return found.value(for: text, compute: normalise).map(FieldValue.text)
    }
  }

  /// `party(actor)`: the actor's party (`perpetrator.party`), or else its name, normalised
  /// as `normalized` does: the party a pattern groups an actor's reports by.
  public static let party = ConditionFunction(
    name: "party", parameters: [.actor], result: .text
  ) { (arguments: [ConditionFunction.Argument]) -> ConditionFunction.Evaluation in
    guard case .field(let actor) = arguments[0] else { return { _ in nil } }
    let parts = ["party", "name"].compactMap { ReportSchema.field(actor.path + "." + $0) }
    let found = TextCache<ReportText?>()
    return { report in
      for part in parts {
        guard case .text(let text)? = part.read(report),
          let value = found.value(for: text, compute: normalise)
        else { continue }
        return .text(value)
      }
      return nil
    }
  }

  private static func normalise(_ text: ReportText) -> ReportText? {
    let words = NameNormalizer.words(of: text.string)
    return words.isEmpty ? nil : ReportText(words.joined(separator: " "))
  }

  /// The text of a text field, or each text of a list of texts.
  private static func texts(_ field: ReportSchema.Field, _ report: Report) -> [ReportText] {
    switch field.read(report) {
    case .text(let text)?: [text]
    case .texts(let texts)?: texts
    default: []
    }
  }

  private static func timestamp(_ argument: ConditionFunction.Argument, _ report: Report) -> Timestamp? {
    guard case .field(let field) = argument, case .timestamp(let timestamp)? = field.read(report) else { return nil }
    return timestamp
  }

  private static func days(_ from: Timestamp, _ to: Timestamp) -> Double {
    let seconds = Double(to.seconds - from.seconds) + Double(to.nanoseconds - from.nanoseconds) / 1e9
    return seconds / 86_400
  }
}
