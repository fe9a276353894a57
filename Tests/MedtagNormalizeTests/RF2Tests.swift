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
        a4\t20240101\t1\t450829007\t450828004\t2000011\t900000000000548007
        a5\t20240101\t1\t450829007\t450828004\t2000014\t900000000000549004
        a6\t20240101\t1\t450829007\t450828004\t2000021\t900000000000548007
        a7\t20240101\t1\t450829007\t450828004\t2000022\t900000000000549004
        a8\t20240101\t1\t450829007\t450828004\t2000031\t900000000000548007
        a9\t20240101\t1\t450829007\t450828004\t2000041\t900000000000548007
        b1\t20240101\t1\t450829007\t450828004\t2000042\t900000000000548007
        b2\t20240101\t1\t450829007\t450828004\t2000051\t900000000000548007

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

/// The International-edition-shaped release under `Tests/Fixtures/rf2-international` (invented content).
enum InternationalFixture {
    static let release = Paths.packageRoot.appendingPathComponent("Tests/Fixtures/rf2-international/SnomedCT_FixtureRF2_PRODUCTION_20240101T120000Z")

    /// A copy of the release that a test may damage.
    static func copy() throws -> URL {
        let dir = try temporaryDirectory("rf2").appendingPathComponent(release.lastPathComponent)
        try FileManager.default.copyItem(at: release, to: dir)
        return dir
    }

    static var descriptionFile: String { "Snapshot/Terminology/sct2_Description_Snapshot-en_INT_20240101.txt" }

    /// Imports the release and opens the lexicon written from it.
    static func lexicon(
        release: URL = release, languageRefsets: [String]? = nil, semanticTags: Set<String>? = RF2Import.defaultSemanticTags
    ) throws -> (Lexicon, RF2Import.Summary) {
        var builder = LexiconBuilder()
        let summary = try RF2Import.load(
            directory: release, languages: ["en"], languageRefsets: languageRefsets, semanticTags: semanticTags, into: &builder)
        let dir = try temporaryDirectory("rf2")
        defer { removeTemporaryDirectory(dir) }
        try builder.write(to: dir)
        return (try Lexicon.open(directory: dir), summary)
    }
}

extension Lexicon {
    /// The codes a term's key is posted to.
    func codes(of term: String) -> Set<String> {
        guard let entry = entry(forKey: TermKey.key(term)) else { return [] }
        return Set(postings(entry: entry).compactMap { $0.code.map { code(at: $0).code } })
    }

    /// The term shown for a code.
    func term(of code: String) -> String? { codeIndex(for: code).map { self.code(at: $0).term } }
}

@Suite("RF2 import of an International-edition release")
struct InternationalRF2Tests {
    @Test func keepsActiveSubstancesAndProductsOnly() throws {
        let (lexicon, summary) = try InternationalFixture.lexicon()
        #expect(Set(["9100001", "9100002", "9100005", "9100006", "9100007", "9100008"]).allSatisfy { lexicon.codeIndex(for: $0) != nil })
        #expect(summary.concepts == 6)
        #expect(summary.inactiveConcepts == 1)
        #expect(lexicon.codes(of: "Retiredone").isEmpty, "inactive concept")
        #expect(lexicon.codeIndex(for: "9100003") == nil)
        #expect(lexicon.codes(of: "Zentorafile").isEmpty, "inactive description")
        #expect(lexicon.codes(of: "Glimmer fever").isEmpty, "a disorder, not a substance or product")
        #expect(lexicon.codes(of: "Zentorafil") == ["9100001"])
        #expect(lexicon.codes(of: "Zentorafil hydrochloride") == ["9100005"])
        #expect(lexicon.codes(of: "Velactin kinase") == ["9100007"])
        #expect(lexicon.codes(of: "Quenoxacin-containing product") == ["9100008"])
    }

    @Test func semanticTagIsStrippedFromFullySpecifiedNames() throws {
        let (lexicon, _) = try InternationalFixture.lexicon()
        #expect(lexicon.codes(of: "Dravomycin antibiotic") == ["9100006"])
        #expect(lexicon.codes(of: "Product containing quenoxacin") == ["9100008"])
        #expect(lexicon.codes(of: "Dravomycin antibiotic (substance)").isEmpty)
        #expect(lexicon.term(of: "9100006") == "Dravomycin", "the preferred synonym, not the FSN")
    }

    @Test func languageReferenceSetsDecideMembershipAndPreferredTerm() throws {
        let (lexicon, summary) = try InternationalFixture.lexicon()
        #expect(summary.languageRefsets == [RF2Import.usEnglishRefset, RF2Import.gbEnglishRefset])
        #expect(lexicon.term(of: "9100002") == "Cloxaprine", "US English first by default")
        #expect(lexicon.codes(of: "Cloxaprin") == ["9100002"], "acceptable in US English: still a synonym")
        #expect(lexicon.codes(of: "Dravomycine").isEmpty, "every membership inactive")
        #expect(lexicon.codes(of: "Dravomicina").isEmpty, "in no language reference set")

        let (british, _) = try InternationalFixture.lexicon(languageRefsets: [RF2Import.gbEnglishRefset])
        #expect(british.term(of: "9100002") == "Cloxaprin")
        #expect(british.codes(of: "Cloxaprine") == ["9100002"])
    }

    @Test func moreHierarchiesOnRequest() throws {
        let (lexicon, _) = try InternationalFixture.lexicon(semanticTags: RF2Import.defaultSemanticTags.union(["disorder"]))
        #expect(lexicon.codes(of: "Glimmer fever") == ["9100004"])
        #expect(lexicon.codes(of: "Retiredone").isEmpty)
        let (all, summary) = try InternationalFixture.lexicon(semanticTags: nil)
        #expect(all.codes(of: "Glimmer fever") == ["9100004"])
        #expect(summary.concepts == 7)
    }

    @Test func snapshotFilesOnlyWhenTheReleaseHasThem() throws {
        // The Full/ folder holds a malformed row; the import above never read it.
        let (_, summary) = try InternationalFixture.lexicon()
        #expect(summary.files.allSatisfy { $0.contains("Snapshot") }, "\(summary.files)")
        #expect(summary.files.count == 3)
        // Without snapshot files the full ones are read, latest row per id, and their errors count.
        let copy = try InternationalFixture.copy()
        defer { removeTemporaryDirectory(copy.deletingLastPathComponent()) }
        try FileManager.default.removeItem(at: copy.appendingPathComponent("Snapshot/Terminology/sct2_Concept_Snapshot_INT_20240101.txt"))
        #expect {
            try InternationalFixture.lexicon(release: copy)
        } throws: { error in
            "\(error)".contains("sct2_Concept_Full_INT_20240101.txt:4: id 'not-an-id' is not a SNOMED-CT identifier")
        }
    }

    @Test func fullReleaseRowsResolveToTheLatest() throws {
        let copy = try InternationalFixture.copy()
        defer { removeTemporaryDirectory(copy.deletingLastPathComponent()) }
        let full = copy.appendingPathComponent("Full/Terminology/sct2_Concept_Full_INT_20240101.txt")
        // An older row says active, the newer inactive; then the concept comes back in a later release.
        var text = try String(contentsOf: full, encoding: .utf8)
        text = text.replacingOccurrences(of: "not-an-id\t20200131", with: "9100003\t20240701")
        try text.write(to: full, atomically: true, encoding: .utf8)
        try FileManager.default.removeItem(at: copy.appendingPathComponent("Snapshot/Terminology/sct2_Concept_Snapshot_INT_20240101.txt"))
        // Only 9100003 has concept rows now: the latest (20240701) is active.
        let (lexicon, summary) = try InternationalFixture.lexicon(release: copy)
        #expect(lexicon.codes(of: "Retiredone") == ["9100003"])
        #expect(summary.concepts == 1)
    }

    @Test func malformedReleasesNameTheFileAndLine() throws {
        let cases: [(file: String, replace: String, with: String, message: String)] = [
            (InternationalFixture.descriptionFile, "8100022\t20240101\t1", "8100022\t20240101\tyes",
             "sct2_Description_Snapshot-en_INT_20240101.txt:6: active is 'yes', expected 0 or 1"),
            (InternationalFixture.descriptionFile, "8100042\t20240101", "8100042\t2024-01-01",
             "sct2_Description_Snapshot-en_INT_20240101.txt:11: effectiveTime '2024-01-01' is not YYYYMMDD"),
            (InternationalFixture.descriptionFile, "\t9100007\ten\t900000000000013009", "\t9100007\t\ten\t900000000000013009",
             "sct2_Description_Snapshot-en_INT_20240101.txt:19: 10 columns, expected 9"),
            (InternationalFixture.descriptionFile, "\t9100005\ten\t900000000000003001", "\tC9100005\ten\t900000000000003001",
             "sct2_Description_Snapshot-en_INT_20240101.txt:12: conceptId 'C9100005' is not a SNOMED-CT identifier"),
            ("Snapshot/Refset/Language/der2_cRefset_LanguageSnapshot-en_INT_20240101.txt", "509007\t8100012\t900000000000548007",
             "509007\t8100012\t900000000000000000",
             "der2_cRefset_LanguageSnapshot-en_INT_20240101.txt:4: acceptabilityId '900000000000000000' is neither preferred"),
            ("Snapshot/Terminology/sct2_Concept_Snapshot_INT_20240101.txt", "definitionStatusId", "definitionStatus",
             "sct2_Concept_Snapshot_INT_20240101.txt:1: RF2 header is"),
        ]
        for c in cases {
            let copy = try InternationalFixture.copy()
            defer { removeTemporaryDirectory(copy.deletingLastPathComponent()) }
            let url = copy.appendingPathComponent(c.file)
            let text = try String(contentsOf: url, encoding: .utf8)
            #expect(text.components(separatedBy: c.replace).count == 2, "the change applies once: \(c.replace)")
            try text.replacingOccurrences(of: c.replace, with: c.with).write(to: url, atomically: true, encoding: .utf8)
            #expect {
                try InternationalFixture.lexicon(release: copy)
            } throws: { error in
                let message = "\(error)"
                return message.contains(url.path) && message.contains(c.message)
            }
        }
    }

    @Test func anAbsentLanguageReferenceSetIsRefused() throws {
        #expect {
            try InternationalFixture.lexicon(languageRefsets: ["450828004"])
        } throws: { error in
            "\(error)".contains("no member of language reference set 450828004")
                && "\(error)".contains("found: \(RF2Import.usEnglishRefset), \(RF2Import.gbEnglishRefset)")
        }
    }

    @Test func englishMentionsNormalizeThroughTheCascade() throws {
        let (lexicon, _) = try InternationalFixture.lexicon()
        let normalizer = ConceptNormalizer(lexicon: lexicon)
        #expect(normalizer.normalize("cloxaprine", label: "Chemical").code == "9100002")
        #expect(normalizer.normalize("CLOXAPRIN", label: "Chemical").code == "9100002")
        let typo = normalizer.normalize("zentorafill hydrochloride", label: "Chemical")
        #expect(typo.code == "9100005")
        #expect(typo.method == .levenshtein)
        #expect(normalizer.normalize("retiredone", label: "Chemical").code == ConceptMatch.nullCode)
    }
}
