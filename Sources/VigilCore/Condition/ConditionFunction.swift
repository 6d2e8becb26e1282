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

  public let name: String
  public let parameters: [Parameter]
  public let result: Result
  /// Turns a call's arguments into its evaluation, once, when the rule set loads: a
  /// function prepares what it can from them here (aliases normalised, say).
  public let prepare: @Sendable ([Argument]) -> Evaluation

  public init(
    name: String, parameters: [Parameter], result: Result, prepare: @escaping @Sendable ([Argument]) -> Evaluation
  ) {
    self.name = name
    self.parameters = parameters
    self.result = result
    self.prepare = prepare
  }

  /// A function with nothing to prepare: `implementation` gets the arguments at each call.
  public init(
    name: String, parameters: [Parameter], result: Result,
    implementation: @escaping @Sendable (Report, [Argument]) -> FieldValue?
  ) {
    self.init(name: name, parameters: parameters, result: result) { arguments in
      { report in implementation(report, arguments) }
    }
  }
}
