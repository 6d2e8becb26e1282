import CYaml

/// Reads a rule file into `RuleNode`s straight from libyaml's events (libyaml is the
/// parser Yams bundles). Yams' own composer resolves a tag for every scalar and hashes
/// whole nodes to find repeated keys: on 1,000 generated rules it took about 50 of the
/// 138 ms a load took, against a target of 100 ms for the whole load; reading the events
/// here keeps scalars as text (which is how the loader reads them anyway) and checks
/// repeated keys by their text.
public enum YAMLReader {
  /// The file's single document, or nil when it is empty. A key given twice in a mapping
  /// throws, as any other problem.
  public static func read(_ file: [UInt8], file name: String) throws(RuleError) -> RuleNode? {
    var problems: [RuleError] = []
    let root = try read(file, file: name, problems: &problems)
    if let first = problems.first { throw first }
    return root
  }

  /// The same, but a key given twice in a mapping is one of `problems`, and the file is
  /// read on (the key's first value kept): the rest of the file's errors come with it, not
  /// one round of editing later.
  public static func read(_ file: [UInt8], file name: String, problems: inout [RuleError]) throws(RuleError) -> RuleNode? {
    // A UTF-8 byte order mark, as editors on Windows write one, is no part of the YAML.
    let bytes = file.starts(with: [0xEF, 0xBB, 0xBF]) ? Array(file.dropFirst(3)) : file
    let file = name
    var parser = yaml_parser_t()
    guard yaml_parser_initialize(&parser) == 1 else {
      throw RuleError(SourcePosition(file: file, line: 1, column: 1), "out of memory reading YAML")
    }
    defer { yaml_parser_delete(&parser) }
    return try bytes.withUnsafeBufferPointer { (buffer: UnsafeBufferPointer<UInt8>) throws(RuleError) -> RuleNode? in
      yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
      yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING)
      var builder = Builder(file: file)
      var event = yaml_event_t()
      while true {
        guard yaml_parser_parse(&parser, &event) == 1 else {
          throw builder.syntaxError(parser, in: bytes)
        }
        defer { yaml_event_delete(&event) }
        if event.type == YAML_STREAM_END_EVENT { break }
        try builder.take(event)
      }
      problems += builder.problems
      return builder.root
    }
  }

  /// Builds nodes from events, keeping the containers still open on a stack.
  private struct Builder {
    /// A container still open. A class, so that a node is added in place: as an enum's
    /// payload, each element's array was copied to append to it (a list of 40,000 items
    /// took 18 s to read, of 100,000 nearly two minutes).
    final class Open {
      let isMapping: Bool
      let position: SourcePosition
      let anchor: String?
      var elements: [RuleNode] = []
      /// A mapping's members so far, where each key is among them, and a key waiting for
      /// its value; `merged`, the keys that came through a merge key (`<<: *base`), which
      /// a key of the mapping's own replaces.
      var members: [RuleNode.Member] = []
      var places: [String: Int] = [:]
      var key: RuleNode.Scalar?
      var merged: Set<String> = []

      init(isMapping: Bool, position: SourcePosition, anchor: String?) {
        self.isMapping = isMapping
        self.position = position
        self.anchor = anchor
      }

      func append(_ member: RuleNode.Member) {
        places[member.key] = members.count
        members.append(member)
      }

      func remove(at index: Int) {
        members.remove(at: index)
        places = Dictionary(members.enumerated().map { ($1.key, $0) }, uniquingKeysWith: { first, _ in first })
      }
    }

    let file: String
    /// Keys given twice, each said at its second place.
    var problems: [RuleError] = []
    var stack: [Open] = []
    var root: RuleNode?
    var documents = 0
    var anchors: [String: (node: RuleNode, weight: Int)] = [:]
    /// Nodes so far, each alias counted as the nodes it repeats; and where each open
    /// container began, to weigh it once it ends.
    var expanded = 0
    /// Of them, the nodes aliases repeated.
    var aliasesExpanded = 0
    var opened: [Int] = []

    /// How many nodes a file may make, aliases expanded: nested aliases repeat their
    /// anchors' nodes exponentially (a 600-byte "billion laughs" held vigild's reload for
    /// minutes and took gigabytes), and a real rule file is far from it.
    static let mostNodes = 1_000_000

    /// Stands for a key given twice while its value is read (no YAML key can be it: a NUL
    /// is not allowed in YAML text).
    static let droppedKey = "\u{0}a key given twice"

    init(file: String) {
      self.file = file
    }

    mutating func take(_ event: yaml_event_t) throws(RuleError) {
      let position = self.position(event.start_mark)
      switch event.type {
      case YAML_DOCUMENT_START_EVENT:
        documents += 1
        if documents > 1 {
          throw RuleError(position, "a rule file holds one YAML document; this is a second one (after '---')")
        }
      case YAML_SCALAR_EVENT:
        let scalar = event.data.scalar
        let text = String(decoding: UnsafeBufferPointer(start: scalar.value, count: scalar.length), as: UTF8.self)
        let node = RuleNode.Scalar(text: text, style: style(scalar.style), position: position)
        try count(1, at: position)
        try add(.scalar(node), anchor: string(scalar.anchor), weight: 1)
      case YAML_ALIAS_EVENT:
        let name = string(event.data.alias.anchor) ?? ""
        guard let anchored = anchors[name] else { throw RuleError(position, "the alias *\(name) names no anchor") }
        aliasesExpanded += anchored.weight
        try count(anchored.weight, at: position)
        try add(anchored.node, anchor: nil, weight: anchored.weight)
      case YAML_SEQUENCE_START_EVENT:
        try count(1, at: position)
        opened.append(expanded)
        stack.append(Open(isMapping: false, position: position, anchor: string(event.data.sequence_start.anchor)))
      case YAML_MAPPING_START_EVENT:
        try count(1, at: position)
        opened.append(expanded)
        stack.append(Open(isMapping: true, position: position, anchor: string(event.data.mapping_start.anchor)))
      case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
        let weight = expanded - (opened.popLast() ?? expanded) + 1
        let open = stack.removeLast()
        let node: RuleNode = open.isMapping ? .mapping(open.members, open.position) : .sequence(open.elements, open.position)
        try add(node, anchor: open.anchor, weight: weight)
      default:
        break  // stream and document boundaries carry nothing for us
      }
    }

    private mutating func count(_ nodes: Int, at position: SourcePosition) throws(RuleError) {
      expanded += nodes
      guard expanded <= Self.mostNodes else {
        // Aliases are blamed only when they made most of the nodes.
        guard aliasesExpanded * 2 > expanded else {
          throw RuleError(
            position, "this file has more than \(Self.mostNodes) YAML nodes; split it into several rule files")
        }
        throw RuleError(
          position,
          "this file makes more than \(Self.mostNodes) YAML nodes with its aliases expanded; "
            + "aliases of aliases repeat their anchors over and over (write the values out)")
      }
    }

    /// Puts a finished node into the container that is open, or makes it the root.
    private mutating func add(_ node: RuleNode, anchor: String?, weight: Int) throws(RuleError) {
      if let anchor { anchors[anchor] = (node, weight) }
      guard let open = stack.last else {
        root = node
        return
      }
      guard open.isMapping else {
        open.elements.append(node)
        return
      }
      guard let key = open.key else {
        guard case .scalar(let scalar) = node else {
          throw RuleError(node.position, "a key must be a plain value, got \(node.kindName)")
        }
        if let earlier = open.places[scalar.text] {
          // A key of the mapping's own replaces one a merge brought, wherever it stands.
          guard open.merged.remove(scalar.text) != nil else {
            problems.append(
              RuleError(
                scalar.position,
                "the key '\(scalar.text)' appears twice in this mapping (first at \(open.members[earlier].keyPosition))"))
            // Its value is read and dropped: the first stays.
            open.key = RuleNode.Scalar(text: Self.droppedKey, style: scalar.style, position: scalar.position)
            return
          }
          open.remove(at: earlier)
        }
        open.key = scalar
        return
      }
      open.key = nil
      if key.text == Self.droppedKey {
        // The value of a key given twice: not kept.
      } else if key.text == "<<", key.style == .plain {
        try merge(node, at: key.position, into: open)
      } else {
        open.append(RuleNode.Member(key: key.text, keyPosition: key.position, value: node))
      }
    }

    /// YAML's merge key (`<<: *base`, or `<<: [*a, *b]`): the members of the mappings
    /// named, those the mapping lacks, the first mapping named winning over later ones.
    private func merge(_ node: RuleNode, at position: SourcePosition, into open: Open) throws(RuleError) {
      let sources: [RuleNode]
      switch node {
      case .mapping: sources = [node]
      case .sequence(let elements, _): sources = elements
      case .scalar: sources = []
      }
      for source in sources {
        guard case .mapping(let more, _) = source else {
          throw RuleError(
            position, "a merge key (<<) takes a mapping or a list of mappings, such as <<: *base; got \(node.kindName)")
        }
        for member in more where open.places[member.key] == nil {
          open.append(member)
          open.merged.insert(member.key)
        }
      }
      if sources.isEmpty {
        throw RuleError(
          position, "a merge key (<<) takes a mapping or a list of mappings, such as <<: *base; got \(node.kindName)")
      }
    }

    func syntaxError(_ parser: yaml_parser_t, in bytes: [UInt8]) -> RuleError {
      let problem = parser.problem.map { String(cString: $0) } ?? "unreadable YAML"
      if parser.error == YAML_READER_ERROR {
        // The reader knows only the byte's offset (its mark is not set): a control
        // character, say, placed where it is rather than at 1:1.
        let place = TextPlace.of(offset: parser.problem_offset, in: bytes)
        let value = TextPlace.codePoint(parser.problem_value)
        return RuleError(
          SourcePosition(file: file, line: place.line, column: place.column), "invalid YAML: \(problem)\(value)")
      }
      // Where what was being read began (an unterminated quote's opening): the problem's
      // own place may be the end of the file.
      let begins = position(parser.context_mark)
      let context = parser.context.map { " (\(String(cString: $0)) that begins at \(begins.line):\(begins.column))" } ?? ""
      return RuleError(position(parser.problem_mark), "invalid YAML: \(problem)\(context)")
    }

    private func position(_ mark: yaml_mark_t) -> SourcePosition {
      SourcePosition(file: file, line: mark.line + 1, column: mark.column + 1)
    }

    private func style(_ style: yaml_scalar_style_t) -> RuleNode.Scalar.Style {
      switch style {
      case YAML_SINGLE_QUOTED_SCALAR_STYLE: .singleQuoted
      case YAML_DOUBLE_QUOTED_SCALAR_STYLE: .doubleQuoted
      case YAML_LITERAL_SCALAR_STYLE: .literal
      case YAML_FOLDED_SCALAR_STYLE: .folded
      default: .plain
      }
    }

    private func string(_ pointer: UnsafeMutablePointer<yaml_char_t>?) -> String? {
      pointer.map { String(cString: $0) }
    }
  }
}
