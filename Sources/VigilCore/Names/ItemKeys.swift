/// The keys of a plugin's rule-file items seen so far (`- designation: isil`,
/// `- place: …`), to say a key defined twice: also when the item that repeats it has other
/// problems, which are said beside it rather than hiding it until they are mended.
public struct ItemKeys: Sendable {
  private var seen: [String: SourcePosition] = [:]

  public init() {}

  /// The error for `item`'s key under `kind` when an earlier item gave it; otherwise notes
  /// it. Nil too for an item whose key cannot be read (its own error says why).
  public mutating func note(_ item: RuleNode, kind: String, namespace: String? = nil) -> RuleError? {
    guard case .mapping(let members, let position) = item,
      let member = members.first(where: { $0.key == kind }), case .scalar(let scalar) = member.value, !member.value.isNull
    else { return nil }
    let entry = (namespace ?? kind) + " " + scalar.text
    if let earlier = seen[entry] {
      return RuleError(position, "\(kind) \(scalar.text) is already defined at \(earlier)")
    }
    seen[entry] = position
    return nil
  }
}
