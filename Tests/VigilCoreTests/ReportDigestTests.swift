import Testing

@testable import VigilCore

/// The duplicate index's digests (ReportDigest): the first 16 bytes of SHA-256, as two
/// big-endian words.
@Suite("Report digests")
struct ReportDigestTests {
  @Test func anIdsDigestIsTheStartOfItsSHA256() {
    // SHA-256("abc") = ba7816bf8f01cfea 414140de5dae2223 b00361a396177a9c b410ff61f20015ad
    let digest = ReportDigest.id("abc")
    #expect(digest.high == 0xba78_16bf_8f01_cfea)
    #expect(digest.low == 0x4141_40de_5dae_2223)
    // Arabic ids are digested as their UTF-8 bytes: a different id, a different digest.
    #expect(ReportDigest.id("تقرير-١") != ReportDigest.id("تقرير-٢"))
    #expect(ReportDigest.id("تقرير-١") == ReportDigest.id(String("تقرير-١")))
  }
}
