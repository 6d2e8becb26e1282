import Foundation
import ServiceLifecycle

/// One part of the running daemon as a service of its `ServiceGroup`: started when the
/// group runs, stopped when the group shuts down gracefully — in the reverse order of the
/// list (Vigild.swift). Starting and stopping block (threads, NIO's `wait`), so they run on
/// a thread of their own, never on Swift concurrency's few shared threads.
struct DaemonPart: Service, CustomStringConvertible {
  let description: String
  let start: @Sendable () -> Void
  let stop: @Sendable () -> Void

  init(_ name: String, start: @escaping @Sendable () -> Void = {}, stop: @escaping @Sendable () -> Void) {
    description = name
    self.start = start
    self.stop = stop
  }

  func run() async throws {
    await Self.onAThread(start)
    // Returns when the group shuts down gracefully (or throws when it is cancelled: the
    // part is stopped all the same).
    try? await gracefulShutdown()
    await Self.onAThread(stop)
  }

  static func onAThread(_ work: @escaping @Sendable () -> Void) async {
    await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
      Thread {
        work()
        done.resume()
      }.start()
    }
  }
}
