import Foundation
import Testing
import VigilTestSupport

/// The real `vigil plugins`: the plugins built in, their roles, and which are enabled.
@Suite("vigil plugins", .onThreadsOfTheirOwn)
struct VigilPluginsCommandTests {
  @Test func listsTheBuiltInPluginsAndWhichTheConfigurationEnables() throws {
    let directory = try TemporaryDirectory()
    let all = try Vigil.run(["plugins"], in: directory.path)
    #expect(all.status == 0)
    #expect(
      all.standardOutput.split(separator: "\n").map(String.init) == [
        "designations  enabled   functions  rule-file items: designation, opposing_words",
        "exec          disabled  sink",
        "places        enabled   functions, atlas  rule-file items: place, control",
        "postgres      disabled  sink",
        "spool         disabled  source",
        "webhook       disabled  sink",
      ])
    try "plugins:\n  places: {}\n".write(toFile: directory.path + "/v.yaml", atomically: true, encoding: .utf8)
    let some = try Vigil.run(["plugins", "--config", "v.yaml", "--json"], in: directory.path)
    #expect(some.status == 0)
    let objects = some.standardOutput.split(separator: "\n").compactMap {
      try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
    }
    #expect(objects.map { $0["name"] as? String } == ["designations", "exec", "places", "postgres", "spool", "webhook"])
    #expect(objects.map { $0["enabled"] as? Bool } == [false, false, true, false, false, false])
    #expect(
      objects.map { $0["roles"] as? [String] } == [["functions"], ["sink"], ["functions", "atlas"], ["sink"], ["source"], ["sink"]])
    #expect(
      objects.map { $0["item_kinds"] as? [String] } == [["designation", "opposing_words"], [], ["place", "control"], [], [], []])
  }

  @Test func aMisspeltPluginIsRefusedWithTheKnownNames() throws {
    let directory = try TemporaryDirectory()
    try "plugins:\n  placez: {}\n".write(toFile: directory.path + "/v.yaml", atomically: true, encoding: .utf8)
    let run = try Vigil.run(["plugins", "--config", "v.yaml"], in: directory.path)
    #expect(run.status == 2)
    #expect(run.standardError.contains("v.yaml:2:3: plugins.placez: unknown key (known: designations, exec, places, postgres, spool, webhook)"))
  }
}
