import ArgumentParser
import Foundation
import MedtagIngest
import MedtagModel
import MedtagNeural
import MedtagPipeline
import MedtagStorage
import MedtagTagging
import MedtagText

struct ModelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model",
        abstract: "Build and inspect models.",
        subcommands: [BuildGazetteer.self, Verify.self])

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check every file of a model folder against the SHA-256 its manifest records.",
            discussion: """
                At start-up medtag checks the manifest and the small tables; this reads the weights too. For a neural \
                model it then runs the engine, on this machine's BLAS kernels, over the sentences of the model's \
                reference.json and compares its scores and paths with the ones PyTorch gave at export.
                """)

        @Argument(help: "Model folder or installed model name (default: the default Spanish model).")
        var model: String?

        func run() throws {
            let directory = try singleModel(model).modelDirectory
            let manifest = try ModelManifest.read(directory: directory.path)
            let roles = try manifest.verifyFiles(in: directory.path)
            print("\(manifest.name): \(roles.count == 1 ? "1 file matches" : "\(roles.count) files match") the manifest (\(roles.joined(separator: ", ")))")
            guard manifest.kind == .bilstmCRF, let reference = manifest.files["reference"] else { return }
            let model = try NeuralModel(directory: directory)
            let check = try ReferenceCheck(
                model: model, referencePath: directory.appendingPathComponent(reference.path).path)
            let backend = try BLASBackend.shared()
            let figures = "\(check.sentences) reference sentences, largest emission difference from PyTorch \(check.largestDifference), \(backend) (\(backend.choice.rawValue))"
            guard check.matches else {
                throw ValidationFailure(
                    "\(manifest.name): the engine does not reproduce the model's PyTorch outputs on this machine: \(figures), \(check.differentPaths.count) path(s) differ (tolerance \(ReferenceCheck.tolerance))")
            }
            print("\(manifest.name): engine matches PyTorch: \(figures), every path equal")
        }
    }

    struct BuildGazetteer: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "build-gazetteer",
            abstract: "Build a dictionary tagger from annotated BRAT folders and a term list.")

        @Option(help: "Annotated BRAT folder; repeat for several.")
        var corpus: [String]

        @Option(help: "Term list, one term a line, labelled --term-label.")
        var terms: String?

        @Option(help: "Label of the listed terms.")
        var termLabel: String = "NORMALIZABLES"

        @Option(help: "Name of the model.")
        var name: String = "es-pharmaconer-gazetteer"

        @Option(name: .shortAndLong, help: "Output model folder.")
        var out: String

        func run() throws {
            try requireExisting(corpus + [terms])
            let tokenizer = Tokenizer(rules: .spanish)
            var documents: [Document] = []
            for folder in corpus { documents += try BRATFolder(folder).documents(tokenizer: tokenizer) }
            let termList = try terms.map {
                try String(contentsOf: URL(fileURLWithPath: $0), encoding: .utf8)
                    .split(whereSeparator: \.isNewline).map { String($0).trimmingCharacters(in: .whitespaces) }
                    .filter { !$0.isEmpty }
            } ?? []
            let tagger = GazetteerTagger.build(documents: documents, terms: termList, termLabel: termLabel, tokenizer: tokenizer)
            let labels = Set(documents.flatMap { $0.entities.map(\.label) }).union([termLabel]).sorted()
            let entries = Array(tagger.tsv.utf8)
            let manifest = ModelManifest(
                name: name, kind: .gazetteer, language: Language.spanish.code, labels: labels, tagScheme: .bio,
                tokenizerVersion: Tokenizer.version,
                files: ["entries": .init(path: "entries.tsv", sha256: entries.withUnsafeBytes { SHA256.hex($0) })])
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            let outURL = URL(fileURLWithPath: out)
            try AtomicFile.write(entries, to: outURL.appendingPathComponent("entries.tsv"))
            try AtomicFile.write(Array(try encoder.encode(manifest)) + [10], to: outURL.appendingPathComponent("manifest.json"))
            print("\(tagger.entries.count) entries from \(documents.count) documents and \(termList.count) terms → \(out)")
        }
    }
}
