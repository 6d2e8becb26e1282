/// One rule file's bytes, as the loader takes them: reading directories is the caller's
/// business, so the engine stays free of I/O.
public struct RuleSource: Sendable {
  /// How messages name the file (`Rules/access.yaml`).
  public let path: String
  /// The file's name relative to its rules directory, which the revision covers.
  public let name: String
  public let contents: [UInt8]

  public init(path: String, name: String, contents: [UInt8]) {
    self.path = path
    self.name = name
    self.contents = contents
  }
}
