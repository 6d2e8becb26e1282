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
  /// Texts that name one of `names` but are another place (`Kafr Nubl` is not Nubl): with
  /// `takesExceptions` only.
  public let except: [String]
  public let position: SourcePosition

  /// `alsoKnown`: keys a plugin reads itself and removes before this reads the item,
  /// named among the known ones when a key is unknown.
  public static func read(
    _ item: RuleNode, kind: String, takesExceptions: Bool = false, alsoKnown: [String] = []
  ) -> Result<NamedItem, RuleSetErrors> {
    guard case .mapping(let members, let position) = item else {
      return .failure(
        RuleSetErrors(errors: [RuleError(item.position, "a \(kind) is a mapping with '\(kind)' and 'names'")]))
    }
    var errors: [RuleError] = []
    var key: String?
    var names: [String] = []
    var except: [String] = []
    func nameList(_ node: RuleNode, _ what: String) -> [String] {
      guard case .sequence(let elements, _) = node else {
        errors.append(RuleError(node.position, "\(kind) \(what) must be a list, got \(node.kindName)"))
        return []
      }
      var list: [String] = []
      for element in elements {
        guard case .scalar(let scalar) = element, !element.isNull else {
          errors.append(RuleError(element.position, "each of the \(kind) \(what) must be a value, got \(element.kindName)"))
          continue
        }
        if NameNormalizer.words(of: scalar.text).isEmpty {
          errors.append(RuleError(element.position, "the name '\(scalar.text)' has no letters or digits to match"))
        }
        list.append(scalar.text)
      }
      return list
    }
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
      case "names": names = nameList(member.value, "names")
      case "except" where takesExceptions: except = nameList(member.value, "except")
      default:
        let known = [kind, "names"] + (takesExceptions ? ["except"] : []) + alsoKnown
        errors.append(
          RuleError(member.keyPosition, "unknown key '\(member.key)' in a \(kind) (known: \(known.joined(separator: ", ")))"))
      }
    }
    guard errors.isEmpty, let key else {
      return .failure(RuleSetErrors(errors: errors.isEmpty ? [RuleError(position, "a \(kind) needs a key")] : errors))
    }
    return .success(NamedItem(key: key, names: names, except: except, position: position))
  }
}
