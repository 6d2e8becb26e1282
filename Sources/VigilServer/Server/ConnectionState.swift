/// What a client connection is doing, and what each event makes of it: the state machine of
/// `ConnectionHandler`, in the manner of swift-nio's own handlers — one state, and
/// transitions that say what the handler must do. It does no I/O, so it is tested alone.
///
/// ```
///   reading ⇄ reading(paused) ──input closed──▶ inputClosed ──┐
///      │  └──────────subscribe──────────▶ subscribed          │
///      │     (inputClosed, subscribed: finish too)            │
///      └───────── finish (vigild stops) ──▶ finishing ────────┼──▶ closed
///   any state ── client gone / left too much unread ──────────┘
/// ```
struct ConnectionState {
  enum State: Equatable {
    /// Reading requests and answering them in order. `paused`: not reading, while more
    /// requests than its share are in flight.
    case reading(paused: Bool)
    /// The client stopped sending: what it sent is answered, then the connection closes.
    case inputClosed
    /// After `subscribe`: the connection carries the alert stream; later lines are ignored,
    /// and a half-close keeps the stream (`… | nc -U sock`).
    case subscribed
    /// vigild is stopping: reading stopped for good; what was read is answered (but not a
    /// subscriber's lines), then the connection closes once the socket has taken the
    /// answers, or `ConnectionHandler.unreadGrace` after the last was handed over. A
    /// subscriber's closes once its stream has every record written before the stop
    /// (`ConnectionHandler.endStream`), or that grace after it was told to.
    case finishing(subscribed: Bool)
    /// Gone, or closed by vigild (a client that left too much unread): nothing more is
    /// written.
    case closed
  }

  /// What the handler does about reading.
  enum Reading: Equatable {
    case keep
    case stop
    case resume
  }

  private(set) var state = State.reading(paused: false)

  /// A line was framed: whether it is answered. Lines read before vigild began to stop
  /// are; a subscriber's later lines, and anything after vigild began to stop, are not.
  /// (No line comes after the input closed: the framer hands over the last one before that
  /// event.) Once vigild stops reading, the only line still framed is the one the close
  /// hands over, without its `\n`: the client never ended it (PROTOCOL.md counts such a
  /// line when the client stops sending), and it came after the writer's last commit, its
  /// records too late for the subscribers' streams (review of 7 December).
  mutating func lineRead() -> Bool {
    switch state {
    case .reading: true
    case .inputClosed, .subscribed, .finishing, .closed: false
    }
  }

  /// `subscribe` was asked: whether the connection becomes a subscriber (only one that is
  /// reading may; one that is stopping is answered with an error instead), and whether it
  /// must read again — a subscriber reads, to see its client go.
  mutating func subscribe() -> (subscribed: Bool, reading: Reading) {
    guard case .reading(let paused) = state else { return (false, .keep) }
    state = .subscribed
    return (true, paused ? .resume : .keep)
  }

  /// The requests in flight changed (`count` of them, `limit` its share), or the bytes of
  /// answers the client has not taken yet (`unread`, against `unreadLimit`,
  /// `max_pending_bytes`): stop reading at either limit, read again once three quarters of
  /// the requests are answered and the unread bytes are within their limit. A client that
  /// reads its answers slowly is slowed so. (No lower mark for the bytes: paused for its
  /// requests with its answers between such a mark and the limit, a client that sends
  /// everything before it reads would wait for ever, and nothing would close it.)
  mutating func inFlight(_ count: Int, limit: Int, least: Int, unread: Int = 0, unreadLimit: Int = .max) -> Reading {
    switch state {
    case .reading(paused: false) where (count >= least && count >= limit) || unread > unreadLimit:
      state = .reading(paused: true)
      return .stop
    case .reading(paused: true) where count <= limit / 4 && unread <= unreadLimit:
      state = .reading(paused: false)
      return .resume
    default:
      return .keep
    }
  }

  /// The client half-closed: whether the connection now closes once every response is out.
  mutating func inputClosed() -> Bool {
    guard case .reading = state else { return false }
    state = .inputClosed
    return true
  }

  /// vigild is stopping: whether the handler must stop reading and close once every
  /// response is out (false when that is under way already, or the connection is gone).
  mutating func finish() -> Bool {
    switch state {
    case .reading:
      state = .finishing(subscribed: false)
      return true
    case .subscribed:
      state = .finishing(subscribed: true)
      return true
    case .inputClosed:
      // It closes once drained already; it only stops for good now.
      state = .finishing(subscribed: false)
      return false
    case .finishing, .closed:
      return false
    }
  }

  /// vigild closes the connection (too much unread): whether it was still open.
  mutating func drop() -> Bool {
    guard state != .closed else { return false }
    state = .closed
    return true
  }

  /// The channel went inactive.
  mutating func closed() {
    state = .closed
  }

  /// Whether responses may still be written.
  var writes: Bool { state != .closed }

  var isSubscribed: Bool { state == .subscribed }
}
