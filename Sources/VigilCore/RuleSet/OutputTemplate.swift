/// A rule's `output` (docs/rules.md, "Outputs"): text with `%field.path` replaced by the
/// report's value (arrays joined with ", ", absent as `<none>`, timestamps as written) and
/// `%%` by `%`. `%{…}` is an optional segment, rendered only when every field it names is
/// present; `|` inside it separates alternatives, the first whose fields are all present
/// being rendered (a last alternative without fields is a default). Segments nest; inside
/// one, `%|` and `%}` are a literal `|` and `}`. `%name(arguments)` shows what a function
/// of the rule set answers for the report, as a field would (absent when it answers
/// nothing).
public struct OutputTemplate: Sendable {
  private indirect enum Piece: Sendable {
    /// Literal text, as the UTF-8 it is copied as.
    case text([UInt8])
    /// `%field.path` or `%name(…)`: what a field or a function shows for the report, and
    /// the path or the call as written. (One case for both: rendering takes out only the
    /// reader, one reference to retain, where a schema field's copy retained three.)
    case value(name: String, read: @Sendable (Report) -> FieldValue?)
    /// `%{a|b|…}`: the alternatives, each a sequence of pieces.
    case segment([[Piece]])

    /// What a field or a call shows for the report, and its name; nil for other pieces.
    func value(_ report: Report) -> (name: String, value: FieldValue?)? {
      switch self {
      case .value(let name, let read): (name, read(report))
      case .text, .segment: nil
      }
    }
  }

  private let pieces: [Piece]
  private let program: Program

  /// The direction of the template's own words, outside what a report fills in: the
  /// direction of its messages, however many letters a report's Arabic names bring.
  public var ownDirection: WritingDirection? {
    func texts(_ pieces: [Piece]) -> [UInt8] {
      pieces.flatMap { piece -> [UInt8] in
        switch piece {
        case .text(let bytes): bytes
        case .segment(let alternatives): alternatives.flatMap(texts)
        case .value: []
        }
      }
    }
    return WritingDirection.ofLetters(in: String(decoding: texts(pieces), as: UTF8.self).unicodeScalars)
  }
  /// `mayShowNothing`, kept: only such a template's message is looked over once rendered.
  private let mayBeBlank: Bool

  /// Checks every path against the schema and every call against `compiler`'s functions
  /// (none without it); errors carry the offset (in Unicode scalars) of the offending `%`.
  public init(_ template: String, compiler: ConditionCompiler? = nil) throws(ConditionError) {
    var parser = Parser(scalars: Array(template.unicodeScalars), compiler: compiler)
    let pieces: [Piece]
    do {
      let (read, stop) = try parser.sequence(inSegment: false)
      assert(stop == nil)
      pieces = read
    } catch {
      // A structural error (a segment never closed) ends the reading: said with the
      // errors found before it, in the order of the text.
      let all = (parser.errors + error.all).sorted { $0.start < $1.start }
      throw ConditionError.together(all) ?? error
    }
    // Every field and call the template gets wrong, together (errors of its structure —
    // a segment never closed — end the reading where they are).
    if let errors = ConditionError.together(parser.errors) { throw errors }
    self.pieces = pieces
    program = Program(pieces)
    // (One that can say nothing by its segments alone is refused where rules load.)
    mayBeBlank =
      !Self.saysSomething(pieces, emptyFieldsShowNothing: true) && Self.saysSomething(pieces, emptyFieldsShowNothing: false)
  }

  /// Whether some report can make the message empty (or only white space) by leaving
  /// fields out: every part of it outside white space is an optional segment that may
  /// render nothing (`%{%perpetrator.name}`). A field outside segments shows at least
  /// `<none>`; a segment with an alternative of text always shows it.
  public var canSayNothing: Bool { !Self.saysSomething(pieces, emptyFieldsShowNothing: false) }

  /// Whether, besides, a field that a report may give empty leaves it saying nothing: an
  /// array (`%weapons` alone, which `[]` joins into nothing) or an `extra` value. The
  /// rule's condition may rule that out (`weapons in (…)`), which a template cannot know.
  public var mayShowNothing: Bool { !Self.saysSomething(pieces, emptyFieldsShowNothing: true) }

  private static func saysSomething(_ pieces: [Piece], emptyFieldsShowNothing: Bool) -> Bool {
    pieces.contains { piece in
      switch piece {
      case .text(let bytes): !bytes.allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }
      case .value(let name, _):
        !emptyFieldsShowNothing || ReportSchema.field(name).map { !$0.type.isArray && $0.type != .dynamic } ?? true
      case .segment(let alternatives):
        // Always rendered: an alternative with no field, which says something itself.
        alternatives.contains { alternative in
          !alternative.contains { if case .value = $0 { true } else { false } }
            && saysSomething(alternative, emptyFieldsShowNothing: emptyFieldsShowNothing)
        }
      }
    }
  }

  /// Rendered as UTF-8 bytes and made a `String` once: report texts are copied as they
  /// are, without a `String` (and its validation) for each.
  public func render(_ report: Report) -> String {
    renderText(report).string
  }

  /// The same as UTF-8 bytes, without the check a `String` makes of them: they are valid
  /// already, the template's own text and the report's texts, each whole.
  public func renderText(_ report: Report) -> ReportText {
    var message = JSONBytes(capacity: 160)
    program.render(program.top, report, into: &message)
    let text = message.withWritten { ReportLine.copying($0).whole }
    // An alert's message is never empty: one a report's empty list left blank says so.
    guard mayBeBlank, text.string.allSatisfy(\.isWhitespace) else { return text }
    return ReportText("<none>")
  }

  /// The pieces laid out flat for rendering: steps that are plain values, the literal text
  /// in one buffer, the readers in another, both owned here. Walking the pieces themselves
  /// retained and released each piece, its text and its reader as it was read: some fifty
  /// atomic reference-count operations a message, a twentieth of a connection's thread
  /// (perf).
  private final class Program: @unchecked Sendable {
    // Immutable after `init`, so safe to share; freed in `deinit`.
    enum Step {
      case text(start: Int, end: Int)
      case value(reader: Int)
      /// Its alternatives: `alternatives[start..<end]`.
      case segment(start: Int, end: Int)
    }

    struct Reader {
      let read: @Sendable (Report) -> FieldValue?
    }

    let steps: [Step]
    /// Each alternative of each segment: its steps.
    let alternatives: [Range<Int>]
    /// The template's own steps.
    let top: Range<Int>
    private let literal: UnsafeMutableBufferPointer<UInt8>
    private let readers: UnsafeMutableBufferPointer<Reader>

    init(_ pieces: [Piece]) {
      var literal: [UInt8] = []
      var readers: [Reader] = []
      var steps: [Step] = []
      var alternatives: [Range<Int>] = []
      // A sequence's steps are contiguous; its segments' alternatives are laid out first.
      func layOut(_ pieces: [Piece]) -> Range<Int> {
        var own: [Step] = []
        for piece in pieces {
          switch piece {
          case .text(let bytes):
            own.append(.text(start: literal.count, end: literal.count + bytes.count))
            literal += bytes
          case .value(_, let read):
            own.append(.value(reader: readers.count))
            readers.append(Reader(read: read))
          case .segment(let choices):
            let ranges = choices.map(layOut)
            own.append(.segment(start: alternatives.count, end: alternatives.count + ranges.count))
            alternatives += ranges
          }
        }
        let start = steps.count
        steps += own
        return start..<steps.count
      }
      top = layOut(pieces)
      self.steps = steps
      self.alternatives = alternatives
      self.literal = .allocate(capacity: literal.count)
      _ = self.literal.initialize(from: literal)
      self.readers = .allocate(capacity: readers.count)
      _ = self.readers.initialize(from: readers)
    }

    deinit {
      literal.deallocate()
      readers.deinitialize()
      readers.deallocate()
    }

    /// Appends the steps. In an alternative (`inAlternative`), stops at the first field or
    /// call that shows nothing and answers false; the caller then takes back what was
    /// written and tries the next alternative. Each value is so read once.
    @discardableResult
    func render(_ range: Range<Int>, _ report: Report, into message: inout JSONBytes, inAlternative: Bool = false)
      -> Bool
    {
      for index in range {
        switch steps[index] {
        case .text(let start, let end):
          message.append(UnsafeBufferPointer(rebasing: literal[start..<end]))
        case .value(let reader):
          let value = readers[reader].read(report)
          if inAlternative, !OutputTemplate.shows(value) { return false }
          switch value {
          case .text(let text)?: text.withUTF8 { message.append($0) }
          case .timestamp(let timestamp)?: timestamp.text.withUTF8 { message.append($0) }
          case let value?: OutputTemplate.appendShown(value, to: &message)
          case nil: message.raw("<none>")
          }
        case .segment(let start, let end):
          let mark = message.count
          for alternative in start..<end {
            if render(alternatives[alternative], report, into: &message, inAlternative: true) { break }
            message.truncate(to: mark)
          }
        }
      }
      return true
    }
  }

  /// Whether a value shows anything: absent, null and empty arrays do not.
  fileprivate static func shows(_ value: FieldValue?) -> Bool {
    switch value {
    case nil, .json(.null)?: false
    case .texts(let texts)?: !texts.isEmpty
    case .weapons(let weapons)?: !weapons.isEmpty
    case .victims(let victims)?: !victims.isEmpty
    // An array of nulls shows nothing, as an empty one: absent too.
    case .json(.array(let elements))?: elements.contains { $0 != .null }
    default: true
    }
  }

  /// The fields named outside any optional segment that would show nothing for this
  /// report (`<none>`, or an empty list).
  public func absentFields(in report: Report) -> [String] {
    pieces.compactMap { piece in
      guard let (name, value) = piece.value(report), !Self.shows(value) else { return nil }
      return name
    }
  }

  /// Appends what `show` gives, written straight from the value where it can be: a whole
  /// number's digits, a list's words. Made into a `String` first, a count or a list of
  /// weapons cost ~370 instructions (bench/count-instructions).
  fileprivate static func appendShown(_ value: FieldValue, to message: inout JSONBytes) {
    switch value {
    case .number(let number) where isWhole(number): message.decimal(Int(Int64(number)))
    case .texts(let texts):
      for index in texts.indices {
        if index > 0 { message.raw(", ") }
        texts[index].withUTF8 { message.append($0) }
      }
    case .weapons(let weapons): appendWords(weapons, to: &message)
    case .victims(let victims): appendWords(victims, to: &message)
    default: message.verbatim(show(value))
    }
  }

  private static func appendWords<Word: RawRepresentable<String>>(_ words: [Word], to message: inout JSONBytes) {
    for index in words.indices {
      if index > 0 { message.raw(", ") }
      message.verbatim(words[index].rawValue)
    }
  }

  /// Whether a number shows as a whole number (`show`): its digits, no fraction.
  private static func isWhole(_ number: Double) -> Bool {
    abs(number) < 1e15 && Double(Int64(number)) == number
  }

  static func show(_ value: FieldValue) -> String {
    switch value {
    case .text(let text): text.string
    case .string(let string): string
    case .number(let number): show(number)
    case .bool(let flag): flag ? "true" : "false"
    case .timestamp(let timestamp): timestamp.text.string
    case .present: "present"
    case .texts(let texts): texts.map(\.string).joined(separator: ", ")
    case .weapons(let weapons): weapons.map(\.rawValue).joined(separator: ", ")
    case .victims(let victims): victims.map(\.rawValue).joined(separator: ", ")
    case .json(let json): show(json)
    }
  }

  private static func show(_ number: Double) -> String {
    if isWhole(number) { return String(Int64(number)) }
    return withoutExponent(String(number))
  }

  /// Swift's shortest digits of a number written out in full, as a message reads it:
  /// `1e+20` is 100000000000000000000, `5e-07` is 0.0000005, `1000000000000000.0` is
  /// 1000000000000000.
  static func withoutExponent(_ shortest: String) -> String {
    let e = shortest.firstIndex(where: { $0 == "e" || $0 == "E" }) ?? shortest.endIndex
    let exponentText = e == shortest.endIndex ? "0" : shortest[shortest.index(after: e)...]
    guard let exponent = Int(exponentText), abs(exponent) <= 400,
      shortest[..<e].allSatisfy({ $0.isASCII && ($0.isNumber || $0 == "." || $0 == "-") })
    else { return shortest }
    var mantissa = shortest[..<e]
    let negative = mantissa.hasPrefix("-")
    if negative { mantissa = mantissa.dropFirst() }
    let parts = mantissa.split(separator: ".", omittingEmptySubsequences: false)
    let whole = String(parts[0])
    let fraction = parts.count > 1 ? String(parts[1]) : ""
    var digits = whole + fraction
    var point = whole.count + exponent  // where the decimal point goes among `digits`
    if point <= 0 {
      digits = String(repeating: "0", count: 1 - point) + digits
      point = 1
    } else if point > digits.count {
      digits += String(repeating: "0", count: point - digits.count)
    }
    var integer = String(digits.prefix(point))
    var decimals = String(digits.dropFirst(point))
    while integer.count > 1, integer.hasPrefix("0") { integer.removeFirst() }
    while decimals.hasSuffix("0") { decimals.removeLast() }
    return (negative ? "-" : "") + integer + (decimals.isEmpty ? "" : "." + decimals)
  }

  private static func show(_ json: JSONValue) -> String {
    switch json {
    case .null: "<none>"
    case .bool(let flag): flag ? "true" : "false"
    case .number(let number): show(number)
    case .string(let string): string
    case .array(let elements): elements.filter { $0 != .null }.map(show).joined(separator: ", ")
    case .object(let object): "{" + object.members.map { "\($0.key): \(show($0.value))" }.joined(separator: ", ") + "}"
    }
  }

  /// Reads a template into pieces, one segment level per call of `sequence`.
  private struct Parser {
    let scalars: [Unicode.Scalar]
    let compiler: ConditionCompiler?
    var index = 0
    /// How many segments are open at `index`.
    var depth = 0
    /// The fields and calls found wrong so far: reading goes on past each.
    var errors: [ConditionError] = []

    /// How deep optional segments nest: a template nested past it is a slip, and reading
    /// (and filling) one level takes a level of the stack (10,000 crashed vigild).
    static let deepestSegment = 16

    /// What ended a sequence inside a segment.
    enum Stop { case bar, close }

    /// Reads pieces up to the end of the template or, inside a segment, up to its `|` or `}`
    /// (consumed, and returned).
    mutating func sequence(inSegment: Bool) throws(ConditionError) -> ([Piece], Stop?) {
      var pieces: [Piece] = []
      var text = ""
      func flush() {
        if !text.isEmpty { pieces.append(.text(Array(text.utf8))) }
        text = ""
      }
      while index < scalars.count {
        let scalar = scalars[index]
        if inSegment, scalar == "|" || scalar == "}" {
          index += 1
          flush()
          return (pieces, scalar == "|" ? .bar : .close)
        }
        guard scalar == "%" else {
          text.unicodeScalars.append(scalar)
          index += 1
          continue
        }
        let next = index + 1 < scalars.count ? scalars[index + 1] : nil
        switch next {
        case "%", "|", "}":
          text.unicodeScalars.append(next!)
          index += 2
        case "{":
          flush()
          pieces.append(try segment())
        default:
          flush()
          do {
            pieces.append(try fieldOrCall())
          } catch {
            // Past what was wrong (`fieldOrCall` moved `index` to its end), to the next.
            errors.append(error)
            if index < error.end { index = max(error.end, index + 1) }
          }
        }
      }
      flush()
      return (pieces, nil)
    }

    /// `%{` at `index`, through its closing `}`.
    private mutating func segment() throws(ConditionError) -> Piece {
      let start = index
      guard depth < Self.deepestSegment else {
        throw ConditionError(start, start + 2, "optional segments nest at most \(Self.deepestSegment) deep")
      }
      depth += 1
      defer { depth -= 1 }
      index += 2
      var alternatives: [[Piece]] = []
      let errorsBefore = errors.count
      while true {
        let (pieces, stop) = try sequence(inSegment: true)
        alternatives.append(pieces)
        switch stop {
        case .bar?: continue
        case .close?:
          // Empty because what it held was wrong (`%{%perpetrator.nme}`): that is said.
          // Said with the others, reading on: what comes after may be wrong too.
          if alternatives.count == 1, pieces.isEmpty, errors.count == errorsBefore {
            errors.append(ConditionError(start, index, "an empty '%{}' segment; put text or fields in it, or remove it"))
          }
          return .segment(alternatives)
        case nil:
          throw ConditionError(
            start, start + 2, "this '%{' is never closed; end the optional segment with '}' (a literal '}' is '%}')")
        }
      }
    }

    /// `%path`, `%(path)` or `%function(arguments)` at `index`.
    private mutating func fieldOrCall() throws(ConditionError) -> Piece {
      if index + 1 < scalars.count, scalars[index + 1] == "(" { return try enclosedField() }
      func isPathScalar(_ scalar: Unicode.Scalar) -> Bool {
        scalar == "_" || scalar == "." || scalar.properties.isAlphabetic || scalar.properties.numericType == .decimal
      }
      var end = index + 1
      while end < scalars.count, isPathScalar(scalars[end]) { end += 1 }
      while end > index + 1, scalars[end - 1] == "." { end -= 1 }
      guard end > index + 1 else {
        throw ConditionError(
          index, index + 1,
          "a '%' must be followed by a field path or '{', or doubled as '%%' for itself")
      }
      if end < scalars.count, scalars[end] == "(" { return try call(nameEnd: end) }
      var path = ""
      path.unicodeScalars.append(contentsOf: scalars[index + 1..<end])
      return try field(path, end: end)
    }

    /// `%(path)`: a field path as a condition writes it, its end marked — an `extra` key
    /// with `-`, `:`, `/` or `+` in it (`%(extra.convoy-id)`), which `%path` would end at,
    /// or a field followed by letters (`%(casualties.killed)th`).
    private mutating func enclosedField() throws(ConditionError) -> Piece {
      var end = index + 2
      while end < scalars.count, scalars[end] != ")" { end += 1 }
      guard end < scalars.count else {
        throw ConditionError(index, index + 2, "this '%(' is never closed; end the field path with ')'")
      }
      var path = ""
      path.unicodeScalars.append(contentsOf: scalars[index + 2..<end])
      guard !path.isEmpty, path.unicodeScalars.allSatisfy(ConditionLexer.isWordScalar) else {
        throw ConditionError(
          index, end + 1,
          "'%(\(path))' must hold one field path, as a condition writes it (letters, digits and _ - . : / +)")
      }
      return try field(path, end: end + 1)
    }

    /// The field `path`, written from `index` to `end`.
    private mutating func field(_ path: String, end: Int) throws(ConditionError) -> Piece {
      guard let field = ReportSchema.field(path) else {
        throw ConditionError(index, end, "unknown field %\(path)\(ConditionCompiler.suggestion(for: path))")
      }
      // `%extra` shows the report's own members (`{k: v}`); another object has fields to name.
      if field.type == .object, path != "extra" {
        throw ConditionError(index, end, "%\(path) is an object; name one of its fields")
      }
      index = end
      return .value(name: field.path, read: field.read)
    }

    /// `%name(…)` at `index`, its `(` at `nameEnd`: read through the `)` that closes it
    /// (quoted arguments may hold parentheses), parsed and checked as in a condition.
    private mutating func call(nameEnd: Int) throws(ConditionError) -> Piece {
      var end = nameEnd
      var depth = 0
      var quote: Unicode.Scalar?
      while end < scalars.count {
        let scalar = scalars[end]
        if let open = quote {
          if scalar == "\\" { end += 1 } else if scalar == open { quote = nil }
        } else if scalar == "\"" || scalar == "'" {
          quote = scalar
        } else if scalar == "(" {
          depth += 1
        } else if scalar == ")" {
          depth -= 1
          if depth == 0 { break }
        }
        end += 1
      }
      guard end < scalars.count else {
        throw ConditionError(index, nameEnd + 1, "this call's '(' is never closed")
      }
      var text = ""
      text.unicodeScalars.append(contentsOf: scalars[index + 1...end])
      let offset = index + 1
      guard let compiler else {
        throw ConditionError(index, end + 1, "no functions here to call")
      }
      do throws(ConditionError) {
        guard case .call(let call) = try ConditionParser.parse(text) else {
          throw ConditionError(0, text.unicodeScalars.count, "expected one function call")
        }
        let read = try compiler.value(of: call)
        index = end + 1
        return .value(name: text, read: read)
      } catch {
        index = end + 1  // the next problem is looked for after the call
        throw ConditionError(error.start + offset, error.end + offset, error.message)
      }
    }
  }
}
