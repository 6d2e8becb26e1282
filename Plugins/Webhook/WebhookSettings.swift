import Foundation
import VigilCore

/// The webhook sink's settings, read and checked at start (Plugins/Webhook/README.md). The
/// filters `min_priority`, `rules` and `tags` never reach it: Vigil applies them itself.
struct WebhookSettings {
  /// What a request's body holds.
  enum Format: Equatable {
    /// The records' alert-log lines, byte for byte, so a receiver can check the hash chain.
    case record
    /// `{"text": …}` for chat tools, rendered from the template.
    case chat(WebhookChatTemplate)
  }

  let url: URL
  /// The file holding the HMAC-SHA256 key each body is signed with: read again for each
  /// delivery, so a secret changed on both sides needs no restart (docs/webhooks.md).
  let secretFile: String
  /// The key as the file held it at start (checked then, so a missing one stops vigild).
  let secret: [UInt8]
  /// Records per request; above 1, the body is a JSON array.
  let batch: Int
  let timeoutSeconds: Double
  let format: Format
  /// Extra headers, in the order written (an `Authorization`, say).
  let headers: [(name: String, value: String)]

  static let knownKeys = ["url", "secret_file", "batch", "timeout_s", "format", "text", "headers"]
  static let defaultText = "[{priority}] {rule}: {message} ({basis})"
  static let longestTimeout = 300.0

  /// The headers Vigil sets on every request: a setting may not replace them, or a receiver
  /// could no longer trust the signature and keys.
  static let reservedHeaders: Set<String> = [
    "content-type", "content-length", "host", "user-agent", "x-vigil-node", "x-vigil-signature-256",
    "idempotency-key", "x-vigil-idempotency-keys",
  ]

  /// Reads `settings`; a problem is one sentence naming the setting.
  init(_ settings: ConfigurationValue) throws(PluginSettingsError) {
    guard case .mapping(let members) = settings else {
      throw PluginSettingsError("the settings must be a mapping with url and secret_file")
    }
    var url: URL?
    var secretFile: String?
    var batch = 1
    var timeout = 10.0
    var formatName = "record"
    var text: String?
    var headers: [(name: String, value: String)] = []
    // Every problem is said at once: each setting is read on its own.
    var problems: [PluginSettingsError] = []
    for member in members {
      do throws(PluginSettingsError) {
      switch (member.key, member.value) {
      case ("url", .scalar(let value)): url = try Self.url(value)
      case ("secret_file", .scalar(let value)):
        guard !value.isEmpty else { throw PluginSettingsError("secret_file is empty: name the file that holds the secret") }
        secretFile = value
      case ("batch", .scalar(let value)):
        guard let count = SettingNumber.whole(value), count >= 1, count <= 500 else {
          throw PluginSettingsError("batch must be a whole number of records per request from 1 to 500, got \(value)")
        }
        batch = count
      case ("timeout_s", .scalar(let value)):
        guard let seconds = Double(value), seconds > 0, seconds <= Self.longestTimeout else {
          throw PluginSettingsError("timeout_s must be a number of seconds above 0 and at most 300, got \(value)")
        }
        timeout = seconds
      case ("format", .scalar(let value)):
        guard value == "record" || value == "chat" else {
          throw PluginSettingsError("format must be record (the alert-log lines) or chat ({\"text\": …}), got \(value)")
        }
        formatName = value
      case ("text", .scalar(let value)):
        guard !value.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
          throw PluginSettingsError("text must not be empty: it is the chat message, such as \(Self.defaultText)")
        }
        text = value
      case ("headers", .mapping(let pairs)): headers = try Self.headers(pairs)
      case ("headers", _):
        throw PluginSettingsError(
          "headers must be a mapping of header name to value, such as {Authorization: Bearer …}")
      case ("url", _), ("secret_file", _), ("batch", _), ("timeout_s", _), ("format", _), ("text", _):
        throw PluginSettingsError("\(member.key) must be a single value")
      default:
        throw PluginSettingsError(
          "unknown setting \(member.key) (known: \(Self.knownKeys.joined(separator: ", ")), and min_priority, rules, tags)"
        )
      }
      } catch {
        problems.append(error)
      }
    }
    if url == nil, !members.contains(where: { $0.key == "url" }) {
      problems.append(PluginSettingsError("url is required: the http or https address alerts are posted to"))
    }
    if secretFile == nil, !members.contains(where: { $0.key == "secret_file" }) {
      problems.append(PluginSettingsError("secret_file is required: the file holding the secret each request is signed with"))
    }
    var format = Format.record
    do throws(PluginSettingsError) {
      switch (formatName, text) {
      case ("chat", let text): format = .chat(try WebhookChatTemplate(text ?? Self.defaultText))
      case (_, .some): throw PluginSettingsError("text is the template of format chat; set format: chat, or remove text")
      default: break
      }
    } catch {
      problems.append(error)
    }
    var secret: [UInt8] = []
    if let secretFile {
      do throws(PluginSettingsError) {
        secret = try Self.secret(in: secretFile)
      } catch {
        problems.append(error)
      }
    }
    if let problem = PluginSettingsError.together(problems) { throw problem }
    guard let url, let secretFile else { throw PluginSettingsError("url and secret_file are required") }
    self.format = format
    self.url = url
    self.secretFile = secretFile
    self.secret = secret
    self.batch = batch
    timeoutSeconds = timeout
    self.headers = headers
  }

  private static func url(_ text: String) throws(PluginSettingsError) -> URL {
    guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
      let host = url.host, !host.isEmpty
    else {
      throw PluginSettingsError(
        "url must be an http or https address such as https://chat.example.org/hooks/abc, got \(text)")
    }
    // ConnectionTarget takes the port as a UInt16: above 65535 it stopped vigild at the
    // first delivery (and at every start after it, the record still to be sent).
    if let port = url.port, !(1...65535).contains(port) {
      throw PluginSettingsError("url's port must be from 1 to 65535, got \(port)")
    }
    // A user or password in the address is not sent (the client takes no credentials from
    // it): refused, and not repeated, since it holds a password.
    guard url.user == nil, url.password == nil else {
      throw PluginSettingsError(
        "url must not carry a user or password: they would not be sent; give them in headers instead "
          + "(Authorization: Basic …, or the token the receiver asks for)")
    }
    return url
  }

  /// The secret as the file holds it now.
  func currentSecret() throws(PluginSettingsError) -> [UInt8] {
    try Self.secret(in: secretFile)
  }

  /// The file's bytes without the line ends an editor leaves at the end.
  static func secret(in path: String) throws(PluginSettingsError) -> [UInt8] {
    guard case .success(var bytes) = SettingsFile.read(path) else {
      throw .unreadable(
        "secret_file \(path) cannot be read", path: path, purpose: "it must hold the secret requests are signed with")
    }
    while let last = bytes.last, last == UInt8(ascii: "\n") || last == UInt8(ascii: "\r") { bytes.removeLast() }
    guard !bytes.isEmpty else {
      throw PluginSettingsError("secret_file \(path) is empty: it must hold the secret requests are signed with")
    }
    return bytes
  }

  private static func headers(
    _ pairs: [ConfigurationValue.Member]
  ) throws(PluginSettingsError) -> [(name: String, value: String)] {
    var headers: [(name: String, value: String)] = []
    for pair in pairs {
      // RFC 9110's token characters; a value may not break the header block.
      let token = CharacterSet(charactersIn: "!#$%&'*+-.^_`|~0123456789").union(
        CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"))
      guard !pair.key.isEmpty, pair.key.unicodeScalars.allSatisfy(token.contains) else {
        throw PluginSettingsError("headers: \(pair.key) is not a header name")
      }
      guard !reservedHeaders.contains(pair.key.lowercased()) else {
        throw PluginSettingsError("headers: \(pair.key) is set by Vigil on every request and cannot be replaced")
      }
      // A control character (but a tab) is no part of a header's value (RFC 9110 §5.5):
      // the HTTP client refuses to send one, and would at every delivery.
      guard case .scalar(let value) = pair.value,
        !value.unicodeScalars.contains(where: { ($0.value < 0x20 && $0 != "\t") || $0.value == 0x7F })
      else {
        throw PluginSettingsError("headers: \(pair.key) must have one value on one line, without control characters")
      }
      headers.append((pair.key, value))
    }
    return headers
  }
}
