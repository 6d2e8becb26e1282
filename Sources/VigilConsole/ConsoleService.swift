import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOConcurrencyHelpers
import NIOCore
import ServiceLifecycle
import VigilCore
import VigilServer

/// The console (docs/console.md): vigild's read-only web view of alerts, rules and health,
/// its JSON API and `/metrics`, on Hummingbird, as one part of the daemon's service group.
/// When it cannot listen (the address is taken), it says so — the error log, `status`, the
/// `vigil_console_serving` metric — and the daemon goes on serving the socket.
public struct ConsoleService: Service, CustomStringConvertible {
  let server: Daemon
  let address: HTTPAddress
  let access: ConsoleAccess
  let stateDirectory: String
  let log: Logger
  let live: LiveStreams
  let connections: ConsoleConnectionLimit.Count
  let idleTimeout: TimeAmount

  public var description: String { "console" }

  public init(server: Daemon, configuration: DaemonConfiguration, access: ConsoleAccess, log: Logger) {
    self.server = server
    address = configuration.http.listen ?? .standard
    self.access = access
    stateDirectory = configuration.stateDirectory
    self.log = log
    live = LiveStreams()
    let metrics = server.responder.metrics
    connections = ConsoleConnectionLimit.Count(limit: configuration.http.maxConnections) {
      metrics.consoleConnectionRefused()
    }
    idleTimeout = .milliseconds(Int64(configuration.http.idleSeconds * 1000))
  }

  public func run() async throws {
    guard let index = server.alertIndex else { return }
    let daemon = server.responder
    let directions = MessageDirections(daemon: daemon)
    let views = ConsoleViews(daemon: daemon, index: index, stateDirectory: stateDirectory, directions: directions)
    // HEAD answers as GET does, without the body.
    let router = Router(context: BasicRequestContext.self, options: .autoGenerateHeadEndpoints)
    router.add(middleware: ConsoleGuard(access: access))
    ConsoleRoutes(views: views, access: access, live: live, daemon: daemon, index: index).register(on: router)
    var quiet = Logger(label: "vigild.console")
    quiet.logLevel = .warning
    let address = self.address
    let connections = self.connections
    let app = Application(
      router: router,
      server: .http1(
        configuration: .init(
          additionalChannelHandlers: [ConsoleConnectionLimit(connections), HTTP10Connections.Installer()],
          idleTimeout: idleTimeout)),
      configuration: ApplicationConfiguration(address: .hostname(address.host, port: address.port), serverName: nil),
      onServerRunning: { _ in
        daemon.console.set(.serving(address))
        daemon.metrics.set("vigil_console_serving", help: "1 when the console is served, 0 when it is not.", to: 1)
      },
      logger: quiet)
    daemon.metrics.set("vigil_console_serving", help: "1 when the console is served, 0 when it is not.", to: 0)
    do {
      try await withGracefulShutdownHandler {
        try await app.run()
      } onGracefulShutdown: {
        live.finishAll()
      }
    } catch {
      let reason = Self.describe(error)
      daemon.console.set(.failed(address, reason: reason))
      log.error("the console is NOT served: cannot listen on \(address): \(reason); the socket is served all the same")
      // The rest of the daemon runs on; this part waits for the stop like the others.
      try? await gracefulShutdown()
    }
  }

  static func describe(_ error: any Error) -> String {
    let text = "\(error)"
    if text.contains("Address already in use") || text.contains("EADDRINUSE") || text.contains("errno: 98") {
      return "the address is already in use (another program listens there)"
    }
    return text
  }
}

/// Every response's protections, read-only methods, and the access check.
struct ConsoleGuard: RouterMiddleware {
  typealias Context = BasicRequestContext
  let access: ConsoleAccess

  static let securityHeaders: [(HTTPField.Name, String)] = [
    (
      .contentSecurityPolicy,
      "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        + "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    (.xContentTypeOptions, "nosniff"),
    (HTTPField.Name("X-Frame-Options")!, "DENY"),
    (HTTPField.Name("Referrer-Policy")!, "no-referrer"),
    (.cacheControl, "no-store"),
  ]

  func handle(
    _ request: Request, context: Context, next: (Request, Context) async throws -> Response
  ) async throws -> Response {
    var response: Response
    do {
      response = try await decide(request, context: context, next: next)
    } catch let error as HTTPError where error.status == .notFound {
      // A path that is no route: said in the API's JSON, or as a page.
      response = Self.noSuchPath(request.uri.path)
    } catch let error as any HTTPResponseError {
      // A refused parameter: protected like the rest.
      response = try error.response(from: request, context: context)
    }
    for (name, value) in Self.securityHeaders where response.headers[name] == nil {
      response.headers[name] = value
    }
    return response
  }

  static func noSuchPath(_ path: String) -> Response {
    var response: Response
    if path.hasPrefix("/api/") {
      response = json(
        "{\"ok\":false,\"error\":{\"code\":\"not_found\",\"message\":\(JSONText.string("no such path: " + path.prefix(200)))}}\n")
    } else {
      response = html(
        HTML.page(title: "Not found", current: "", node: "", body: "<h1>404: no such page</h1><p><a href=\"/\">The overview</a></p>"))
    }
    response.status = .notFound
    return response
  }

  private func decide(
    _ request: Request, context: Context, next: (Request, Context) async throws -> Response
  ) async throws -> Response {
    let path = request.uri.path
    let isLogin = path == "/login"
    switch request.method {
    case .get, .head: break
    case .post where isLogin: break
    default:
      var headers = HTTPFields()
      headers[.allow] = isLogin ? "GET, HEAD, POST" : "GET, HEAD"
      let sentence = "the console is read-only (GET and HEAD only\(isLogin ? ", and POST to sign in" : ""))"
      // As the API's other errors are, under /api/.
      let isAPI = path == "/api" || path.hasPrefix("/api/")
      let body =
        isAPI
        ? "{\"ok\":false,\"error\":{\"code\":\"method_not_allowed\",\"message\":\(JSONText.string(sentence))}}\n"
        : "405: \(sentence)\n"
      headers[.contentType] = isAPI ? "application/json" : "text/plain; charset=utf-8"
      return Response(status: .methodNotAllowed, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
    }
    if !access.admits(host: request.head.authority) {
      var headers = HTTPFields()
      let sentence =
        "this console is open to this machine only: it answers requests addressed to it by a loopback name "
        + "(127.0.0.1, localhost or [::1])\(ConsoleAccess.hostName.map { " or by this machine's name, \($0)" } ?? ""), "
        + "not to \(request.head.authority ?? "")"
      // As the API's other errors are, under /api/.
      let isAPI = path == "/api" || path.hasPrefix("/api/")
      headers[.contentType] = isAPI ? "application/json" : "text/plain; charset=utf-8"
      let body =
        isAPI
        ? "{\"ok\":false,\"error\":{\"code\":\"forbidden\",\"message\":\(JSONText.string(sentence))}}\n"
        : "403: \(sentence)\n"
      return Response(status: .forbidden, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
    }
    let open = isLogin || path.hasPrefix("/assets/")
    if !open,
      !access.admits(
        authorization: request.headers[.authorization], cookie: request.headers[values: .cookie].joined(separator: "; ")
      )
    {
      var headers = HTTPFields()
      headers[.wwwAuthenticate] = "Bearer realm=\"vigil\""
      let wantsPage = !path.hasPrefix("/api/") && path != "/metrics"
      headers[.contentType] = wantsPage ? "text/html; charset=utf-8" : "application/json"
      let body =
        wantsPage
        ? HTML.page(
          title: "Sign in", current: "", node: "",
          body: "<h1>401: sign in</h1><p>This console needs its access token. <a href=\""
            + HTML.escape(SignInReturn.link(from: request.uri.description)) + "\">Sign in</a>.</p>",
          script: false)
        : "{\"ok\":false,\"error\":{\"code\":\"unauthorized\",\"message\":\"this console needs its access token: Authorization: Bearer <token>\"}}\n"
      return Response(status: .unauthorized, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
    }
    return try await next(request, context)
  }
}
