import Foundation
import NIOConcurrencyHelpers
import VigilCore

/// Posts a batch of alert records, `batch` to a request, in `seq` order. A request the
/// receiver could not take now (no answer, 408, 429, 5xx) ends the batch there: what the
/// requests before it carried is done with (`PartlyDelivered`), and Vigil sends the rest
/// again later, from that request on, under the same keys. A request it refuses for good (another 4xx, or a 3xx, which is not
/// followed) does not stop the rest: its records are named at the end, and Vigil parks them.
struct WebhookDestination: AlertDestination {
  let settings: WebhookSettings
  let node: String
  private let poster: WebhookPoster
  /// The records of each request that is to be tried again, by its first record: sent
  /// again as they were, not with the records that came since, so its `Idempotency-Key`
  /// is the key it had. More than one: a resend of parked records that fails is no end
  /// of the failed batch of new ones. Bounded, the oldest first forgotten.
  private let retrying = NIOLockedValueBox<[UInt64: [UInt64]]>([:])
  private static let retryingKept = 64
  /// Records refused for good in a batch that a later request then failed: when the batch
  /// comes again they are not posted again (a receiver that refused one would otherwise be
  /// asked until it took it) but named refused at its end, and parked, as the first try
  /// would have.
  private let refusedInFailedBatch = NIOLockedValueBox<[UInt64: String]>([:])

  init(settings: WebhookSettings, node: String) {
    self.settings = settings
    self.node = node
    poster = WebhookPoster(url: settings.url)
  }

  func deliver(_ batch: [RecordedAlert]) throws {
    let refusedBefore = refusedInFailedBatch.withLockedValue { $0 }
    var refusals = batch.compactMap { alert in
      refusedBefore[alert.seq].map { RefusedRecords.Refusal(seq: alert.seq, reason: $0) }
    }
    let alerts = refusedBefore.isEmpty ? batch : batch.filter { refusedBefore[$0.seq] == nil }
    // The last record of the last request answered (taken, or refused for good).
    var answeredThrough: UInt64?
    // A request that fails the batch: what the requests before it got through is done
    // with (`PartlyDelivered`: the sink moves on to there, parking what was refused); what
    // was refused after it, in an earlier try, is kept for the next one.
    func failing(_ error: any Error) -> any Error {
      let done = answeredThrough.map { through in refusals.filter { $0.seq <= through } } ?? []
      refusedInFailedBatch.withLockedValue { kept in
        for refusal in refusals where !done.contains(refusal) { kept[refusal.seq] = refusal.reason }
        for refusal in done { kept[refusal.seq] = nil }
      }
      guard let answeredThrough else { return error }
      return PartlyDelivered(through: answeredThrough, refusals: done.sorted { $0.seq < $1.seq }, cause: error)
    }
    // Read for each delivery: a secret changed (on both sides) is used from the next try,
    // parked records sent again included. Unreadable now, the batch waits and status says why.
    let secret: [UInt8]
    do {
      secret = try settings.currentSecret()
    } catch {
      throw failing(WebhookPoster.Failure(description: error.description))
    }
    var start = 0
    while start < alerts.count {
      var end = min(start + settings.batch, alerts.count)
      if let again = retrying.withLockedValue({ $0[alerts[start].seq] }),
        alerts[start...].prefix(again.count).map(\.seq) == again
      {
        end = start + again.count
      }
      let records = Array(alerts[start..<end])
      start = end
      let request = WebhookRequest(records: records, settings: settings, node: node, secret: secret)
      let answer: WebhookPoster.Answer
      do {
        answer = try poster.post(request, to: settings.url, timeout: settings.timeoutSeconds)
      } catch {
        keepForRetry(request.seqs)
        throw failing(error)
      }
      let verdict = WebhookVerdict.of(
        status: answer.status, retryAfter: answer.retryAfter, body: answer.body, receiver: poster.receiver)
      if case .retry = verdict {
        keepForRetry(request.seqs)
      } else if let first = request.seqs.first {
        retrying.withLockedValue { if $0[first] == request.seqs { $0[first] = nil } }
      }
      switch verdict {
      case .delivered:
        answeredThrough = records.last?.seq
      case .retry(let reason, let seconds?):
        throw failing(RetryLater(seconds: seconds, reason: reason))
      case .retry(let reason, nil):
        throw failing(WebhookPoster.Failure(description: reason))
      case .refused(let reason):
        refusals += request.seqs.map { RefusedRecords.Refusal(seq: $0, reason: reason) }
        answeredThrough = records.last?.seq
      }
    }
    // This batch is done with: only its own records are forgotten (a resend of parked
    // records in between is no end of a failed batch).
    refusedInFailedBatch.withLockedValue { kept in for alert in batch { kept[alert.seq] = nil } }
    if !refusals.isEmpty { throw RefusedRecords(refusals.sorted { $0.seq < $1.seq }) }
  }

  private func keepForRetry(_ seqs: [UInt64]) {
    guard let first = seqs.first else { return }
    retrying.withLockedValue { kept in
      kept[first] = seqs
      if kept.count > Self.retryingKept, let oldest = kept.keys.min() { kept[oldest] = nil }
    }
  }

  /// One request's worth a call: the cursor moves with each request a receiver takes.
  var recordsPerDelivery: Int? { settings.batch }

  func stop() {
    poster.stop()
  }
}
