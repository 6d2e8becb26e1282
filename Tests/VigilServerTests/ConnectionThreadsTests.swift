import Testing

@testable import VigilServer

@Suite("Daemon.connectionThreads: socket.threads, else the connections leave the writer a core")
struct ConnectionThreadsTests {
  @Test("by default one fewer than the cores, and at least one")
  func oneFewerThanTheCoresAndAtLeastOne() {
    #expect(Daemon.connectionThreads(configured: 0, cores: 1) == 1)
    #expect(Daemon.connectionThreads(configured: 0, cores: 2) == 1)
    #expect(Daemon.connectionThreads(configured: 0, cores: 16) == 15)
  }

  @Test("socket.threads, when set, whatever the cores")
  func theConfiguredCountWins() {
    #expect(Daemon.connectionThreads(configured: 3, cores: 2) == 3)
    #expect(Daemon.connectionThreads(configured: 1, cores: 16) == 1)
  }
}
