import Foundation
import VigilCore

/// The daemon's configuration (`Config/vigild.yaml`, keys in docs/vigild.md). The defaults
/// here are the values that apply when the file leaves a key out or is absent.
public struct DaemonConfiguration: Sendable, Equatable {
  public struct Socket: Sendable, Equatable {
    public var path = "var/run/vigil.sock"
    /// File mode applied to the socket after bind.
    public var mode: UInt32 = 0o660
    /// Group owning the socket; empty: the daemon's.
    public var group = ""
    /// Besides the daemon's own uid and root.
    public var adminUIDs: [UInt32] = []
    /// Primary gids (`SO_PEERCRED` reports only the primary group).
    public var adminGIDs: [UInt32] = []
    /// Threads that serve the connections; 0: one fewer than the cores, at least one
    /// (`Daemon.connectionThreads`).
    public var threads = 0
    public static let mostThreads = 256

    /// The gid of a group given by name, or by number; nil when this machine has none such.
    public static func groupID(of group: String) -> gid_t? {
      if let entry = getgrnam(group) { return entry.pointee.gr_gid }
      if let number = gid_t(group), getgrgid(number) != nil { return number }
      return nil
    }
  }

  public struct Rules: Sendable, Equatable {
    public var paths = ["Rules"]
    /// Reload on file changes (inotify and polling).
    public var watch = true
    public var pollSeconds = 2.0
    /// How far (in days of incident time) behind the newest report counted a report may
    /// be and still count toward patterns (docs/patterns.md).
    public var latenessHorizonDays = 90

    /// The horizon in milliseconds.
    public var latenessHorizon: Int64 { Int64(latenessHorizonDays) * 86_400_000 }
  }

  public struct Alerts: Sendable, Equatable {
    public var path = "var/log/vigil/alerts.jsonl"
    /// 0: no built-in rotation.
    public var rotateBytes = 0
    public var keep = 5
    /// The most rotated files `keep` may ask for.
    public static let mostKept = 1000
  }

  public enum Durability: String, Sendable, Equatable, CaseIterable {
    /// fsync the journal and alert log once per group of reports, before answering.
    case batch
    /// Never fsync (benchmarks, throwaway runs).
    case none
  }

  public struct Limits: Sendable, Equatable {
    public var maxLineBytes = 1_048_576
    public var maxConnections = 256
    /// Unread responses before a client is dropped.
    public var maxPendingBytes = 8_388_608
    /// A half-sent line stalled this long closes the connection.
    public var idleLineSeconds = 30.0
  }

  /// The console (docs/console.md): its HTTP listener and what it keeps in memory.
  public struct HTTP: Sendable, Equatable {
    /// Where it listens; nil: not at all (`listen: off`).
    public var listen: HTTPAddress? = .standard
    /// The access token's file; required when `listen` is not a loopback address.
    public var tokenFile = ""
    /// How many of the newest alerts the console's index holds (its counts cover all).
    public var indexLimit = 1_000_000
    /// Console connections open at once; one more is closed as it comes, so that idle
    /// browsers cannot take the file descriptors the socket's clients need.
    public var maxConnections = 128
    /// A console connection that sends nothing this long between requests (or in the
    /// middle of a request's head) is closed; a live stream being written is not idle.
    public var idleSeconds = 60.0
  }

  /// An enabled plugin and its settings, in the order the file gives them.
  public struct Plugin: Sendable, Equatable {
    public var name: String
    public var settings: ConfigurationValue
    /// Where the plugin's key (`""`) and each of its settings' keys (`batch`,
    /// `owner.password_file`) are in the configuration file, for its problems' messages.
    public var places: [String: Place] = [:]
    /// The settings given empty (`batch: ~`), left out of `settings` so that each keeps its
    /// default: kept by name, so that a misspelt one (`batchh: ~`) is still found unknown.
    public var emptyKeys: [String] = []

    public init(name: String, settings: ConfigurationValue = .mapping([])) {
      self.name = name
      self.settings = settings
    }

    /// What a plugin is: its name and settings, wherever they were written.
    public static func == (left: Plugin, right: Plugin) -> Bool {
      left.name == right.name && left.settings == right.settings
    }
  }

  /// A line and column of the configuration file, from 1.
  public struct Place: Sendable, Equatable {
    public let line: Int
    public let column: Int

    public init(line: Int, column: Int) {
      self.line = line
      self.column = column
    }
  }

  /// This daemon's name among several that share a store (a sink's database): the host
  /// name unless the configuration says otherwise.
  public var node = DaemonConfiguration.hostName
  public var socket = Socket()
  public var rules = Rules()
  public var stateDirectory = "var/lib/vigil"
  public var alerts = Alerts()
  public var durability = Durability.batch
  public var limits = Limits()
  public var http = HTTP()
  /// The plugins on: by default those that say they are (`VigilPlugin.enabledByDefault`,
  /// given by whoever loads the configuration: the server names no plugin).
  public var plugins: [Plugin] = []

  public init() {}

  /// The host name, cut at its first dot; "vigil" if the system gives none.
  public static var hostName: String {
    var buffer = [CChar](repeating: 0, count: 256)
    guard gethostname(&buffer, buffer.count - 1) == 0 else { return "vigil" }
    let name = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    let short = String(name.prefix { $0 != "." })
    return problem(inNodeName: short) == nil ? short : "vigil"
  }

  /// Why `name` cannot be a node name, or nil: 1 to 63 letters, digits, `.`, `_` and `-`,
  /// as a host name is spelt (it keys rows and idempotency keys, and is typed in queries).
  public static func problem(inNodeName name: String) -> String? {
    let allowed = name.unicodeScalars.allSatisfy {
      $0.isASCII && (($0.properties.isAlphabetic) || ("0"..."9").contains($0) || "._-".unicodeScalars.contains($0))
    }
    guard !name.isEmpty, name.utf8.count <= 63, allowed else {
      return "expected a node name of 1 to 63 letters, digits, '.', '_' and '-', got \"\(name)\""
    }
    return nil
  }
}
