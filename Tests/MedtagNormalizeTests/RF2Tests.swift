import Foundation
import Testing

@testable import MedtagNormalize
import MedtagTestSupport

/// A tiny release in RF2 snapshot format (invented ids and terms, not SNOMED content).
enum RF2Fixture {
    static let concepts = """
        id\teffectiveTime\tactive\tmoduleId\tdefinitionStatusId
        1000001\t20240101\t1\t900000000000207008\t900000000000074008
        1000002\t20240101\t1\t900000000000207008\t900000000000074008
        1000003\t20240101\t0\t900000000000207008\t900000000000074008
        1000004\t20240101\t1\t900000000000207008\t900000000000074008
        1000005\t20240101\t1\t900000000000207008\t900000000000074008

        """
    static let descriptions = """
        id\teffectiveTime\tactive\tmoduleId\tconceptId\tlanguageCode\ttypeId\tterm\tcaseSignificanceId
        2000011\t20240101\t1\t450829007\t1000001\tes\t900000000000003001\tfentanilo (sustancia)\t900000000000448009
        2000012\t20240101\t1\t450829007\t1000001\tes\t900000000000013009\tfentanilo\t900000000000448009
        2000013\t20240101\t1\t450829007\t1000001\tes\t900000000000013009\tfentanil\t900000000000448009
        2000014\t20240101\t0\t450829007\t1000001\tes\t900000000000013009\tfentanest\t900000000000448009
        2000021\t20240101\t1\t450829007\t1000002\tes\t900000000000003001\tlactato deshidrogenasa (sustancia)\t900000000000448009
        2000022\t20240101\t1\t450829007\t1000002\tes\t900000000000013009\tdeshidrogenasa láctica\t900000000000448009
        2000023\t20240101\t1\t450829007\t1000002\tes\t900000000000013009\tLDH - lactato deshidrogenasa\t900000000000448009
        2000031\t20240101\t1\t450829007\t1000003\tes\t900000000000003001\tsustancia retirada (sustancia)\t900000000000448009
        2000041\t20240101\t1\t450829007\t1000004\tes\t900000000000003001\tcefalea (trastorno)\t900000000000448009
        2000042\t20240101\t1\t450829007\t1000004\tes\t900000000000013009\tcefalea\t900000000000448009
        2000051\t20240101\t1\t450829007\t1000005\tes\t900000000000003001\tproducto con paracetamol (producto)\t900000000000448009

        """
    static let language = """
        id\teffectiveTime\tactive\tmoduleId\trefsetId\treferencedComponentId\tacceptabilityId
        a1\t20240101\t1\t450829007\t450828004\t2000012\t900000000000548007
        a2\t20240101\t1\t450829007\t450828004\t2000013\t900000000000549004
        a3\t20240101\t1\t450829007\t450828004\t2000023\t900000000000548007

        """

    static func write(language withLanguage: Bool = true) throws -> URL {
        let dir = try temporaryDirectory("normalize")
        let terminology = dir.appendingPathComponent("Snapshot/Terminology")
        try FileManager.default.createDirectory(at: terminology, withIntermediateDirectories: true)
        try concepts.write(to: terminology.appendingPathComponent("sct2_Concept_Snapshot_ES1000_20240101.txt"), atomically: true, encoding: .utf8)
        try descriptions.write(
            to: terminology.appendingPathComponent("sct2_Description_Snapshot-es_ES1000_20240101.txt"), atomically: true, encoding: .utf8)
        if withLanguage {
            let refset = dir.appendingPathComponent("Snapshot/Refset/Language")
            try FileManager.default.createDirectory(at: refset, withIntermediateDirectories: true)
            try language.write(
                to: refset.appendingPathComponent("der2_cRefset_LanguageSnapshot-es_ES1000_20240101.txt"), atomically: true, encoding: .utf8)
        }
        return dir
    }
}

@Suite struct RF2Tests {
    @Test func importsActiveDescriptionsWithPreferredTerms() throws {
        let release = try RF2Fixture.write()
        defer { removeTemporaryDirectory(release) }
        var builder = LexiconBuilder()
        let summary = try RF2Import.load(directory: release, languages: ["es"], into: &builder)
        #expect(summary.concepts == 3)  // 1000001, 1000002 (substances), 1000005 (product); not the disorder, not the inactive one
        #expect(summary.preferredTerms == 3)
        let dir = try temporaryDirectory("normalize")
        defer { removeTemporaryDirectory(dir) }
        try builder.write(to: dir)
        let lexicon = try Lexicon.open(directory: dir)
        let fentanil = try #require(lexicon.entry(forKey: "fentanil"))
        let code = try #require(lexicon.postings(entry: fentanil).first?.code)
        #expect(lexicon.code(at: code).code == "1000001")
        #expect(lexicon.code(at: code).term == "fentanilo")  // preferred per the language refset
        #expect(lexicon.entry(forKey: "fentanest") == nil)  // inactive description
        #expect(lexicon.entry(forKey: TermKey.key("sustancia retirada")) == nil)  // inactive concept
        #expect(lexicon.entry(forKey: "cefalea") == nil)  // not a substance or product
        let ldh = try #require(lexicon.codeIndex(for: "1000002"))
        #expect(lexicon.code(at: ldh).term == "LDH - lactato deshidrogenasa")
        // FSN without its semantic tag is searchable.
        #expect(lexicon.entry(forKey: TermKey.key("lactato deshidrogenasa")) != nil)

        let normalizer = ConceptNormalizer(lexicon: lexicon)
        let m = normalizer.normalize("deshidrogenasa lactica", label: "PROTEINAS")
        #expect(m.code == "1000002")
        #expect(m.method == .exact)
    }

    @Test func withoutLanguageRefsetTheFSNIsPreferred() throws {
        let release = try RF2Fixture.write(language: false)
        defer { removeTemporaryDirectory(release) }
        var builder = LexiconBuilder()
        try RF2Import.load(directory: release, semanticTags: nil, into: &builder)
        let dir = try temporaryDirectory("normalize")
        defer { removeTemporaryDirectory(dir) }
        try builder.write(to: dir)
        let lexicon = try Lexicon.open(directory: dir)
        let index = try #require(lexicon.codeIndex(for: "1000001"))
        #expect(lexicon.code(at: index).term == "fentanilo")
        #expect(lexicon.entry(forKey: "cefalea") != nil)  // no hierarchy filter
    }

    @Test func corpusCountsOutrankRF2Only() throws {
        let release = try RF2Fixture.write()
        defer { removeTemporaryDirectory(release) }
        var builder = LexiconBuilder()
        builder.addMention(text: "fentanilo", label: "NORMALIZABLES", code: "373492002")
        try RF2Import.load(directory: release, into: &builder)
        let dir = try temporaryDirectory("normalize")
        defer { removeTemporaryDirectory(dir) }
        try builder.write(to: dir)
        let normalizer = ConceptNormalizer(lexicon: try Lexicon.open(directory: dir))
        #expect(normalizer.normalize("Fentanilo", label: "NORMALIZABLES").code == "373492002")
    }

    @Test func missingAndMalformedFiles() throws {
        let empty = try temporaryDirectory("normalize")
        defer { removeTemporaryDirectory(empty) }
        var builder = LexiconBuilder()
        do {
            try RF2Import.load(directory: empty, into: &builder)
            Issue.record("expected an error")
        } catch {
            #expect(error.description.contains("sct2_Concept_"))
        }
        let release = try RF2Fixture.write()
        defer { removeTemporaryDirectory(release) }
        let file = release.appendingPathComponent("Snapshot/Terminology/sct2_Description_Snapshot-es_ES1000_20240101.txt")
        try "id\tterm\n1\tx\n".write(to: file, atomically: true, encoding: .utf8)
        do {
            try RF2Import.load(directory: release, into: &builder)
            Issue.record("expected an error")
        } catch {
            #expect(error.description.contains("sct2_Description_Snapshot-es_ES1000_20240101.txt:1"))
            #expect(error.description.contains("header"))
        }
    }
}
