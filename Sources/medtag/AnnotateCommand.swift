import ArgumentParser
import Foundation
import MedtagFormats
import MedtagIngest
import MedtagPipeline
import MedtagTagging
import SystemPackage

struct AnnotateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "annotate",
        abstract: "Annotate text and XML files once and write the results to a folder.",
        discussion: """
            For a document X.txt (or X.xml) medtag writes, in the output folder, X.ann and X.txt (BRAT) \
            and X.conll, and subtrack2/X.tsv (its PharmaCoNER subtrack-2 codes, empty when it has none); \
            for the whole run one table of every entity, medtag-all.csv, and one of every code, \
            tables/medtag-all.tsv. csv-documents adds X.csv. Folders are searched recursively for .txt \
            and .xml files and their structure is kept.

            The folder can be opened with BRAT and scored with the official PharmaCoNER script as it \
            is: OUT for subtrack 1 (.ann files, no .tsv beside them), OUT/subtrack2 for subtrack 2 (one \
            .tsv per document, nothing else); `medtag convert --to tsv` writes the gold side's .tsv \
            files.

            A file that cannot be read, or whose type medtag does not read, is reported and skipped; \
            the exit status is then 1.
            """)

    @Argument(help: "Files or folders to annotate.")
    var inputs: [String]
    @Option(name: .shortAndLong, help: "Output folder (created if missing).")
    var out: String
    @Option(help: "Comma-separated formats: brat, conll, csv, tsv, csv-documents, tsv-documents.")
    var formats: String = FolderAnnotation.Options.defaultFormats.map(\.rawValue).joined(separator: ",")
    @Option(help: "Model name under Models/ or a model folder (default: the best model installed for each document's language).")
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
    @Option(
        help: ArgumentHelp(
            "Largest piece of text annotated at once, in bytes.",
            discussion: "Long documents are annotated piece by piece, cut at line ends, so memory does not grow with their size; the results are those of the whole document."))
    var pieceSize: Int = FolderAnnotation.Options.defaultPieceBytes
    @Option(
        help: ArgumentHelp(
            "Documents annotated at once (default: one per CPU core).",
            discussion: "Results are the same whatever the number; they are written in the order of the inputs."))
    var workers: Int?
    @Flag(help: "Show no progress line on the terminal.")
    var quiet = false

    func run() throws {
        guard pieceSize >= 1024 else { throw ValidationError("--piece-size must be at least 1024 bytes") }
        let workers = self.workers ?? ProcessInfo.processInfo.activeProcessorCount
        guard workers >= 1 else { throw ValidationError("--workers must be at least 1") }
        let formats = try OutputFormat.parseList(self.formats)
        guard let scheme = TagScheme(rawValue: scheme) else { throw ValidationError("unknown scheme '\(scheme)'; choose bio, bioes or bmewov") }
        let setting = try language.map { text throws -> LanguageSetting in
            guard let setting = LanguageSetting(text) else { throw ValidationError("unknown language '\(text)'; choose \(LanguageSetting.choices)") }
            return setting
        }
        let router = try LanguageRouter.load(setting: setting, catalog: modelCatalog(.init(model: model)))
        let inputs: [FolderAnnotation.Input]
        do { inputs = try FolderAnnotation.inputs(self.inputs) } catch { throw missingPath(error.path) }
        let shard = try shard.map { try Shard(parsing: $0) } ?? Shard.fromEnvironment(ProcessInfo.processInfo.environment, shards: shards)
        // Documents to do are known in advance unless archives or a shard are among the inputs.
        let progress = ProgressLine(
            total: shard == nil && !inputs.contains { InputKind(fileName: $0.path.fileName) == .archive } ? inputs.count : nil, quiet: quiet)
        defer { progress.finish() }  // also when an error ends the command
        let options = FolderAnnotation.Options(
            inputs: self.inputs, output: URL(fileURLWithPath: out), formats: formats, conllScheme: scheme, shard: shard, pieceBytes: pieceSize,
            workers: workers)
        let annotation = try FolderAnnotation(options, router: router, version: Medtag.version, observers: [progress], warn: warn)
        let seconds = try annotation.annotate(inputs, progress: progress.setFraction)
        progress.finish()
        print(annotation.summaryLine(seconds: seconds, folder: annotation.shardFolder?.path ?? out))
        if annotation.failures > 0 { throw ExitCode(1) }
    }
}
