import Foundation
import Testing
import VigilTestSupport

/// `/metrics` scraped by a real Prometheus (Debian's `prometheus`, which scripts/install-test-tools installs),
/// queried back through its own HTTP API: what it stored is what the test's traffic implies.
@Suite("The console's metrics, scraped by Prometheus", .onThreadsOfTheirOwn)
struct ConsolePrometheusTests {
  static let prometheus = "/usr/bin/prometheus"

  @Test func prometheusStoresWhatTheTrafficImplies() throws {
    let installFailure = FileManager.default.isExecutableFile(atPath: Self.prometheus) ? nil : TestTools.install()
    try #require(
      FileManager.default.isExecutableFile(atPath: Self.prometheus),
      "Prometheus is missing, and scripts/install-test-tools did not install it: \(installFailure ?? "")")
    let console = try ConsoleEndToEndTests.Console.start()
    defer { _ = console.daemon.stop() }
    let reports = try ConsoleEndToEndTests.generatedReports(60, seed: 17, prefix: "PROM")
    let sent = try console.submit(reports)
    _ = try console.daemon.exchange(["{not json"])
    let revision = try #require(
      (try console.daemon.exchange(#"{"op":"status"}"#)["ruleset"] as? [String: Any])?["revision"] as? String)

    let directory = try TemporaryDirectory()
    let port = freeTCPPort()
    try """
    global:
      scrape_interval: 1s
    scrape_configs:
      - job_name: vigil
        static_configs: [{targets: ["127.0.0.1:\(console.http.port)"]}]

    """.write(toFile: directory.path + "/prometheus.yml", atomically: true, encoding: .utf8)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: Self.prometheus)
    process.arguments = [
      "--config.file=\(directory.path)/prometheus.yml", "--storage.tsdb.path=\(directory.path)/data",
      "--web.listen-address=127.0.0.1:\(port)", "--log.level=warn",
    ]
    let errors = Pipe()
    process.standardError = errors
    process.standardOutput = FileHandle.nullDevice
    try process.run()
    defer {
      process.terminate()
      process.waitUntilExit()
    }
    let api = HTTPTestClient(port: port)
    /// The value Prometheus holds for an instant query, when it holds exactly one series.
    func stored(_ query: String) -> Double? {
      let path = "/api/v1/query?query=" + (query.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? query)
      guard let (value, response) = try? api.json(path), response.status == 200,
        let data = (value as? [String: Any])?["data"] as? [String: Any],
        let result = data["result"] as? [[String: Any]], result.count == 1,
        let pair = result[0]["value"] as? [Any], pair.count == 2, let text = pair[1] as? String
      else { return nil }
      return Double(text)
    }
    let critical = Double(sent.alerts.filter { $0.priority == "critical" }.count)
    #expect(
      eventually(within: 90) { stored(#"up{job="vigil"}"#) == 1 && stored("vigil_reports_accepted_total") != nil },
      "Prometheus never scraped the console: \(String(decoding: errors.fileHandleForReading.availableData, as: UTF8.self))"
    )
    #expect(stored("vigil_reports_accepted_total") == Double(sent.accepted))
    // Every alert of the reports, and the start's vigil.ruleset_loaded record.
    #expect(stored("sum(vigil_alerts_total)") == Double(sent.alerts.count + 1))
    #expect(stored(#"sum(vigil_alerts_total{priority="critical"})"#) == critical)
    #expect(stored(#"vigil_reports_refused_total{code="invalid_json"}"#) == 1)
    #expect(stored("vigil_ruleset_info{revision=\"\(revision)\"}") == 1)
    #expect(stored(#"vigil_reloads_total{outcome="ok"}"#) == 1)
    #expect(stored("vigil_console_serving") == 1)
    #expect((stored("vigil_request_duration_seconds_count") ?? 0) >= Double(reports.count + 1))
    #expect(stored("histogram_quantile(0.99, vigil_request_duration_seconds_bucket)").map { $0 > 0 } == true)
  }
}
