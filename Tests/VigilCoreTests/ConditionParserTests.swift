import Testing
import VigilTestSupport

@testable import VigilCore

@Suite("Conditions: the grammar of docs/rules.md")
struct ConditionParserTests {
  /// A compact rendering of the syntax tree, to compare shapes.
  func shape(_ text: String) throws -> String {
    render(try ConditionParser.parse(text))
  }

  func render(_ node: ConditionSyntax) -> String {
    switch node {
    case .or(let operands): "or(" + operands.map(render).joined(separator: ", ") + ")"
    case .and(let operands): "and(" + operands.map(render).joined(separator: ", ") + ")"
    case .not(let operand): "not(" + render(operand) + ")"
    case .reference(let name): "@" + name.text
    case .call(let call): render(call)
    case .predicate(let predicate):
      switch predicate.test {
      case .exists: render(predicate.subject) + " exists"
      case .compare(let comparison, let literal):
        "\(render(predicate.subject)) \(comparison.rawValue) \(render(literal))"
      case .member(let membership, let items):
        "\(render(predicate.subject)) \(membership.rawValue) [" + items.map(render).joined(separator: ", ") + "]"
      }
    }
  }

  func render(_ subject: ConditionSyntax.Subject) -> String {
    switch subject {
    case .field(let name): name.text
    case .call(let call): render(call)
    }
  }

  func render(_ call: ConditionSyntax.Call) -> String {
    let arguments = call.arguments.map { argument in
      switch argument {
      case .word(let name): name.text
      case .literal(let literal): render(literal)
      }
    }
    return call.function.text + "(" + arguments.joined(separator: ", ") + ")"
  }

  func render(_ literal: ConditionSyntax.Literal) -> String {
    switch literal.kind {
    case .number: "#" + literal.text
    case .word: literal.text
    case .quoted: "'" + literal.text + "'"
    }
  }

  static let shapes: [(String, String)] = [
    ("type = access", "type = access"),
    ("a = 1 and b = 2 or c = 3", "or(and(a = #1, b = #2), c = #3)"),
    ("a = 1 or b = 2 and c = 3", "or(a = #1, and(b = #2, c = #3))"),
    ("a = 1 and b = 2 and c = 3", "and(a = #1, b = #2, c = #3)"),
    ("a = 1 or b = 2 or c = 3", "or(a = #1, b = #2, c = #3)"),
    ("not a = 1 and b = 2", "and(not(a = #1), b = #2)"),
    ("not (a = 1 and b = 2)", "not(and(a = #1, b = #2))"),
    ("not not a exists", "not(not(a exists))"),
    ("(a = 1 or b = 2) and c = 3", "and(or(a = #1, b = #2), c = #3)"),
    ("((a exists))", "a exists"),
    ("x != -3.5", "x != #-3.5"),
    ("x < 1 and x <= 2 and x > 3 and x >= 4", "and(x < #1, x <= #2, x > #3, x >= #4)"),
    (
      "n contains foo and n icontains 'Foo Bar' and n startswith \"a\\\"b\"",
      "and(n contains foo, n icontains 'Foo Bar', n startswith 'a\"b')"
    ),
    ("n endswith x and n glob '*.x' and n matches '^a+$'", "and(n endswith x, n glob '*.x', n matches '^a+$')"),
    (
      "type in (attack, access) and w intersects (mortar) and r iin (un_agencies, 'World Food')",
      "and(type in [attack, access], w intersects [mortar], r iin [un_agencies, 'World Food'])"
    ),
    ("occurred_at >= 2016-02-27T00:00:00+02:00", "occurred_at >= 2016-02-27T00:00:00+02:00"),
    ("after_cessation and not excluded", "and(@after_cessation, not(@excluded))"),
    ("designated(perpetrator)", "designated(perpetrator)"),
    ("not designated(target) and x = 1", "and(not(designated(target)), x = #1)"),
    ("days_between(access.submitted_at, reported_at) > 30", "days_between(access.submitted_at, reported_at) > #30"),
    ("f() = 'x'", "f() = 'x'"),
    ("place(access.crossing, 2, \"b\") in (bab_al_salam)", "place(access.crossing, #2, 'b') in [bab_al_salam]"),
    ("perpetrator.name = القوات_الجوية", "perpetrator.name = القوات_الجوية"),
    // A bare word may start with a digit of any script, as it may hold one.
    ("narrative contains حلب٣ or narrative contains ٣حلب", "or(narrative contains حلب٣, narrative contains ٣حلب)"),
  ]

  @Test(arguments: shapes)
  func parses(text: String, expected: String) throws {
    #expect(try shape(text) == expected)
  }

  static let errors: [(String, Int, String)] = [
    ("", 0, "the condition is empty"),
    (
      "type = access and", 17,
      "expected an operand after 'and' (a field, a macro, 'not' or '('), got the end of the condition"
    ),
    ("a = 1 or", 8, "expected an operand after 'or' (a field, a macro, 'not' or '('), got the end of the condition"),
    ("not", 3, "expected an operand after 'not' (a field, a macro, 'not' or '('), got the end of the condition"),
    ("= 3", 0, "expected an operand at the start (a field, a macro, 'not' or '('), got '='"),
    ("type =", 6, "expected a value after '=', got the end of the condition"),
    ("type = and", 7, "expected a value after '=', got 'and'"),
    ("(a = 1", 6, "expected ')' to close the '(' before 'a', got the end of the condition"),
    ("b = 2 and (c = 3 or (a = 1) d", 28, "expected ')' to close the '(' before 'c', got 'd'"),
    // A keyword in capitals is a bare word: said so when the parse fails at it, or just
    // after it when it began an operand; a value in capitals after an operator is not.
    ("type = attack AND a = 1", 14, "'AND' is read as a name, not as the keyword 'and': keywords are written in lower case"),
    ("NOT type = attack", 0, "'NOT' is read as a name, not as the keyword 'not': keywords are written in lower case"),
    ("a = 1 and Not b", 10, "'Not' is read as a name, not as the keyword 'not': keywords are written in lower case"),
    ("type IN (attack)", 5, "'IN' is read as a name, not as the keyword 'in': keywords are written in lower case"),
    ("origin_country = IN narrative exists", 20, "unexpected 'narrative' after a complete condition; expected 'and' or 'or'"),
    ("a = b\u{200B}c", 5, "unexpected character U+200B (ZERO WIDTH SPACE, which cannot be seen)"),
    ("a = 1)", 5, "unexpected ')' after a complete condition; expected 'and' or 'or'"),
    ("a = 1 b = 2", 6, "unexpected 'b' after a complete condition; expected 'and' or 'or'"),
    ("type in access", 8, "expected '(' after 'in', got 'access'"),
    ("type in ()", 9, "expected a value or a list name in '( … )', got ')'"),
    ("type in (a b)", 11, "expected ',' or ')' in the list, got 'b'"),
    ("f(a", 3, "expected ',' or ')' after an argument to f(…), got the end of the condition"),
    ("f(=)", 2, "expected an argument to f(…) (a field or a value), got '='"),
    ("a ! b", 2, "unexpected '!'; did you mean '!=' or 'not'?"),
    ("a = 'open", 4, "unterminated quoted string"),
    ("a = $", 4, "unexpected character '$'"),
  ]

  @Test(arguments: errors)
  func refuses(text: String, offset: Int, message: String) {
    #expect(throws: ConditionError.self) { try ConditionParser.parse(text) }
    do {
      _ = try ConditionParser.parse(text)
    } catch {
      #expect(error.start == offset)
      #expect(error.message == message)
    }
  }

  @Test func positionsCountUnicodeScalars() throws {
    let condition = try ConditionParser.parse("perpetrator.name = 'داعش' and x")
    guard case .and(let operands) = condition, case .reference(let name) = operands[1] else {
      Issue.record("unexpected shape")
      return
    }
    #expect(name.start == 30)
  }

  @Test func deepNestingIsRefusedNotOverflowed() {
    let text = String(repeating: "(", count: 10_000) + "a exists" + String(repeating: ")", count: 10_000)
    #expect(throws: ConditionError.self) { try ConditionParser.parse(text) }
    let notChain = String(repeating: "not ", count: 10_000) + "a exists"
    #expect(throws: ConditionError.self) { try ConditionParser.parse(notChain) }
    // 64 levels of parentheses or `not`s are taken (docs/rules.md), 65 are not.
    for (levels, taken) in [(64, true), (65, false)] {
      let parenthesized = String(repeating: "(", count: levels) + "a exists" + String(repeating: ")", count: levels)
      let negated = String(repeating: "not ", count: levels) + "a exists"
      for text in [parenthesized, negated] {
        let parsed = Result { () throws(ConditionError) in try ConditionParser.parse(text) }
        if case .failure(let error) = parsed {
          #expect(!taken, "\(levels): \(error.message)")
          #expect(error.message == "the condition nests deeper than 64 levels")
        } else {
          #expect(taken, "\(levels) levels were taken")
        }
      }
    }
  }

  /// Random token streams never crash the parser: each parses or gives a positioned error.
  @Test func randomTokenStreams() {
    let pieces = [
      "a", "type", "=", "!=", "<", "<=", ">", ">=", "and", "or", "not", "(", ")", ",", "in", "iin", "intersects",
      "exists", "contains", "icontains", "glob", "matches", "'q'", "\"d\"", "3", "-2.5", "2016-01-01", "f(", "x.y",
      "داعش", "!", "$", "'", "startswith", "endswith",
    ]
    var random = SplitMix64(seed: 11)
    var parsed = 0
    for _ in 0..<20_000 {
      let count = 1 + Int(random.next() % 12)
      let text = (0..<count).map { _ in pieces[Int(random.next() % UInt64(pieces.count))] }.joined(separator: " ")
      do {
        _ = try ConditionParser.parse(text)
        parsed += 1
      } catch {
        #expect(error.start >= 0 && error.start <= text.unicodeScalars.count, "\(text)")
        #expect(!error.message.isEmpty)
      }
    }
    #expect(parsed > 100)
  }
}
