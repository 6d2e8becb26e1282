import Foundation

/// A blocking HTTP/1.1 client of the console on 127.0.0.1, over a plain POSIX socket, so the
/// tests read exactly what the daemon sent (no URLSession cache, redirects or header
/// merging). One request per connection (`Connection: close`), read to the end.
public struct HTTPTestClient: Sendable {
  public let port: Int
  /// How long a request may take, connection to the last byte.
  public let timeout: TimeInterval

  public typealias Response = (status: Int, headers: [String: String], body: String)

  public init(port: Int, timeout: TimeInterval = 30) {
    self.port = port
    self.timeout = timeout
  }

  /// Sends one request and reads the response to its end. Header names come back lower-cased;
  /// a header sent several times comes back as its values joined by `, `. A chunked body is
  /// decoded; a HEAD response's body is whatever followed the headers (there should be none).
  public func request(
    method: String = "GET", path: String, headers: [String: String] = [:], body: String? = nil
  ) throws -> Response {
    let connection = try TCPConnection(port: port)
    try connection.send(Array(Self.requestText(method: method, path: path, headers: headers, body: body).utf8))
    var raw = connection.readToEnd(deadline: Date().addingTimeInterval(timeout))
    guard let head = Self.headEnd(in: raw) else {
      throw HTTPTestError(
        "\(method) \(path): no complete response head within \(timeout) s: \(String(decoding: raw, as: UTF8.self).prefix(200))"
      )
    }
    let (status, fields) = try Self.parseHead(Array(raw[..<head.lowerBound]))
    raw.removeSubrange(..<head.upperBound)
    var payload = raw
    if method != "HEAD" {
      if fields["transfer-encoding"]?.lowercased().contains("chunked") == true {
        var decoder = ChunkedDecoder()
        decoder.feed(raw)
        guard decoder.finished else { throw HTTPTestError("\(method) \(path): the chunked body ended early") }
        payload = decoder.decoded
      } else if let length = fields["content-length"].flatMap(Int.init) {
        guard raw.count >= length else {
          throw HTTPTestError("\(method) \(path): \(raw.count) of \(length) body bytes came")
        }
        payload = Array(raw.prefix(length))
      }
    }
    return (status, fields, String(decoding: payload, as: UTF8.self))
  }

  /// A GET whose body is JSON; the parsed value and the response.
  public func json(_ path: String, headers: [String: String] = [:]) throws -> (value: Any, response: Response) {
    let response = try request(path: path, headers: headers)
    do {
      return (try JSONSerialization.jsonObject(with: Data(response.body.utf8), options: [.fragmentsAllowed]), response)
    } catch {
      throw HTTPTestError("GET \(path): status \(response.status), not JSON: \(response.body.prefix(300))")
    }
  }

  /// Opens a stream of server-sent events (`/api/events`): sends the GET and reads the
  /// response head; the events are then read with `EventStream.nextEvent`.
  public func events(_ path: String, headers: [String: String] = [:]) throws -> EventStream {
    try EventStream(port: port, path: path, headers: headers, deadline: Date().addingTimeInterval(timeout))
  }

  static func requestText(method: String, path: String, headers: [String: String], body: String?) -> String {
    // `Host: 127.0.0.1` unless the request names its own.
    let host = headers.keys.contains { $0.lowercased() == "host" } ? [] : ["Host: 127.0.0.1"]
    var lines = ["\(method) \(path) HTTP/1.1"] + host + ["Connection: close"]
    for (name, value) in headers.sorted(by: { $0.key < $1.key }) { lines.append("\(name): \(value)") }
    if let body { lines.append("Content-Length: \(body.utf8.count)") }
    return lines.joined(separator: "\r\n") + "\r\n\r\n" + (body ?? "")
  }

  /// Where the head ends: the range of its blank line.
  static func headEnd(in bytes: [UInt8]) -> Range<Int>? {
    let blank: [UInt8] = [13, 10, 13, 10]
    guard bytes.count >= 4 else { return nil }
    for index in 0...(bytes.count - 4) where bytes[index] == 13 && Array(bytes[index..<index + 4]) == blank {
      return index..<index + 4
    }
    return nil
  }

  static func parseHead(_ bytes: [UInt8]) throws -> (Int, [String: String]) {
    let lines = String(decoding: bytes, as: UTF8.self).components(separatedBy: "\r\n")
    let statusParts = lines[0].split(separator: " ", maxSplits: 2)
    guard statusParts.count >= 2, statusParts[0].hasPrefix("HTTP/1."), let status = Int(statusParts[1]) else {
      throw HTTPTestError("not an HTTP/1.x status line: \(lines[0])")
    }
    var fields: [String: String] = [:]
    for line in lines.dropFirst() {
      guard let colon = line.firstIndex(of: ":") else { throw HTTPTestError("a header line without a colon: \(line)") }
      let name = line[..<colon].lowercased()
      let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
      fields[name] = fields[name].map { $0 + ", " + value } ?? value
    }
    return (status, fields)
  }
}

/// What went wrong in an HTTP exchange, said in one line.
public struct HTTPTestError: Error, CustomStringConvertible {
  public let description: String
  public init(_ description: String) { self.description = description }
}

/// A stream of server-sent events, read as it comes.
public final class EventStream {
  /// One event: its `event`, `id` and `data` fields (several `data` lines joined by `\n`).
  public struct Event {
    public var event = "message"
    public var id: String?
    public var data = ""
  }

  public let status: Int
  public let headers: [String: String]
  private let connection: TCPConnection
  private var raw: [UInt8] = []
  /// Decoded body bytes not yet returned as lines.
  private var body: [UInt8] = []
  private var chunked: ChunkedDecoder?

  init(port: Int, path: String, headers: [String: String], deadline: Date) throws {
    connection = try TCPConnection(port: port)
    var requestHeaders = headers
    requestHeaders["Accept"] = "text/event-stream"
    try connection.send(
      Array(HTTPTestClient.requestText(method: "GET", path: path, headers: requestHeaders, body: nil).utf8))
    while HTTPTestClient.headEnd(in: raw) == nil {
      guard connection.read(into: &raw, deadline: deadline) else {
        throw HTTPTestError("GET \(path): no response head: \(String(decoding: raw, as: UTF8.self).prefix(200))")
      }
    }
    let head = HTTPTestClient.headEnd(in: raw)!
    (status, self.headers) = try HTTPTestClient.parseHead(Array(raw[..<head.lowerBound]))
    raw.removeSubrange(..<head.upperBound)
    chunked = self.headers["transfer-encoding"]?.lowercased().contains("chunked") == true ? ChunkedDecoder() : nil
    takeRaw()
  }

  /// The next line of the body (without its line end), or nil at the end of the stream or
  /// when none comes within `timeout`.
  public func readLine(timeout: TimeInterval) -> String? {
    let deadline = Date().addingTimeInterval(timeout)
    while true {
      if let newline = body.firstIndex(of: 10) {
        var line = Array(body[..<newline])
        body.removeSubrange(...newline)
        if line.last == 13 { line.removeLast() }
        return String(decoding: line, as: UTF8.self)
      }
      guard connection.read(into: &raw, deadline: deadline) else { return nil }
      takeRaw()
    }
  }

  /// The next event (comments and `retry:` skipped), or nil when none comes within `timeout`.
  public func nextEvent(timeout: TimeInterval) -> Event? {
    let deadline = Date().addingTimeInterval(timeout)
    var event = Event()
    var data: [String] = []
    var fields = 0
    while let line = readLine(timeout: deadline.timeIntervalSinceNow) {
      if line.isEmpty {
        guard fields > 0 else { continue }
        event.data = data.joined(separator: "\n")
        return event
      }
      if line.hasPrefix(":") { continue }
      let parts = line.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
      var value = parts.count > 1 ? String(parts[1]) : ""
      if value.hasPrefix(" ") { value.removeFirst() }
      switch parts[0] {
      case "event": event.event = value
      case "id": event.id = value
      case "data": data.append(value)
      default: continue
      }
      fields += 1
    }
    return nil
  }

  private func takeRaw() {
    if chunked == nil {
      body += raw
    } else {
      chunked!.feed(raw)
      body += chunked!.decoded
      chunked!.decoded = []
    }
    raw = []
  }
}

/// Decodes a `Transfer-Encoding: chunked` body as its bytes arrive.
struct ChunkedDecoder {
  var decoded: [UInt8] = []
  private(set) var finished = false
  private var pending: [UInt8] = []

  mutating func feed(_ bytes: [UInt8]) {
    pending += bytes
    while !finished, let lineEnd = Self.crlf(in: pending, from: 0) {
      // The size line: hex digits, perhaps `;extensions`.
      let sizeText = String(decoding: pending[..<lineEnd], as: UTF8.self).split(separator: ";").first ?? ""
      guard let size = Int(sizeText.trimmingCharacters(in: .whitespaces), radix: 16) else { return }
      if size == 0 {
        finished = true  // trailers, if any, are not needed
        return
      }
      let start = lineEnd + 2
      guard pending.count >= start + size + 2 else { return }
      decoded += pending[start..<start + size]
      pending.removeSubrange(..<(start + size + 2))
    }
  }

  static func crlf(in bytes: [UInt8], from start: Int) -> Int? {
    var index = start
    while index + 1 < bytes.count {
      if bytes[index] == 13 && bytes[index + 1] == 10 { return index }
      index += 1
    }
    return nil
  }
}

/// A TCP connection to 127.0.0.1.
final class TCPConnection {
  private let descriptor: Int32

  init(port: Int) throws {
    descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var address = loopbackAddress(port: port)
    let connected = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
      }
    }
    // deinit closes the descriptor, also when this throws.
    guard connected == 0 else { throw HTTPTestError("cannot connect to 127.0.0.1:\(port): errno \(errno)") }
  }

  deinit { close(descriptor) }

  func send(_ bytes: [UInt8]) throws {
    var sent = 0
    while sent < bytes.count {
      let result = bytes.withUnsafeBytes {
        Glibc.send(descriptor, $0.baseAddress! + sent, bytes.count - sent, Int32(MSG_NOSIGNAL))
      }
      guard result > 0 else { throw HTTPTestError("the connection closed while sending (errno \(errno))") }
      sent += result
    }
  }

  /// Appends what arrives before the deadline; false at the end of the stream or the deadline.
  func read(into bytes: inout [UInt8], deadline: Date) -> Bool {
    while true {
      let left = deadline.timeIntervalSinceNow
      guard left > 0 else { return false }
      var descriptors = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
      guard poll(&descriptors, 1, Int32(min(left, 1) * 1000) + 1) > 0 else { continue }
      var buffer = [UInt8](repeating: 0, count: 65_536)
      let count = buffer.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
      guard count > 0 else { return false }
      bytes += buffer[0..<count]
      return true
    }
  }

  func readToEnd(deadline: Date) -> [UInt8] {
    var bytes: [UInt8] = []
    while read(into: &bytes, deadline: deadline) {}
    return bytes
  }
}

/// A TCP port on 127.0.0.1 that was free a moment ago: bound with port 0, read back, closed.
/// (Another program may take it before the daemon does; tests that need it retry.)
public func freeTCPPort() -> Int {
  let listener = TCPListener()
  return listener?.port ?? 0
}

/// A socket listening on 127.0.0.1 at a port the system chose, until it goes away: a port
/// that is taken.
public final class TCPListener {
  public let port: Int
  private let descriptor: Int32

  public init?() {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    descriptor = fd
    var address = loopbackAddress(port: 0)
    let bound = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let named = withUnsafeMutablePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    port = Int(UInt16(bigEndian: address.sin_port))
    guard bound == 0, named == 0, listen(fd, 8) == 0 else { return nil }
  }

  deinit { close(descriptor) }
}

private func loopbackAddress(port: Int) -> sockaddr_in {
  var address = sockaddr_in()
  address.sin_family = sa_family_t(AF_INET)
  address.sin_port = UInt16(port).bigEndian
  address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
  return address
}
