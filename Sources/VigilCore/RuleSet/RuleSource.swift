/// One rule file's bytes, as the loader takes them: reading directories is the caller's
/// business, so the engine stays free of I/O.
public struct RuleSource: Sendable {
  /// How messages name the file (`Rules/access.yaml`).
  public let path: String
  /// The file's name relative to its rules directory, which the revision covers.
  public let name: String
  public let contents: [UInt8]
  /// The file's name on disk is not UTF-8 (`path` and `name` show its bytes replaced with
  /// U+FFFD): an error of the set, said with the others, its rules read all the same.
  public let nameIsNotUTF8: Bool

  public init(path: String, name: String, contents: [UInt8], nameIsNotUTF8: Bool = false) {
    self.path = path
    self.name = name
    self.contents = contents
    self.nameIsNotUTF8 = nameIsNotUTF8
  }
}
