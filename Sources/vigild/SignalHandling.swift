import Foundation
import ServiceLifecycle

/// The signals vigild handles (docs/vigild.md, "Signals"), as the last service of its
/// group: SIGHUP reloads the rule set, SIGUSR1 reopens the alert log and the journal, and
/// SIGTERM or SIGINT end the service — which shuts the group down gracefully.
///
/// The signals are blocked in every thread from the first line of `main`, before any
/// thread exists (each inherits the mask), so they stay pending until this service's own
/// thread takes them with `sigwait`: none is lost, none lands on a thread that would drop
/// it. ServiceGroup's own signal handling (libdispatch signal sources, which raced with
/// that) is not used: the group is given no signals.
struct SignalHandling: Service {
  static let handled = [SIGTERM, SIGINT, SIGHUP, SIGUSR1]
  let reload: @Sendable () -> Void
  let reopen: @Sendable () -> Void
  /// Told of SIGTERM or SIGINT, before the group stops.
  let stopping: @Sendable (_ signal: String) -> Void

  /// Blocks the handled signals in the calling thread, and so in every thread it starts.
  static func blockInEveryThread() {
    var set = sigset_t()
    sigemptyset(&set)
    for signalNumber in handled { sigaddset(&set, signalNumber) }
    pthread_sigmask(SIG_BLOCK, &set, nil)
  }

  func run() async {
    await withGracefulShutdownHandler {
      await DaemonPart.onAThread { takeSignals() }
    } onGracefulShutdown: {
      // The group stops for another reason: end the wait as a SIGTERM would.
      kill(getpid(), SIGTERM)
    }
  }

  /// Takes the signals one at a time until SIGTERM or SIGINT.
  private func takeSignals() {
    var set = sigset_t()
    sigemptyset(&set)
    for signalNumber in Self.handled { sigaddset(&set, signalNumber) }
    while true {
      var signalNumber: Int32 = 0
      guard sigwait(&set, &signalNumber) == 0 else { continue }
      switch signalNumber {
      case SIGHUP: reload()
      case SIGUSR1: reopen()
      default:
        stopping(signalNumber == SIGINT ? "SIGINT" : "SIGTERM")
        return
      }
    }
  }
}
