import Dispatch
import Foundation
import MedtagTagging
import MedtagText

#if canImport(Glibc)
    import Glibc
#endif

/// Measures the engine on a folder of texts: start-up to first prediction, throughput with 1..n
/// workers (documents spread over threads, one ``NeuralTagger/tag(_:)`` call per document), peak RSS.
public enum NeuralBenchmark {
    /// One measured configuration.
    public struct Row: Codable, Sendable {
        public var engine: String
        public var workers: Int
        public var batch: Int
        public var tokensPerSecond: Double
        public var documentsPerSecond: Double
        public var seconds: Double
        /// Achieved GFLOP/s over the peak of the cores in use (`workers` of them).
        public var fractionOfPeak: Double?
    }

    /// Everything measured.
    public struct Report: Codable, Sendable {
        public var documents: Int
        public var tokens: Int
        public var sentences: Int
        /// Model load + tokenizing and tagging the first document, in milliseconds.
        public var startupMilliseconds: Double
        /// Model load alone, in milliseconds.
        public var loadMilliseconds: Double
        public var peakRSSMegabytes: Double
        public var rows: [Row]
        /// The kernel path in use, e.g. `blas=openblas core=SkylakeX`.
        public var blas: String
        /// How the kernels were chosen (`cpu-features`, `OPENBLAS_CORETYPE`, `openblas-detection`).
        public var blasChoice: String
        /// Work per token and the machine's peak; ``Row/fractionOfPeak`` relates the two.
        public var arithmetic: ArithmeticFigures
    }

    /// Runs the benchmark on the `.txt` files of `textFolder` with the model in `modelDirectory`.
    /// Each configuration runs `repeats` times; the best time counts.
    public static func run(
        modelDirectory: URL, textFolder: URL, workers: [Int] = [1, 2], batchSize: Int = 32, repeats: Int = 3
    ) throws -> Report {
        let files = try FileManager.default.contentsOfDirectory(atPath: textFolder.path)
            .filter { $0.hasSuffix(".txt") }.sorted()
        let texts = try files.map { try String(contentsOf: textFolder.appendingPathComponent($0), encoding: .utf8) }
        guard !texts.isEmpty else {
            throw NeuralModelError.badFile(path: textFolder.path, reason: "no .txt files to benchmark on")
        }

        let clock = ContinuousClock()
        let t0 = clock.now
        let model = try NeuralModel(directory: modelDirectory)
        let loaded = clock.now
        let tokenizer = Tokenizer(rules: .forLanguage(model.manifest.language))
        var first = Document(id: "first", text: texts[0])
        tokenizer.process(&first)
        _ = try NeuralTagger(model: model, batchSize: batchSize).tag(TaggerComponent.sentences(of: first))
        let startup = ms(clock.now - t0)
        let load = ms(loaded - t0)

        let documents: [[[String]]] = texts.enumerated().map { k, text in
            var d = Document(id: "\(k)", text: text)
            tokenizer.process(&d)
            return TaggerComponent.sentences(of: d)
        }
        let tokens = documents.reduce(0) { $0 + $1.reduce(0) { $0 + $1.count } }
        let sentenceCount = documents.reduce(0) { $0 + $1.count }
        let tagger = NeuralTagger(model: model, batchSize: batchSize)
        let backend = try BLASBackend.shared()
        let characters = documents.reduce(0) { $0 + $1.reduce(0) { $0 + $1.reduce(0) { $0 + $1.unicodeScalars.count } } }
        let arithmetic = MachineDescription.figures(
            model: model, averageCharacters: Double(characters) / Double(max(tokens, 1)), backend: backend)
        let corePeak = arithmetic.peakGflops / Double(max(arithmetic.cores, 1))
        var rows: [Row] = []
        for w in workers {
            var best = Double.infinity
            for _ in 0..<repeats {
                let start = clock.now
                DispatchQueue.concurrentPerform(iterations: w) { worker in
                    for d in stride(from: worker, to: documents.count, by: w) { _ = tagger.paths(documents[d]) }
                }
                best = min(best, seconds(clock.now - start))
            }
            rows.append(
                Row(
                    engine: "swift", workers: w, batch: batchSize, tokensPerSecond: Double(tokens) / best,
                    documentsPerSecond: Double(documents.count) / best, seconds: best,
                    fractionOfPeak: corePeak > 0
                        ? Double(tokens) / best * arithmetic.flopsPerToken / 1e9 / (corePeak * Double(min(w, arithmetic.cores)))
                        : nil))
        }
        return Report(
            documents: documents.count, tokens: tokens, sentences: sentenceCount, startupMilliseconds: startup,
            loadMilliseconds: load, peakRSSMegabytes: peakRSS(), rows: rows, blas: backend.description,
            blasChoice: backend.choice.rawValue, arithmetic: arithmetic)
    }

    static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }

    static func ms(_ d: Duration) -> Double { seconds(d) * 1000 }

    /// Peak resident set size of this process, in MB.
    public static func peakRSS() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_maxrss) / 1024
    }
}
