import ArgumentParser
import Foundation
import MedtagFormats
import MedtagPipeline
import MedtagTagging

struct AnnotateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "annotate",
        abstract: "Annotate text and XML files once and write the results to a folder.",
        discussion: """
            For an input X.txt (or X.xml) medtag writes, in the output folder, X.ann and X.txt (BRAT),
            X.conll, X.csv and X.tsv (PharmaCoNER subtrack 2), so the folder can be opened with BRAT or
            scored with the PharmaCoNER tools. Folders are searched recursively for .txt and .xml
            files and their structure is kept. A file that cannot be read is reported and skipped;
            the exit status is then 1.
            """)

    @Argument(help: "Files or folders to annotate.")
    var inputs: [String]

    @Option(name: .shortAndLong, help: "Output folder (created if missing).")
    var out: String

    @Option(help: "Comma-separated formats: brat, conll, csv, tsv.")
    var formats: String = "brat,conll,csv,tsv"

    @Option(help: "Model folder (default: the best model installed under Models/ for each document's language).")
    var model: String?

    @Option(
        help: ArgumentHelp(
            "Language of the documents: es, en, or auto (identified per document).",
            discussion: "Default: auto, or the language of --model when one is given. Each language has its own model and lexicon."))
    var language: String?

    @Option(help: "Tag scheme of the CoNLL output: bio, bioes, bmewov.")
    var scheme: String = "bio"

    @Option(
        help: ArgumentHelp(
            "Annotate only shard K of N (0 ≤ K < N) and write it to OUT/shard-K-of-N/; join shards with `medtag merge OUT`.",
            discussion: "Without it, a Slurm job array or a Kubernetes Indexed Job sets the shard through the environment."))
    var shard: String?

    @Option(help: "Number of shards, for Kubernetes Indexed Jobs (JOB_COMPLETION_INDEX gives K).")
    var shards: Int?

    func run() throws {
        let formats = try OutputFormat.parseList(self.formats)
        guard let scheme = TagScheme(rawValue: scheme) else {
            throw ValidationError("unknown scheme '\(scheme)'; choose bio, bioes or bmewov")
        }
        let setting = try language.map { text throws -> LanguageSetting in
            guard let setting = LanguageSetting(text) else { throw ValidationError("unknown language '\(text)'; choose es, en or auto") }
            return setting
        }
        let router = try LanguageRouter.load(setting: setting, model: model.map { URL(fileURLWithPath: $0) })
        let modelNames = router.modelNames.sorted { $0.key < $1.key }.map(\.value).joined(separator: ",")
        let renderer = OutputRenderer(conllScheme: scheme)
        let outURL = URL(fileURLWithPath: out)
        var inputs = try collectInputs(self.inputs, extensions: ["txt", "xml"])
        let shard = try shard.map { try Shard(parsing: $0) } ?? Shard.fromEnvironment(ProcessInfo.processInfo.environment, shards: shards)
        let writer = try shard.map {
            try ShardWriter(output: outURL, shard: $0, model: modelNames, medtagVersion: Medtag.version)
        }
        if let shard { inputs = inputs.filter { shard.owns($0.baseName) } }
        var failures = 0
        var used: [String: (language: String, count: Int)] = [:]
        var notes: [String] = []
        var tokens = 0
        var entities = 0
        let start = Date()
        for input in inputs {
            do {
                let text = try readDocumentText(input.url)
                let documentID = (input.baseName as NSString).lastPathComponent
                let routed = try router.annotate(id: documentID, text: text)
                let document = routed.document
                used[routed.model, default: (routed.language, 0)].count += 1
                for note in routed.notes where !notes.contains(note) {
                    notes.append(note)
                    warn("\(input.url.path): \(note)")
                }
                tokens += document.tokens.count
                entities += document.entities.count
                let files = renderer.render(document, baseName: input.baseName, formats: formats)
                if let writer {
                    try writer.add(key: input.baseName, tokens: document.tokens.count, entities: document.entities.count, files: files)
                } else {
                    for file in files { try AtomicFile.write(file.bytes, to: outURL.appendingPathComponent(file.fileName)) }
                }
            } catch {
                failures += 1
                warn("\(input.url.path): \(error)")
                writer?.fail(key: input.baseName, reason: "\(error)")
            }
        }
        try writer?.publish()
        let seconds = Date().timeIntervalSince(start)
        let models = used.isEmpty
            ? modelNames
            : used.sorted { $0.key < $1.key }.map { "\($0.key) (\($0.value.language), \($0.value.count) document\($0.value.count == 1 ? "" : "s"))" }.joined(separator: ", ")
        print(
            "annotated \(inputs.count - failures) of \(inputs.count) documents with \(models): "
                + "\(tokens) tokens, \(entities) entities in \(String(format: "%.2f", seconds)) s → \(writer?.final.path ?? out)")
        if failures > 0 { throw ExitCode(1) }
    }
}
