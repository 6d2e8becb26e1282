/// What a field path holds, as far as conditions and outputs are concerned.
public enum FieldType: Equatable, Sendable {
  /// Free text.
  case text
  /// One word of a closed vocabulary.
  case word(allowed: [String])
  /// A number or a count.
  case number
  case bool
  case timestamp
  /// An object (`location`, `perpetrator`, …): conditions can only ask whether it exists.
  case object
  /// An array of free text.
  case texts
  /// An array of words of a closed vocabulary.
  case words(allowed: [String])
  /// Anything under `extra`: checked when a report is evaluated, not when rules load.
  case dynamic

  var isArray: Bool {
    switch self {
    case .texts, .words: true
    default: false
    }
  }

  /// How error messages name the type.
  var name: String {
    switch self {
    case .text: "a text field"
    case .word: "an enum field"
    case .number: "a number field"
    case .bool: "a true/false field"
    case .timestamp: "a timestamp field"
    case .object: "an object"
    case .texts: "a list of texts"
    case .words: "a list of enum words"
    case .dynamic: "an extra field"
    }
  }
}

/// A field's value in one report, as conditions see it.
public enum FieldValue: Sendable, Equatable {
  case text(ReportText)
  /// An enum word or the report id.
  case string(String)
  case number(Double)
  case bool(Bool)
  case timestamp(Timestamp)
  /// An object that is present.
  case present
  case texts([ReportText])
  /// The report's arrays of enum words, as they are (mapping them to strings would cost an
  /// allocation at every evaluation).
  case weapons([Weapon])
  case victims([Victim])
  /// A value under `extra`.
  case json(JSONValue)
}
