/// The plugin names the configuration may enable: the domain plugins DAEMON.md names.
/// Their modules (under Plugins/) come with the ISSG rule sets.
public enum KnownPlugins {
  public static let names = ["designations", "places"]
}
