import Glibc
import Testing

@testable import VigilServer

@Suite("DescriptorBudget: the connections the limit on open files leaves room for")
struct DescriptorBudgetTests {
  @Test("what fits stays as configured")
  func whatFitsStays() {
    // 1024 − 30 open − 64 kept − 128 for the console = 802 free.
    #expect(DescriptorBudget.fittingConnections(configured: 256, console: 128, open: 30, limit: 1024) == nil)
    #expect(DescriptorBudget.fittingConnections(configured: 802, console: 128, open: 30, limit: 1024) == nil)
  }

  @Test("more than fits is lowered to what does, the console's share apart")
  func moreIsLowered() {
    #expect(DescriptorBudget.fittingConnections(configured: 803, console: 128, open: 30, limit: 1024) == 802)
    #expect(DescriptorBudget.fittingConnections(configured: 1000, console: 0, open: 21, limit: 300) == 215)
  }

  @Test("a limit that leaves nothing is said as none")
  func noneFits() {
    #expect(DescriptorBudget.fittingConnections(configured: 256, console: 128, open: 30, limit: 222) == 0)
    #expect(DescriptorBudget.fittingConnections(configured: 256, console: 128, open: 30, limit: 100)! < 0)
  }

  @Test("this process's limits are read and its soft limit set")
  func theLimitsAreRead() throws {
    let limits = try #require(DescriptorBudget.openFileLimits())
    var now = rlimit()
    #expect(getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &now) == 0)
    #expect(limits.soft == Int(now.rlim_cur) && limits.soft <= limits.hard)
    #expect(DescriptorBudget.setSoftLimit(limits.soft))
    #expect(DescriptorBudget.openFileLimits()?.soft == limits.soft)
    #expect(DescriptorBudget.openNow() > 2)  // at least standard input, output and error
    #expect(DescriptorBudget.openNow() < limits.soft)
  }
}
