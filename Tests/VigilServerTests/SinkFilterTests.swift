import Testing
import VigilCore

@testable import VigilServer

/// A sink's filters mean what `subscribe`'s mean (docs/plugins.md): a list that cannot be
/// what was meant is refused at start, an empty one included, since it would take nothing.
@Suite("Sink filters: refused when they cannot be what was meant")
struct SinkFilterTests {
  static func settings(_ key: String, _ value: ConfigurationValue) -> ConfigurationValue {
    .mapping([ConfigurationValue.Member(key: key, value: value), .init(key: "url", value: .scalar("http://x"))])
  }

  @Test(arguments: ["rules", "tags"]) func anEmptyListIsRefused(key: String) {
    do {
      _ = try SinkFilter.split(Self.settings(key, .sequence([])))
      Issue.record("an empty \(key) list was taken")
    } catch {
      #expect(error.description == "\(key) is an empty list, which selects no record; leave it out to take every one")
    }
  }

  /// A word empty, of white space, or holding a space would select nothing and say nothing.
  @Test(arguments: ["rules", "tags"]) func aBlankWordIsRefused(key: String) {
    for blank in ["", "  ", "\t", "two words"] {
      do {
        _ = try SinkFilter.split(Self.settings(key, .sequence([.scalar("weapons.*"), .scalar(blank)])))
        Issue.record("\(key) took \"\(blank)\"")
      } catch {
        #expect(error.description == "\(key) must be a list of words (none empty, none with a space)")
      }
    }
  }

  @Test func aListSelectsAndTheRestGoesToTheSink() throws {
    let (filter, rest) = try SinkFilter.split(Self.settings("rules", .sequence([.scalar("weapons.*")])))
    #expect(rest == .mapping([.init(key: "url", value: .scalar("http://x"))]))
    #expect(filter.selects(#"{"seq":1,"rule":"weapons.barrel_bomb","priority":"critical","tags":[]}"#))
    #expect(!filter.selects(#"{"seq":2,"rule":"access.obstructed","priority":"high","tags":[]}"#))
  }
}
