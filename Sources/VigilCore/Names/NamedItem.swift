/// A rule-file item that gives a key and the names it goes by, as the Designations and
/// Places plugins read them:
///
/// ```yaml
/// - place: bab_al_salam
///   names: [Bab al-Salam, Bab al-Salameh, باب السلامة]
/// ```
public struct NamedItem: Sendable {
  public let key: String
  public let names: [String]
  public let position: SourcePosition

  public static func read(_ item: RuleNode, kind: String) -> Result<NamedItem, RuleSetErrors> {
    guard case .mapping(let members, let position) = item else {
      return .failure(
        RuleSetErrors(errors: [RuleError(item.position, "a \(kind) is a mapping with '\(kind)' and 'names'")]))
    }
    var errors: [RuleError] = []
    var key: String?
    var names: [String] = []
    for member in members {
      switch member.key {
      case kind:
        guard case .scalar(let scalar) = member.value, !member.value.isNull,
          scalar.text.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" })
        else {
          errors.append(RuleError(member.value.position, "a \(kind) key is a word of letters, digits and '_'"))
          continue
        }
        key = scalar.text
      case "names":
        guard case .sequence(let elements, _) = member.value else {
          errors.append(RuleError(member.value.position, "\(kind) names must be a list, got \(member.value.kindName)"))
          continue
        }
        for element in elements {
          guard case .scalar(let scalar) = element, !element.isNull else {
            errors.append(
              RuleError(element.position, "each of the \(kind) names must be a value, got \(element.kindName)"))
            continue
          }
          if NameNormalizer.words(of: scalar.text).isEmpty {
            errors.append(RuleError(element.position, "the name '\(scalar.text)' has no letters or digits to match"))
          }
          names.append(scalar.text)
        }
      default:
        errors.append(RuleError(member.keyPosition, "unknown key '\(member.key)' in a \(kind) (known: \(kind), names)"))
      }
    }
    guard errors.isEmpty, let key else {
      return .failure(RuleSetErrors(errors: errors.isEmpty ? [RuleError(position, "a \(kind) needs a key")] : errors))
    }
    return .success(NamedItem(key: key, names: names, position: position))
  }
}
