import Foundation
import VigilCore

/// A control entry's holders against the designations (the designations plugin's
/// `designated`): a name under `designated` that names no designated group, or one under
/// `others` that does, is an error at load. Either would turn the entry's verdict (a
/// misspelt "Nusra Frnt" made a town held by designated groups; ISIL under `others` made
/// an attack in its town a ceasefire violation), and nothing else would say so.
enum ControlHolders {
  static func problems(in items: [RuleNode], against functions: [ConditionFunction]) -> [RuleError] {
    // The designations plugin off: nothing to check the names against.
    guard let function = functions.first(where: { $0.name == "designated" && $0.parameters == [.actor] }),
      let perpetrator = ReportSchema.field("perpetrator")
    else { return [] }
    let designated = function.prepare([.field(perpetrator)])
    // A name designates when a report of an attack by it is by a designated group.
    let designates = { (name: String) -> Bool? in
      guard let quoted = try? JSONEncoder().encode(name), let quotedText = String(data: quoted, encoding: .utf8),
        case .success(let parsed) = ReportParser.parse(
          #"{"id":"holder","occurred_at":"2016-01-01T00:00:00Z","type":"attack","perpetrator":{"name":"#
            + quotedText + "}}")
      else { return nil }
      if case .bool(true)? = designated(parsed.report) { return true }
      return false
    }
    var errors: [RuleError] = []
    for item in items {
      guard case .mapping(let members, _) = item,
        case .scalar(let key)? = members.first(where: { $0.key == TerritorialControl.itemKind })?.value
      else { continue }
      for member in members where member.key == "designated" || member.key == "others" {
        guard case .sequence(let elements, _) = member.value else { continue }
        for case .scalar(let name) in elements {
          guard let isDesignated = designates(name.text) else { continue }
          if member.key == "designated", !isDesignated {
            errors.append(
              RuleError(
                name.position,
                "control \(key.text) lists '\(name.text)' as designated, but no designation names it "
                  + "(designated() is false for it): a misspelling, or a holder to list under 'others'"))
          } else if member.key == "others", isDesignated {
            errors.append(
              RuleError(
                name.position,
                "control \(key.text) lists '\(name.text)' among others, but it names a designated group "
                  + "(designated() is true for it): list it under 'designated'"))
          }
        }
      }
    }
    return errors
  }
}
