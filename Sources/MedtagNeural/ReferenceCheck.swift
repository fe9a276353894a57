import Foundation

/// The model's own PyTorch outputs (`reference.json`, written by the exporter) and how far this
/// engine, on this machine's kernels, is from them.
public struct ReferenceCheck: Sendable {
    /// Emissions may differ from PyTorch's by at most this much (summation order differs between kernels).
    public static let tolerance: Float = 1e-4

    /// Sentences compared.
    public let sentences: Int
    /// Largest |engine − PyTorch| over every emission, batched and one sentence at a time.
    public let largestDifference: Float
    /// Sentences whose Viterbi path differs from PyTorch's.
    public let differentPaths: [Int]

    /// Whether the engine matches the reference within ``tolerance`` with identical paths.
    public var matches: Bool { largestDifference < Self.tolerance && differentPaths.isEmpty }

    struct Reference: Decodable {
        var sentences: [[String]]
        var emissions: [[Float]]
        var paths: [[Int]]
    }

    /// Runs `model` on the sentences of the reference file at `path`, all in one batch and each alone.
    public init(model: NeuralModel, referencePath path: String) throws(NeuralModelError) {
        let reference: Reference
        do {
            reference = try JSONDecoder().decode(Reference.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw .badFile(path: path, reason: "not a reference file (sentences, emissions, paths): \(error)")
        }
        guard reference.emissions.count == reference.sentences.count, reference.paths.count == reference.sentences.count
        else { throw .badFile(path: path, reason: "sentences, emissions and paths differ in number") }
        let together = model.emissions(reference.sentences)
        var largest: Float = 0
        var different: [Int] = []
        for (k, sentence) in reference.sentences.enumerated() {
            let alone = model.emissions([sentence])[0]
            for scores in [together[k], alone] {
                guard scores.count == reference.emissions[k].count else {
                    throw .badFile(path: path, reason: "sentence \(k) has \(reference.emissions[k].count) emissions, the model gives \(scores.count)")
                }
                largest = max(largest, zip(scores, reference.emissions[k]).map { abs($0 - $1) }.max() ?? 0)
                if model.viterbi(scores) != reference.paths[k], different.last != k { different.append(k) }
            }
        }
        sentences = reference.sentences.count
        largestDifference = largest
        differentPaths = different
    }
}
