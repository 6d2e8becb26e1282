import Foundation
import VigilCore

/// Reads a mapping file (docs/import.md) like a rule file: every problem at its
/// `file:line:column`, unknown keys refused, and its examples — a row and the report it
/// must become — run at load.
public enum MappingLoader {
  public static func load(path: String) -> Result<Mapping, RuleSetErrors> {
    guard let data = FileManager.default.contents(atPath: path) else {
      // Why, as the system says it; and when it is not there, the mappings that are.
      let reason = access(path, F_OK) == 0 ? (access(path, R_OK) == 0 ? "not a readable file" : "permission denied") : "no such file"
      let folder = (path as NSString).deletingLastPathComponent
      let known = ((try? FileManager.default.contentsOfDirectory(atPath: folder.isEmpty ? "." : folder)) ?? [])
        .filter { $0.hasSuffix(".yaml") && !$0.hasPrefix(".") }.map { String($0.dropLast(5)) }.sorted()
      let there = reason == "no such file" && !known.isEmpty ? "; the mappings in \(folder): \(known.joined(separator: ", "))" : ""
      return .failure(
        RuleSetErrors(errors: [RuleError(SourcePosition(file: path, line: 0, column: 0), "cannot read \(path) (\(reason))\(there)")]))
    }
    return load([UInt8](data), path: path)
  }

  public static func load(_ bytes: [UInt8], path: String) -> Result<Mapping, RuleSetErrors> {
    let root: RuleNode?
    do {
      root = try YAMLReader.read(bytes, file: path)
    } catch {
      return .failure(RuleSetErrors(errors: [error]))
    }
    guard case .mapping(let members, let position)? = root else {
      return .failure(
        RuleSetErrors(errors: [RuleError(root?.position ?? SourcePosition(file: path, line: 1, column: 1), "a mapping file is a YAML mapping with mapping, id and fields")]))
    }
    var reader = Reader()
    let mapping = reader.mapping(members, position: position, path: path)
    guard reader.errors.isEmpty, let mapping else { return .failure(RuleSetErrors(errors: reader.errors)) }
    // The examples run against the mapping just read.
    if let examples = members.first(where: { $0.key == "examples" })?.value {
      reader.runExamples(examples, mapping: mapping)
    }
    return reader.errors.isEmpty ? .success(mapping) : .failure(RuleSetErrors(errors: reader.errors))
  }

  static let topKeys = ["mapping", "description", "format", "sheet", "id", "where", "fields", "extra", "examples"]
  /// What an `id` takes: its prefix, and a source (or `digest`, apart).
  static let idKeys = ["prefix", "column", "hxl", "join", "separator", "digest"]
  static let valueKeys = [
    "column", "hxl", "value", "join", "date", "when", "else", "skip", "map", "only_when", "split", "optional", "separator",
  ]

  /// Reads nodes, collecting every problem at its place.
  struct Reader {
    var errors: [RuleError] = []
    var columns: [ColumnReference] = []
    var optionalColumns: [ColumnReference] = []

    mutating func fail(_ position: SourcePosition, _ message: String) {
      errors.append(RuleError(position, message))
    }

    mutating func mapping(_ members: [RuleNode.Member], position: SourcePosition, path: String) -> Mapping? {
      var name: String?
      var format: String?
      var sheet: String?
      var id: IDRule?
      var filters: [RowFilter] = []
      var fields: [FieldRule] = []
      var extras: [FieldRule] = []
      for member in members {
        switch member.key {
        case "mapping": name = text(member.value, "mapping")
        case "description": _ = text(member.value, "description")
        case "format":
          format = text(member.value, "format")
          if let given = format, !["csv", "xlsx", "json", "ndjson"].contains(given) {
            fail(member.value.position, "format must be csv, xlsx, json or ndjson, got \(given)")
          }
        case "sheet": sheet = text(member.value, "sheet")
        case "id": id = idRule(member.value)
        case "where": filters = rowFilters(member.value)
        case "fields": fields = fieldRules(member.value, extra: false)
        case "extra": extras = fieldRules(member.value, extra: true)
        case "examples": break
        default:
          fail(member.keyPosition, "unknown key '\(member.key)' in a mapping file (known: \(MappingLoader.topKeys.joined(separator: ", ")))")
        }
      }
      if name == nil { fail(position, "a mapping file needs 'mapping': its name") }
      // (An id given but wrong has said so at its place.)
      if id == nil, !members.contains(where: { $0.key == "id" }) {
        fail(position, "a mapping file needs 'id': how the report id is made from the source's identifier")
      }
      for required in ["occurred_at", "type"] where !fields.contains(where: { $0.path == required }) {
        fail(position, "a mapping file needs fields.\(required): every report has one")
      }
      // A field whose only_when fails goes under extra.<path with _>: an extra of that
      // name would overwrite it, row by row, without a word.
      for field in fields where field.onlyWhen != nil {
        let moved = "extra." + field.path.replacingOccurrences(of: ".", with: "_")
        if let extra = extras.first(where: { $0.path == moved }) {
          fail(
            extra.position,
            "\(moved) is where \(field.path) goes when its only_when does not hold (\(field.position)); "
              + "name this extra otherwise")
        }
      }
      guard let name, let id else { return nil }
      return Mapping(
        name: name, path: path, format: format, sheet: sheet, filters: filters, id: id, fields: fields, extras: extras,
        columns: columns, optionalColumns: optionalColumns, position: position)
    }

    mutating func text(_ node: RuleNode, _ what: String) -> String? {
      guard case .scalar(let scalar) = node, !node.isNull else {
        fail(node.position, "\(what) must be a value, got \(node.kindName)")
        return nil
      }
      return scalar.text
    }

    mutating func texts(_ node: RuleNode, _ what: String) -> [String] {
      if case .sequence(let elements, _) = node { return elements.compactMap { text($0, what) } }
      return text(node, what).map { [$0] } ?? []
    }

    mutating func idRule(_ node: RuleNode) -> IDRule? {
      guard case .mapping(let members, _) = node else {
        fail(node.position, "id must be a mapping such as {prefix: AWSD-, column: Incident ID}")
        return nil
      }
      let prefix = members.first { $0.key == "prefix" }.flatMap { text($0.value, "id prefix") } ?? ""
      if let digest = members.first(where: { $0.key == "digest" }) {
        guard case .sequence(let elements, _) = digest.value, !elements.isEmpty else {
          fail(digest.value.position, "digest is a list of the columns that together identify a row")
          return nil
        }
        var references: [ColumnReference] = []
        for element in elements {
          guard let name = text(element, "a column") else { continue }
          let reference = ColumnReference.header(name.trimmingCharacters(in: .whitespaces), element.position)
          columns.append(reference)
          references.append(reference)
        }
        for member in members where member.key != "prefix" && member.key != "digest" {
          fail(member.keyPosition, "id takes prefix and either a source or digest, not '\(member.key)' with digest")
        }
        return IDRule(prefix: prefix, source: .digest(references))
      }
      // A source many rows share is no identifier: every row after the first would be
      // refused as an id_conflict, its incident lost.
      var shared = false
      for member in members {
        let why: String
        switch member.key {
        case "value": why = "a value is the same for every row"
        case "when": why = "a when gives one of a few values"
        case "date": why = "a date is shared by every incident of its day"
        case "else": continue  // said with its when
        default:
          if !MappingLoader.idKeys.contains(member.key) {
            fail(member.keyPosition, "unknown key '\(member.key)' for id (known: \(MappingLoader.idKeys.joined(separator: ", ")))")
          }
          continue
        }
        fail(
          member.keyPosition,
          "id cannot be '\(member.key)': \(why), and each row after the first with it would be refused as an "
            + "id_conflict; name the column that identifies a row (column, hxl, join), or digest: [columns] when there is none")
        shared = true
      }
      guard !shared else { return nil }
      // Of the sources a field takes, an id takes a column (or hashtag) or a join of them.
      guard members.contains(where: { ["column", "hxl", "join"].contains($0.key) }) else {
        fail(node.position, "id: give one of column (or hxl) or join, or digest: [columns] for a source with no identifier of its own")
        return nil
      }
      guard let source = valueSource(members.filter { $0.key != "prefix" }, at: node.position, what: "id") else { return nil }
      return IDRule(prefix: prefix, source: source)
    }

    mutating func rowFilters(_ node: RuleNode) -> [RowFilter] {
      guard case .sequence(let elements, _) = node else {
        fail(node.position, "where must be a list of tests, got \(node.kindName)")
        return []
      }
      var filters: [RowFilter] = []
      for element in elements {
        guard case .mapping(let members, let position) = element else {
          fail(element.position, "each test of where is a mapping, got \(element.kindName)")
          continue
        }
        if let range = members.first(where: { $0.key == "occurred_at" }) {
          // A date range is a test of its own: a column test beside it would be dropped.
          for other in members where other.key != "occurred_at" {
            fail(other.keyPosition, "'\(other.key)' beside occurred_at: a date range is a test of its own; give the column test as another entry of where")
          }
          guard case .mapping(let bounds, _) = range.value else {
            fail(range.value.position, "occurred_at in where is {from: YYYY-MM-DD, to: YYYY-MM-DD}")
            continue
          }
          var from: String?
          var to: String?
          for bound in bounds {
            switch bound.key {
            case "from": from = date(bound.value)
            case "to": to = date(bound.value)
            default: fail(bound.keyPosition, "unknown key '\(bound.key)' in a date range (known: from, to)")
            }
          }
          // Days as YYYY-MM-DD compare as text: a range that ends before it begins keeps no row.
          if let from, let to, to < from {
            fail(range.value.position, "occurred_at in where runs from \(from) to \(to), which is before it: no row would pass")
          }
          filters.append(.dateRange(from: from, to: to))
        } else if let test = rowTest(members, at: position) {
          filters.append(.test(test))
        }
      }
      return filters
    }

    mutating func date(_ node: RuleNode) -> String? {
      guard let value = text(node, "a date"), DateReading.isoDate(value) != nil, value.count == 10 else {
        fail(node.position, "expected a date YYYY-MM-DD")
        return nil
      }
      return value
    }

    /// `{column|hxl: …, equals|contains|matches: …, not: true}`.
    mutating func rowTest(_ members: [RuleNode.Member], at position: SourcePosition, givesValue: Bool = false) -> RowTest? {
      var reference: ColumnReference?
      var kind: RowTest.Kind?
      var negated = false
      for member in members {
        switch member.key {
        case "column", "hxl": break
        case "equals", "one_of": kind = .equals(texts(member.value, member.key))
        case "contains": kind = .contains(texts(member.value, "contains"))
        case "matches":
          if let pattern = text(member.value, "matches") {
            if (try? NSRegularExpression(pattern: pattern)) == nil {
              fail(member.value.position, "matches: not a regular expression: \(pattern)")
            }
            kind = .matches(pattern)
          }
        case "not":
          switch text(member.value, "not") {
          case "true"?: negated = true
          case "false"?, nil: break
          case let other?: fail(member.value.position, "not: expected true or false, got '\(other)'")
          }
        case "value" where givesValue: break
        default:
          fail(member.keyPosition, "unknown key '\(member.key)' in a test (known: column, hxl, equals, one_of, contains, matches, not\(givesValue ? ", value" : ""))")
        }
      }
      reference = columnReference(members, at: position)
      guard let reference else { return nil }
      let kinds = members.map(\.key).filter { ["equals", "one_of", "contains", "matches"].contains($0) }
      guard kinds.count <= 1 else {
        fail(position, "a test takes one of equals (or one_of), contains, matches; this one gives \(kinds.joined(separator: ", "))")
        return nil
      }
      guard let kind else {
        fail(position, "a test needs equals, one_of, contains or matches")
        return nil
      }
      return RowTest(column: reference, kind: kind, negated: negated)
    }

    /// The column a `column:` or `hxl:` (with `column:` as its fallback) names.
    mutating func columnReference(_ members: [RuleNode.Member], at position: SourcePosition) -> ColumnReference? {
      let column = members.first { $0.key == "column" }
      let hxl = members.first { $0.key == "hxl" }
      if let hxl, let text = text(hxl.value, "hxl") {
        let words = HashtagRow.words(text).map(String.init)
        guard let tag = words.first, tag.hasPrefix("#"), tag.count > 1, words.dropFirst().allSatisfy({ $0.hasPrefix("+") && $0.count > 1 })
        else {
          fail(hxl.value.position, "hxl must be a hashtag with attributes such as '#affected +killed', got '\(text)'")
          return nil
        }
        let reference = ColumnReference.hashtag(
          tag: tag.lowercased(), attributes: words.dropFirst().map { String($0.dropFirst()).lowercased() },
          fallback: column.flatMap { self.text($0.value, "column") }, hxl.value.position)
        columns.append(reference)
        return reference
      }
      if let column, let name = text(column.value, "column") {
        let reference = ColumnReference.header(name.trimmingCharacters(in: .whitespaces), column.value.position)
        columns.append(reference)
        return reference
      }
      fail(position, "name the column: column: NAME or hxl: '#tag +attribute'")
      return nil
    }

    mutating func fieldRules(_ node: RuleNode, extra: Bool) -> [FieldRule] {
      guard case .mapping(let members, _) = node else {
        fail(node.position, "\(extra ? "extra" : "fields") must be a mapping of \(extra ? "names" : "report fields") to their sources")
        return []
      }
      var rules: [FieldRule] = []
      for member in members {
        let path = extra ? "extra." + member.key : member.key
        if path == RowMapper.provenancePath {
          fail(member.keyPosition, "extra.\(member.key) is the import's own (which mapping made the report); name this extra otherwise")
          continue
        }
        if !extra {
          guard let field = ReportSchema.field(path), field.type != .object else {
            fail(member.keyPosition, "fields.\(member.key): no such report field (see docs/reports.md)")
            continue
          }
          if path.hasPrefix("extra.") {
            fail(member.keyPosition, "fields.\(member.key): put extras under extra:")
            continue
          }
          // The id is the mapping's `id:` (its prefix and the source's identifier, made
          // valid): a field would replace it with a cell as written.
          if path == "id" {
            fail(member.keyPosition, "fields.id: a report's id is made by the mapping's id: {prefix: …, column: …}, not a field")
            continue
          }
        }
        let before = columns.count
        if let rule = fieldRule(member.value, path: path) { rules.append(rule) }
        if case .mapping(let valueMembers, _) = member.value,
          let optional = valueMembers.first(where: { $0.key == "optional" }), let flag = text(optional.value, "optional")
        {
          switch flag {
          case "true": optionalColumns += columns[before...]
          case "false": break
          default: fail(optional.value.position, "\(path) optional: expected true or false, got '\(flag)'")
          }
        }
      }
      return rules
    }

    mutating func fieldRule(_ node: RuleNode, path: String) -> FieldRule? {
      // A bare value is a column name: `location.place: City`.
      if case .scalar = node, let name = text(node, path) {
        let reference = ColumnReference.header(name.trimmingCharacters(in: .whitespaces), node.position)
        columns.append(reference)
        return FieldRule(path: path, source: .column(reference), skip: [], map: nil, onlyWhen: nil, split: nil, position: node.position)
      }
      guard case .mapping(let members, let position) = node else {
        fail(node.position, "\(path): a column name or a mapping such as {column: City}, got \(node.kindName)")
        return nil
      }
      for member in members where !MappingLoader.valueKeys.contains(member.key) {
        let hint = member.key == "prefix" ? "; prefix is the id's" : ""
        fail(member.keyPosition, "unknown key '\(member.key)' for \(path)\(hint) (known: \(MappingLoader.valueKeys.joined(separator: ", ")))")
      }
      var skip: Set<String> = []
      var map: [String: [String]]?
      /// Where each word a map gives is first written, for an error about it.
      var mapWordPositions: [String: SourcePosition] = [:]
      var onlyWhen: RowTest?
      var split: String?
      for member in members {
        switch member.key {
        case "split":
          split = text(member.value, "split")
          if !Self.isListField(path) {
            fail(member.keyPosition, "split is for list fields (weapons, detention.victims, …); \(path) holds one value")
          }
        case "skip": skip = Set(texts(member.value, "skip"))
        case "map":
          guard case .mapping(let pairs, _) = member.value else {
            fail(member.value.position, "map must be a mapping of source values to report values")
            continue
          }
          var table: [String: [String]] = [:]
          // Cells are matched case, diacritics and invisible marks aside: two keys alike so
          // would each match the other's cells, and which wins would depend on the cell.
          var folded: [String: (key: String, values: [String])] = [:]
          for pair in pairs {
            let values = texts(pair.value, "a mapped value")
            table[pair.key] = values
            for value in values where mapWordPositions[value] == nil { mapWordPositions[value] = pair.value.position }
            let key = CellComparison.folded(pair.key)
            if let earlier = folded[key], earlier.values != values {
              fail(
                pair.keyPosition,
                "map: '\(pair.key)' and '\(earlier.key)' are the same cell to the map (case and diacritics "
                  + "aside) but map to different values; give one")
            }
            folded[key] = (pair.key, values)
          }
          map = table
        case "only_when":
          guard case .mapping(let testMembers, let testPosition) = member.value else {
            fail(member.value.position, "only_when is a test such as {column: Geo Precision, one_of: [Exact]}")
            continue
          }
          onlyWhen = rowTest(testMembers, at: testPosition)
        default: break
        }
      }
      let sourceMembers = members.filter { !["skip", "map", "only_when", "split", "optional"].contains($0.key) }
      guard let source = valueSource(sourceMembers, at: position, what: path) else { return nil }
      // A date source reads a date: for a field that is no time it would record the date's
      // text as a party or a place.
      if case .date = source, !path.hasPrefix("extra."), let type = ReportSchema.field(path)?.type, type != .timestamp {
        fail(position, "\(path): date is for time fields (occurred_at, reported_at, …); \(path) is not one")
      }
      // A map's values for a yes/no or a number field must be such: one that is not would
      // refuse every row it maps.
      if let map, let type = ReportSchema.field(path)?.type, type == .bool || type == .number {
        for (key, values) in map.sorted(by: { $0.key < $1.key }) {
          for value in values {
            let fits =
              type == .bool
              ? ["true", "false", "yes", "no", "y", "n", "1", "0", "نعم", "لا"].contains(CellComparison.folded(value))
              : RowMapper.decimal(value).flatMap(Double.init).map { $0.isFinite } ?? false
            if !fits {
              fail(position, "\(path) is \(type == .bool ? "yes or no" : "a number"), but map gives '\(key)' '\(value)'")
            }
          }
        }
      }
      checkVocabulary(path, source: source, map: map, at: position, wordPositions: mapWordPositions)
      return FieldRule(path: path, source: source, skip: skip, map: map, onlyWhen: onlyWhen, split: split, position: position)
    }

    /// For an enum field, the words the mapping itself gives (a constant, the values of
    /// `when`, a map's values) must be the schema's: a misspelling is an error here, not a
    /// refusal of every row later.
    /// A map's word is said at the entry that gives it (`wordPositions`), the others at the
  /// field, in the file's order.
  mutating func checkVocabulary(
    _ path: String, source: ValueSource, map: [String: [String]]?, at position: SourcePosition,
    wordPositions: [String: SourcePosition] = [:]
  ) {
      // A list for a field of one value would keep its first item and drop the rest.
      if !Self.isListField(path), let map {
        for (key, values) in map.sorted(by: { $0.key < $1.key }) where values.count > 1 {
          fail(position, "\(path) takes one value, but map gives '\(key)' \(values.count): \(values.joined(separator: ", "))")
        }
      }
      var own: [String] = []
      switch source {
      case .constant(let value): own.append(value)
      case .choice(let cases, let otherwise): own += cases.map(\.1) + (otherwise.map { [$0] } ?? [])
      default: break
      }
      let given = (map.map { $0.values.flatMap { $0 } } ?? []) + own
      switch ReportSchema.field(path)?.type {
      case .word(let allowed)?, .words(let allowed)?:
        let place = { (word: String) in wordPositions[word] ?? position }
        let wrong = Set(given).filter { !allowed.contains($0) }.sorted {
          (place($0).line, place($0).column, $0) < (place($1).line, place($1).column, $1)
        }
        for word in wrong {
          fail(place(word), "\(path): '\(word)' is not one of its words (\(allowed.joined(separator: ", ")))")
        }
      // A number or a yes/no the mapping gives itself (a value, a `when`'s; a map's are
      // checked with the map) is read as a cell's would be: one it cannot read is an error
      // here, not the refusal of every row.
      case .number?:
        for value in Set(own).sorted() where RowMapper.decimal(value) == nil {
          fail(position, "\(path): '\(value)' is not a number")
        }
      case .bool?:
        for value in Set(own).sorted() where RowMapper.yesOrNo(value) == nil {
          fail(position, "\(path): '\(value)' is neither yes nor no (true, false)")
        }
      default: return
      }
    }

    /// A field of the schema that holds a list (`extra` members hold one value each).
    static func isListField(_ path: String) -> Bool {
      ReportSchema.field(path).map { $0.type == .texts || isWords($0.type) } ?? false
    }

    static func isWords(_ type: FieldType) -> Bool {
      if case .words = type { return true }
      return false
    }

    /// One of column/hxl, value, join, date, when.
    mutating func valueSource(_ members: [RuleNode.Member], at position: SourcePosition, what: String) -> ValueSource? {
      let kinds = members.map(\.key).filter { ["column", "hxl", "value", "join", "date", "when"].contains($0) }
      let primary = Set(kinds.map { $0 == "hxl" ? "column" : $0 })
      guard primary.count == 1 else {
        fail(position, "\(what): give exactly one of column (or hxl), value, join, date, when; got \(primary.isEmpty ? "none" : primary.sorted().joined(separator: ", "))")
        return nil
      }
      // A key that only goes with another kind of source is a mistake, not to be ignored.
      for (key, partner) in [("separator", "join"), ("else", "when")]
      where primary.first != partner && members.contains(where: { $0.key == key }) {
        fail(members.first { $0.key == key }!.keyPosition, "\(what): \(key) goes with \(partner), which is not given")
      }
      switch primary.first! {
      case "value":
        return text(members.first { $0.key == "value" }!.value, "value").map(ValueSource.constant)
      case "join":
        let join = members.first { $0.key == "join" }!
        guard case .sequence(let elements, _) = join.value else {
          fail(join.value.position, "join is a list of columns")
          return nil
        }
        var references: [ColumnReference] = []
        for element in elements {
          if case .mapping(let inner, let innerPosition) = element {
            if let reference = columnReference(inner, at: innerPosition) { references.append(reference) }
          } else if let name = text(element, "a column") {
            let reference = ColumnReference.header(name.trimmingCharacters(in: .whitespaces), element.position)
            columns.append(reference)
            references.append(reference)
          }
        }
        let separator = members.first { $0.key == "separator" }.flatMap { text($0.value, "separator") } ?? "\n"
        return .join(references, separator: separator)
      case "date":
        return dateSource(members.first { $0.key == "date" }!.value)
      case "when":
        return choice(members)
      default:
        return columnReference(members, at: position).map(ValueSource.column)
      }
    }

    mutating func dateSource(_ node: RuleNode) -> ValueSource? {
      guard case .mapping(let members, let position) = node else {
        fail(node.position, "date is {column: NAME} (ISO text, Excel serial numbers, or formats) or {year: Y, month: M, day: D}")
        return nil
      }
      var patterns: [String] = []
      var serials: Bool?
      for member in members {
        switch member.key {
        case "column", "hxl", "year", "month", "day": break
        case "serials":
          switch text(member.value, "serials") {
          case "true": serials = true
          case "false": serials = false
          case let flag?: fail(member.value.position, "serials: expected true or false, got '\(flag)'")
          case nil: break
          }
        case "formats":
          patterns = texts(member.value, "formats")
          for pattern in patterns where !DateReading.isPattern(pattern) {
            fail(member.value.position, "formats: '\(pattern)' is not a date pattern made of dd, MM, yyyy (or yy) and separators")
          }
        default: fail(member.keyPosition, "unknown key '\(member.key)' in a date (known: column, hxl, formats, serials, year, month, day)")
        }
      }
      if members.contains(where: { $0.key == "year" }) {
        if let member = members.first(where: { $0.key == "serials" || $0.key == "formats" }) {
          fail(member.keyPosition, "\(member.key) is for a date from one column, not from year, month and day")
        }
        func part(_ key: String) -> ColumnReference? {
          guard let member = members.first(where: { $0.key == key }), let name = text(member.value, key) else { return nil }
          let reference = ColumnReference.header(name.trimmingCharacters(in: .whitespaces), member.value.position)
          columns.append(reference)
          return reference
        }
        guard let year = part("year"), let month = part("month") else {
          fail(position, "a date from parts needs year and month (and day, which may be empty)")
          return nil
        }
        return .date(column: nil, patterns: [], serials: nil, parts: (year, month, part("day")))
      }
      guard let reference = columnReference(members, at: position) else { return nil }
      return .date(column: reference, patterns: patterns, serials: serials, parts: nil)
    }

    /// `when: [{column: …, equals: …, value: V}, …]` and `else: V`.
    mutating func choice(_ members: [RuleNode.Member]) -> ValueSource? {
      let when = members.first { $0.key == "when" }!
      guard case .sequence(let cases, _) = when.value else {
        fail(when.value.position, "when is a list of tests, each with the value it gives")
        return nil
      }
      var choices: [(RowTest, String)] = []
      for element in cases {
        guard case .mapping(let caseMembers, let position) = element,
          let valueMember = caseMembers.first(where: { $0.key == "value" })
        else {
          fail(element.position, "each case of when is a test with its value: {column: X, contains: Y, value: Z}")
          continue
        }
        if let test = rowTest(caseMembers, at: position, givesValue: true), let value = text(valueMember.value, "value") {
          choices.append((test, value))
        }
      }
      let otherwise = members.first { $0.key == "else" }.flatMap { text($0.value, "else") }
      return .choice(choices, otherwise: otherwise)
    }

    /// Each example's row must become its report (extra.import, the provenance, aside).
    mutating func runExamples(_ node: RuleNode, mapping: Mapping) {
      guard case .sequence(let examples, _) = node else {
        fail(node.position, "examples must be a list of {row, report}")
        return
      }
      // Counted from 1, as a reader counts them.
      for (index, example) in zip(1..., examples) {
        guard case .mapping(let members, let position) = example,
          case .mapping(let cells, _)? = members.first(where: { $0.key == "row" })?.value,
          let expected = members.first(where: { $0.key == "report" })?.value
        else {
          fail(example.position, "example \(index): a row (column: value) and the report it must become (or report: filtered)")
          continue
        }
        let header = cells.map(\.key)
        let row = TableRow(number: 2, cells: cells.map { member in
          if case .scalar(let scalar) = member.value, !member.value.isNull { return scalar.text }
          return ""
        })
        // A row written by hashtags (`"#adm1 +name": Idlib`) stands for a sheet with a hashtag row.
        let hashtags = header.allSatisfy { $0.hasPrefix("#") } ? header : nil
        let mapper = RowMapper(mapping: mapping, header: header, hashtags: hashtags)
        if let missing = mapper.missingColumns.first {
          fail(position, "example \(index): the row lacks the column \(missing.shown) the mapping reads (\(missing.position))")
          continue
        }
        let outcome = mapper.map(row)
        if case .scalar(let scalar) = expected, scalar.text == "filtered" {
          if case .filtered = outcome { continue }
          fail(expected.position, "example \(index): the row should be filtered out, but became \(outcome)")
          continue
        }
        guard case .report(let json, _) = outcome else {
          fail(position, "example \(index): the row became \(outcome), not a report")
          continue
        }
        let want = ExampleReport.json(expected, ruleID: mapping.name, index: index)
        if !MappingLoader.sameReport(json, want) {
          // Both with their keys sorted, so that they can be read side by side.
          let (made, wanted) = MappingLoader.compared(json, want)
          fail(expected.position, "example \(index): the row became\n  \(made)\nnot\n  \(wanted)")
        }
      }
    }
  }

  /// Whether the report made is the one expected, `extra.import` (the provenance every
  /// report gets) aside in both when the example leaves it out; an example that writes
  /// one must write the right one.
  static func sameReport(_ made: String, _ expected: String) -> Bool {
    let (left, right) = compared(made, expected)
    guard let left = try? JSONSerialization.jsonObject(with: Data(left.utf8)) as? NSDictionary,
      let right = try? JSONSerialization.jsonObject(with: Data(right.utf8)) as? NSDictionary
    else { return false }
    return left == right
  }

  /// The two reports as they are compared (and shown, side by side): keys sorted, without
  /// `extra.import` unless the example writes one.
  static func compared(_ made: String, _ expected: String) -> (made: String, expected: String) {
    let expectedObject = try? JSONSerialization.jsonObject(with: Data(expected.utf8)) as? [String: Any]
    let writesSource = (expectedObject?["extra"] as? [String: Any])?[provenanceKey] != nil
    return (withoutSource(made, keeping: writesSource), withoutSource(expected, keeping: writesSource))
  }

  /// `import`, the member of `extra` every imported report gets.
  static let provenanceKey = String(RowMapper.provenancePath.dropFirst("extra.".count))

  /// The report with its keys sorted, `extra.import` left out unless `keeping`.
  static func withoutSource(_ json: String, keeping: Bool = false) -> String {
    guard var object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] else { return json }
    if !keeping, var extra = object["extra"] as? [String: Any] {
      extra.removeValue(forKey: provenanceKey)
      object["extra"] = extra.isEmpty ? nil : extra
    }
    let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
    return String(decoding: data, as: UTF8.self)
  }
}
