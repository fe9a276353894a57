import Testing

@testable import MedtagNormalize

@Suite struct TermKeyTests {
    @Test func foldsCaseAccentsHyphensAndGreek() {
        #expect(TermKey.key("Alfa-feto proteína") == "alfafetoproteina")
        #expect(TermKey.key("alfa feto  proteína") == "alfafetoproteina")
        #expect(TermKey.key("α‐fetoproteína") == "alfafetoproteina")
        #expect(TermKey.key("IFN-α") == TermKey.key("IFN alfa"))
        #expect(TermKey.key("β-HCG") == TermKey.key("beta HCG"))
        #expect(TermKey.key("Kenacort®-A") == "kenacorta")
        #expect(TermKey.key("CA 19.9") == TermKey.key("CA19-9"))
        #expect(TermKey.words("Ácido  Acetil–Salicílico") == ["acido", "acetil", "salicilico"])
        #expect(TermKey.key("alpha-interferon") == TermKey.key("alfa interferon"))
    }

    @Test func sha256KnownVectors() {
        #expect(SHA256.hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256.hex([UInt8]()) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        let million = [UInt8](repeating: 0x61, count: 1_000_000)
        #expect(SHA256.hex(million) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test func levenshteinIsBounded() {
        let a = Array("lacticodeshidrogenasa".unicodeScalars.map(\.value))
        let b = Array("lactatodeshidrogenasa".unicodeScalars.map(\.value))
        #expect(EditDistance.levenshtein(a, b, limit: 4) == 2)
        #expect(EditDistance.levenshtein(a, b, limit: 1) == nil)
    }
}
