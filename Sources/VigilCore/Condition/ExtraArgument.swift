/// An `extra.*` field given to a function that takes a typed field: its JSON value read as
/// that type when a report is evaluated, as comparisons read it (docs/rules.md, "extra"):
/// a string as text, or as a timestamp or a number when it writes one; an array as its
/// texts. A value of another type is absent to the function, as a missing field is.
/// Without this, `mentions(extra.group, Daesh)` loaded and could never hold: functions
/// read texts and timestamps, and an `extra` value is neither until it is read as one.
enum ExtraArgument {
  static func field(_ field: ReportSchema.Field, readAs type: FieldType) -> ReportSchema.Field {
    let raw = field.read
    return ReportSchema.Field(path: field.path, type: field.type) { report in
      guard case .json(let json)? = raw(report) else { return nil }
      return value(json, as: type)
    }
  }

  static func value(_ json: JSONValue, as type: FieldType) -> FieldValue? {
    switch (type, json) {
    case (.text, .string(let string)): return .text(ReportText(string))
    case (.text, .array), (.texts, .array):
      guard case .array(let elements) = json else { return nil }
      let texts = elements.compactMap { element -> ReportText? in
        guard case .string(let string) = element else { return nil }
        return ReportText(string)
      }
      return texts.isEmpty ? nil : .texts(texts)
    case (.texts, .string(let string)): return .texts([ReportText(string)])
    case (.timestamp, .string(let string)): return Timestamp(string).map(FieldValue.timestamp)
    case (.number, .number(let number)): return .number(number)
    case (.number, .string(let string)): return ValueTest.numberLiteral(string).map(FieldValue.number)
    case (.bool, .bool(let flag)): return .bool(flag)
    case (.bool, .string(let string)): return ["true": true, "false": false][string].map(FieldValue.bool)
    default: return nil
    }
  }
}
