import VigilCore
import VigilPlugins
import VigilServer

/// A condition as a rule author writes it: lexer, parser, name resolution and type checks,
/// then the compiled condition run against sample reports. Promises: a refused condition
/// is refused with a message at a place inside its text; a compiled one evaluates every
/// report without trapping.
enum ConditionTarget {
  static func exercise(_ input: UnsafeBufferPointer<UInt8>) throws(FuzzFinding) {
    let text = String(decoding: input, as: UTF8.self)
    let compiled: CompiledCondition
    do {
      compiled = try compiler.compile(text)
    } catch {
      let length = text.unicodeScalars.count
      try promise(!error.message.isEmpty, "an error without a message for \(shown(input))")
      // A macro's errors are at places in the macro's text; ours are short.
      let limit = error.macro == nil ? length : 200
      try promise(
        0 <= error.start && error.start <= error.end && error.end <= max(limit, 1),
        "error at \(error.start)..<\(error.end) outside the \(length) characters of \(shown(input)): \(error)")
      return
    }
    for report in sampleReports {
      _ = compiled.matches(report)
    }
  }

  /// The shipped rules' lists and macros (and one macro using another), for conditions to
  /// name, and the plugins' functions (without items: `designated` and the place functions
  /// know no names and answer false).
  static let compiler: ConditionCompiler = {
    var functions = BuiltInFunctions.all
    for case let plugin as any RulePlugin in BuiltInPlugins.all {
      if case .success(let added) = plugin.prepare(items: [], settings: .mapping([])) { functions += added }
    }
    var macros: [String: ConditionSyntax] = [:]
    for (name, condition) in [
      ("after_cessation_of_hostilities", "occurred_at >= 2016-02-27T00:00:00+02:00"),
      ("requested_by_the_un", "mentions(access.requested_by, un_requesters)"),
      ("trade_with_designated_group", "designated(trade.seller) or designated(trade.buyer)"),
      ("deadly_after_cessation", "after_cessation_of_hostilities and casualties.killed > 0"),
    ] {
      macros[name] = try! ConditionParser.parse(condition)
    }
    return ConditionCompiler(
      lists: [
        "un_requesters": ["UN", "United Nations", "الأمم المتحدة", "OCHA", "WFP"],
        "medical_supplies": ["medical", "surgical", "طبي", "دواء"],
        "indiscriminate_weapons": ["barrel_bomb", "cluster_munition", "shelling"],
        "civilian_objects": ["civilians", "market", "hospital", "school"],
      ],
      macros: macros, functions: functions)
  }()

  /// Reports of every incident type, to run compiled conditions on.
  static let sampleReports: [Report] = SampleReports.lines.compactMap { line in
    try? ReportParser.parse(line).get().report
  }
}
