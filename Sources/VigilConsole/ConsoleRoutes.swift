import Foundation
import HTTPTypes
import Hummingbird
import NIOPosix
import VigilCore
import VigilServer

/// The console's routes (docs/console.md, "Pages" and "The JSON API").
struct ConsoleRoutes {
  let views: ConsoleViews
  let access: ConsoleAccess
  let live: LiveStreams
  let daemon: RequestResponder
  let index: AlertIndex

  /// The longest sign-in form read (`POST /login`).
  static let signInFormLimit = 4096

  func register(on router: Router<BasicRequestContext>) {
    router.get("/") { request, _ in
      try await offloaded { try page { html(views.overviewPage(period: try period(request))) } }
    }
    router.get("/alerts") { request, _ in
      try await offloaded { try page { html(views.alertsPage(try AlertQueryParameters.query(from: query(of: request)))) } }
    }
    router.get("/alerts/{seq}") { _, context in
      guard let seq = seqParameter(context.parameters.get("seq")), let page = views.alertPage(seq: seq) else {
        return notFound(page: true)
      }
      return html(page)
    }
    router.get("/rules") { _, _ in html(views.rulesPage()) }
    router.get("/health") { _, _ in html(views.healthPage()) }
    router.get("/login") { request, _ in
      let next = SignInReturn.path((try? query(of: request))?.first { $0.0 == "next" }?.1)
      return html(views.loginPage(failed: false, required: access.required, next: next))
    }
    router.post("/login") { request, _ in
      var request = request
      let body: ByteBuffer
      do {
        body = try await request.collectBody(upTo: Self.signInFormLimit)
      } catch {
        // Said, as every other refusal is (audit 51: a bare 413).
        throw BadParameter(
          message: "the sign-in form is longer than \(Self.signInFormLimit) bytes; it holds a token and the page to return to",
          status: .contentTooLarge)
      }
      let form = (try? AlertQueryParameters.pairs(String(buffer: body))) ?? []
      let next = SignInReturn.path(form.first { $0.0 == "next" }?.1)
      guard access.matches(form.first { $0.0 == "token" }?.1 ?? "") else {
        var response = html(views.loginPage(failed: true, required: access.required, next: next))
        response.status = .unauthorized
        // Every 401 names its scheme (RFC 9110 §11.6.1), this one too.
        response.headers[.wwwAuthenticate] = "Bearer realm=\"vigil\""
        return response
      }
      var headers = HTTPFields()
      headers[.location] = next ?? "/"
      if access.required { headers[.setCookie] = access.sessionCookie }
      return Response(status: .seeOther, headers: headers)
    }
    router.get("/assets/console.css") { _, _ in
      asset(ConsoleAssets.stylesheet, type: "text/css; charset=utf-8")
    }
    router.get("/assets/console.js") { _, _ in
      asset(ConsoleAssets.script, type: "text/javascript; charset=utf-8")
    }
    router.get("/api/alerts") { request, _ in
      let alertQuery = try AlertQueryParameters.query(from: query(of: request))
      return try await offloaded { json(views.alertsJSON(alertQuery)) }
    }
    router.get("/api/alerts/{seq}") { _, context in
      let given = context.parameters.get("seq") ?? ""
      guard let seq = seqParameter(given) else {
        throw BadParameter(message: "seq: expected a record's seq, a whole number from 1, got \(given.prefix(40))")
      }
      guard let body = views.alertJSON(seq: seq) else { return notFound(page: false) }
      return json(body)
    }
    router.get("/api/status") { _, _ in json(daemon.statusJSON()) }
    router.get("/api/rules") { _, _ in json(views.rulesJSON()) }
    router.get("/api/overview") { request, _ in
      let period = try period(request)
      return try await offloaded { json(views.overviewJSON(period: period)) }
    }
    router.get("/api/events") { request, _ in
      let pairs = try query(of: request)
      // A stream sends what comes after `after`, oldest first: no page of it (`limit`, a
      // page's size, is let through and means nothing here: a list page's link carries it).
      for (key, value) in pairs where key == "before" && !value.isEmpty {
        throw BadParameter(message: "\(key): /api/events sends every record after `after` as it comes; /api/alerts pages")
      }
      // Read with the rest, so that one that cannot be read is refused (audit 51), as on
      // /api/alerts; its value means nothing to a stream.
      var query = try AlertQueryParameters.query(from: pairs)
      let snapshot = index.snapshot()
      let newest = snapshot.building ? nil : snapshot.newestSeq ?? 0
      if let after = query.after, let newest, after > newest {
        throw BadParameter(message: "after: \(after) is past the newest record (\(newest)); nothing would come until it")
      }
      // A browser reconnecting says the last event it had (from a log since replaced, it
      // may be past the newest: it then gets what comes).
      if let last = request.headers[HTTPField.Name("Last-Event-ID")!].flatMap({ UInt64($0) }) {
        query.after = max(query.after ?? 0, min(last, newest ?? last))
      }
      return live.response(daemon: daemon, index: index, query: query, directions: views.directions)
    }
    router.get("/metrics") { _, _ in
      views.refreshGauges()
      var headers = HTTPFields()
      headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
      return Response(
        status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: daemon.metrics.exposition())))
    }
  }

  /// Work that may take long — a text search over a million records, an overview — on
  /// NIO's blocking pool, not on the threads that answer every request: two searches at
  /// once held the two cores' threads, and `/metrics` and the live streams waited for them.
  private func offloaded(_ make: @escaping @Sendable () throws -> Response) async throws -> Response {
    try await NIOThreadPool.singleton.runIfActive(make)
  }

  /// A page, or — for a parameter it cannot read — a page saying which and why (400).
  private func page(_ make: () throws -> Response) rethrows -> Response {
    do {
      return try make()
    } catch let bad as BadParameter {
      var response = html(
        HTML.page(
          title: "Bad request", current: "", node: daemon.nodeName,
          body: "<h1>400: this page cannot be shown</h1><p id=\"bad-parameter\">\(HTML.escape(bad.message))</p>"
            + "<p><a href=\"/alerts\">All alerts</a> · <a href=\"/\">Overview</a></p>", script: false))
      response.status = .badRequest
      return response
    }
  }

  private func query(of request: Request) throws(BadParameter) -> [(String, String)] {
    try AlertQueryParameters.pairs(request.uri.query ?? "")
  }

  private func period(_ request: Request) throws -> OverviewPeriod {
    // Ending at the newest incident that is not in the future: one report dated 2099 must
    // not move the default period to today, past every real incident.
    let today = Int(Date().timeIntervalSince1970 / 86_400)
    let newestDay = index.snapshot().newestIncidentDay(notAfter: today)
    return try AlertQueryParameters.period(
      from: try query(of: request), newestIncidentMs: newestDay.map { Int64($0) * 86_400_000 })
  }
}

func html(_ page: String) -> Response {
  var headers = HTTPFields()
  headers[.contentType] = "text/html; charset=utf-8"
  return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: page)))
}

func json(_ text: String) -> Response {
  var headers = HTTPFields()
  headers[.contentType] = "application/json"
  return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
}

private func asset(_ text: String, type: String) -> Response {
  var headers = HTTPFields()
  headers[.contentType] = type
  return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
}

/// A record's seq from its path segment, percent-decoded (`%31` is 1).
private func seqParameter(_ segment: String?) -> UInt64? {
  guard let text = segment?.removingPercentEncoding, !text.isEmpty, text.allSatisfy({ $0.isASCII && $0.isNumber })
  else { return nil }
  // A whole number past 64 bits is a seq no record has (404), not a malformed one (400).
  return UInt64(text) ?? .max
}

private func notFound(page: Bool) -> Response {
  var response =
    page
    ? html(
      HTML.page(title: "Not found", current: "", node: "", body: "<h1>404: no such record in the console's index</h1>"))
    : json("{\"ok\":false,\"error\":{\"code\":\"not_found\",\"message\":\"no such record in the console's index\"}}\n")
  response.status = .notFound
  return response
}

/// A filter the user got wrong: 400, saying which and why.
struct BadParameter: Error, HTTPResponseError {
  let message: String
  /// 400, or 413 for a body too long to read.
  var status: HTTPResponse.Status = .badRequest
  func response(from request: Request, context: some RequestContext) throws -> Response {
    let code = status == .contentTooLarge ? "too_large" : "invalid_request"
    var response = json(
      "{\"ok\":false,\"error\":{\"code\":\"\(code)\",\"message\":\(JSONText.string(message))}}\n")
    response.status = status
    return response
  }
}
