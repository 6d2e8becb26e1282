/// Reads one request line: a report (no `"op"`), or an object with an `op`.
public enum RequestParser {
  /// `line` without JSON's white space (space, tab, CR, LF) at either end.
  static func trimmingWhiteSpace(_ line: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8> {
    func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0D || byte == 0x0A }
    var start = 0
    var end = line.count
    while start < end, isSpace(line[start]) { start += 1 }
    while end > start, isSpace(line[end - 1]) { end -= 1 }
    return start == 0 && end == line.count ? line : UnsafeBufferPointer(rebasing: line[start..<end])
  }

  /// A syntax error in `line` (trimmed of `whole`'s white space) as at its offset in
  /// `whole`, the line as sent.
  static func asSent(_ error: JSONSyntaxError, _ line: UnsafeBufferPointer<UInt8>, _ whole: UnsafeBufferPointer<UInt8>)
    -> JSONSyntaxError
  {
    let leading = line.baseAddress.flatMap { start in whole.baseAddress.map { start - $0 } } ?? 0
    return JSONSyntaxError(offset: error.offset + leading, reason: error.reason)
  }

  public static let ops = ["submit", "check", "ping", "status", "rules", "reload", "subscribe", "reopen", "parked", "resend"]
  static let subscriptionFilters = ["min_priority", "rules", "tags"]

  public static func parse(_ line: [UInt8]) -> Result<Request, RequestError> {
    line.withUnsafeBufferPointer { parse($0) }
  }

  /// The request on a line, read where it lies (a slice of a connection's buffer): the
  /// parser's one copy of it holds the report's texts and its journal bytes.
  public static func parse(_ whole: UnsafeBufferPointer<UInt8>) -> Result<Request, RequestError> {
    // JSON's white space around the value (a CRLF line's CR among it) is no part of the
    // report the journal keeps.
    let line = trimmingWhiteSpace(whole)
    // Most lines are bare reports: the report parser's fast path takes them in one pass.
    let copy = ReportLine.copying(line)
    var fastPath = ReportFastPath(line: copy)
    if let report = fastPath.report() {
      return .success(.submit(ParsedReport(report: report, warnings: []), reportJSON: copy.whole))
    }
    let tape: JSONTape
    do {
      // The line's nesting counts, wrapped or bare (REPORTS.md: "the line must be one
      // valid JSON text … nesting deeper than 64 levels are invalid_json"): a report inside
      // `submit` or `check` is one level deeper than the same report sent bare.
      tape = try JSONScanner.scan(line)
    } catch {
      return .failure(RequestError(.invalidJSON, "not valid JSON: \(Self.asSent(error, line, whole))"))
    }
    guard tape[0].kind == .object else {
      return .failure(
        RequestError(.notAnObject, "a request must be a JSON object, got \(ReportParser.describe(tape[0].kind))"))
    }
    var members = Members(nodes: tape.unsafeNodes, object: 0)
    var op: Int?
    var report: Int?
    var sink: Int?
    var seqs: Int?
    var filters: [(key: String, value: Int)] = []
    var others: [String] = []
    while let (key, value) = members.next() {
      switch JSONString.decode(line, key) {
      // A null member is the member absent, as in a report: no op is a report.
      case "op": op = tape[value].kind == .null ? nil : value
      // A null member is the member absent, as in a report.
      case "report": report = tape[value].kind == .null ? nil : value
      // A null member is the member absent, as in a report.
      case "sink": sink = tape[value].kind == .null ? nil : value
      case "seqs": seqs = tape[value].kind == .null ? nil : value
      case let name where subscriptionFilters.contains(name): filters.append((name, value))
      case let name: others.append(name)
      }
    }
    guard let op else {
      return ReportParser.decode(tape: tape, line: copy, at: 0).map { .submit($0, reportJSON: copy.whole) }
        .mapError(RequestError.init)
    }
    guard tape[op].kind == .string else {
      return .failure(RequestError(.invalidRequest, "op must be a string, such as \"submit\""))
    }
    let name = JSONString.decode(line, tape[op])
    switch name {
    case "submit", "check":
      guard let report, tape[report].kind == .object else {
        return .failure(RequestError(.invalidRequest, "\(name) needs a report: an object under \"report\""))
      }
      let parsed = ReportParser.decode(tape: tape, line: copy, at: report).mapError(RequestError.init)
      if name == "check" { return parsed.map { .check($0) } }
      let node = tape[report]
      let json = ReportText(line: copy, start: node.startOffset, count: node.endOffset - node.startOffset)
      return parsed.map { .submit($0, reportJSON: json) }
    case "ping": return .success(.ping)
    case "status": return .success(.status)
    case "rules": return .success(.rules)
    case "reload": return .success(.reload)
    case "reopen": return .success(.reopen)
    case "parked", "resend":
      let administrative = name == "resend" ? name : nil
      func refused(_ message: String) -> Result<Request, RequestError> {
        var error = RequestError(.invalidRequest, message)
        error.administrativeOp = administrative
        return .failure(error)
      }
      var sinkName: String?
      if let sink {
        guard tape[sink].kind == .string else {
          return refused("sink must be a string: the sink's name, such as \"webhook\"")
        }
        sinkName = JSONString.decode(line, tape[sink])
      }
      if name == "parked" { return .success(.parked(sink: sinkName)) }
      guard let sinkName else {
        return refused("resend needs a sink: {\"op\":\"resend\",\"sink\":\"webhook\"}")
      }
      guard let seqs else { return .success(.resend(sink: sinkName, seqs: nil)) }
      return sequenceNumbers(seqs, tape: tape, line: line).map { .resend(sink: sinkName, seqs: $0) }.mapError {
        var error = $0
        error.administrativeOp = administrative
        return error
      }
    case "subscribe":
      // A misspelt filter would otherwise subscribe to everything without a word.
      // Members other requests use are unknown filters too.
      let unused = [("report", report), ("sink", sink), ("seqs", seqs)].filter { $0.1 != nil }.map(\.0)
      if let unknown = others.first ?? unused.first {
        return .failure(
          RequestError(
            .invalidRequest,
            "unknown subscribe filter \(JSONString.quoted(unknown, limit: 40)); the filters are "
              + subscriptionFilters.joined(separator: ", ")))
      }
      return subscription(filters, tape: tape, line: line).map { .subscribe($0) }
    default:
      return .failure(
        RequestError(
          .unknownOp, "unknown op \(JSONString.quoted(name, limit: 40)); the ops are \(ops.joined(separator: ", "))"))
    }
  }

  /// `seqs`: an array of whole numbers of at least 1.
  private static func sequenceNumbers(
    _ index: Int, tape: JSONTape, line: UnsafeBufferPointer<UInt8>
  ) -> Result<[UInt64], RequestError> {
    let problem = RequestError(.invalidRequest, "seqs must be an array of alert seqs (whole numbers from 1), such as [12, 15]")
    guard tape[index].kind == .array else { return .failure(problem) }
    var result: [UInt64] = []
    var child = index + 1
    while child < tape[index].nextIndex {
      let element = tape[child]
      let text = String(decoding: UnsafeBufferPointer(rebasing: line[element.startOffset..<element.endOffset]), as: UTF8.self)
      // Numbers compare by value, as in reports: 12.0 and 1.2e1 are seq 12 (a whole double
      // below 2^53 is exact; a longer seq is read from its digits).
      let whole = element.number.rounded() == element.number && element.number < 9_007_199_254_740_992
      guard element.kind == .number, let seq = UInt64(text) ?? (whole ? UInt64(exactly: element.number) : nil), seq >= 1
      else { return .failure(problem) }
      result.append(seq)
      child = element.nextIndex
    }
    // An empty list asks for nothing: a client that meant "all" leaves `seqs` out.
    guard !result.isEmpty else {
      return .failure(RequestError(.invalidRequest, "seqs is empty: name the seqs to send again, or leave seqs out for all"))
    }
    return .success(result)
  }

  private static func subscription(
    _ filters: [(key: String, value: Int)], tape: JSONTape, line: UnsafeBufferPointer<UInt8>
  ) -> Result<SubscriptionFilter, RequestError> {
    var filter = SubscriptionFilter()
    for (key, value) in filters where tape[value].kind != .null {
      if key == "min_priority" {
        let priority = tape[value].kind == .string ? Priority(rawValue: JSONString.decode(line, tape[value])) : nil
        guard let priority else {
          let allowed = Priority.allCases.map(\.rawValue).joined(separator: ", ")
          return .failure(RequestError(.invalidRequest, "min_priority must be one of \(allowed)"))
        }
        filter.minimumPriority = priority
        continue
      }
      guard tape[value].kind == .array else {
        return .failure(RequestError(.invalidRequest, "\(key) must be a list of strings"))
      }
      var strings: [String] = []
      var cursor = value + 1
      for _ in 0..<tape[value].memberCount {
        guard tape[cursor].kind == .string else {
          return .failure(RequestError(.invalidRequest, "\(key) must be a list of strings"))
        }
        let word = JSONString.decode(line, tape[cursor])
        // No rule id or tag is empty or holds a space: such an entry would select nothing,
        // and say nothing (a sink's filters refuse them alike).
        guard !word.isEmpty, !word.contains(where: \.isWhitespace) else {
          return .failure(
            RequestError(.invalidRequest, "\(key): \(JSONString.quoted(word, limit: 40)) is no \(key == "rules" ? "rule id or glob" : "tag"): it is empty or holds a space"))
        }
        strings.append(word)
        cursor = tape[cursor].nextIndex
      }
      // A record must match one of the list's entries: an empty list would stream nothing,
      // forever. Said, like any other filter that cannot be what was meant.
      guard !strings.isEmpty else {
        return .failure(
          RequestError(
            .invalidRequest, "\(key) is an empty list, which selects no record; leave it out to select every one"))
      }
      if key == "rules" {
        for pattern in strings {
          do {
            _ = try Glob(pattern)
          } catch {
            return .failure(RequestError(.invalidRequest, "rules: invalid glob '\(pattern)': \(error.reason)"))
          }
        }
        filter.rules = strings
      } else {
        filter.tags = strings
      }
    }
    return .success(filter)
  }
}
