/// A JSON value for free-form data (a report's `extra`), with object members in the
/// order they were written.
public enum JSONValue: Sendable, Equatable {
  case null
  case bool(Bool)
  case number(Double)
  case string(String)
  case array([JSONValue])
  case object(JSONObject)
}

public struct JSONObject: Sendable, Equatable {
  public struct Member: Sendable, Equatable {
    public var key: String
    public var value: JSONValue

    public init(key: String, value: JSONValue) {
      self.key = key
      self.value = value
    }
  }

  public var members: [Member]

  public init(members: [Member] = []) {
    self.members = members
  }

  public subscript(key: String) -> JSONValue? {
    members.first { $0.key == key }?.value
  }
}

extension JSONValue {
  /// Parses one JSON text (with the scanner's strict rules).
  /// `envelope`: as `JSONScanner.scan` takes it (a journal line's, to read its report).
  public static func parse(_ bytes: [UInt8], envelope: Int = 0) throws(JSONSyntaxError) -> JSONValue {
    let tape = try JSONScanner.scan(bytes, envelope: envelope)
    return bytes.withUnsafeBufferPointer { JSONValue(tape: tape, bytes: $0, at: 0) }
  }

  /// The value of the tape node at `index`. Recursion is bounded: the scanner has
  /// already refused anything nested deeper than `JSONScanner.maxDepth`.
  init(tape: JSONTape, bytes: UnsafeBufferPointer<UInt8>, at index: Int) {
    let node = tape[index]
    switch node.kind {
    case .null: self = .null
    case .true: self = .bool(true)
    case .false: self = .bool(false)
    case .number: self = .number(node.number)
    case .string: self = .string(JSONString.decode(bytes, node))
    case .array:
      var elements: [JSONValue] = []
      elements.reserveCapacity(node.memberCount)
      var cursor = index + 1
      for _ in 0..<node.memberCount {
        elements.append(JSONValue(tape: tape, bytes: bytes, at: cursor))
        cursor = tape[cursor].nextIndex
      }
      self = .array(elements)
    case .object:
      self = .object(JSONObject(tape: tape, bytes: bytes, at: index))
    }
  }
}

extension JSONObject {
  init(tape: JSONTape, bytes: UnsafeBufferPointer<UInt8>, at index: Int) {
    let node = tape[index]
    var members: [Member] = []
    members.reserveCapacity(node.memberCount)
    var cursor = index + 1
    for _ in 0..<node.memberCount {
      let key = JSONString.decode(bytes, tape[cursor])
      members.append(Member(key: key, value: JSONValue(tape: tape, bytes: bytes, at: cursor + 1)))
      cursor = tape[cursor + 1].nextIndex
    }
    self.members = members
  }
}
