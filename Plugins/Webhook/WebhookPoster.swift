import AsyncHTTPClient
import Dispatch
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL

/// Sends one request at a time with async-http-client and waits for its answer on the
/// calling thread: a sink's `deliver` is synchronous (it runs on the sink's own thread),
/// the client is async. One client, and its pool of connections, serves the destination
/// for its whole life; `stop` makes the request in flight give up at once.
final class WebhookPoster: Sendable {
  /// The status, `Retry-After` and first bytes of the body of an answer.
  struct Answer: Sendable {
    let status: Int
    let retryAfter: String?
    let body: [UInt8]
  }

  /// A request that got no HTTP answer: the receiver is down, slow, or vigild is stopping.
  struct Failure: Error, CustomStringConvertible {
    let description: String
  }

  private struct State {
    var stopped = false
    var inFlight: Task<Void, Never>?
  }

  private let client: HTTPClient
  private let state = NIOLockedValueBox(State())
  /// How errors name the receiver: its host and port, never its path or query.
  let receiver: String

  /// How much of an answer's body is kept: enough for a refusal's reason.
  static let keptBodyBytes = 1024

  init(url: URL) {
    var configuration = HTTPClient.Configuration()
    configuration.redirectConfiguration = .disallow
    // A receiver that refuses the connection fails the request at once (and Vigil's
    // back-off, shown in status, retries the batch), instead of async-http-client trying
    // again quietly until timeout_s.
    configuration.connectionPool.retryConnectionEstablishment = false
    client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    let host = url.host ?? "?"
    receiver = (host.contains(":") ? "[\(host)]" : host) + (url.port.map { ":\($0)" } ?? "")
  }

  deinit {
    if !state.withLockedValue({ $0.stopped }) { client.shutdown { _ in } }
  }

  /// Posts `request` to `url` and waits for the answer, at most `timeout` seconds; throws
  /// `Failure` when none came.
  func post(_ request: WebhookRequest, to url: URL, timeout: Double) throws -> Answer {
    var outgoing = HTTPClientRequest(url: url.absoluteString)
    outgoing.method = .POST
    for header in request.headers { outgoing.headers.add(name: header.name, value: header.value) }
    outgoing.body = .bytes(request.body)
    let outcome = NIOLockedValueBox<Result<Answer, any Error>?>(nil)
    let done = DispatchSemaphore(value: 0)
    let started = state.withLockedValue { state in
      guard !state.stopped else { return false }
      state.inFlight = Task { [client, outgoing] in
        let result: Result<Answer, any Error>
        do {
          result = .success(try await Self.send(outgoing, with: client, timeout: timeout))
        } catch {
          result = .failure(error)
        }
        outcome.withLockedValue { $0 = result }
        done.signal()
      }
      return true
    }
    guard started else { throw Failure(description: "vigild is stopping") }
    // The client keeps its own deadline; this margin only guards against a cancellation
    // that never ends, which would hold the sink's thread for good.
    let waited = done.wait(timeout: .now() + timeout + 5)
    let task = state.withLockedValue { state in
      defer { state.inFlight = nil }
      return state.inFlight
    }
    guard waited == .success, let result = outcome.withLockedValue({ $0 }) else {
      task?.cancel()
      throw Failure(
        description: "no answer from the webhook at \(receiver) within timeout_s (\(Self.seconds(timeout)) s)")
    }
    do {
      return try result.get()
    } catch {
      throw describe(error, timeout: timeout)
    }
  }

  /// Gives up the request in flight, and refuses any other.
  func stop() {
    let (wasStopped, task) = state.withLockedValue { state in
      defer { state.stopped = true }
      return (state.stopped, state.inFlight)
    }
    guard !wasStopped else { return }
    task?.cancel()
    client.shutdown { _ in }
  }

  private static func send(_ request: HTTPClientRequest, with client: HTTPClient, timeout: Double) async throws
    -> Answer
  {
    let started = DispatchTime.now()
    let response = try await client.execute(request, timeout: .milliseconds(Int64(timeout * 1000)))
    // Read to the end, keeping the start: a connection whose answer was read whole is
    // reused for the next request. The client's deadline ends with the answer's head: a
    // receiver that then sends its body a byte at a time held the request past timeout_s
    // (7 s for 2). What is left of timeout_s bounds the body; past it, the answer is its
    // status, which the receiver has given (a 200 is taken, not posted again).
    let left = timeout - Double(DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1e9
    let body = try await withThrowingTaskGroup(of: [UInt8]?.self) { group in
      group.addTask {
        var body: [UInt8] = []
        for try await chunk in response.body where body.count < keptBodyBytes {
          body += chunk.readableBytesView.prefix(keptBodyBytes - body.count)
        }
        return body
      }
      group.addTask {
        try await Task.sleep(nanoseconds: UInt64(max(left, 0.001) * 1e9))
        return nil
      }
      let first = try await group.next() ?? nil
      group.cancelAll()
      return first
    }
    return Answer(
      status: Int(response.status.code), retryAfter: response.headers.first(name: "Retry-After"), body: body ?? [])
  }

  private func describe(_ error: any Error, timeout: Double) -> Failure {
    if let failure = error as? Failure { return failure }
    if error is CancellationError || (error as? HTTPClientError) == .cancelled
      || state.withLockedValue({ $0.stopped })
    {
      return Failure(description: "the request to the webhook at \(receiver) was given up: vigild is stopping")
    }
    if let clientError = error as? HTTPClientError,
      [.deadlineExceeded, .readTimeout, .connectTimeout, .writeTimeout].contains(clientError)
    {
      return Failure(
        description: "no answer from the webhook at \(receiver) within timeout_s (\(Self.seconds(timeout)) s)")
    }
    if let clientError = error as? HTTPClientError, clientError == .remoteConnectionClosed {
      return Failure(description: "the webhook at \(receiver) closed the connection without answering")
    }
    // An answer begun and cut short: llhttp's `invalidEOFState`, which it calls "stream
    // ended at an unexpected time", is no answer in another protocol.
    if String(reflecting: type(of: error)).contains("HTTPParserError"), "\(error)".contains("stream ended") {
      return Failure(description: "the webhook at \(receiver) closed the connection in the middle of its answer")
    }
    // The answer did not parse as HTTP (llhttp's words: "invalid constant string").
    if String(reflecting: type(of: error)).contains("HTTPParserError") {
      return Failure(description: "the webhook at \(receiver) answered with something that is not HTTP (\(error))")
    }
    // A header the client will not send: never quoted, as its value may be a token.
    if let clientError = error as? HTTPClientError, "\(clientError)".contains("invalidHeaderField") {
      return Failure(description: "a header of the headers setting cannot be sent to the webhook at \(receiver)")
    }
    return Failure(description: "cannot reach the webhook at \(receiver): \(Self.systemReason(error))")
  }

  /// `Connection refused`, as the system says it, rather than SwiftNIO's wrapping of it.
  private static func systemReason(_ error: any Error) -> String {
    if let io = error as? IOError { return String(cString: strerror(io.errnoCode)) }
    if let failures = error as? NIOConnectionError, let first = failures.connectionErrors.first {
      return systemReason(first.error)
    }
    // BoringSSL's own words name the source files it was built from: said plainly instead.
    if case .handshakeFailed = error as? NIOSSLError {
      let said = String(describing: error)
      if said.contains("CERTIFICATE_VERIFY_FAILED") {
        return "the TLS handshake failed: the server's certificate could not be verified (not signed by a CA this "
          + "machine trusts, expired, or for another name)"
      }
      if said.contains("WRONG_VERSION_NUMBER") || said.contains("PACKET_LENGTH_TOO_LONG") {
        return "the TLS handshake failed: the server does not speak TLS on that port (an https URL to a plain-HTTP service?)"
      }
      return "the TLS handshake failed"
    }
    if error is NIOSSLError || error is BoringSSLError { return "TLS failed (\(String(describing: error).prefix(120)))" }
    return "\(error)"
  }

  /// 10 as "10", 0.5 as "0.5".
  static func seconds(_ value: Double) -> String {
    value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value)
  }
}
