import Testing

@testable import VigilPlugins

/// Which JSON numbers PostgreSQL's `numeric` holds, as `'[N]'::jsonb` answered on
/// PostgreSQL 15 (each checked there by hand), and a line with those it does not.
@Suite("The postgres sink: numbers jsonb cannot hold")
struct PostgresReadableJSONTests {
  static let numbers: [(String, Bool)] = [
    ("1e-16383", true), ("1e-16384", false), ("1.5e-16382", true), ("1.5e-16383", false), ("1.50e-16382", false),
    ("1e131071", true), ("1e131072", false), ("1e-20000", false), ("0e-99999", false), ("-0.0e99999", true),
    ("0.0e-16383", false), ("10e131070", true), ("10e131071", false), ("0.01e131073", true), ("0.01e131074", false),
    ("12345e-16387", false), ("1e-1000000000", false), ("1e1000000000", false), ("-12.5", true), ("0", true),
    ("1E+5", true),
  ]

  @Test(arguments: numbers) func numericHoldsAsPostgreSQLSays(number: String, holds: Bool) {
    #expect(PostgresReadableJSON.fits(ArraySlice(number.utf8)) == holds)
  }

  @Test func aLineIsRewrittenOnlyWhereANumberDoesNotFit() {
    #expect(PostgresReadableJSON.replacingUnreadableNumbers(in: #"{"a":1,"b":[2.5,"1e-20000"]}"#) == nil)
    #expect(
      PostgresReadableJSON.replacingUnreadableNumbers(in: #"{"a\"1e-20000":1e-20000,"b":[2,-1e131072],"c":"x"}"#)
        == #"{"a\"1e-20000":null,"b":[2,null],"c":"x"}"#)
  }
}
