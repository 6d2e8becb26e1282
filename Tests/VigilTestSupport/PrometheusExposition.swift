import Foundation

/// A scrape (the console's `/metrics`, or `DaemonMetrics.exposition()`) parsed strictly as
/// Prometheus text (format 0.0.4): every line a comment, a `# HELP`, a `# TYPE` or a sample
/// `name{labels} value`; every family described once, before its samples; no series twice;
/// a histogram's `_count` equal to its `+Inf` bucket.
public struct PrometheusExposition {
  public struct Sample {
    public let name: String
    public let labels: [String: String]
    public let value: Double
  }

  public var samples: [Sample] = []

  public func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
    let found = samples.filter { $0.name == name && $0.labels == labels }
    return found.count == 1 ? found[0].value : nil
  }

  /// `source` names what was parsed in the errors (`/metrics`, `exposition()`).
  public static func parse(_ text: String, source: String = "/metrics") throws -> PrometheusExposition {
    var metrics = PrometheusExposition()
    var help: Set<String> = []
    var types: [String: String] = [:]
    var series: Set<String> = []
    func fail(_ line: String, _ why: String) -> HTTPTestError { HTTPTestError("\(source): \(why): \(line)") }
    for line in text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
      if line.isEmpty { continue }
      if line.hasPrefix("#") {
        let words = line.split(separator: " ", maxSplits: 3, omittingEmptySubsequences: false).map(String.init)
        guard words.count >= 3, words[0] == "#", ["HELP", "TYPE"].contains(words[1]) else { continue }
        let name = words[2]
        guard isName(name) else { throw fail(line, "not a metric name") }
        if words[1] == "HELP" {
          guard help.insert(name).inserted else { throw fail(line, "a second HELP") }
        } else {
          guard words.count == 4, ["counter", "gauge", "histogram", "summary", "untyped"].contains(words[3]) else {
            throw fail(line, "not a type")
          }
          guard types[name] == nil else { throw fail(line, "a second TYPE") }
          guard !metrics.samples.contains(where: { Self.family(of: $0.name, types) == name }) else {
            throw fail(line, "TYPE after its samples")
          }
          types[name] = words[3]
        }
        continue
      }
      let sample = try sample(line, fail)
      let familyName = Self.family(of: sample.name, types)
      guard types[familyName] != nil, help.contains(familyName) else {
        throw fail(line, "a sample without HELP and TYPE")
      }
      guard series.insert(sample.name + sample.labels.sorted { $0.key < $1.key }.description).inserted else {
        throw fail(line, "the same series twice")
      }
      metrics.samples.append(sample)
    }
    // Histograms: `_count` is the `+Inf` bucket.
    for (name, type) in types where type == "histogram" {
      for count in metrics.samples where count.name == name + "_count" {
        let infinite = metrics.samples.first {
          $0.name == name + "_bucket" && $0.labels == count.labels.merging(["le": "+Inf"]) { $1 }
        }
        guard infinite?.value == count.value else {
          throw HTTPTestError("\(source): \(name)_count is not its +Inf bucket")
        }
      }
    }
    return metrics
  }

  static func isName(_ text: String) -> Bool {
    text.range(of: "^[a-zA-Z_:][a-zA-Z0-9_:]*$", options: .regularExpression) != nil
  }

  /// The family a sample belongs to: a histogram's `_bucket`, `_sum`, `_count` are its own.
  static func family(of name: String, _ types: [String: String]) -> String {
    for suffix in ["_bucket", "_sum", "_count"] where name.hasSuffix(suffix) {
      let base = String(name.dropLast(suffix.count))
      if types[base] == "histogram" || (types[base] == "summary" && suffix != "_bucket") { return base }
    }
    return name
  }

  static func sample(_ line: String, _ fail: (String, String) -> HTTPTestError) throws -> Sample {
    var rest = Substring(line)
    let name = String(rest.prefix { $0.isLetter || $0.isNumber || $0 == "_" || $0 == ":" })
    guard isName(name), name.allSatisfy(\.isASCII) else { throw fail(line, "no metric name") }
    rest = rest.dropFirst(name.count)
    var labels: [String: String] = [:]
    if rest.first == "{" {
      rest = rest.dropFirst()
      while rest.first != "}" {
        let label = String(rest.prefix { $0 != "=" })
        guard isName(label), !label.contains(":"), rest.dropFirst(label.count).hasPrefix("=\"") else {
          throw fail(line, "a malformed label")
        }
        rest = rest.dropFirst(label.count + 2)
        var value = ""
        while let character = rest.first, character != "\"" {
          rest = rest.dropFirst()
          if character == "\\" {
            guard let escaped = rest.first, ["\\", "\"", "n"].contains(escaped) else {
              throw fail(line, "a bad escape")
            }
            value.append(escaped == "n" ? "\n" : escaped)
            rest = rest.dropFirst()
          } else {
            value.append(character)
          }
        }
        guard rest.first == "\"", labels.updateValue(value, forKey: label) == nil else {
          throw fail(line, "an unterminated or repeated label")
        }
        rest = rest.dropFirst()
        if rest.first == "," {
          rest = rest.dropFirst()
        } else if rest.first != "}" {
          throw fail(line, "labels not separated")
        }
      }
      rest = rest.dropFirst()
    }
    let fields = rest.split(separator: " ", omittingEmptySubsequences: false)
    guard rest.first == " ", fields.count == 2 || fields.count == 3, fields[0].isEmpty else {
      throw fail(line, "not `name{labels} value`")
    }
    let text = String(fields[1])
    let value: Double? =
      switch text {
      case "+Inf": Double.infinity
      case "-Inf": -Double.infinity
      case "NaN": Double.nan
      default: text.allSatisfy({ "0123456789.eE+-".contains($0) }) ? Double(text) : nil
      }
    guard let value, fields.count == 2 || Int64(fields[2]) != nil else { throw fail(line, "not a number") }
    return Sample(name: name, labels: labels, value: value)
  }
}
