import Foundation
import MedtagPipeline
import MedtagTagging
import Testing

@testable import MedtagNeural
import MedtagTestSupport

/// The shipped English model (BC5CDR + BC2GM).
let englishModelDirectory = Paths.packageRoot.appendingPathComponent("Models/en-biomed-bilstm-crf")

let englishModel = SharedFixture(englishModelDirectory.path) { try NeuralModel(directory: englishModelDirectory) }

/// `reference.json` of the English model: PyTorch's emissions and Viterbi paths for a few sentences.
struct EnglishReference: Decodable {
    var sentences: [[String]]
    var emissions: [[Float]]
    var paths: [[Int]]
}

@Suite("English model")
struct EnglishModelTests {
    @Test func manifestDescribesThreeLabelsInEnglish() throws {
        let manifest = try englishModel().manifest
        #expect(manifest.language == "en")
        #expect(manifest.labels == ["Chemical", "Disease", "GENE"])
        #expect(manifest.tagScheme == .bioes)
        #expect(manifest.tags?.count == 1 + 4 * 3)
    }

    @Test func emissionsAndPathsMatchPyTorch() throws {
        let data = try Data(contentsOf: englishModelDirectory.appendingPathComponent("reference.json"))
        let reference = try JSONDecoder().decode(EnglishReference.self, from: data)
        #expect(reference.sentences.count >= 8)
        let together = try englishModel().emissions(reference.sentences)
        for (k, sentence) in reference.sentences.enumerated() {
            let scores = together[k]
            #expect(scores.count == reference.emissions[k].count)
            let worst = zip(scores, reference.emissions[k]).map { abs($0 - $1) }.max() ?? 0
            #expect(worst < 1e-4, "sentence \(k) \(sentence.prefix(5)): max |Δ| = \(worst)")
            #expect(try englishModel().viterbi(scores) == reference.paths[k], "sentence \(k)")
        }
    }

    @Test func tagsChemicalsDiseasesAndGenesInOneSentence() throws {
        let tagger = NeuralTagger(model: try englishModel())
        let sentence = [
            "Cisplatin", "-", "induced", "nephrotoxicity", "was", "reduced", "by", "inhibition", "of", "the",
            "tumor", "necrosis", "factor", "alpha", "receptor", ".",
        ]
        let spans = try tagger.tag([sentence, []])
        #expect(spans[1].isEmpty)
        let found = Set(spans[0].map { "\($0.label):\(sentence[$0.start..<$0.end].joined(separator: " "))" })
        #expect(found.contains("Chemical:Cisplatin"), "\(found)")
        #expect(found.contains("Disease:nephrotoxicity"), "\(found)")
        #expect(found.contains { $0.hasPrefix("GENE:tumor necrosis factor") }, "\(found)")
    }
}
