import Testing

@testable import VigilCore

@Suite("Priorities, most urgent first")
struct PriorityTests {
  @Test func rankIsThePlaceInAllCases() {
    for (place, priority) in Priority.allCases.enumerated() {
      #expect(priority.rank == place, "\(priority)")
    }
  }

  @Test func moreUrgentComparesGreater() {
    #expect(Priority.critical > .high)
    #expect(Priority.low < .medium)
    #expect(!(Priority.info < .info))
    let shuffled: [Priority] = [.medium, .info, .critical, .low, .high]
    #expect(shuffled.sorted(by: >) == Priority.allCases)
    #expect(shuffled.filter { $0 >= .high } == [.critical, .high])
  }
}
