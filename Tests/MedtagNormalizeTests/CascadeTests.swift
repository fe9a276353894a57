import Foundation
import Testing

@testable import MedtagNormalize
import MedtagTestSupport

@Suite struct CascadeTests {
    static func normalizer(options: NormalizerOptions = NormalizerOptions()) throws -> ConceptNormalizer {
        let dir = try temporaryDirectory("normalize")
        defer { removeTemporaryDirectory(dir) }
        try LexiconTests.sample().write(to: dir)
        let table = try AbbreviationTable(contentsOf: Support.abbreviationTable)
        return ConceptNormalizer(lexicon: try Lexicon.open(directory: dir), abbreviations: table, options: options)
    }

    @Test func exactAfterFolding() throws {
        let n = try Self.normalizer()
        let m = n.normalize("Ácido Acetil-Salicílico", label: "NORMALIZABLES")
        #expect(m.code == "387458008")
        #expect(m.method == .exact)
        #expect(m.score == 1)
    }

    @Test func abbreviationExpansion() throws {
        let n = try Self.normalizer()
        let m = n.normalize("AAS", label: "NORMALIZABLES")
        #expect(m.code == "387458008")
        #expect(m.method == .abbreviation)
        let word = n.normalize("ac. acetilsalicílico", label: "NORMALIZABLES")
        #expect(word.code == "387458008")
        #expect(word.method == .abbreviation)
    }

    @Test func brandToActiveSubstance() throws {
        let n = try Self.normalizer()
        let m = n.normalize("Durogesic", label: "NORMALIZABLES")
        #expect(m.code == "373492002")
        #expect(m.method == .brand)
        #expect(m.term == "fentanilo")
    }

    @Test func misspellingByLevenshtein() throws {
        let n = try Self.normalizer()
        let m = n.normalize("lacticodeshidrogenasa", label: "PROTEINAS")
        #expect(m.code == "259319003")
        #expect(m.method == .levenshtein)
        #expect((m.score ?? 0) > 0.8)
        let typo = n.normalize("metrotexato", label: "NORMALIZABLES")
        #expect(typo.code == "387381009")
    }

    @Test func weakFuzzyCandidateGivesNullWithCandidateForReview() throws {
        let n = try Self.normalizer()
        let m = n.normalize("deshidrogenasa glutámica", label: "PROTEINAS")
        #expect(m.code == "<null>")
        #expect(m.method == .fuzzyRejected)
        #expect(m.term?.contains("259319003") == true)
        #expect((m.score ?? 1) < n.options.fuzzyThreshold)
        let nothing = n.normalize("xyzzy", label: "NORMALIZABLES")
        #expect(nothing.code == "<null>")
        #expect(nothing.method == .none)
    }

    @Test func labelAwareAmbiguity() throws {
        let n = try Self.normalizer()
        #expect(n.normalize("Cr", label: "NORMALIZABLES").code == "15373003")
        #expect(n.normalize("Cr", label: "PROTEINAS").code == "111070004")
    }

    @Test func guidelineNulls() throws {
        let n = try Self.normalizer()
        let m = n.normalize("fentanilo", label: "NO_NORMALIZABLES")
        #expect(m.code == "<null>")
        #expect(m.method == .label)
        // Learned from the corpus: "drogas" is annotated <null>.
        #expect(n.normalize("drogas", label: "UNCLEAR").code == "<null>")
        // A known name without a code is not matched to a neighbour.
        let known = n.normalize("digoxina", label: "NORMALIZABLES")
        #expect(known.code == "<null>")
        #expect(known.method == .uncodedName)
    }

    @Test func uncodedNamesReachOnlyTheirSpellingVariants() throws {
        var b = LexiconTests.sample()
        b.addName("metotrexate")  // known name, no code; the corpus codes "metotrexato"
        b.addName("metanamina")  // known name, no code, nothing close enough
        let dir = try temporaryDirectory("normalize")
        defer { removeTemporaryDirectory(dir) }
        try b.write(to: dir)
        let lexicon = try Lexicon.open(directory: dir)
        let normalizer = ConceptNormalizer(lexicon: lexicon)
        let variant = normalizer.normalize("metotrexate", label: "NORMALIZABLES")
        #expect(variant.code == "387381009")
        #expect(variant.method == .levenshtein)
        #expect(normalizer.normalize("metanamina", label: "NORMALIZABLES").method == .uncodedName)
        var strict = NormalizerOptions()
        strict.uncodedNames = .stop
        let stopped = ConceptNormalizer(lexicon: lexicon, options: strict).normalize("metotrexate", label: "NORMALIZABLES")
        #expect(stopped.code == "<null>")
        #expect(stopped.method == .uncodedName)
    }

    @Test func abbreviationTableErrorsNameTheLine() {
        do {
            _ = try AbbreviationTable(text: "# comment\nAAS\tácido acetilsalicílico\tabbreviation\nbad line\n", path: "t.tsv")
            Issue.record("expected an error")
        } catch {
            #expect(error.description.hasPrefix("t.tsv:3:"))
        }
        do {
            _ = try AbbreviationTable(text: "AAS\tx\tweird\n", path: "t.tsv")
            Issue.record("expected an error")
        } catch {
            #expect(error.description.contains("unknown kind"))
        }
    }

    @Test func shippedAbbreviationTableParses() throws {
        let table = try AbbreviationTable(contentsOf: Support.abbreviationTable)
        #expect(table.count > 200)
        #expect(table.entry(for: "hba1c")?.expansions.first == "hemoglobina glucosilada")
        #expect(table.entry(for: "DUROGESIC")?.kind == .brand)
    }
}
