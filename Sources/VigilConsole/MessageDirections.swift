import NIOConcurrencyHelpers
import VigilCore
import VigilServer

/// The direction each rule's and pattern's messages run, from the set in force: its
/// output's own words decide (an English rule's message runs left to right, however many
/// letters the Arabic names a report gives it bring), rather than the majority of the
/// message's letters. Kept per revision; a rule no longer in the set has none, and its
/// message runs as most of its letters do.
final class MessageDirections: Sendable {
  private let daemon: RequestResponder
  private let cache = NIOLockedValueBox<(revision: String, directions: [String: WritingDirection])>(("", [:]))

  init(daemon: RequestResponder) {
    self.daemon = daemon
  }

  func of(rule id: String) -> WritingDirection? {
    let set = daemon.activeRuleSet.set
    return cache.withLockedValue { cache in
      if cache.revision != set.revision {
        var directions: [String: WritingDirection] = [:]
        for rule in set.rules { directions[rule.id] = rule.messageDirection }
        for pattern in set.patterns { directions[pattern.id] = pattern.messageDirection }
        cache = (set.revision, directions)
      }
      return cache.directions[id]
    }
  }
}
