import Foundation
import VigilCore

/// Posts a batch of alert records, `batch` to a request, in `seq` order. A request the
/// receiver could not take now (no answer, 408, 429, 5xx) fails the whole batch, which
/// Vigil sends again later — records already taken come again, under the same keys, and a
/// receiver drops them. A request it refuses for good (another 4xx, or a 3xx, which is not
/// followed) does not stop the rest: its records are named at the end, and Vigil parks them.
struct WebhookDestination: AlertDestination {
  let settings: WebhookSettings
  let node: String
  private let poster: WebhookPoster

  init(settings: WebhookSettings, node: String) {
    self.settings = settings
    self.node = node
    poster = WebhookPoster(url: settings.url)
  }

  func deliver(_ alerts: [RecordedAlert]) throws {
    var refusals: [RefusedRecords.Refusal] = []
    for start in stride(from: 0, to: alerts.count, by: settings.batch) {
      let records = Array(alerts[start..<min(start + settings.batch, alerts.count)])
      let request = WebhookRequest(records: records, settings: settings, node: node)
      let answer = try poster.post(request, to: settings.url, timeout: settings.timeoutSeconds)
      switch WebhookVerdict.of(
        status: answer.status, retryAfter: answer.retryAfter, body: answer.body, receiver: poster.receiver)
      {
      case .delivered:
        continue
      case .retry(let reason, let seconds?):
        throw RetryLater(seconds: seconds, reason: reason)
      case .retry(let reason, nil):
        throw WebhookPoster.Failure(description: reason)
      case .refused(let reason):
        refusals += request.seqs.map { RefusedRecords.Refusal(seq: $0, reason: reason) }
      }
    }
    if !refusals.isEmpty { throw RefusedRecords(refusals) }
  }

  func stop() {
    poster.stop()
  }
}
