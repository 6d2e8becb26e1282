import Testing
import VigilCore

@testable import VigilServer

/// The index's tally gives the overview's counts: by priority, rule, region and day, and
/// summed across two name tables (the start-up build's and the writer's).
@Suite("Console index: the overview's tally")
struct AlertTallyTests {
  @Test func countsComeOutByName() {
    var names = NameTable()
    var tally = AlertTally()
    let day = Int64(86_400_000)
    tally.count(priority: .critical, rule: names.index(of: "weapons.barrel_bomb"), incidentMs: 3 * day + 5)
    tally.count(priority: .critical, rule: names.index(of: "weapons.barrel_bomb"), incidentMs: 3 * day + 7)
    tally.count(priority: .low, rule: names.index(of: "access.obstructed"), incidentMs: -day / 2)
    tally.count(place: names.index(of: "SY07"), records: 2)
    let counts = tally.counts(names: names)
    #expect(counts.total == 3)
    #expect(counts.byPriority == [.critical: 2, .low: 1])
    #expect(counts.byRule == ["weapons.barrel_bomb": 2, "access.obstructed": 1])
    #expect(counts.byPlace == ["SY07": 2])
    #expect(counts.byDay == [3: [.critical: 2], -1: [.low: 1]])
    #expect(counts.newestIncidentMs == 3 * day + 7)
  }

  @Test func tallyOfAnotherTableAddsUpByName() {
    var builtNames = NameTable()
    var built = AlertTally()
    built.count(priority: .high, rule: builtNames.index(of: "a"), incidentMs: 0)
    built.count(place: builtNames.index(of: "SY01"))
    var writerNames = NameTable()
    var writer = AlertTally()
    _ = writerNames.index(of: "unrelated")
    writer.count(priority: .info, rule: writerNames.index(of: "b"), incidentMs: 1)
    writer.count(priority: .high, rule: writerNames.index(of: "a"), incidentMs: 2)
    writer.count(place: writerNames.index(of: "SY01"), records: 3)
    built.add(writer, numberedBy: writerNames, into: &builtNames)
    let counts = built.counts(names: builtNames)
    #expect(counts.total == 3)
    #expect(counts.byRule == ["a": 2, "b": 1])
    #expect(counts.byPlace == ["SY01": 4])
    #expect(counts.byPriority == [.high: 2, .info: 1])
    #expect(counts.byDay == [0: [.high: 2, .info: 1]])
    #expect(counts.newestIncidentMs == 2)
  }
}
