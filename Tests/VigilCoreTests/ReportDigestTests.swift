import Testing

@testable import VigilCore

/// The duplicate index's digests (ReportDigest): 128 bits of a keyed hash of the id's
/// UTF-8 bytes, the same for the same id throughout a process.
@Suite("Report digests")
struct ReportDigestTests {
  @Test func anIdHasOneDigestAndOtherIdsOthers() {
    #expect(ReportDigest.id("abc") == ReportDigest.id(String("ab") + "c"))
    // Arabic ids are digested as their UTF-8 bytes: a different id, a different digest.
    #expect(ReportDigest.id("تقرير-١") != ReportDigest.id("تقرير-٢"))
    #expect(ReportDigest.id("تقرير-١") == ReportDigest.id(String("تقرير-١")))
    // Canonically equivalent spellings are different ids (the protocol compares bytes).
    #expect(ReportDigest.id("\u{0625}") != ReportDigest.id("\u{0627}\u{0655}"))
  }

  @Test func theTwoHalvesAreIndependent() {
    // Each half is its own digest: neither repeats the other, and 20,000 ids give 20,000
    // different highs and lows.
    var highs = Set<UInt64>()
    var lows = Set<UInt64>()
    for number in 0..<20_000 {
      let digest = ReportDigest.id("RPT-\(number)")
      #expect(digest.high != digest.low)
      highs.insert(digest.high)
      lows.insert(digest.low)
    }
    #expect(highs.count == 20_000 && lows.count == 20_000)
  }
}
