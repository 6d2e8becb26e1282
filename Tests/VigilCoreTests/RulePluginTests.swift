import Testing
import VigilTestSupport

@testable import VigilCore

/// A plugin made for the test: an item kind naming colours, and a function that says
/// whether a text field names one of them.
private struct Colours: RulePlugin {
  let name = "colours"
  let itemKinds = ["colour"]

  func prepare(items: [RuleNode], settings: ConfigurationValue) -> Result<[ConditionFunction], RuleSetErrors> {
    var names: Set<String> = []
    var errors: [RuleError] = []
    for item in items {
      guard case .mapping(let members, _) = item else { continue }
      for member in members {
        switch (member.key, member.value) {
        case ("colour", .scalar(let scalar)): names.insert(scalar.text.lowercased())
        case ("colour", let other):
          errors.append(RuleError(other.position, "a colour is a word, got \(other.kindName)"))
        default: errors.append(RuleError(member.keyPosition, "unknown key '\(member.key)' in a colour"))
        }
      }
    }
    if case .mapping(let settings) = settings, settings.contains(where: { $0.key == "extra" }) {
      names.insert("ochre")
    }
    guard errors.isEmpty else { return .failure(RuleSetErrors(errors: errors)) }
    let known = names
    return .success([
      ConditionFunction(name: "is_colour", parameters: [.field(.text)], result: .bool) { report, arguments in
        guard case .field(let field) = arguments[0], case .text(let text)? = field.read(report) else {
          return .bool(false)
        }
        return .bool(known.contains(text.string.lowercased()))
      }
    ])
  }
}

@Suite("Rule sets: plugins add item kinds and functions")
struct RulePluginTests {
  static let rules = """
    - colour: Red
    - colour: green
    - rule: place.coloured
      desc: A place named after a colour.
      condition: is_colour(location.place)
      output: "%location.place"
      priority: info
      examples:
        match: [{type: siege, location: {place: RED}}]
        no_match: [{type: siege, location: {place: Blue}}, {type: siege}]
    """

  @Test func itemsAndFunctionsWork() throws {
    let loader = RuleSetLoader(plugins: [Colours()])
    let set = try loadRules([("c.yaml", Self.rules)], loader: loader).get()
    #expect(set.rules.map(\.exampleCount) == [3])
    let report = try parsed(reportLine(#""location":{"place":"Green"}"#)).report
    #expect(set.evaluate(report).map(\.message) == ["Green"])
  }

  @Test func settingsReachThePlugin() throws {
    let loader = RuleSetLoader(
      plugins: [Colours()], settings: ["colours": .mapping([.init(key: "extra", value: .scalar("yes"))])])
    let set = try loadRules([("c.yaml", Self.rules)], loader: loader).get()
    #expect(set.evaluate(try parsed(reportLine(#""location":{"place":"Ochre"}"#)).report).count == 1)
  }

  @Test func pluginErrorsCarryTheirPlaces() {
    let loader = RuleSetLoader(plugins: [Colours()])
    let text = "- colour: [a, b]\n- colour: red\n  shade: dark\n"
    guard case .failure(let errors) = loadRules([("c.yaml", text)], loader: loader) else {
      Issue.record("loaded")
      return
    }
    #expect(
      errors.errors.map(\.description) == [
        "Rules/c.yaml:1:11: a colour is a word, got a list", "Rules/c.yaml:3:3: unknown key 'shade' in a colour",
      ])
  }

  @Test func withoutThePluginItsItemsAreNotKnown() {
    #expect(
      ruleErrors([("c.yaml", "- colour: red\n")]) == [
        "Rules/c.yaml:1:3: an item needs exactly one of list, macro, rule, pattern; none is among its keys (colour)"
      ])
  }
}
