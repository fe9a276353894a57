import ArgumentParser
import Foundation
import MedtagFormats
import MedtagIngest
import MedtagPipeline
import MedtagSpool
import MedtagTagging
import MedtagText
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
    var formats: String = "brat,conll,csv,tsv,tsv-documents"

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
    var pieceSize: Int = 2 << 20

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
        let limits = {
            var limits = InputLimits()
            limits.pieceBytes = pieceSize
            return limits
        }()
        let formats = try OutputFormat.parseList(self.formats)
        guard let scheme = TagScheme(rawValue: scheme) else {
            throw ValidationError("unknown scheme '\(scheme)'; choose bio, bioes or bmewov")
        }
        let setting = try language.map { text throws -> LanguageSetting in
            guard let setting = LanguageSetting(text) else { throw ValidationError("unknown language '\(text)'; choose es, en or auto") }
            return setting
        }
        let router = try LanguageRouter.load(setting: setting, model: try model.map { try ModelLocator.resolve($0) })
        let modelNames = router.modelNames.sorted { $0.key < $1.key }.map(\.value).joined(separator: ",")
        let outURL = URL(fileURLWithPath: out)
        let inputs = try collectInputs(self.inputs, extensions: ["txt", "xml"], alsoAccept: { InputKind(fileName: $0) == .archive })
        let shard = try shard.map { try Shard(parsing: $0) } ?? Shard.fromEnvironment(ProcessInfo.processInfo.environment, shards: shards)
        let writer = try shard.map {
            try ShardWriter(output: outURL, shard: $0, model: modelNames, medtagVersion: Medtag.version)
        }
        var failures = 0
        var used: [String: (language: String, count: Int)] = [:]
        var notes: [String] = []
        var tokens = 0
        var entities = 0
        let start = Date()
        var documentCount = 0
        // Documents to do are known in advance unless archives or a shard are among the inputs.
        let progress = ProgressLine(
            total: shard == nil && !inputs.contains { InputKind(fileName: $0.path.fileName) == .archive } ? inputs.count : nil, quiet: quiet)
        defer { progress.finish() }  // also when an error ends the command
        var collector = SummaryCollector(title: self.inputs.joined(separator: ", "), router: router, formats: formats)
        // Documents are annotated on `workers` threads, short ones several at a time; what each one
        // gives is written on this thread, in input order.
        let run = InputRun<Never>(annotator: router, pool: AnnotationPool(workers: workers), limits: limits)
        /// Reports, in input order, a problem found while reading the inputs.
        func report(_ body: @escaping () -> Void) { run.step(body) }
        var keys = ResultKeys()
        // Result files appear a batch of documents at a time, with one flush to disk per batch.
        let sink = FolderSink(folder: writer?.folder ?? outURL)
        let tables = try ResultTables(formats: formats, sink: sink, order: .key)
        var commitError: (any Error)?
        func commitBatch(atLeast files: Int) {
            guard sink.pending >= files, commitError == nil else { return }
            do { try sink.commit() } catch { commitError = error }
        }
        /// Writes one document whose stable key (its path inside the input, without the extension)
        /// is `key`; `input` names the file, folder or archive it came from. `next` gives its
        /// annotated pieces.
        func write(key: String, input: String, source: String, annotated next: () throws -> RoutedDocument?) {
            do {
                var rows: [(fileName: String, bytes: [UInt8])] = []
                let written = try DocumentWriter.write(
                    PieceAnnotation(id: key, baseName: key, formats: formats, conllScheme: scheme, input: input), to: sink,
                    pieces: next, sinkError: { $0 }, rows: { rows += $0 },
                    piece: { progress.advance(tokens: $0.document.tokens.count) })
                guard let written else { return }
                let outputs = written.files.map { file in
                    ShardManifest.OutputFile(name: file.name, sha256: sink.finish(file.file), bytes: file.file.count)
                }
                let routed = written.first
                try tables.add(key: key, rows: rows)
                used[routed.model, default: (routed.language, 0)].count += 1
                for note in routed.notes where !notes.contains(note) {
                    notes.append(note)
                    warn("\(source): \(note)")
                }
                tokens += written.counts.tokens
                entities += written.counts.entities
                writer?.add(
                    key: key, tokens: written.counts.tokens, entities: written.counts.entities, language: routed.language, files: outputs)
                collector.finished(key, written)
                progress.advance(documents: 1)
                commitBatch(atLeast: 256)
            } catch {
                failures += 1
                collector.refused(key, reason: "\(error)")
                progress.advance(documents: 1)
                warn("\(source): \(error)")
                writer?.fail(key: key, reason: "\(error)")
            }
        }
        for (number, input) in inputs.enumerated() {
            defer { progress.setFraction(Double(number + 1) / Double(inputs.count)) }
            let path = input.path.string
            let isArchive = InputKind(fileName: input.path.fileName) == .archive
            // Each member of an archive is a document, keyed and named <archive>/<member path without extension>.
            let archiveKey = FilePath(input.baseName).removingLastComponent().appending(input.path.fileName).string
            /// The key a document is written under; nil when it is not this run's to write.
            func admit(_ document: InputDocument) -> String? {
                let key = isArchive ? archiveKey + "/" + document.key : input.baseName
                if let shard, !shard.owns(key) { return nil }
                documentCount += 1
                // Two documents with one key (`a/nota.txt` and `b/nota.txt` named on the command line,
                // or `nota.txt` and `nota.xml`) would write the same files: the second is refused.
                if let first = keys.claim(key, by: source(document)) {
                    report {
                        failures += 1
                        collector.refused(key, reason: "its results would overwrite those of \(first)")
                        warn(
                            "\(source(document)): its results would overwrite those of \(first) (both are `\(key)`); annotate it into another --out folder")
                    }
                    return nil
                }
                return key
            }
            func source(_ document: InputDocument) -> String { isArchive ? "\(path): \(document.shownPath)" : path }
            let reading = run.add(input.path, folder: nil, admit: admit) { event in
                switch event {
                case .refused(let member, let reason):
                    collector.refused(archiveKey + "/" + member, reason: reason)
                    warn("\(path): member \(member) refused: \(reason)")
                case .document(let document):
                    write(key: document.id, input: input.input, source: source(document.document)) { try document.next() }
                }
            }
            if let error = reading.error, reading.kind == nil || isArchive || shard?.owns(input.baseName) != false {
                // The input cannot be read at all (or an archive stops short): reported as the daemon refuses it.
                let key = isArchive ? archiveKey : input.baseName
                documentCount += 1
                report {
                    failures += 1
                    collector.refused(key, reason: error.description)
                    warn("\(path): \(error)")
                    writer?.fail(key: key, reason: error.description)
                }
            }
        }
        run.finish()
        commitBatch(atLeast: 1)
        if let commitError { throw commitError }
        let tableFiles = try tables.finish().map { ShardManifest.OutputFile(name: $0.name, sha256: sink.finish($0.file), bytes: $0.bytes) }
        try sink.commit()
        writer?.addTables(tableFiles, slices: tables.slices)
        let seconds = Date().timeIntervalSince(start)
        try collector.write(to: writer?.fileURL(SummaryPage.fileName) ?? outURL.appendingPathComponent(SummaryPage.fileName), seconds: seconds)
        try writer?.publish()
        progress.finish()
        let models = used.isEmpty
            ? modelNames
            : used.sorted { $0.key < $1.key }.map { "\($0.key) (\($0.value.language), \($0.value.count) document\($0.value.count == 1 ? "" : "s"))" }.joined(separator: ", ")
        print(
            "annotated \(documentCount - failures) of \(documentCount) documents with \(models): "
                + "\(tokens) tokens, \(entities) entities in \(String(format: "%.2f", seconds)) s → \(writer?.final.path ?? out)")
        if failures > 0 { throw ExitCode(1) }
    }
}
