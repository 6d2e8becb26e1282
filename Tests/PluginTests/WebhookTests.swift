import Foundation
import Testing
import VigilCore
import VigilTestSupport

@testable import VigilPlugins

/// The webhook sink without a network: its settings, the requests it builds (body,
/// signature, keys), the chat template, and how it reads an answer. A real receiver is in
/// Tests/VigilEndToEndTests/WebhookSinkTests.swift.
@Suite("The webhook sink: settings, requests, answers")
struct WebhookTests {
  /// A settings mapping of scalars (and `headers`, a mapping).
  static func settings(_ pairs: [(String, String)], headers: [(String, String)]? = nil) -> ConfigurationValue {
    var members = pairs.map { ConfigurationValue.Member(key: $0.0, value: .scalar($0.1)) }
    if let headers {
      members.append(.init(key: "headers", value: .mapping(headers.map { .init(key: $0.0, value: .scalar($0.1)) })))
    }
    return .mapping(members)
  }

  /// A directory with `secret` (holding "It is a secret\n") and `empty`.
  static func secrets() throws -> TemporaryDirectory {
    let directory = try TemporaryDirectory()
    try "It is a secret\n".write(toFile: directory.path + "/secret", atomically: true, encoding: .utf8)
    try "\n".write(toFile: directory.path + "/empty", atomically: true, encoding: .utf8)
    return directory
  }

  static func problem(_ settings: ConfigurationValue) -> String? {
    do {
      _ = try WebhookSettings(settings)
      return nil
    } catch {
      return error.description
    }
  }

  /// Each wrong setting, and the words its one sentence must hold. `SECRETS` stands for
  /// the directory of `secrets()`.
  static let wrongSettings: [(pairs: [(String, String)], says: String)] = [
    ([("secret_file", "SECRETS/secret")], "url is required"),
    ([("url", "ftp://example.org/x"), ("secret_file", "SECRETS/secret")], "url must be an http or https address"),
    ([("url", "not a url"), ("secret_file", "SECRETS/secret")], "url must be an http or https address"),
    ([("url", "http://127.0.0.1:99999/hook"), ("secret_file", "SECRETS/secret")], "url's port must be from 1 to 65535, got 99999"),
    ([("url", "http://127.0.0.1:65536/hook"), ("secret_file", "SECRETS/secret")], "url's port must be from 1 to 65535, got 65536"),
    ([("url", "http://127.0.0.1:0/hook"), ("secret_file", "SECRETS/secret")], "url's port must be from 1 to 65535, got 0"),
    ([("url", "http://alice:S3cret@example.org/x"), ("secret_file", "SECRETS/secret")], "url must not carry a user or password"),
    ([("url", "http://example.org/x"), ("secret_file", "SECRETS/secret"), ("format", "chat"), ("text", "")], "text must not be empty"),
    ([("url", "http://example.org/x")], "secret_file is required"),
    (
      [("url", "http://example.org/x"), ("secret_file", "SECRETS/missing")],
      "secret_file SECRETS/missing cannot be read (no such file): it must hold the secret"
    ),
    (
      [("url", "http://example.org/x"), ("secret_file", "SECRETS")],
      "secret_file SECRETS cannot be read (it is a directory): it must hold the secret"
    ),
    ([("url", "http://example.org/x"), ("secret_file", "SECRETS/empty")], "secret_file SECRETS/empty is empty"),
    (
      [("url", "http://example.org/x"), ("secret_file", "SECRETS/secret"), ("batch", "0")],
      "batch must be a whole number"
    ),
    (
      [("url", "http://example.org/x"), ("secret_file", "SECRETS/secret"), ("batch", "ten")],
      "batch must be a whole number"
    ),
    ([("url", "http://example.org/x"), ("secret_file", "SECRETS/secret"), ("timeout_s", "0")], "timeout_s must be"),
    ([("url", "http://example.org/x"), ("secret_file", "SECRETS/secret"), ("timeout_s", "301")], "timeout_s must be"),
    (
      [("url", "http://example.org/x"), ("secret_file", "SECRETS/secret"), ("format", "slack")], "format must be record"
    ),
    (
      [("url", "http://example.org/x"), ("secret_file", "SECRETS/secret"), ("format", "chat"), ("text", "{mesage}")],
      "text: {mesage} is not a placeholder"
    ),
    (
      [("url", "http://example.org/x"), ("secret_file", "SECRETS/secret"), ("format", "chat"), ("text", "{rule} {report-id}")],
      "text: {report-id} is not a placeholder"
    ),
    (
      [("url", "http://example.org/x"), ("secret_file", "SECRETS/secret"), ("format", "chat"), ("text", "{seq2}")],
      "text: {seq2} is not a placeholder"
    ),
    (
      [("url", "http://example.org/x"), ("secret_file", "SECRETS/secret"), ("format", "chat"), ("text", "[{ priority }]")],
      "text: { priority } is not a placeholder: write {priority}, without spaces"
    ),
    (
      [("url", "http://example.org/x"), ("secret_file", "SECRETS/secret"), ("format", "chat"), ("text", "({report id})")],
      "text: {report id} is not a placeholder: write {report_id}, without spaces"
    ),
    (
      [("url", "http://example.org/x"), ("secret_file", "SECRETS/secret"), ("format", "chat"), ("text", "{see below}")],
      "text: {see below} is not a placeholder (known:"
    ),
    // A format or other words after a placeholder's name (audit 50: they were sent as written).
    (
      [("url", "http://example.org/x"), ("secret_file", "SECRETS/secret"), ("format", "chat"), ("text", "#{seq:05d}")],
      "text: {seq:05d} is not a placeholder: a placeholder takes no format or other words; write {seq}"
    ),
    (
      [("url", "http://example.org/x"), ("secret_file", "SECRETS/secret"), ("format", "chat"), ("text", "{rule:upper}")],
      "text: {rule:upper} is not a placeholder: a placeholder takes no format or other words; write {rule}"
    ),
    (
      [("url", "http://example.org/x"), ("secret_file", "SECRETS/secret"), ("format", "chat"), ("text", "{priority!r} x")],
      "text: {priority!r} is not a placeholder: a placeholder takes no format"
    ),
    (
      [("url", "http://example.org/x"), ("secret_file", "SECRETS/secret"), ("format", "chat"), ("text", "{time:%H}")],
      "text: {time:%H} is not a placeholder"
    ),
    (
      [("url", "http://example.org/x"), ("secret_file", "SECRETS/secret"), ("format", "chat"), ("text", "{node,}")],
      "text: {node,} is not a placeholder"
    ),
    ([("url", "http://example.org/x"), ("secret_file", "SECRETS/secret"), ("text", "{message}")], "set format: chat"),
    (
      [("url", "http://example.org/x"), ("secret_file", "SECRETS/secret"), ("secret", "x")],
      "unknown setting secret (known: url, secret_file, batch, timeout_s, format, text, headers"
    ),
  ]

  @Test(arguments: wrongSettings.indices)
  func aWrongSettingIsOneSentenceNamingIt(_ index: Int) throws {
    let directory = try Self.secrets()
    let (pairs, says) = Self.wrongSettings[index]
    let settings = Self.settings(pairs.map { ($0.0, $0.1.replacingOccurrences(of: "SECRETS", with: directory.path)) })
    let problem = Self.problem(settings)
    let expected = says.replacingOccurrences(of: "SECRETS", with: directory.path)
    #expect(problem?.contains(expected) == true, "\(pairs): \(problem ?? "accepted")")
    #expect(problem?.contains("\n") != true)
  }

  @Test func headersThatVigilSetsCannotBeReplaced() throws {
    let directory = try Self.secrets()
    let base = [("url", "http://example.org/x"), ("secret_file", directory.path + "/secret")]
    #expect(
      Self.problem(Self.settings(base, headers: [("X-Vigil-Signature-256", "sha256=0")]))
        == "headers: X-Vigil-Signature-256 is set by Vigil on every request and cannot be replaced")
    #expect(Self.problem(Self.settings(base, headers: [("Bad Name", "x")])) == "headers: Bad Name is not a header name")
    // A line break in a value, however written (Swift's "\r\n" is one Character, neither
    // "\r" nor "\n"): refused at start, not failed at every delivery.
    // Other control characters too (the HTTP client refused them at every delivery, and
    // its error quoted the value, a token perhaps); a tab and non-ASCII letters are fine.
    for value in ["v\r\nX-Injected: 1", "v\nX", "v\rX", "Bearer 6f1c9a\u{01}", "a\0b", "a\u{7F}b"] {
      #expect(
        Self.problem(Self.settings(base, headers: [("X-A", value)]))
          == "headers: X-A must have one value on one line, without control characters")
    }
    #expect(Self.problem(Self.settings(base, headers: [("X-A", "a\tb é")])) == nil)
    #expect(Self.problem(.mapping([.init(key: "url", value: .sequence([]))])) == "url must be a single value")
    #expect(Self.problem(.scalar("")) == "the settings must be a mapping with url and secret_file")
  }

  @Test func defaultsAndTheSecretWithoutItsNewline() throws {
    let directory = try Self.secrets()
    let settings = try WebhookSettings(
      Self.settings(
        [("url", "https://chat.example.org/hooks/abc"), ("secret_file", directory.path + "/secret")],
        headers: [("Authorization", "Bearer t0ken")]))
    #expect(settings.secret == Array("It is a secret".utf8))
    #expect(settings.batch == 1)
    #expect(settings.timeoutSeconds == 10)
    #expect(settings.format == .record)
    #expect(settings.headers.map(\.name) == ["Authorization"])
    // A count may group its digits, as the configuration's own may.
    #expect(try Self.settings(in: directory, [("batch", "1_00")]).batch == 100)
    #expect(Self.problem(Self.settings([("url", "http://e.org/x"), ("secret_file", directory.path + "/secret"), ("batch", "_10")]))?.hasPrefix("batch must be") == true)
  }

  /// Computed independently: `python3 -c "import hmac,hashlib; print(hmac.new(b'key',
  /// b'The quick brown fox jumps over the lazy dog', hashlib.sha256).hexdigest())"` (also
  /// the example of HMAC's Wikipedia page), and the same for the record body below.
  @Test func theSignatureIsHMACSHA256OfTheBodyInLowercaseHex() {
    #expect(
      WebhookRequest.signature(of: Array("The quick brown fox jumps over the lazy dog".utf8), secret: Array("key".utf8))
        == "sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8")
    #expect(
      WebhookRequest.signature(
        of: Array(#"{"seq":7,"rule":"weapons.barrel_bomb"}"#.utf8), secret: Array("It is a secret".utf8))
        == "sha256=a3a7a6e902c4750babe0c71672dad12136a08a01b48f4ae737a0f3bc80487126")
  }

  static let line7 =
    #"{"seq":7,"time":"2026-11-29T03:43:07.498Z","rule":"weapons.barrel_bomb","priority":"critical","report_id":"SY-1","occurred_at":"2016-03-04T06:40:00+02:00","message":"Barrel bombs dropped in Darayya","basis":["ISSG ¶7","UNSCR 2139 OP3"],"tags":["indiscriminate_weapons"],"ruleset":"sha256:9f","prev":"75","hash":"53"}"#
  static let line9 =
    #"{"seq":9,"time":"2026-11-29T03:43:08.000Z","rule":"weapons.any_attack","priority":"low","report_id":"SY-2","occurred_at":"2016-03-04T06:40:00+02:00","message":"attack in \"Aleppo\"","basis":[],"tags":[],"ruleset":"sha256:9f","prev":"53","hash":"54"}"#

  static func settings(in directory: TemporaryDirectory, _ extra: [(String, String)]) throws -> WebhookSettings {
    try WebhookSettings(
      settings([("url", "http://127.0.0.1:9/hook"), ("secret_file", directory.path + "/secret")] + extra))
  }

  @Test func oneRecordIsItsLogLineSignedAndKeyedByNodeAndSeq() throws {
    let directory = try Self.secrets()
    let settings = try Self.settings(in: directory, [])
    let request = WebhookRequest(records: [RecordedAlert(seq: 7, line: Self.line7)], settings: settings, node: "east", secret: settings.secret)
    #expect(request.body == Array(Self.line7.utf8))
    let headers = Dictionary(uniqueKeysWithValues: request.headers.map { ($0.name, $0.value) })
    #expect(headers["Content-Type"] == "application/json")
    #expect(headers["User-Agent"] == "vigild")
    #expect(headers["X-Vigil-Node"] == "east")
    #expect(headers["Idempotency-Key"] == "east:7")
    #expect(headers["X-Vigil-Idempotency-Keys"] == nil)
    #expect(
      headers["X-Vigil-Signature-256"]
        == WebhookRequest.signature(of: request.body, secret: Array("It is a secret".utf8)))
  }

  @Test func aBatchIsAnArrayOfTheLinesWithEveryRecordsKey() throws {
    let directory = try Self.secrets()
    let settings = try Self.settings(in: directory, [("batch", "10")])
    let records = [RecordedAlert(seq: 7, line: Self.line7), RecordedAlert(seq: 9, line: Self.line9)]
    let request = WebhookRequest(records: records, settings: settings, node: "east", secret: settings.secret)
    #expect(request.body == Array("[\(Self.line7),\(Self.line9)]".utf8))
    let headers = Dictionary(uniqueKeysWithValues: request.headers.map { ($0.name, $0.value) })
    // Seqs that do not follow each other (a filter passed over 8): the range and a digest of
    // the seqs, so the key does not stand for 7, 8 and 9.
    let key = try #require(headers["Idempotency-Key"])
    #expect(key.hasPrefix("east:7-9+") && key.count == "east:7-9+".count + 16, "\(key)")
    func keyOf(_ seqs: [UInt64]) -> String? {
      let request = WebhookRequest(records: seqs.map { RecordedAlert(seq: $0, line: Self.line7) }, settings: settings, node: "east", secret: settings.secret)
      return Dictionary(uniqueKeysWithValues: request.headers.map { ($0.name, $0.value) })["Idempotency-Key"]
    }
    #expect(keyOf([7, 8, 9]) == "east:7-9")
    #expect(keyOf([7, 9]) == key, "the same records, the same key")
    #expect(keyOf([7, 8, 9, 12]) != keyOf([7, 9, 12]) && keyOf([7, 8, 9, 12])?.hasPrefix("east:7-12+") == true)
    #expect(headers["X-Vigil-Idempotency-Keys"] == "east:7,east:9")
    // One record in batch mode: still an array, and its key is the record's own.
    let one = WebhookRequest(records: [records[1]], settings: settings, node: "east", secret: settings.secret)
    #expect(one.body == Array("[\(Self.line9)]".utf8))
    #expect(one.headers.first { $0.name == "Idempotency-Key" }?.value == "east:9")
  }

  @Test func theChatTemplateFillsItsPlaceholdersFromTheRecord() throws {
    let template = try WebhookChatTemplate(WebhookSettings.defaultText)
    #expect(
      template.render(line: Self.line7, seq: 7, node: "east")
        == "[critical] weapons.barrel_bomb: Barrel bombs dropped in Darayya (ISSG ¶7; UNSCR 2139 OP3)")
    let every = try WebhookChatTemplate("{node}#{seq} {time} {report_id} {priority} {rule} {message} {basis}")
    #expect(
      every.render(line: Self.line9, seq: 9, node: "east")
        == #"east#9 2026-11-29T03:43:08.000Z SY-2 low weapons.any_attack attack in "Aleppo" "#)
    // Braces around no word, or not closed, are kept as written.
    #expect(
      try WebhookChatTemplate("{} {{rule}} {rule").render(line: Self.line9, seq: 9, node: "n")
        == "{} {weapons.any_attack} {rule")
  }

  /// A report's text cannot write chat markup: Slack's `<!channel>` and links, `&`, and
  /// Mattermost's `@here` reach the channel inert; the template's own words stay as written.
  @Test func aRecordsTextIsInertInAChat() throws {
    #expect(
      WebhookChatTemplate.inert("<!channel> <https://evil.example/login|OCHA portal> & @here, a@1")
        == "&lt;!channel&gt; &lt;https://evil.example/login|OCHA portal&gt; &amp; @\u{2060}here, a@1")
    let line = #"{"seq":3,"time":"2026-11-29T03:43:08.000Z","rule":"r.x","priority":"high","report_id":"A","message":"by <!here> @all","basis":[],"prev":"p","hash":"h"}"#
    #expect(try WebhookChatTemplate("<@U1> {message}").render(line: line, seq: 3, node: "n") == "<@U1> by &lt;!here&gt; @\u{2060}all")
    #expect(WebhookChatTemplate.inert("[OCHA portal](https://evil) ![](https://t/p) [a] (b)") == "[OCHA portal]\u{2060}(https://evil) ![]\u{2060}(https://t/p) [a] (b)")
    // A report's line breaks cannot start a line that looks like another alert, a heading
    // or a reference link's definition; nor can a reference link be written.
    #expect(
      WebhookChatTemplate.inert("Darayya\n:rotating_light: [critical] x\r\n# all clear\u{2028}[OCHA][1]\u{85}[1]: https://evil\t.")
        == "Darayya :rotating_light: [critical] x  # all clear [OCHA]\u{2060}[1] [1]: https://evil .")
    // An override or isolate cannot turn the rest of the message around.
    #expect(WebhookChatTemplate.inert("Air Force\u{202E} \u{2066}x\u{2069}\u{202A}") == "Air Force\u{2423} \u{2423}x\u{2423}\u{2423}")
    // Braces that hold no word stay text.
    #expect(try WebhookChatTemplate("{} { } {\"a\": 1} {1x}").render(line: "{}", seq: 1, node: "n") == "{} { } {\"a\": 1} {1x}")
    // A report's text that starts a line of the message (the template's first words, or
    // after its own line break) cannot start a heading, a list, a quote, code or a link's
    // definition there: a word joiner comes first (audit 50). A batch joins its texts
    // with line breaks, so each of them starts a line.
    let message = { (text: String) in
      #"{"seq":3,"time":"2026-11-29T03:43:08.000Z","rule":"r.x","priority":"high","report_id":"A","message":"\#(text)","basis":[],"prev":"p","hash":"h"}"#
    }
    for text in ["# BIG", "- item", "[the portal]: https://evil.example/x", "1. first", "> quote", "    code", "* x"] {
      let inert = WebhookChatTemplate.inert(text)  // "> quote" is "&gt; quote"
      #expect(try WebhookChatTemplate("{message}").render(line: message(text), seq: 3, node: "n") == "\u{2060}" + inert)
      #expect(try WebhookChatTemplate("Alert:\n{message}").render(line: message(text), seq: 3, node: "n") == "Alert:\n\u{2060}" + inert)
      #expect(try WebhookChatTemplate("Alert: {message}").render(line: message(text), seq: 3, node: "n") == "Alert: " + inert)
      #expect(try WebhookChatTemplate("Alert:\r\n{message}").render(line: message(text), seq: 3, node: "n") == "Alert:\r\n\u{2060}" + inert)
    }
    #expect(try WebhookChatTemplate("{message}").render(line: message("Barrel bombs"), seq: 3, node: "n") == "Barrel bombs")
    #expect(try WebhookChatTemplate("{message}").render(line: message("قصف"), seq: 3, node: "n") == "قصف")
  }

  @Test func aChatBodyIsTextJSONWithOneLinePerRecord() throws {
    let directory = try Self.secrets()
    let settings = try Self.settings(
      in: directory, [("format", "chat"), ("text", "{rule}: {message}"), ("batch", "2")])
    let request = WebhookRequest(
      records: [RecordedAlert(seq: 7, line: Self.line7), RecordedAlert(seq: 9, line: Self.line9)], settings: settings,
      node: "east", secret: settings.secret)
    #expect(
      String(decoding: request.body, as: UTF8.self)
        == #"{"text":"weapons.barrel_bomb: Barrel bombs dropped in Darayya\nweapons.any_attack: attack in \"Aleppo\""}"#
    )
  }

  @Test func retryAfterInSecondsOrAsAnHTTPDate() {
    let now = Date(timeIntervalSince1970: 784_111_777)  // Sun, 06 Nov 1994 08:49:37 GMT
    #expect(WebhookRetryAfter.seconds(in: "120", now: now) == 120)
    #expect(WebhookRetryAfter.seconds(in: " 0 ", now: now) == 0)
    #expect(WebhookRetryAfter.seconds(in: "Sun, 06 Nov 1994 08:50:07 GMT", now: now) == 30)
    #expect(WebhookRetryAfter.seconds(in: "Sunday, 06-Nov-94 08:50:37 GMT", now: now) == 60)
    #expect(WebhookRetryAfter.seconds(in: "Sun Nov  6 08:51:37 1994", now: now) == 120)
    #expect(WebhookRetryAfter.seconds(in: "Sat, 05 Nov 1994 08:49:37 GMT", now: now) == 0, "a date past is no wait")
    #expect(WebhookRetryAfter.seconds(in: "-5", now: now) == nil)
    #expect(WebhookRetryAfter.seconds(in: "soon", now: now) == nil)
  }

  @Test func anAnswerIsDeliveredRetriedOrRefused() {
    let verdict = { (status: Int, retryAfter: String?) in
      WebhookVerdict.of(status: status, retryAfter: retryAfter, body: Array("no\nthanks".utf8), receiver: "h:1")
    }
    #expect(verdict(200, nil) == .delivered)
    #expect(verdict(204, nil) == .delivered)
    #expect(verdict(503, "7") == .retry(reason: "the webhook at h:1 answered HTTP 503: no thanks", after: 7))
    #expect(verdict(429, "2") == .retry(reason: "the webhook at h:1 answered HTTP 429: no thanks", after: 2))
    #expect(verdict(500, "7") == .retry(reason: "the webhook at h:1 answered HTTP 500: no thanks", after: nil))
    #expect(verdict(408, nil) == .retry(reason: "the webhook at h:1 answered HTTP 408: no thanks", after: nil))
    #expect(verdict(400, nil) == .refused(reason: "HTTP 400: no thanks"))
    #expect(verdict(404, "5") == .refused(reason: "HTTP 404: no thanks"))
    // Its lines joined; an escape sequence shown for what it is, not as a space.
    #expect(
      WebhookVerdict.of(status: 400, retryAfter: nil, body: Array("unknown rule\n\tsecond \u{1B}[31mred".utf8), receiver: "h:1")
        == .refused(reason: "HTTP 400: unknown rule  second \u{FFFD}[31mred"))
    #expect(verdict(301, nil) == .refused(reason: "HTTP 301: no thanks (a redirect, which is not followed: set url to the address it points at)"))
    let long = WebhookVerdict.of(
      status: 422, retryAfter: nil, body: Array(repeating: UInt8(ascii: "x"), count: 500), receiver: "h")
    #expect(long == .refused(reason: "HTTP 422: " + String(repeating: "x", count: 200)))
  }

  @Test func theSinkIsNamedWebhookAndRefusesBadSettingsAtStart() throws {
    #expect(Webhook().name == "webhook")
    #expect(throws: PluginSettingsError.self) { try Webhook().destination(settings: .mapping([]), node: "n") }
  }
}

/// A wait a receiver asked for, as status shows it: whole seconds, or a tenth below ten.
@Suite("A destination's wait, as status says it")
struct RetryLaterTextTests {
  @Test(arguments: [(8.42184054851532, "8.4"), (100_000.0, "100000"), (5.0, "5"), (0.25, "0.3"), (12.6, "13"), (9.96, "10"), (9.94, "9.9")])
  func theWaitIsShownRounded(seconds: Double, shown: String) {
    #expect(RetryLater(seconds: seconds, reason: "answered HTTP 429").description == "answered HTTP 429 (asked to wait \(shown) s)")
  }
}
