/// A parsed JSON text as a flat array of nodes in document order (a "tape").
///
/// Objects and arrays record where their subtree ends, so a reader can skip a value in
/// O(1); object members appear as a key node followed by the value's nodes. Strings and
/// numbers point back into the original bytes instead of copying them, which is what
/// makes the report parser fast: most fields are checked without allocating.
public struct JSONTape: Sendable {
  public enum Kind: UInt8, Sendable {
    case object, array, string, number, `true`, `false`, null
  }

  public struct Node: Sendable {
    public var kind: Kind
    /// For strings: the content contains at least one backslash escape.
    public var hasEscapes: Bool
    /// Byte range in the source: a string's content without its quotes, a number's
    /// text, a container's text from its opening to its closing bracket.
    public var start: Int32
    public var end: Int32
    /// Index of the first node after this value's subtree.
    public var next: Int32
    /// Members of an object, elements of an array; 0 otherwise.
    public var count: Int32
    /// A number's value (as its bit pattern); for an object key, a hash of the key that
    /// the parser uses to find duplicates.
    public var payload: UInt64

    public var number: Double { Double(bitPattern: payload) }
  }

  private let storage: Storage

  /// Takes ownership of `count` initialized nodes at `nodes`.
  init(nodes: UnsafeMutablePointer<Node>, count: Int) {
    storage = Storage(nodes: nodes, count: count)
  }

  public var count: Int { storage.count }

  /// The nodes, valid while this tape is alive: the report decoder reads them directly,
  /// which spares a retain and release per access.
  var unsafeNodes: UnsafePointer<Node> { UnsafePointer(storage.nodes) }

  public subscript(index: Int) -> Node {
    precondition(index >= 0 && index < storage.count, "tape index out of range")
    return storage.nodes[index]
  }

  /// Owns the nodes the scanner wrote. Immutable once built, hence Sendable.
  private final class Storage: @unchecked Sendable {
    let nodes: UnsafeMutablePointer<Node>
    let count: Int

    init(nodes: UnsafeMutablePointer<Node>, count: Int) {
      self.nodes = nodes
      self.count = count
    }

    deinit {
      nodes.deallocate()
    }
  }
}

extension JSONTape.Node {
  var startOffset: Int { Int(start) }
  var endOffset: Int { Int(end) }
  var nextIndex: Int { Int(next) }
  var memberCount: Int { Int(count) }
}
