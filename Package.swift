// swift-tools-version: 6.1
import Foundation
import PackageDescription

/// Each plugin's README.md (and Plugins/README.md): documents, not sources. (SwiftPM keeps
/// the evaluated manifest until this file changes, so a folder added since only warns that
/// its README.md is unhandled; its code is built all the same.)
let pluginDocuments: [String] = {
  let plugins = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Plugins")
  let folders = (try? FileManager.default.contentsOfDirectory(atPath: plugins.path)) ?? []
  return ["README.md"]
    + folders.sorted().map { "\($0)/README.md" }.filter {
      FileManager.default.fileExists(atPath: plugins.appendingPathComponent($0).path)
    }
}()

let package = Package(
  name: "Vigil",
  products: [
    .executable(name: "vigild", targets: ["vigild"]),
    .executable(name: "vigil", targets: ["vigil"]),
    .library(name: "VigilCore", targets: ["VigilCore"]),
  ],
  dependencies: [
    .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
    .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
    .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
    .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
    .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
    .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
    .package(url: "https://github.com/weichsel/ZIPFoundation.git", from: "0.9.20"),
    // The postgres and webhook sinks (Plugins/Postgres, Plugins/Webhook).
    .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
    .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
    // TLS settings for the postgres sink (postgres-nio takes an NIOSSLContext).
    .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
    // The console (docs/console.md): its HTTP listener, and /metrics. Hummingbird without
    // its swift-configuration trait, which Vigil does not use (fewer build minutes).
    .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1", traits: []),
    .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
    // Hummingbird's header types (HTTPField), named by the console's middleware.
    .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
  ],
  targets: [
    // SSE2 byte scanning for the JSON scanner and writer (its header says why it is C).
    .target(name: "CVigilBytes"),
    // The engine: reports, the rule language, rule sets, evaluation. Pure: no I/O.
    .target(
      name: "VigilCore",
      dependencies: [
        "CVigilBytes",
        // For libyaml (its CYaml module), which the rule loader reads events from.
        .product(name: "Yams", package: "Yams"),
        .product(name: "Crypto", package: "swift-crypto"),
        // Its locks: pthread mutexes, which ThreadSanitizer sees. (Synchronization.Mutex
        // locks with a bare futex on Linux, so TSan reports every access it guards.)
        .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
      ]
    ),
    // The daemon's parts: configuration now; the socket server, journal and alert log later.
    .target(
      name: "VigilServer",
      dependencies: [
        "VigilCore",
        .product(name: "Yams", package: "Yams"),
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOPosix", package: "swift-nio"),
        .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
        // The daemon's metrics, which the console serves at /metrics.
        .product(name: "Prometheus", package: "swift-prometheus"),
      ],
      plugins: ["GitRevision"]
    ),
    // Real data in (docs/import.md): tables (CSV, XLSX, JSON exports) read row by row, and
    // mapping files that turn a row into a report. `vigil import` and the spool source use it.
    .target(
      name: "VigilImport",
      dependencies: [
        "VigilCore",
        // XLSX workbooks are zip archives.
        .product(name: "ZIPFoundation", package: "ZIPFoundation"),
      ]
    ),
    // Writes the git revision into VigilServer at build time, for `--version`. (Not under
    // Plugins/: those are the rule language's plugins.)
    .plugin(name: "GitRevision", capability: .buildTool(), path: "BuildTools/GitRevision"),
    // Every plugin, one folder each under Plugins/ (docs/plugins.md), in one module whose
    // BuiltInPlugins.all BuildTools/PluginRegistry writes from the folders: adding a plugin
    // is adding its folder. vigild and vigil link it; the server and the engine do not.
    .target(
      name: "VigilPlugins",
      dependencies: [
        "VigilCore", "VigilImport",
        .product(name: "PostgresNIO", package: "postgres-nio"),
        .product(name: "NIOSSL", package: "swift-nio-ssl"),
        .product(name: "Logging", package: "swift-log"),
        .product(name: "AsyncHTTPClient", package: "async-http-client"),
        .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
        // The webhook sink signs each request with HMAC-SHA256.
        .product(name: "Crypto", package: "swift-crypto"),
      ],
      path: "Plugins", exclude: pluginDocuments,
      plugins: ["PluginRegistry"]),
    .plugin(name: "PluginRegistry", capability: .buildTool(), path: "BuildTools/PluginRegistry"),
    // The console (docs/console.md): a read-only web view of alerts, rules and health, its
    // JSON API and /metrics, served by vigild over HTTP. The index it reads is VigilServer's.
    .target(
      name: "VigilConsole",
      dependencies: [
        "VigilCore", "VigilServer",
        .product(name: "Hummingbird", package: "hummingbird"),
        .product(name: "HTTPTypes", package: "swift-http-types"),
        .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
        .product(name: "NIOCore", package: "swift-nio"),
        // The blocking pool long queries run on.
        .product(name: "NIOPosix", package: "swift-nio"),
        // HTTP/1.0 requests, seen before Hummingbird's conversion drops their version.
        .product(name: "NIOHTTP1", package: "swift-nio"),
        .product(name: "Crypto", package: "swift-crypto"),
      ],
      resources: []),
    .executableTarget(
      name: "vigild",
      dependencies: [
        "VigilServer", "VigilPlugins", "VigilConsole",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
        .product(name: "Logging", package: "swift-log"),
        .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
        // The composition root: the daemon's parts as one ServiceGroup.
        .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
      ]
    ),
    .executableTarget(
      name: "vigil",
      dependencies: [
        "VigilServer", "VigilPlugins", "VigilImport",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
        .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
      ]
    ),
    // Benchmarks live under bench/ (docs/benchmarks.md); built in release by bench/run-*.
    .executableTarget(
      name: "VigilBench",
      dependencies: ["VigilCore", "VigilServer", "VigilPlugins"],
      path: "bench/Sources/VigilBench"
    ),
    // Fuzz targets (see fuzz/run): what they exercise, and one executable each — a libFuzzer
    // binary when built with libFuzzer and -DFUZZING (fuzz/build-flags), else an input replayer.
    .target(
      name: "VigilFuzzing", dependencies: ["VigilCore", "VigilServer", "VigilPlugins", "CFuzzerDriver"], path: "fuzz/Sources/VigilFuzzing"),
    .target(name: "CFuzzerDriver", path: "fuzz/Sources/CFuzzerDriver"),
    .executableTarget(name: "fuzz-report", dependencies: ["VigilFuzzing"], path: "fuzz/Sources/fuzz-report"),
    .executableTarget(name: "fuzz-condition", dependencies: ["VigilFuzzing"], path: "fuzz/Sources/fuzz-condition"),
    .executableTarget(name: "fuzz-rules", dependencies: ["VigilFuzzing"], path: "fuzz/Sources/fuzz-rules"),
    // The tests, in two tiers (docs/development.md): unit tests of our own code in-process
    // (VigilCoreTests, VigilServerTests, PluginTests, FuzzTargetTests), and
    // VigilEndToEndTests, which run the real vigild and vigil as child processes.
    // `swift test --filter VigilEndToEndTests` runs one tier, `--skip` the other.
    .target(name: "VigilTestSupport", dependencies: ["VigilCore"], path: "Tests/VigilTestSupport"),
    .testTarget(name: "VigilCoreTests", dependencies: ["VigilCore", "VigilTestSupport"]),
    .testTarget(
      name: "VigilServerTests",
      dependencies: [
        "VigilServer", "VigilTestSupport",
        // EmbeddedChannel, for ConnectionHandler's tests.
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOEmbedded", package: "swift-nio"),
      ]),
    .testTarget(name: "FuzzTargetTests", dependencies: ["VigilFuzzing"]),
    .testTarget(name: "ImportTests", dependencies: ["VigilImport", "VigilCore", "VigilTestSupport"]),
    .testTarget(
      name: "PluginTests",
      dependencies: [
        "VigilPlugins", "VigilCore", "VigilServer", "VigilTestSupport",
        // ByteBuffer, for the postgres sink's COPY rows.
        .product(name: "NIOCore", package: "swift-nio"),
      ]),
    .testTarget(
      name: "VigilEndToEndTests",
      dependencies: [
        "VigilServer", "VigilTestSupport", .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
        // The webhook sink's tests run a small HTTP receiver of their own.
        .product(name: "NIOPosix", package: "swift-nio"), .product(name: "NIOHTTP1", package: "swift-nio"),
        .product(name: "Crypto", package: "swift-crypto"),
      ]),
  ],
  swiftLanguageModes: [.v6]
)
