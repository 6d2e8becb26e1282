import NIOConcurrencyHelpers

/// A small number for each rule id this process has compiled, the same across reloads.
/// An alert carries its rule's (`AlertRecord.ruleNumber`), and the writer's counters and
/// the console's index find their place for the rule by it rather than by hashing the id
/// again for every alert (~450 instructions an alert each, bench/count-instructions).
/// Numbers start at 1; 0 is none. Ids are few (those of the rule files), so the table stays
/// small.
public enum RuleNumbers {
  private static let numbers = NIOLockedValueBox<[String: UInt32]>([:])

  static func number(for id: String) -> UInt32 {
    numbers.withLockedValue { numbers in
      if let known = numbers[id] { return known }
      let number = UInt32(numbers.count + 1)
      numbers[id] = number
      return number
    }
  }
}
