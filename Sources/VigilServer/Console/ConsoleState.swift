import NIOConcurrencyHelpers
import VigilCore

/// Whether the console is served, for `status`, the error log and the metrics: vigild keeps
/// serving the socket when the console cannot listen (ingestion matters more than the view),
/// and says so here.
public final class ConsoleState: Sendable {
  public enum Serving: Sendable, Equatable {
    case off
    case starting(HTTPAddress)
    case serving(HTTPAddress)
    case failed(HTTPAddress, reason: String)
  }

  private let state: NIOLockedValueBox<Serving>

  init(listen: HTTPAddress?) {
    state = NIOLockedValueBox(listen.map(Serving.starting) ?? .off)
  }

  public var serving: Serving { state.withLockedValue { $0 } }

  public func set(_ serving: Serving) { state.withLockedValue { $0 = serving } }

  /// `"console":{…}` in `status`.
  var statusJSON: String {
    switch serving {
    case .off: return "{\"listen\":\"off\",\"serving\":false}"
    case .starting(let address):
      return "{\"listen\":\(JSONText.string(address.description)),\"serving\":false,\"starting\":true}"
    case .serving(let address): return "{\"listen\":\(JSONText.string(address.description)),\"serving\":true}"
    case .failed(let address, let reason):
      return
        "{\"listen\":\(JSONText.string(address.description)),\"serving\":false,\"error\":\(JSONText.string(reason))}"
    }
  }
}
