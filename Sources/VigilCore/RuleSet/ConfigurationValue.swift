/// Plugin settings as the configuration gives them: the daemon does not know their schema;
/// each plugin does.
public indirect enum ConfigurationValue: Sendable, Equatable {
  case scalar(String)
  case sequence([ConfigurationValue])
  case mapping([Member])

  public struct Member: Sendable, Equatable {
    public var key: String
    public var value: ConfigurationValue

    public init(key: String, value: ConfigurationValue) {
      self.key = key
      self.value = value
    }
  }
}
