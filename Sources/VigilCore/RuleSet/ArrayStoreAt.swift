extension Array {
  /// Stores `value` at `index`, first growing the array to hold it with `padding` in the
  /// places between: a table indexed by a small number (a rule's `RuleNumbers` number)
  /// that learns its entries as they come.
  @inlinable
  public mutating func store(_ value: Element, at index: Int, padding: Element) {
    if index >= count { append(contentsOf: repeatElement(padding, count: index + 1 - count)) }
    self[index] = value
  }
}
