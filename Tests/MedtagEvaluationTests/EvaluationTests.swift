import Testing

@testable import MedtagEvaluation

/// A fixture whose counts are worked out by hand (see each expectation).
enum Fixture {
    static let gold: [String: [Mention]] = [
        "d1": [
            Mention(start: 0, end: 5, label: "X", text: "alpha"), Mention(start: 10, end: 15, label: "Y", text: "bravo"),
            Mention(start: 20, end: 25, label: "X", text: "charl"), Mention(start: 20, end: 25, label: "X", text: "charl"),  // duplicate
        ],
        "d2": [],  // a document with no annotations
        "d3": [Mention(start: 0, end: 3, label: "X", text: "del")],  // its prediction file is missing
    ]
    static let predicted: [String: [Mention]] = [
        "d1": [
            Mention(start: 0, end: 5, label: "X", text: "alpha"),  // right
            Mention(start: 0, end: 5, label: "X", text: "alpha"),  // duplicate: counts once
            Mention(start: 10, end: 15, label: "X", text: "bravo"),  // right span, wrong label
            Mention(start: 20, end: 24, label: "X", text: "char"),  // right label, wrong end
        ],
        "d2": [Mention(start: 1, end: 2, label: "Y", text: "z")],  // spurious
    ]
}

struct NEREvaluationTests {
    @Test func strictCountsByHand() {
        let e = NEREvaluation(gold: Fixture.gold, predicted: Fixture.predicted)
        // tp: d1 alpha. fp: bravo/X, char/X, z/Y. fn: bravo/Y, charl/X, del/X (missing file).
        #expect(e.overall == Score(truePositives: 1, falsePositives: 3, falseNegatives: 3))
        #expect(e.overall.precision == 0.25)
        #expect(e.overall.recall == 0.25)
        #expect(e.overall.f1 == 0.25)
        #expect(e.byLabel["X"] == Score(truePositives: 1, falsePositives: 2, falseNegatives: 2))
        #expect(e.byLabel["Y"] == Score(truePositives: 0, falsePositives: 1, falseNegatives: 1))
        #expect(e.missingDocuments == ["d3"])
    }

    @Test func skipMissingReproducesTheOfficialScript() {
        let e = NEREvaluation(gold: Fixture.gold, predicted: Fixture.predicted, skipMissing: true)
        #expect(e.overall == Score(truePositives: 1, falsePositives: 3, falseNegatives: 2))
        #expect(abs(e.overall.f1 - 2 * 0.25 * (1.0 / 3) / (0.25 + 1.0 / 3)) < 1e-12)
        #expect(e.documents.map(\.id) == ["d1", "d2"])
    }

    @Test func overlapMatch() {
        let e = NEREvaluation(gold: Fixture.gold, predicted: Fixture.predicted, mode: .overlap)
        // Predictions touching a same-label gold: alpha, char → 2 of 4. Gold touched: alpha, charl → 2 of 4.
        #expect(e.overall == Score(truePositives: 2, falsePositives: 2, falseNegatives: 2))
        #expect(e.overall.f1 == 0.5)
    }

    @Test func emptyAndPerfect() {
        #expect(Score().precision == 0)
        #expect(Score().f1 == 0)
        let perfect = NEREvaluation(gold: Fixture.gold, predicted: Fixture.gold)
        #expect(perfect.overall == Score(truePositives: 4, falsePositives: 0, falseNegatives: 0))
        #expect(perfect.overall.f1 == 1)
    }
}

struct IndexingEvaluationTests {
    let gold: [String: Set<String>] = ["d1": ["1", "2", "<null>"], "d2": [], "d3": ["3"]]
    let predicted: [String: Set<String>?] = ["d1": ["1", "<null>", "4"], "d2": ["5"]]

    @Test func nullIsACodeByDefault() {
        let e = IndexingEvaluation(gold: gold, predicted: predicted)
        // d1: tp {1, <null>}, fp {4}, fn {2}; d2: fp {5}; d3 missing: fn {3}.
        #expect(e.overall == Score(truePositives: 2, falsePositives: 2, falseNegatives: 2))
        #expect(e.missingDocuments == ["d3"])
    }

    @Test func ignoreNullAndSkipMissing() {
        #expect(IndexingEvaluation(gold: gold, predicted: predicted, ignoreNull: true).overall == Score(truePositives: 1, falsePositives: 2, falseNegatives: 2))
        let skipped = IndexingEvaluation(gold: gold, predicted: predicted, skipMissing: true)
        #expect(skipped.overall == Score(truePositives: 2, falsePositives: 2, falseNegatives: 1))
        #expect(abs(skipped.overall.f1 - 4.0 / 7) < 1e-12)
    }
}

struct ErrorAnalysisTests {
    @Test func kindsOfErrorsAndConfusion() {
        let tokens: [String: [(start: Int, end: Int)]] = ["d1": [(0, 5), (6, 9), (10, 15), (20, 24), (24, 25)]]
        let a = ErrorAnalysis(gold: Fixture.gold, predicted: Fixture.predicted, tokens: tokens)
        #expect(a.labelErrors == 1)  // bravo
        #expect(a.boundaryErrors == 1)  // charl
        #expect(a.misses == 1)  // del
        #expect(a.spurious == 1)  // z
        #expect(a.labels == ["X", "Y", "O"])
        // Tokens: alpha X/X, (6,9) O/O, bravo Y/X, char X/X, the last letter of charl X/O.
        #expect(a.confusion["X"]?["X"] == 2)
        #expect(a.confusion["X"]?["O"] == 1)
        #expect(a.confusion["Y"]?["X"] == 1)
        #expect(a.confusion["O"]?["O"] == 1)
        #expect(a.topMissed.map(\.text) == ["bravo", "charl", "del"])  // one each: ties in text order
        #expect(a.topFalse.map(\.text) == ["bravo", "char", "z"])
        let svg = a.confusionSVG()
        #expect(svg.hasPrefix("<svg"))
        #expect(svg.contains(">2</text>"))
    }
}

struct CoNLLEvaluationTests {
    @Test func chunksFollowConlleval() {
        #expect(CoNLLEvaluation.chunks(["B-X", "I-X", "O", "I-Y", "I-Y", "B-Y", "I-X"]).map { [$0.start, $0.end] } == [[0, 2], [3, 5], [5, 6], [6, 7]])
        #expect(CoNLLEvaluation.chunks(["S-X", "B-X", "E-X", "S-Y"]).map { [$0.start, $0.end] } == [[0, 1], [1, 3], [3, 4]])
        #expect(CoNLLEvaluation.chunks(["O", "O"]).isEmpty)
    }

    @Test func scoresByHand() throws {
        let gold = [["B-Chemical", "I-Chemical", "O", "B-Disease"], ["B-GENE", "O"]]
        let pred = [["B-Chemical", "I-Chemical", "O", "B-Chemical"], ["I-GENE", "O"]]  // I after O starts a chunk
        let e = try CoNLLEvaluation(gold: gold, predicted: pred)
        // Chemical 0-2 right; Chemical 3 false; Disease 3 missed; GENE 0 right (conlleval reads I-GENE as a start).
        #expect(e.overall == Score(truePositives: 2, falsePositives: 1, falseNegatives: 1))
        #expect(e.byLabel["Disease"] == Score(truePositives: 0, falsePositives: 0, falseNegatives: 1))
        #expect(e.tokens == 6)
        #expect(e.correctTokens == 4)
        #expect(throws: ShapeError.self) { try CoNLLEvaluation(gold: gold, predicted: [["O"]]) }
    }
}

/// The one rendering of scores: each evaluation keeps the shape its readers parse.
struct ScoreReportTests {
    @Test func eachKindKeepsItsShape() throws {
        let ner = ScoreReport(ner: NEREvaluation(gold: Fixture.gold, predicted: Fixture.predicted), verbose: true)
        let csv = ner.render(.csv).split(separator: "\n")
        #expect(csv.first == "scope,label,tp,fp,fn,precision,recall,f1")
        #expect(csv.dropFirst().first == "micro,ALL,1,3,3,0.2500,0.2500,0.2500")
        #expect(csv.contains("document,d3,0,0,1,0.0000,0.0000,0.0000"))
        let json = ner.render(.json)
        for key in ["\"match\" : \"strict\"", "\"labels\"", "\"missing_documents\"", "\"documents\""] { #expect(json.contains(key), "\(key)") }
        #expect(ner.render(.table).hasPrefix("NER (strict match)\nlabel "))

        let indexing = ScoreReport(indexing: IndexingEvaluation(gold: ["d1": ["1"]], predicted: ["d1": ["1", "2"]]))
        // training/cv.py tells the indexing object from the NER one by its lack of `labels`.
        #expect(!indexing.render(.json).contains("\"labels\"") && !indexing.render(.json).contains("\"match\""))
        #expect(indexing.render(.csv) == "scope,label,tp,fp,fn,precision,recall,f1\nmicro,codes,1,1,0,0.5000,1.0000,0.6667")

        let conll = ScoreReport(conll: try CoNLLEvaluation(gold: [["B-X", "O"]], predicted: [["B-X", "B-Y"]]))
        #expect(conll.render(.csv) == "label,tp,fp,fn,precision,recall,f1\nX,1,0,0,1.0000,1.0000,1.0000\nY,0,1,0,0.0000,0.0000,0.0000\nmicro,1,1,0,0.5000,1.0000,0.6667")
        #expect(conll.render(.table).hasPrefix("CoNLL entities (conlleval rules); token accuracy 0.5000\nlabel\ttp\t"))
        #expect(conll.render(.json).contains("\"accuracy\" : 0.5"))
    }
}
