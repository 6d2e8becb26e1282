import VigilCore

/// A sink that posts every alert record to an HTTP receiver — a chat tool's incoming
/// webhook or a service of one's own — signed with HMAC-SHA256 and keyed by node and `seq`
/// so the receiver can check the sender and drop redeliveries (Plugins/Webhook/README.md,
/// docs/webhooks.md). Settings:
///
/// ```yaml
/// plugins:
///   webhook:
///     url: https://alerts.example.org/vigil      # required
///     secret_file: /etc/vigil/webhook.secret     # required
///     batch: 1                                   # records per request
///     timeout_s: 10
///     format: record                             # or chat, with text: "[{priority}] {rule}: {message}"
///     headers: {Authorization: Bearer …}
/// ```
public struct Webhook: AlertSink {
  public let name = "webhook"

  public init() {}

  public func destination(settings: ConfigurationValue, node: String) throws(PluginSettingsError)
    -> any AlertDestination
  {
    WebhookDestination(settings: try WebhookSettings(settings), node: node)
  }

  /// The settings alone: a destination holds an HTTP client, which must be shut down.
  public func checkSettings(_ settings: ConfigurationValue, node: String) throws(PluginSettingsError) {
    _ = try WebhookSettings(settings)
  }
}
