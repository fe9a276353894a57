import Foundation
import MedtagPipeline
import MedtagTagging
import Testing

@testable import MedtagNeural
import MedtagTestSupport

/// The shipped model directory (or `$MEDTAG_TEST_NEURAL_MODEL`, to check a freshly exported one).
let modelDirectory: URL = {
    if let dir = ProcessInfo.processInfo.environment["MEDTAG_TEST_NEURAL_MODEL"], !dir.isEmpty {
        return URL(fileURLWithPath: dir)
    }
    return Paths.packageRoot.appendingPathComponent("Models/es-pharmaconer-bilstm-crf")
}()

/// Loaded once for all tests.
let sharedModel = SharedFixture(modelDirectory.path) { try NeuralModel(directory: modelDirectory) }

struct Reference: Decodable {
    var sentences: [[String]]
    var emissions: [[Float]]
    var paths: [[Int]]
}

/// The shipped models other than the default, checked against their own PyTorch reference.
let otherSpanishModels = ["es-pharmaconer-ensemble"]

@Suite struct ParityTests {
    @Test func emissionsAndPathsMatchPyTorch() throws {
        try checkParity(try sharedModel(), modelDirectory)
    }

    @Test(arguments: otherSpanishModels)
    func otherShippedModelsMatchPyTorch(_ name: String) throws {
        let directory = modelDirectory.deletingLastPathComponent().appendingPathComponent(name)
        let model = try NeuralModel(directory: directory, checksums: .all)
        #expect(model.manifest.name == name)
        try checkParity(model, directory)
    }

    func checkParity(_ model: NeuralModel, _ directory: URL) throws {
        let data = try Data(contentsOf: directory.appendingPathComponent("reference.json"))
        let reference = try JSONDecoder().decode(Reference.self, from: data)
        #expect(reference.sentences.count >= 5)
        // All at once (one batch, mixed lengths) and one by one.
        let together = model.emissions(reference.sentences)
        for (k, sentence) in reference.sentences.enumerated() {
            let alone = model.emissions([sentence])[0]
            for scores in [together[k], alone] {
                #expect(scores.count == reference.emissions[k].count)
                let worst = zip(scores, reference.emissions[k]).map { abs($0 - $1) }.max() ?? 0
                #expect(worst < 1e-4, "sentence \(k): max |Δ| = \(worst)")
                #expect(model.viterbi(scores) == reference.paths[k], "sentence \(k)")
            }
        }
    }

    @Test func taggerFindsDrugsAndKeepsOrder() throws {
        let tagger = NeuralTagger(model: try sharedModel())
        let sentences = [
            ["Se", "inició", "tratamiento", "con", "omeprazol", "y", "paracetamol", "."],
            [],
            ["Paciente", "de", "70", "años", "."],
        ]
        let spans = try tagger.tag(sentences)
        #expect(spans.count == 3)
        #expect(spans[1].isEmpty)
        #expect(spans[0].contains(TokenSpan(start: 4, end: 5, label: "NORMALIZABLES")))
        #expect(spans[0].contains(TokenSpan(start: 6, end: 7, label: "NORMALIZABLES")))
        #expect(spans[2].isEmpty)
    }

    @Test func batchingAndWorkersDoNotChangeResults() throws {
        let data = try Data(contentsOf: modelDirectory.appendingPathComponent("reference.json"))
        let sentences = try JSONDecoder().decode(Reference.self, from: data).sentences
        let many = Array((0..<12).map { sentences[$0 % sentences.count] })
        let one = NeuralTagger(model: try sharedModel(), batchSize: 64, workers: 1).paths(many)
        let small = NeuralTagger(model: try sharedModel(), batchSize: 3, workers: 2).paths(many)
        #expect(one == small)
        let model = try sharedModel()
        let single = many.map { model.viterbi(model.emissions([$0])[0]) }
        #expect(one == single)
    }
}

@Suite struct DecodingTests {
    /// Every decoded path only uses tag pairs the CRF allows, whatever the emissions.
    @Test func viterbiRespectsSchemeConstraints() throws {
        let model = try sharedModel()
        let tags = model.tags
        let t = tags.count
        var generator = SystemRandomNumberGenerator()
        for length in [1, 2, 3, 7, 20] {
            for _ in 0..<50 {
                let emissions = (0..<(length * t)).map { _ in Float.random(in: -8...8, using: &generator) }
                let path = model.viterbi(emissions)
                #expect(path.count == length)
                #expect(model.start[path[0]] > -1000, "starts with \(tags[path[0]])")
                #expect(model.end[path[length - 1]] > -1000, "ends with \(tags[path[length - 1]])")
                for i in 1..<length {
                    #expect(model.transitions[path[i - 1] * t + path[i]] > -1000, "\(tags[path[i - 1]]) → \(tags[path[i]])")
                }
                // Without nested (V) tags, whose outer label a first-order CRF cannot track, the
                // path is well-formed: decoding and re-encoding gives the same tags.
                let named = path.map { tags[$0] }
                let scheme = model.manifest.tagScheme
                if !named.contains(where: { $0.hasPrefix("V-") }) {
                    #expect(scheme.encode(scheme.decode(named), count: length) == named)
                }
            }
        }
    }

    @Test func viterbiPicksTheBestScoringPath() throws {
        // Brute force over all paths of a short sentence.
        let model = try sharedModel()
        let t = model.tagCount
        let length = 3
        let emissions = (0..<(length * t)).map { Float(($0 * 7919) % 23) / 4 - 2.5 }
        func score(_ p: [Int]) -> Float {
            var s = model.start[p[0]] + emissions[p[0]]
            for i in 1..<length { s += model.transitions[p[i - 1] * t + p[i]] + emissions[i * t + p[i]] }
            return s + model.end[p[length - 1]]
        }
        var best: Float = -.infinity
        for a in 0..<t {
            for b in 0..<t {
                for c in 0..<t { best = max(best, score([a, b, c])) }
            }
        }
        #expect(abs(score(model.viterbi(emissions)) - best) < 1e-4)
    }

    @Test func featuresFollowTheTrainingRules() throws {
        #expect(TokenFeatures.wordKey("IL-6") == "il-0")
        #expect(TokenFeatures.casing("2003") == 0)
        #expect(TokenFeatures.casing("omeprazol") == 1)
        #expect(TokenFeatures.casing("PSA") == 2)
        #expect(TokenFeatures.casing("Omeprazol") == 3)
        #expect(TokenFeatures.casing("pH") == 4)
        #expect(TokenFeatures.casing("IL6") == 5)
        #expect(TokenFeatures.casing("by-pass") == 6)
        #expect(TokenFeatures.casing("0,5") == 7)
        #expect(TokenFeatures.casing("(") == 8)
        #expect(TokenFeatures.clippedScalars(String(repeating: "a", count: 30) + String(repeating: "b", count: 30)).count == 40)
        let flags = try sharedModel().features.flags("Amoxicilina")
        #expect(flags.1 == 1)  // suffix -cilina
    }
}

@Suite struct LoadErrorTests {
    /// A private copy of the model directory to break.
    func copy() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("medtag-neural-\(UUID().uuidString)")
        try FileManager.default.copyItem(at: modelDirectory, to: dir)
        return dir
    }

    func loadError(_ dir: URL, checksums: ChecksumPolicy = .tables) -> NeuralModelError? {
        do {
            _ = try NeuralModel(directory: dir, checksums: checksums)
            return nil
        } catch { return error }
    }

    @Test func missingFileIsNamed() throws {
        let dir = try copy()
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.removeItem(at: dir.appendingPathComponent("words.txt"))
        let error = loadError(dir)
        #expect(error == .missingFile(path: dir.appendingPathComponent("words.txt").path))
        #expect(error?.description.contains("words.txt") == true)
    }

    @Test func corruptHeaderIsReported() throws {
        let dir = try copy()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("weights.safetensors")
        var bytes = [UInt8](try Data(contentsOf: url))
        // A header length larger than the file.
        bytes[6] = 0xff
        try Data(bytes).write(to: url)
        guard case .badHeader(let path, _) = loadError(dir) else {
            Issue.record("expected badHeader")
            return
        }
        #expect(path == url.path)
        // Not JSON.
        bytes[6] = 0
        for k in 8..<40 { bytes[k] = 0x7e }
        try Data(bytes).write(to: url)
        guard case .badHeader(_, let reason) = loadError(dir) else {
            Issue.record("expected badHeader")
            return
        }
        #expect(reason.contains("JSON"))
        // Too short to hold a length.
        try Data([1, 2, 3]).write(to: url)
        guard case .badHeader = loadError(dir) else {
            Issue.record("expected badHeader")
            return
        }
    }

    @Test func checksumMismatchIsReported() throws {
        let dir = try copy()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("gazetteer.txt")
        try (try String(contentsOf: url, encoding: .utf8) + "inventada\n").write(to: url, atomically: true, encoding: .utf8)
        guard case .checksumMismatch(let path, _, _) = loadError(dir) else {
            Issue.record("expected checksumMismatch")
            return
        }
        #expect(path == url.path)
        // A flipped byte in the tensor data: only found when every file is checked.
        let dir2 = try copy()
        defer { try? FileManager.default.removeItem(at: dir2) }
        let weights = dir2.appendingPathComponent("weights.safetensors")
        var bytes = [UInt8](try Data(contentsOf: weights))
        bytes[bytes.count - 1] ^= 0x55
        try Data(bytes).write(to: weights)
        #expect(loadError(dir2) == nil)
        guard case .checksumMismatch(let p2, _, _) = loadError(dir2, checksums: .all) else {
            Issue.record("expected checksumMismatch")
            return
        }
        #expect(p2 == weights.path)
        // The shipped files all match their checksums.
        #expect(loadError(modelDirectory, checksums: .all) == nil)
    }

    @Test func shapeMismatchNamesTheTensor() throws {
        let dir = try copy()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("manifest.json")
        var manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        var dims = manifest["dimensions"] as! [String: Any]
        dims["hidden"] = 64
        manifest["dimensions"] = dims
        try JSONSerialization.data(withJSONObject: manifest).write(to: url)
        guard case .shapeMismatch(let path, let tensor, _, _) = loadError(dir) else {
            Issue.record("expected shapeMismatch")
            return
        }
        #expect(path.hasSuffix("weights.safetensors"))
        #expect(tensor.contains("lstm"))
    }

    @Test func pipelineUsesTheNeuralTagger() throws {
        let pipeline = try Pipeline.load(modelDirectory: modelDirectory, lexicon: nil)
        #expect(pipeline.manifest.kind == .bilstmCRF)
        let text = "Se pautó tratamiento con omeprazol 20 mg y paracetamol."
        let document = try pipeline.annotate(id: "t", text: text)
        #expect(document.entities.contains { $0.text == "omeprazol" && $0.label == "NORMALIZABLES" })
    }
}

@Suite struct FeatureParityTests {
    /// Word ids, casing classes, gazetteer/affix flags and char ids of every distinct dev token,
    /// as the training code computed them.
    @Test func featuresMatchTraining() throws {
        let data = try Data(contentsOf: modelDirectory.appendingPathComponent("reference.json"))
        let object = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        let rows = object["features"] as! [[Any]]
        #expect(rows.count > 1000)
        let features = try sharedModel().features
        var mismatches: [String] = []
        for row in rows {
            let token = row[0] as! String
            let word = (row[1] as! NSNumber).int32Value
            let casing = (row[2] as! NSNumber).intValue
            let flags = (row[3] as! [NSNumber]).map(\.floatValue)
            let chars = (row[4] as! [NSNumber]).map(\.int32Value)
            let f = features.flags(token)
            if features.wordID(token) != word || TokenFeatures.casing(token) != casing
                || [f.0, f.1, f.2, f.3] != flags || features.charIDs(token) != chars
            {
                mismatches.append(token)
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches.prefix(20))")
    }
}

@Suite struct ManifestTests {
    func edited(_ change: (inout [String: Any]) -> Void) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("medtag-manifest-\(UUID().uuidString)")
        try FileManager.default.copyItem(at: modelDirectory, to: dir)
        let url = dir.appendingPathComponent("manifest.json")
        var manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        change(&manifest)
        try JSONSerialization.data(withJSONObject: manifest).write(to: url)
        return dir
    }

    func loadError(_ dir: URL) -> String? {
        do {
            _ = try Pipeline.load(modelDirectory: dir, lexicon: nil)
            return nil
        } catch { return "\(error)" }
    }

    @Test func anUnknownTagSchemeIsAnError() throws {
        let dir = try edited { $0["tagScheme"] = "iobes2" }
        defer { try? FileManager.default.removeItem(at: dir) }
        let error = try #require(loadError(dir))
        #expect(error.contains("manifest.json") && error.contains("unknown tag scheme 'iobes2'"))
    }

    @Test func featureConstantsAreCheckedAgainstTheEngine() throws {
        let dir = try edited { manifest in
            var features = manifest["features"] as! [String: Any]
            features["maxChars"] = 50
            manifest["features"] = features
        }
        defer { try? FileManager.default.removeItem(at: dir) }
        let error = try #require(loadError(dir))
        #expect(error.contains("feature constants"))
    }

    @Test func tagsMustBeTheSchemeTagsOfTheLabels() throws {
        let dir = try edited { manifest in
            var tags = manifest["tags"] as! [String]
            tags.swapAt(1, 2)
            manifest["tags"] = tags
        }
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(try #require(loadError(dir)).contains("are not the"))
    }

    @Test func anUnknownPostprocessStepIsAnError() throws {
        let dir = try edited { $0["postprocess"] = ["consistency", "magic"] }
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(try #require(loadError(dir)).contains("unknown postprocess step 'magic'"))
    }

    @Test func documentStepsRunWhenTheManifestAsksForThemInItsOrder() throws {
        let dir = try edited { $0["postprocess"] = ["abbreviations", "consistency"] }
        defer { try? FileManager.default.removeItem(at: dir) }
        let pipeline = try Pipeline.load(modelDirectory: dir, lexicon: nil)
        #expect(pipeline.components.map(\.name).filter { $0 != "normalizer" }.suffix(2) == ["abbreviations", "consistency"])
    }

    @Test func documentStepsGivenAtLoadReplaceTheManifests() throws {
        let dir = try edited { $0["postprocess"] = ["abbreviations", "consistency"] }
        defer { try? FileManager.default.removeItem(at: dir) }
        let none = try Pipeline.load(modelDirectory: dir, lexicon: nil, documentSteps: [])
        #expect(none.components.map(\.name).suffix(2) == ["tokenizer", "tagger"], "\(none.components.map(\.name))")
        let one = try Pipeline.load(modelDirectory: dir, lexicon: nil, documentSteps: [DocumentConsistency()])
        #expect(one.components.map(\.name).suffix(2) == ["tagger", "consistency"])
    }
}
