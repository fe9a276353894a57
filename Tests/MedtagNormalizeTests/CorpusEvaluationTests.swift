import Foundation
import Testing

@testable import MedtagNormalize
import MedtagTestSupport

/// Quality on PharmaCoNER dev with gold spans, using a lexicon built from train only.
@Suite(.enabled(if: Support.hasCorpus, "PharmaCoNER corpus not found (set MEDTAG_CORPORA)"))
struct CorpusEvaluationTests {
    static func trainOnlyNormalizer(options: NormalizerOptions = NormalizerOptions()) throws -> ConceptNormalizer {
        let dir = try temporaryDirectory("normalize")
        defer { removeTemporaryDirectory(dir) }
        try Support.builder(splits: ["train"]).write(to: dir)
        let table = try AbbreviationTable(contentsOf: Support.abbreviationTable)
        return ConceptNormalizer(lexicon: try Lexicon.open(directory: dir), abbreviations: table, options: options)
    }

    @Test func devConceptIndexingWithTrainOnlyLexicon() throws {
        let normalizer = try Self.trainOnlyNormalizer()
        let dev = try Support.documents(split: "dev")
        let report = NormalizationEvaluation.evaluate(documents: dev, normalizer: normalizer)
        print("dev, gold spans, train-only lexicon:\n\(report)")
        #expect(report.documents == 250)
        #expect(report.precision > 0.9)
        #expect(report.f1 > 0.75)
        let exact = try #require(report.steps[.exact])
        #expect(Double(exact.correct) / Double(exact.handled) > 0.97)
    }

    @Test func devMisspellingsFromThePaper() throws {
        let normalizer = try Self.trainOnlyNormalizer()
        #expect(normalizer.normalize("lacticodeshidrogenasa", label: "PROTEINAS").code == "259319003")
        #expect(normalizer.normalize("Durogesic", label: "NORMALIZABLES").code == "373492002")
    }
}
