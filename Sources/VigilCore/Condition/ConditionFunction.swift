/// A function that conditions may call, registered by a plugin (or built in): its name,
/// what it takes, what it gives, and how it computes. `designated(perpetrator)` is one.
public struct ConditionFunction: Sendable {
  public enum Parameter: Equatable, Sendable {
    /// A field path; nil accepts any field, objects included (the function reads what it
    /// needs under that path through `ReportSchema`).
    case field(FieldType?)
    /// An actor's field: an object with a `name` and a `party` (`perpetrator`, `target`,
    /// `trade.seller`, `trade.buyer`).
    case actor
    /// An object field with these members (`location`, with `governorate`, `lat` and
    /// `lon`): a function that reads them under the path is given no other object, where
    /// it would never find them.
    case object(having: [String])
    /// A literal, as text.
    case literal
    /// Values: a list's name stands for its items, any other value for itself.
    case values
  }

  /// What a call gives: `bool` calls stand alone as predicates; the others are compared.
  public enum Result: Equatable, Sendable {
    case bool, number, text, timestamp

    var fieldType: FieldType {
      switch self {
      case .bool: .bool
      case .number: .number
      case .text: .text
      case .timestamp: .timestamp
      }
    }
  }

  /// An argument as the implementation receives it.
  public enum Argument: Sendable {
    case field(ReportSchema.Field)
    case literal(String)
    case values([String])
  }

  /// Computes a call for one report. A bool function answers `.bool`; any function
  /// answers nil when an argument it needs is absent (a comparison on it is then false).
  public typealias Evaluation = @Sendable (Report) -> FieldValue?

  /// The answers of a function that gives one of a closed set (`control` gives
  /// designated, shared or others): what `=`, `!=`, `in` compare it with must be one of
  /// them, or a load error — a misspelt word would otherwise never match.
  public struct Answers: Sendable {
    /// The answers, as the error lists them.
    public let allowed: [String]
    /// The answer a written value stands for (`Idlib` for the governorate answered as
    /// `Idleb`), nil when it is none.
    public let canonical: @Sendable (String) -> String?

    /// How an error says what the function may answer: "one of a, b", or that it has none.
    public var described: String {
      allowed.isEmpty ? "nothing the set defines (it lists none)" : "one of \(allowed.joined(separator: ", "))"
    }

    public init(allowed: [String], canonical: (@Sendable (String) -> String?)? = nil) {
      self.allowed = allowed
      let set = Set(allowed)
      self.canonical = canonical ?? { set.contains($0) ? $0 : nil }
    }
  }

  public let name: String
  public let parameters: [Parameter]
  public let result: Result
  public let answers: Answers?
  /// Turns a call's arguments into its evaluation, once, when the rule set loads: a
  /// function prepares what it can from them here (aliases normalised, say).
  public let prepare: @Sendable ([Argument]) -> Evaluation
  /// Whether its `values` are names, matched after name normalisation (`mentions`): one
  /// that normalises to nothing (`'!!!'`, `al`) could never match, and is a load error.
  public private(set) var valuesAreNames = false

  /// The same function, its values names.
  public func matchingNames() -> ConditionFunction {
    var function = self
    function.valuesAreNames = true
    return function
  }

  public init(
    name: String, parameters: [Parameter], result: Result, answers: Answers? = nil,
    prepare: @escaping @Sendable ([Argument]) -> Evaluation
  ) {
    self.name = name
    self.parameters = parameters
    self.result = result
    self.answers = answers
    self.prepare = prepare
  }

  /// The same function with no closed answers to check values against: a stand-in for a
  /// plugin whose items failed to load, whose answers would be the missing items'.
  public var withoutClosedAnswers: ConditionFunction {
    var function = ConditionFunction(name: name, parameters: parameters, result: result, answers: nil, prepare: prepare)
    function.valuesAreNames = valuesAreNames
    return function
  }

  /// A function with nothing to prepare: `implementation` gets the arguments at each call.
  public init(
    name: String, parameters: [Parameter], result: Result, answers: Answers? = nil,
    implementation: @escaping @Sendable (Report, [Argument]) -> FieldValue?
  ) {
    self.init(name: name, parameters: parameters, result: result, answers: answers) { arguments in
      { report in implementation(report, arguments) }
    }
  }
}
