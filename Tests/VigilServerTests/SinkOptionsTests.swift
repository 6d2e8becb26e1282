import Testing
import VigilCore

@testable import VigilServer

/// A sink's filters mean what `subscribe`'s mean (docs/plugins.md): a list that cannot be
/// what was meant is refused at start, an empty one included, since it would take nothing.
@Suite("Sink filters: refused when they cannot be what was meant")
struct SinkOptionsTests {
  static func settings(_ key: String, _ value: ConfigurationValue) -> ConfigurationValue {
    .mapping([ConfigurationValue.Member(key: key, value: value), .init(key: "url", value: .scalar("http://x"))])
  }

  @Test(arguments: ["rules", "tags"]) func anEmptyListIsRefused(key: String) {
    do {
      _ = try SinkOptions.split(Self.settings(key, .sequence([])))
      Issue.record("an empty \(key) list was taken")
    } catch {
      #expect(error.description == "\(key) is an empty list, which selects no record; leave it out to take every one")
    }
  }

  /// A word empty, of white space, or holding a space would select nothing and say nothing.
  @Test(arguments: ["rules", "tags"]) func aBlankWordIsRefused(key: String) {
    for blank in ["", "  ", "\t", "two words"] {
      do {
        _ = try SinkOptions.split(Self.settings(key, .sequence([.scalar("weapons.*"), .scalar(blank)])))
        Issue.record("\(key) took \"\(blank)\"")
      } catch {
        #expect(error.description == "\(key) must be a list of words (none empty, none with a space)")
      }
    }
  }

  @Test func aListSelectsAndTheRestGoesToTheSink() throws {
    let (filter, rest) = try SinkOptions.split(Self.settings("rules", .sequence([.scalar("weapons.*")])))
    #expect(rest == .mapping([.init(key: "url", value: .scalar("http://x"))]))
    #expect(filter.selects(#"{"seq":1,"rule":"weapons.barrel_bomb","priority":"critical","tags":[]}"#))
    #expect(!filter.selects(#"{"seq":2,"rule":"access.obstructed","priority":"high","tags":[]}"#))
  }
}

/// `max_lag`, the records a sink may fall behind before the writer holds new reports back:
/// a whole number above 0, taken out of the settings like the filters.
@Suite("Sink options: max_lag")
struct SinkMaxLagOptionTests {
  @Test func aWholeNumberIsTakenAndTheRestGoesToTheSink() throws {
    let (options, rest) = try SinkOptions.split(SinkOptionsTests.settings("max_lag", .scalar("100000")))
    #expect(options.maxLag == 100_000)
    #expect(options.selector == nil, "max_lag alone filters nothing")
    #expect(rest == .mapping([.init(key: "url", value: .scalar("http://x"))]))
    #expect(try SinkOptions.split(.mapping([])).filter.maxLag == nil, "no max_lag: never held back")
  }

  @Test(arguments: [ConfigurationValue.scalar("0"), .scalar("-5"), .scalar("lots"), .scalar("1.5"), .scalar(""), .sequence([.scalar("10")])])
  func anythingElseIsRefused(value: ConfigurationValue) {
    do {
      _ = try SinkOptions.split(SinkOptionsTests.settings("max_lag", value))
      Issue.record("max_lag took \(value)")
    } catch {
      #expect(error.description == "max_lag must be a whole number of records above 0, such as 100000")
    }
  }
}
