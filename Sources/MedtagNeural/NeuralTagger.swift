import Dispatch
import Foundation
import MedtagTagging

/// A ``Tagger`` running a ``NeuralModel``: sentences are sorted by length, cut into batches, and
/// the batches run in parallel on `workers` threads (BLAS itself stays single-threaded).
public struct NeuralTagger: Tagger {
    /// The loaded model, shared by all copies of the tagger.
    public let model: NeuralModel
    /// Sentences per batch.
    public var batchSize: Int
    /// Threads used for one ``tag(_:)`` call.
    public var workers: Int
    public var name: String { model.manifest.name }
    private let scheme: TagScheme

    /// Loads the model in `directory`.
    public init(directory: URL, batchSize: Int = 32, workers: Int = 1, checksums: ChecksumPolicy = .tables) throws {
        try self.init(model: NeuralModel(directory: directory, checksums: checksums), batchSize: batchSize, workers: workers)
    }

    /// Wraps an already loaded model.
    public init(model: NeuralModel, batchSize: Int = 32, workers: Int = 1) {
        self.model = model
        self.scheme = model.manifest.tagScheme
        self.batchSize = max(1, batchSize)
        self.workers = max(1, workers)
    }

    /// Tag indices of each sentence (Viterbi over ensemble-averaged emissions).
    public func paths(_ sentences: [[String]]) -> [[Int]] {
        let order = sentences.indices.filter { !sentences[$0].isEmpty }.sorted {
            sentences[$0].count > sentences[$1].count
        }
        let batchSize = self.batchSize
        let batches: [[Int]] = stride(from: 0, to: order.count, by: batchSize).map {
            Array(order[$0..<min($0 + batchSize, order.count)])
        }
        var results = [[Int]](repeating: [], count: sentences.count)
        let model = self.model
        let run: @Sendable (Int, UnsafeMutableBufferPointer<[Int]>) -> Void = { b, out in
            let batch = batches[b]
            let scores = model.batchEmissions(batch.map { sentences[$0] })
            for (j, i) in batch.enumerated() { out[i] = model.viterbi(scores[j]) }
        }
        results.withUnsafeMutableBufferPointer { out in
            let threads = min(workers, batches.count)
            if threads <= 1 {
                for b in batches.indices { run(b, out) }
            } else {
                let shared = SharedBuffer(buffer: out)
                DispatchQueue.concurrentPerform(iterations: threads) { w in
                    for b in stride(from: w, to: batches.count, by: threads) { run(b, shared.buffer) }
                }
            }
        }
        return results
    }

    public func tag(_ sentences: [[String]]) throws -> [[TokenSpan]] {
        let tags = model.tags
        return paths(sentences).map { path in scheme.decode(path.map { tags[$0] }) }
    }
}

/// Result slots written by several threads, each slot by exactly one.
private struct SharedBuffer: @unchecked Sendable {
    let buffer: UnsafeMutableBufferPointer<[Int]>
}
