import Crypto

/// The lists and macros of a loaded set, and which of them each one's text names (a word of
/// it that is another's name): what a rule, or the patterns, depend on through them. Each
/// item's text is read once, here; a rule's closure is then a walk of these references.
/// Searched afresh for each rule, 1,000 rules sharing a macro that names 500 lists took 50 s
/// to load (review of 7 December).
struct NamedClosure {
  let named: [(name: String, content: String)]
  /// A digest of each item's name and content.
  let digests: [[UInt8]]
  /// For each item, the plugins (positions in the `plugins` given) one of whose functions
  /// its text names.
  let pluginUses: [[Int]]
  private let position: [Substring: Int]
  private let references: [[Int]]

  /// `plugins`: each plugin's function names.
  init(_ named: [(name: String, content: String)], plugins: [Set<String>] = []) {
    self.named = named
    var position: [Substring: Int] = [:]
    for (index, item) in named.enumerated() where position[Substring(item.name)] == nil {
      position[Substring(item.name)] = index
    }
    self.position = position
    var references: [[Int]] = []
    var pluginUses: [[Int]] = []
    var digests: [[UInt8]] = []
    for item in named {
      let words = Self.words(of: item.content)
      references.append(words.compactMap { position[$0] })
      pluginUses.append(Self.plugins(named: words, among: plugins))
      digests.append(Array(SHA256.hash(data: Array("\(item.name)\u{0}\(item.content)".utf8))))
    }
    self.references = references
    self.pluginUses = pluginUses
    self.digests = digests
  }

  /// The words of a text as names are found in it: letters, digits, `_` and `.`.
  static func words(of text: String) -> Set<Substring> {
    Set(text.split { !($0.isLetter || $0.isNumber || $0 == "_" || $0 == ".") })
  }

  /// The plugins one of whose functions `words` names.
  static func plugins(named words: Set<Substring>, among plugins: [Set<String>]) -> [Int] {
    plugins.indices.filter { plugins[$0].contains { words.contains(Substring($0)) } }
  }

  /// The positions of the items `words` name, directly or through the items they name, in
  /// order.
  func closure(of words: Set<Substring>) -> [Int] {
    var stack = words.compactMap { position[$0] }
    var seen = Set(stack)
    while let index = stack.popLast() {
      for next in references[index] where seen.insert(next).inserted { stack.append(next) }
    }
    return seen.sorted()
  }
}
