import Testing

@testable import VigilServer

@Suite("Daemon.connectionThreads: the connections' threads leave the writer a core")
struct ConnectionThreadsTests {
  @Test("one fewer than the cores, and at least one")
  func oneFewerThanTheCoresAndAtLeastOne() {
    #expect(Daemon.connectionThreads(cores: 1) == 1)
    #expect(Daemon.connectionThreads(cores: 2) == 1)
    #expect(Daemon.connectionThreads(cores: 16) == 15)
  }
}
