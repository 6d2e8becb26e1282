import Foundation
import Hummingbird
import NIOConcurrencyHelpers
import NIOPosix
import VigilCore
import VigilServer

/// The live alert list's server-sent events (`/api/events`): each open stream is a listener
/// on the same stream `subscribe` serves; a record that passes the stream's filters goes out
/// as `event: alert`, `id: <seq>`, `data: <the record's line>` with its region added. A
/// stream that falls behind by more than `backlog` records (not yet taken when more come)
/// is closed (the browser
/// reconnects and catches up from its last id); a comment line every 15 s keeps proxies
/// from closing an idle stream.
final class LiveStreams: Sendable {
  private let open = NIOLockedValueBox<[ObjectIdentifier: Listener]>([:])
  /// The daemon is stopping: a stream waiting for the index stops waiting.
  private let stopping = NIOLockedValueBox(false)
  static let backlog = 1000

  final class Listener: AlertListener, Sendable {
    let selector = AlertSelector(SubscriptionFilter())
    let continuation: AsyncStream<[String]>.Continuation
    /// Records offered and not yet sent: past `backlog`, the stream is closed.
    let pending = NIOLockedValueBox(0)
    /// Set when the stream is cut off for falling behind: its writer writes nothing more
    /// once its write in progress is done, and the connection is closed.
    let wasCutOff = NIOLockedValueBox(false)

    init(_ continuation: AsyncStream<[String]>.Continuation) {
      self.continuation = continuation
    }

    /// Behind is what was offered before and not taken yet: one commit of many records (a
    /// bulk import) handed to a stream that keeps up is not behind, whatever its size. (So a
    /// stream holds at most `backlog` records and one commit's.)
    func offer(_ lines: [String]) {
      let behind = pending.withLockedValue { pending in
        defer { pending += lines.count }
        return pending
      }
      if behind > LiveStreams.backlog {
        // Marked first: a writer that sees its stream end reads the mark (review of audit 53).
        wasCutOff.withLockedValue { $0 = true }
        continuation.finish()
      } else {
        continuation.yield(lines)
      }
    }
  }

  func response(daemon: RequestResponder, index: AlertIndex, query: AlertQuery, directions: MessageDirections)
    -> Response
  {
    // Unbounded in batches; the listener bounds it in records.
    let (stream, continuation) = AsyncStream.makeStream(of: [String].self)
    let listener = Listener(continuation)
    let key = ObjectIdentifier(listener)
    open.withLockedValue { $0[key] = listener }
    daemon.subscriptions.add(listener)
    let heartbeat = Task {
      while !Task.isCancelled {
        try? await Task.sleep(for: .seconds(15))
        if case .terminated = continuation.yield([]) { return }
      }
    }
    continuation.onTermination = { [open] _ in
      heartbeat.cancel()
      daemon.subscriptions.remove(listener)
      _ = open.withLockedValue { $0.removeValue(forKey: key) }
    }
    var headers = HTTPFields()
    headers[.contentType] = "text/event-stream"
    headers[.cacheControl] = "no-store"
    return Response(
      status: .ok, headers: headers,
      body: ResponseBody { writer in
        defer { continuation.finish() }
        // Cut off for falling behind, the writer stops once its write in progress is done,
        // at a record's end, and throws: the connection is closed (the browser reconnects
        // and catches up from its last id). Its write is not cancelled: a write cancelled
        // in NIO left half a record out and the connection open and silent (CI, audit 53);
        // a client that reads nothing at all is closed after `http.idle_s`.
        try await self.send(
          into: WriterBox(writer), stream: stream, listener: listener, index: index, query: query, directions: directions)
      })
  }

  /// A stream cut off for falling more than `backlog` records behind.
  struct FellBehind: Error {}

  /// A response's writer, handed to the task that writes the stream (the body's own is
  /// `inout`); used by that task alone.
  final class WriterBox: @unchecked Sendable {
    var writer: any ResponseBodyWriter
    init(_ writer: any ResponseBodyWriter) { self.writer = writer }
  }

  /// Writes the stream: the catch-up asked for, then each record offered, and a comment
  /// line for each heartbeat.
  private func send(
    into box: WriterBox, stream: AsyncStream<[String]>, listener: Listener, index: AlertIndex, query: AlertQuery,
    directions: MessageDirections
  ) async throws {
    var since = query.after ?? 0
    try await box.writer.write(ByteBuffer(string: "retry: 3000\n: connected\n\n"))
    // What the client has not seen yet (written while the page loaded, or while it was
    // away), oldest first, up to `catchUpLimit`; past that, a `gap` event first says
    // which records it skipped, for /api/alerts to fetch.
    if let after = query.after {
      // An index still being built (after a start) holds only part of the log: the
      // catch-up waits for the whole of it, the new records queueing meanwhile.
      // Not past 60 s, nor a stop (which must not wait on it), nor a client gone.
      var waited = 0
      while index.snapshot().building, waited < 600, !self.stopping.withLockedValue({ $0 }) {
        try await Task.sleep(for: .milliseconds(100))
        waited += 1
      }
      let snapshot = index.snapshot()
      // Past the newest record (a page from a log since replaced), which the route could
      // not tell while the index was being built: the stream ends, and the browser's
      // reconnection is refused, so that the page loads afresh.
      if !snapshot.building, after > (snapshot.newestSeq ?? 0) {
        try await box.writer.finish(nil)
        return
      }
      // A scan of the whole index with a text filter takes a while: on NIO's blocking
      // pool, as the console's searches are, not on the threads that answer a scrape.
      let (missed, gap) = try await NIOThreadPool.singleton.runIfActive {
        Self.missed(after: after, query: query, in: snapshot)
      }
      if let gap { try await box.writer.write(ByteBuffer(string: gap)) }
      for alert in missed { try await box.writer.write(ByteBuffer(string: Self.event(alert, directions))) }
      since = max(since, missed.last?.entry.seq ?? since)
    }
    for await lines in stream {
      // Cut off: what the stream still holds is not written (the client reads nothing), and
      // the connection is closed rather than the response ended, whichever task sees it first.
      if listener.wasCutOff.withLockedValue({ $0 }) { throw FellBehind() }
      if lines.isEmpty {
        try await box.writer.write(ByteBuffer(string: ": keep-alive\n\n"))
        continue
      }
      listener.pending.withLockedValue { $0 -= lines.count }
      let snapshot = index.snapshot()
      var text = ""
      for line in lines {
        guard let seq = Self.seq(of: line), seq > since, let alert = snapshot.selects(seq: seq, query) else {
          continue
        }
        since = seq
        text += Self.event(alert, directions)
      }
      if !text.isEmpty { try await box.writer.write(ByteBuffer(string: text)) }
    }
    if listener.wasCutOff.withLockedValue({ $0 }) { throw FellBehind() }
    try await box.writer.finish(nil)
  }

  /// The most records a stream catches up on when it opens with `after`.
  static let catchUpLimit = 10_000

  /// The records after `after` that `query` selects, oldest first, at most the newest
  /// `catchUpLimit` of them; and, when there were more, the `gap` event that names the
  /// ones left out: `{"after":N,"before":M,"skipped":K}`, K records with N < seq < M — K
  /// null when some of them are older than the index holds (`http.index_limit`), which
  /// cannot be counted.
  static func missed(
    after: UInt64, query: AlertQuery, in snapshot: AlertIndex.Snapshot
  ) -> ([IndexedAlert], String?) {
    var unpaged = query
    unpaged.before = nil
    let (newestFirst, matched) = snapshot.newest(unpaged, upTo: catchUpLimit)
    // Records between `after` and the oldest held are not held (written as `after < oldest - 1`:
    // `after` comes from the client, and may be as large as a UInt64 is).
    let unheld = snapshot.oldestSeq.map { $0 > 1 && after < $0 - 1 } ?? false
    guard matched > newestFirst.count || unheld else { return (newestFirst.reversed(), nil) }
    // Up to the oldest record sent, or else the oldest held: the held ones after it that
    // were not sent do not pass the filters, and were not missed.
    let before = newestFirst.last?.entry.seq ?? snapshot.oldestSeq ?? after
    let skipped = unheld ? "null" : String(matched - newestFirst.count)
    let gap = "event: gap\ndata: {\"after\":\(after),\"before\":\(before),\"skipped\":\(skipped)}\n\n"
    return (newestFirst.reversed(), gap)
  }

  /// Ends every stream (the daemon stops).
  func finishAll() {
    stopping.withLockedValue { $0 = true }
    for listener in open.withLockedValue({ Array($0.values) }) { listener.continuation.finish() }
  }

  static func event(_ alert: IndexedAlert, _ directions: MessageDirections) -> String {
    "event: alert\nid: \(alert.entry.seq)\ndata: \(ConsoleViews.withRegion(alert, direction: directions.of(rule: alert.rule)))\n\n"
  }

  /// The seq of a record's line: it begins `{"seq":N,`.
  static func seq(of line: String) -> UInt64? {
    let prefix = "{\"seq\":"
    guard line.hasPrefix(prefix) else { return nil }
    return UInt64(line.dropFirst(prefix.count).prefix { $0.isNumber })
  }
}
