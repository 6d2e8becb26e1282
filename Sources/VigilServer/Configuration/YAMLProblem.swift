import VigilCore
import Yams

/// Turns the errors Yams throws into a position and one sentence.
enum YAMLProblem {
  static func describe(_ error: any Error) -> (line: Int?, column: Int?, problem: String) {
    guard let error = error as? YamlError else { return (nil, nil, "\(error)") }
    switch error {
    case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
      .composer(let context, let problem, let mark, _):
      let detail = context.map { "\(problem) (\($0.text))" } ?? problem
      return (mark.line, mark.column, detail)
    case .reader(let problem, let offset, let value, let yaml):
      // libyaml's reader knows only the byte's offset: placed where it is.
      let character = TextPlace.codePoint(value)
      guard let offset else { return (nil, nil, "cannot read the text: \(problem)\(character)") }
      let place = TextPlace.of(offset: offset, in: Array(yaml.utf8))
      return (place.line, place.column, "cannot read the text: \(problem)\(character)")
    case .duplicatedKeysInMapping(let duplicates, let context):
      let keys = duplicates.map { "\"\($0)\"" }.joined(separator: ", ")
      return (context.mark.line, context.mark.column, "the mapping that starts here repeats the key \(keys)")
    default:
      return (nil, nil, "\(error)")
    }
  }
}
