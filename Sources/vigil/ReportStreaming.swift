import ArgumentParser
import Foundation
import NIOConcurrencyHelpers
import VigilCore

/// What `vigil submit` and `vigil check` share: read the inputs, pipeline every report to
/// the daemon while reading its answers, print each verdict, sum up.
struct ReportStreaming {
  let connection: DaemonConnection
  /// `submit` records; `check` only evaluates.
  let op: String
  let json: Bool

  /// Where a report came from, for its verdict; and, for a row `vigil import` could not
  /// make a report of, why (nothing was sent for it).
  struct Origin {
    let file: String
    let line: Int
    var refusal: String? = nil
    /// The refusal's code (a row an import's mapping refused is `unmappable`).
    var refusalCode = "unmappable"
    /// The report field the refusal is about, when one is (`casualties.killed`).
    var refusalField: String? = nil
    /// A report sent inside a request (`check`, or a report with an `op` member): the
    /// refusal it gets on its own, whose byte offsets count from its first byte, not from
    /// the request's (the same parser as the daemon's, so the same words).
    var ownRefusal: RequestError? = nil
    /// A report sent inside a request: its own length and the bytes the request adds,
    /// which the daemon's line limit counts too (`too_large` then says so).
    var wrapped: (report: Int, added: Int)? = nil
    /// An import's row: its report's id and content (a hash), told against the rows of the
    /// import recorded before it when its verdict comes (`check` records nothing, so the
    /// daemon cannot: a row the same as one the check accepted is already recorded, one
    /// with its id and other content a conflict; `submit`'s conflict names that row).
    var importKey: (id: String, content: Int)? = nil
  }

  /// Hands the daemon a batch of request lines and their origins (an origin with a refusal
  /// has no line); false when the daemon has closed the connection.
  typealias Send = (_ batch: [UInt8], _ origins: [Origin]) -> Bool

  /// What streaming the inputs came to.
  struct Outcome {
    /// Whether the daemon refused any report.
    var refused: Bool
    /// For each input that broke off in a read error: "cannot read NAME: reason". What was
    /// read of it before was sent and answered; the rest of it was not read.
    var unreadable: [String]
  }

  /// Streams the inputs (paths, `-` for standard input), one after the other.
  func run(inputs: [String]) throws(CommandFailure) -> Outcome {
    let files = try open(inputs)
    let op = self.op
    let unreadable = NIOLockedValueBox<[String]>([])
    let refused = try run { send in
      for (name, handle) in files {
        var splitter = ReportSplitter()
        var batch: [UInt8] = []
        var batchOrigins: [Origin] = []
        var open = true
        while open {
          let chunk: [UInt8]
          do throws(InputFile.ReadError) {
            chunk = try InputFile.read(handle.fileDescriptor, upTo: 1 << 20)
          } catch {
            // The line being read when the error came is cut short: it is not sent.
            unreadable.withLockedValue { $0.append("cannot read \(name): \(error.reason)") }
            break
          }
          let emit = { (value: [UInt8], line: Int) in
            var origin = Origin(file: name, line: line)
            let report = Self.trimmed(value)
            if report.first == UInt8(ascii: "{") {
              let (line, ownRefusal) = Self.requestLine(op: op, report: report)
              origin.ownRefusal = ownRefusal
              if line.count - 1 > report.count { origin.wrapped = (report.count, line.count - 1 - report.count) }
              batch += line
            } else {
              batch += value + [10]
            }
            batchOrigins.append(origin)
          }
          if chunk.isEmpty {
            if let opened = splitter.finish(emit: emit) {
              batchOrigins.append(
                Origin(
                  file: name, line: opened,
                  refusal: "the JSON array begun here is never closed (no ']'): the input may be cut short",
                  refusalCode: "invalid_json"))
            }
            open = false
          } else {
            splitter.feed(chunk, emit: emit)
          }
          guard send(batch, batchOrigins) else { return }
          batch.removeAll(keepingCapacity: true)
          batchOrigins.removeAll(keepingCapacity: true)
        }
      }
    }
    return Outcome(refused: refused, unreadable: unreadable.withLockedValue { $0 })
  }

  /// The limit a `too_large` refusal gives (`the line is longer than 1048576 bytes …`).
  static func lineLimit(in message: String) -> Int? {
    guard let match = message.firstMatch(of: /longer than (\d+) bytes/) else { return nil }
    return Int(match.1)
  }

  /// The request line that submits or checks a report.
  static func request(op: String, report: [UInt8]) -> [UInt8] {
    Array("{\"op\":\"\(op)\",\"report\":".utf8) + report + [UInt8(ascii: "}"), 10]
  }

  /// The line to send for a report, and, when it goes inside a request, the refusal it gets
  /// on its own. A report to submit goes as it is (trimmed), a bare report being a `submit`
  /// (docs/protocol.md), so that the daemon's errors point at the user's own bytes — but
  /// only when it parses as a bare report: anything else (a line with an `op` member, one
  /// this parser refuses, one a daemon of another version might read otherwise) goes
  /// inside `{"op":…,"report":`, where it can only be a report. There an error's offset
  /// would count the wrapper's bytes, and a report cut short would meet the wrapper's
  /// closing brace: the refusal the report gets on its own is kept to be shown instead,
  /// when it has no `op` member (whose refusal would be about another request).
  /// (`report` is trimmed of white space already.)
  static func requestLine(op: String, report: [UInt8]) -> (line: [UInt8], ownRefusal: RequestError?) {
    switch RequestParser.parse(report) {
    case .success(.submit(_, let json)) where op == "submit" && json.utf8Count == report.count:
      return (report + [10], nil)
    case .failure(let error) where error.code == .invalidJSON || error.code == .notAnObject:
      return (request(op: op, report: report), error)
    case .failure(let error) where error.code == .invalidReport && !hasOpMember(report):
      return (request(op: op, report: report), error)
    default:
      return (request(op: op, report: report), nil)
    }
  }

  /// Without the white space around it (JSON's: space, tab, line feed, carriage return).
  static func trimmed(_ bytes: [UInt8]) -> [UInt8] {
    let space: (UInt8) -> Bool = { $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }
    guard let first = bytes.firstIndex(where: { !space($0) }), let last = bytes.lastIndex(where: { !space($0) }) else {
      return []
    }
    return Array(bytes[first...last])
  }

  /// Whether a JSON object has an `op` member at its top level.
  private static func hasOpMember(_ json: [UInt8]) -> Bool {
    (try? JSONSerialization.jsonObject(with: Data(json)) as? [String: Any])?["op"] != nil
  }

  /// Runs `produce` on a thread of its own, sending what it gives while this thread reads
  /// and prints the daemon's answers in order; gives whether any report was refused.
  func run(produce: @escaping @Sendable (Send) -> Void) throws(CommandFailure) -> Bool {
    let origins = NIOLockedValueBox<[Origin]>([])
    let sent = NIOLockedValueBox((count: 0, done: false, closed: false))
    let connection = self.connection
    let sender = Thread {
      defer {
        // Done before the half-close: the daemon may answer the last report and close
        // before this thread runs again, and the reader must not take that for a loss.
        sent.withLockedValue { $0.done = true }
        connection.finishSending()
      }
      produce { batch, batchOrigins in
        origins.withLockedValue { $0 += batchOrigins }
        sent.withLockedValue { $0.count += batchOrigins.count }
        guard batch.isEmpty || connection.send(batch) else {
          sent.withLockedValue { $0.closed = true }
          return false
        }
        return true
      }
    }
    sender.start()

    var tally = Tally()
    let progress = Progress()
    var answered = 0
    // The import's rows the daemon took (accepted, or already recorded), by their report's
    // id: where each is ("file:line") and its content.
    var recorded: [String: (place: String, content: Int)] = [:]
    while true {
      let (total, done) = sent.withLockedValue { ($0.count, $0.done) }
      if done, answered == total { break }
      // Caught up with what was sent: whether the next is a report to wait an answer for
      // or a row refused here is not known yet.
      if answered == total {
        usleep(500)
        continue
      }
      // A row that never became a report: its refusal, with no answer to wait for.
      if answered < total, case let origin = origins.withLockedValue({ $0[answered] }), let refusal = origin.refusal {
        answered += 1
        progress.clear()
        tally.count(ok: false, duplicate: false, alerts: [])
        if json {
          Swift.print(
            "{\"file\":\(JSONText.string(origin.file)),\"line\":\(origin.line),\"ok\":false,"
              + "\"error\":{\"code\":\"\(origin.refusalCode)\",\"message\":\(JSONText.string(refusal))"
              + (origin.refusalField.map { ",\"field\":\(JSONText.string($0))" } ?? "") + "}}")
        } else {
          Swift.print(TerminalText.safe("\(origin.file):\(origin.line): refused (not sent): \(refusal)"))
        }
        continue
      }
      // A daemon that stops answering (stopped with SIGSTOP, wedged) fails the command as a
      // one-request command does, after the same silence, rather than hanging it.
      let answer = connection.readLine(within: DaemonConnection.answerWithin)
      if connection.timedOut {
        progress.clear()
        if !json { Swift.print(tally.summary(checking: op == "check")) }
        let total = sent.withLockedValue { $0.count }
        throw CommandFailure(
          status: 2,
          sentence: "vigild at \(connection.path) answered \(answered) of the \(total) reports sent, then nothing for "
            + "\(DaemonConnection.answerWithin.formatted(.number.precision(.fractionLength(0...1)))) s "
            + "(is it stopped, or stuck? its log says)"
            + (op == "check" ? "" : "; sending them again is safe: those recorded are answered as already recorded"))
      }
      guard let response = answer else {
        let (total, done) = sent.withLockedValue { ($0.count, $0.done) }
        if done, answered == total { break }
        // What was answered is said as at the end, so that a script knows how far it got.
        progress.clear()
        if !json { Swift.print(tally.summary(checking: op == "check")) }
        throw CommandFailure(
          status: 2,
          sentence: "vigild closed the connection after answering \(answered) of the \(total) reports sent"
            + (done ? "" : " (the rest were not read)")
            + (op == "check" ? "" : "; sending them again is safe: those recorded are answered as already recorded"))
      }
      // `overloaded` is never a report's verdict: the daemon refused the connection (too
      // many) and closes it; no report of this line or after it was read.
      if let refusal = Self.connectionRefusal(response) {
        progress.clear()
        let total = sent.withLockedValue { $0.count }
        throw CommandFailure(
          status: 2,
          sentence: "vigild refused the connection (overloaded): \(refusal); \(answered) of the \(total) reports sent "
            + "were answered before it")
      }
      let origin = origins.withLockedValue { $0[answered] }
      answered += 1
      progress.clear()
      var sameIDAs: String?
      if let key = origin.importKey {
        // Taken: accepted or already recorded. A refusal for what the report is (too large,
        // invalid) comes before its id is looked at, in `check` as in `submit`.
        let taken = response.starts(with: #"{"ok":true"#.utf8)
        switch (recorded[key.id], taken) {
        case (let earlier?, true) where op == "check":
          printEarlier(earlier.place, sameContent: earlier.content == key.content, id: key.id, origin: origin, into: &tally)
          progress.update(answered: answered, sent: sent.withLockedValue { $0.count })
          continue
        case (let earlier?, false) where earlier.content != key.content:
          sameIDAs = earlier.place
        case (nil, true):
          recorded[key.id] = ("\(origin.file):\(origin.line)", key.content)
        default:
          break
        }
      }
      print(verdict: response, from: origin, sameIDAs: sameIDAs, into: &tally)
      progress.update(answered: answered, sent: sent.withLockedValue { $0.count })
    }
    progress.clear()
    if !json {
      Swift.print(tally.summary(checking: op == "check"))
      if tally.notUTF8 > 0 {
        // The usual cause: a file saved in Windows' Arabic code page, or as UTF-16 (Excel's
        // "Unicode Text", Notepad's "Unicode"). Said once, not at every line.
        FileHandle.standardError.write(
          Data(
            ("vigil: \(tally.notUTF8) line\(tally.notUTF8 == 1 ? " is" : "s are") not UTF-8 (or hold NUL bytes): a file saved "
              + "in another encoding must be converted first, naming the encoding it was saved in: "
              + "iconv -f windows-1256 -t utf-8 FILE > FILE.utf8 (Arabic Windows), or iconv -f utf-16 -t utf-8 (UTF-16)\n").utf8))
      }
    }
    return tally.refused > 0
  }

  /// The message of an `overloaded` line, which ends the connection; nil for a verdict.
  static func connectionRefusal(_ response: [UInt8]) -> String? {
    // Only an error line can be one: an accepted report's is passed over unread.
    guard response.count < 4096, response.starts(with: #"{"ok":false"#.utf8),
      String(decoding: response, as: UTF8.self).contains("overloaded"),
      let object = try? JSONSerialization.jsonObject(with: Data(response)) as? [String: Any],
      object["ok"] as? Bool == false,
      let error = object["error"] as? [String: Any], error["code"] as? String == "overloaded"
    else { return nil }
    return error["message"] as? String ?? ""
  }

  private func open(_ inputs: [String]) throws(CommandFailure) -> [(String, FileHandle)] {
    var files: [(String, FileHandle)] = []
    for input in inputs.isEmpty ? ["-"] : inputs {
      if input == "-" {
        files.append(("<stdin>", FileHandle.standardInput))
      } else {
        files.append((input, FileHandle(fileDescriptor: try InputFile.open(input), closeOnDealloc: true)))
      }
    }
    return files
  }

  /// A row of an import's `check` whose id a row the check took before it has: already
  /// recorded when it is the same report, else the conflict `submit` would refuse it as.
  private func printEarlier(_ place: String, sameContent: Bool, id: String, origin: Origin, into tally: inout Tally) {
    let here = "\(origin.file):\(origin.line)"
    if sameContent {
      tally.count(ok: true, duplicate: true, alerts: [])
      if json {
        Swift.print(
          "{\"file\":\(JSONText.string(origin.file)),\"line\":\(origin.line),\"ok\":true,"
            + "\"report_id\":\(JSONText.string(id)),\"duplicate\":true,\"same_as\":\(JSONText.string(place)),"
            + "\"alerts\":[],\"warnings\":[]}")
      } else {
        Swift.print(TerminalText.safe("\(here): \(id): already recorded (the same as \(place))"))
      }
      return
    }
    tally.count(ok: false, duplicate: false, alerts: [])
    let message = "\(id) is the id of \(place) too, with other content (submit would refuse this row)"
    if json {
      Swift.print(
        "{\"file\":\(JSONText.string(origin.file)),\"line\":\(origin.line),\"ok\":false,"
          + "\"error\":{\"code\":\"id_conflict\",\"message\":\(JSONText.string(message))},"
          + "\"same_id_as\":\(JSONText.string(place))}")
    } else {
      Swift.print(TerminalText.safe("\(here): refused (id_conflict): \(message)"))
    }
  }

  /// Prints a verdict; `sameIDAs`, an earlier row of the import that holds the id of a
  /// report refused as `id_conflict`, is named with it.
  private func print(verdict line: [UInt8], from origin: Origin, sameIDAs: String?, into tally: inout Tally) {
    var line = line
    var object = (try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any]) ?? [:]
    // Refused for what the report is on its own: say it with the report's own offsets. So
    // too when the request around it made the line too large, the report alone within the
    // limit: on its own it meets its own refusal, not that one (audit 56).
    let code = (object["error"] as? [String: Any])?["code"] as? String
    let tooLargeOnlyWrapped =
      code == "too_large" && origin.wrapped.map { wrapped in
        ((object["error"] as? [String: Any])?["message"] as? String).flatMap(Self.lineLimit).map { wrapped.report <= $0 } ?? false
      } ?? false
    if let own = origin.ownRefusal, object["ok"] as? Bool == false, code == own.code.rawValue || tooLargeOnlyWrapped {
      line = Array(Response.error(own).utf8.dropLast())  // its newline, as read lines have none
      object = (try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any]) ?? object
    }
    // Too large only with the request's bytes around it (a `check`, whose request line a
    // report cannot go without): said, since the report alone is within the limit that
    // `vigil submit`, which sends it as it is, would meet (audit 45).
    if let wrapped = origin.wrapped, object["ok"] as? Bool == false,
      var error = object["error"] as? [String: Any], error["code"] as? String == "too_large",
      let message = error["message"] as? String, let limit = Self.lineLimit(in: message), wrapped.report <= limit
    {
      error["message"] =
        message + " (the report alone is \(wrapped.report) bytes; the \(op) request around it adds \(wrapped.added))"
      object["error"] = error
      if let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]) {
        line = Array(data)
      }
    }
    // Too deep only with the request around it: the line's nesting counts (REPORTS.md), and
    // a report nested as deep as a line may is one level too deep for `check`'s line.
    if origin.wrapped != nil, origin.ownRefusal == nil, object["ok"] as? Bool == false,
      var error = object["error"] as? [String: Any], error["code"] as? String == "invalid_json",
      let message = error["message"] as? String, message.contains("nesting deeper than")
    {
      error["message"] = message + " (the report alone is within the limit; the \(op) request around it adds a level)"
      object["error"] = error
      if let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]) {
        line = Array(data)
      }
    }
    // An id conflict with an earlier row of the same import: that row named.
    if let earlier = sameIDAs, object["ok"] as? Bool == false,
      var error = object["error"] as? [String: Any], error["code"] as? String == "id_conflict",
      let message = error["message"] as? String
    {
      error["message"] = message + " (the id of \(earlier) of this import)"
      object["error"] = error
      object["same_id_as"] = earlier
      if let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]) {
        line = Array(data)
      }
    }
    let ok = object["ok"] as? Bool == true
    let alerts = (object["alerts"] as? [[String: Any]]) ?? []
    let duplicate = object["duplicate"] as? Bool == true
    tally.count(ok: ok, duplicate: duplicate, alerts: alerts)
    let error = object["error"] as? [String: Any] ?? [:]
    let refusal = ok ? nil : (code: error["code"] as? String ?? "?", message: error["message"] as? String ?? "")
    if json {
      // The daemon's own response, with where the report came from first.
      let prefix = "{\"file\":\(JSONText.string(origin.file)),\"line\":\(origin.line),"
      Swift.print(prefix + String(decoding: line.dropFirst(), as: UTF8.self))
      return
    }
    // Every line of a verdict carries the report's own text: made safe for a terminal.
    let say = { (line: String) in Swift.print(TerminalText.safe(line)) }
    let place = "\(origin.file):\(origin.line)"
    if let refusal {
      let message = refusal.message
      // Only the JSON reader's own reason: a report's values are echoed in other messages.
      if error["code"] as? String == "invalid_json",
        ["invalid UTF-8", "unexpected byte 0x", "unexpected 0x00", "raw control character 0x00"].contains(where: {
          message.hasPrefix("not valid JSON: " + $0)
        })
      {
        tally.notUTF8 += 1
      }
      say("\(place): refused (\(refusal.code)): \(message)")
      return
    }
    let id = object["report_id"] as? String ?? "?"
    if duplicate {
      let seqs = alerts.compactMap { $0["seq"] as? Int }.map { "#\($0)" }.joined(separator: ", ")
      say("\(place): \(id): already recorded" + (seqs.isEmpty ? "" : " (alerts \(seqs))"))
      return
    }
    let warnings = (object["warnings"] as? [String]) ?? []
    let count = alerts.isEmpty ? "no alerts" : alerts.count == 1 ? "1 alert" : "\(alerts.count) alerts"
    say("\(place): \(id): \(count)" + (warnings.isEmpty ? "" : "; warnings: " + warnings.joined(separator: "; ")))
    for alert in alerts {
      let seq = (alert["seq"] as? Int).map { "#\($0) " } ?? ""
      let priority = (alert["priority"] as? String ?? "").padding(toLength: 8, withPad: " ", startingAt: 0)
      say("  \(priority)  \(seq)\(alert["rule"] as? String ?? "")  \(alert["message"] as? String ?? "")")
    }
  }
}

/// The counts behind the closing summary line.
struct Tally {
  var reports = 0
  var accepted = 0
  var duplicates = 0
  var refused = 0
  /// Reports refused for bytes that are not UTF-8 text (or NUL bytes, as UTF-16 has).
  var notUTF8 = 0
  var alerts: [String: Int] = [:]

  mutating func count(ok: Bool, duplicate: Bool, alerts fired: [[String: Any]]) {
    reports += 1
    if !ok {
      refused += 1
    } else if duplicate {
      duplicates += 1
    } else {
      accepted += 1
      for alert in fired { alerts[alert["priority"] as? String ?? "?", default: 0] += 1 }
    }
  }

  func summary(checking: Bool) -> String {
    let total = alerts.values.reduce(0, +)
    let byPriority = ["critical", "high", "medium", "low", "info"].compactMap { priority in
      alerts[priority].map { "\($0) \(priority)" }
    }
    let alertText = total == 0 ? "no alerts" : "\(total) alert\(total == 1 ? "" : "s") (\(byPriority.joined(separator: ", ")))"
    let what =
      checking
      ? "\(accepted) checked" + (duplicates > 0 ? ", \(duplicates) already recorded" : "")
      : "\(accepted) accepted, \(duplicates) already recorded"
    return "\(reports) report\(reports == 1 ? "" : "s"): \(what), \(refused) refused; \(alertText)"
  }
}

/// A progress line on standard error, only when it is a terminal.
final class Progress {
  private let enabled = isatty(2) == 1
  private var lastShown = Date.distantPast
  private var shown = false

  func update(answered: Int, sent: Int) {
    guard enabled, Date().timeIntervalSince(lastShown) > 0.25 else { return }
    lastShown = Date()
    shown = true
    FileHandle.standardError.write(Data("\r\u{1B}[K\(answered) answered of \(sent) sent…".utf8))
  }

  func clear() {
    guard shown else { return }
    shown = false
    FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
  }
}
