import CVigilBytes
import Crypto
import Testing

@testable import VigilCore

@Suite("ChainHash: a record's hash as hex, read from the digest in place")
struct ChainHashTests {
  static func hex<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> String {
    bytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
  }

  @Test("Hex of every byte value, at every length up to 48: the SSE2 blocks and the bytes after them")
  func hexOfEveryByteAtEveryLength() {
    // Consecutive values from every sixteenth start: every byte value in every lane.
    for length in 0...48 {
      for start in stride(from: 0, to: 256, by: 16) {
        let bytes = (0..<length).map { UInt8((start + $0) % 256) }
        var out = [UInt8](repeating: 0, count: 2 * length + 1)
        bytes.withUnsafeBufferPointer { input in
          out.withUnsafeMutableBufferPointer { output in
            vigil_hex_lower(input.baseAddress ?? UnsafePointer(output.baseAddress!), length, output.baseAddress!)
          }
        }
        #expect(String(decoding: out.dropLast(), as: UTF8.self) == Self.hex(bytes), "length \(length)")
        #expect(out.last == 0, "nothing written past 2 × \(length)")
      }
    }
  }

  @Test("SHA-256 of prev's bytes then the prefix, as the standard's test vectors and swift-crypto's public bytes say")
  func agreesWithThePublicDigest() {
    // FIPS 180-2's "abc", split between prev and the prefix.
    let abc = Array("a".utf8).withUnsafeBufferPointer { prev in
      Array("bc".utf8).withUnsafeBufferPointer { AlertChain.chainHash(prev: prev, prefix: $0) }
    }
    #expect(abc.text == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    var generator = SystemRandomNumberGenerator()
    for length in [0, 1, 55, 56, 63, 64, 65, 640] {
      let prev = Array(AlertChain.genesis.utf8)
      let prefix = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
      let hash = prev.withUnsafeBufferPointer { prev in
        prefix.withUnsafeBufferPointer { AlertChain.chainHash(prev: prev, prefix: $0) }
      }
      #expect(hash.text == Self.hex(SHA256.hash(data: prev + prefix)))
      #expect(AlertChain.hash(prev: AlertChain.genesis, prefix: prefix) == hash.text)
      #expect(hash.withText { Array($0) } == Array(hash.text.utf8))
    }
  }

  @Test("a record's line carries the hash its own bytes give, and the next record's prev is it")
  func recordsChain() throws {
    let record = AlertRecord(
      time: "2016-03-04T06:40:00.000Z", rule: "r", priority: .high, reportID: "R1", occurredAt: nil,
      message: "m \"q\" حلب", basis: ["ISSG ¶7"], tags: [], ruleset: "sha256:00")
    let first = record.written(seq: 1, prev: AlertChain.genesis)
    let second = record.written(seq: 2, prev: first.hash)
    for (line, prev, hash) in [(first.line, AlertChain.genesis, first.hash), (second.line, first.hash, second.hash)] {
      let text = String(decoding: line, as: UTF8.self)
      let cut = try #require(text.range(of: ",\"hash\":"))
      #expect(AlertChain.hash(prev: prev, prefix: Array(text[..<cut.lowerBound].utf8)) == hash)
      #expect(text.hasSuffix(",\"hash\":\"\(hash)\"}\n"))
      #expect(text.contains("\"prev\":\"\(prev)\""))
    }
  }
}
