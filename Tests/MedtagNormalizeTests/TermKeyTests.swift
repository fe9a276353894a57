import Testing

@testable import MedtagNormalize
import MedtagTestSupport

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

    @Test func levenshteinIsBounded() {
        let a = Array("lacticodeshidrogenasa".unicodeScalars.map(\.value))
        let b = Array("lactatodeshidrogenasa".unicodeScalars.map(\.value))
        #expect(EditDistance.levenshtein(a, b, limit: 4) == 2)
        #expect(EditDistance.levenshtein(a, b, limit: 1) == nil)
    }
}
