import ArgumentParser
import Foundation
import MedtagNeural

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure the neural tagger's speed on a folder of texts.",
        discussion: """
            Prints start-up time to the first prediction, tokens and documents per second with 1 and \
            2 workers, and peak memory, as JSON.
            """)

    @Option(help: "Model name under Models/ or a model folder (a bilstm-crf model).")
    var model: String

    @Option(help: "Comma-separated worker counts.")
    var workers: String = "1,2"

    @Option(help: "Sentences per batch.")
    var batch: Int = 32

    @Argument(help: "Folder of .txt files.")
    var texts: String

    func run() throws {
        try requireExisting([texts])
        let counts = workers.split(separator: ",").compactMap { Int($0) }.filter { $0 > 0 }
        let report = try NeuralBenchmark.run(
            modelDirectory: try singleModel(model).modelDirectory, textFolder: URL(fileURLWithPath: texts), workers: counts,
            batchSize: batch)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        print(String(decoding: try encoder.encode(report), as: UTF8.self))
    }
}
