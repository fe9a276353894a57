import Foundation
import MedtagFormats
import MedtagIngest
import MedtagStorage
import MedtagTagging
import SystemPackage

/// Inputs annotated once into an output folder, as `medtag annotate` does: each document's files,
/// the run's tables and its summary page, or, for one shard of a run, all of them in the shard's
/// folder, published whole with its manifest (``ShardWriter``).
///
/// Documents are annotated on the pool's threads and written in input order; their files appear a
/// batch at a time, with one flush to disk per batch. A document that cannot be read or annotated
/// is reported (`warn`, the summary page, the shard's manifest) and skipped.
public final class FolderAnnotation {
    /// An input file: where it is, the name its results take (for an archive, the folder its
    /// members' results go in), and the argument it was found through.
    public typealias Input = (path: FilePath, baseName: String, input: String)

    /// Documents of this run (this shard's, when sharded), annotated or not.
    public private(set) var documents = 0
    /// Documents not annotated.
    public private(set) var failures = 0
    public private(set) var tokens = 0
    public private(set) var entities = 0
    /// The shard's folder, once published; nil when the run is not sharded.
    public var shardFolder: URL? { shardWriter?.final }

    private let output: URL
    private let shard: Shard?
    private let shardWriter: ShardWriter?
    private let model: String
    private let version: String
    private let formats: [OutputFormat]
    private let run: InputRun<Never>
    private let sink: FolderSink
    private let writer: InputWriter<FolderSink>
    private let summary: SummaryObserver
    private let warn: (String) -> Void
    private let start = Date()
    private var keys = ResultKeys()
    private var used: [String: (language: String, count: Int)] = [:]
    private var notes: [String] = []
    private var commitError: (any Error)?

    /// - Parameters:
    ///   - title: the run's name on its summary page.
    ///   - model: the models' names, for the shard's manifest and ``models``.
    ///   - observers: told of every document after the summary page is.
    ///   - warn: shows a problem with a document or an input to the user.
    public init(
        output: URL, shard: Shard?, title: String, annotator: any DocumentAnnotator, model: String, version: String,
        formats: [OutputFormat], conllScheme: TagScheme, pool: AnnotationPool, limits: InputLimits, observers: [any InputObserver],
        warn: @escaping (String) -> Void
    ) throws {
        self.output = output
        self.shard = shard
        shardWriter = try shard.map { try ShardWriter(output: output, shard: $0, model: model, medtagVersion: version) }
        self.model = model
        self.version = version
        self.formats = formats
        self.warn = warn
        run = InputRun(annotator: annotator, pool: pool, limits: limits)
        sink = FolderSink(folder: shardWriter?.folder ?? output)
        summary = SummaryObserver(title: title, annotator: annotator)
        writer = InputWriter(
            sink: sink, tables: try ResultTables(formats: formats, sink: sink, order: .key), formats: formats, conllScheme: conllScheme,
            observers: [summary] + observers)
    }

    /// The models that annotated the documents, with each one's language and count; before any
    /// document, the models given.
    public var models: String {
        used.isEmpty
            ? model
            : used.sorted { $0.key < $1.key }.map { "\($0.key) (\($0.value.language), \($0.value.count) document\($0.value.count == 1 ? "" : "s"))" }
                .joined(separator: ", ")
    }

    /// What the run did, in one line for the user; `folder` names where the results are.
    public func summaryLine(seconds: Double, folder: String) -> String {
        "annotated \(documents - failures) of \(documents) documents with \(models): "
            + "\(tokens) tokens, \(entities) entities in \(String(format: "%.2f", seconds)) s → \(folder)"
    }

    /// Reads and annotates an input; its documents are written as their turn comes.
    public func add(_ input: Input) {
        let path = input.path.string
        let isArchive = InputKind(fileName: input.path.lastComponent?.string ?? "") == .archive
        // Each member of an archive is a document, keyed and named <archive>/<member path without extension>.
        let archiveKey = FilePath(input.baseName).removingLastComponent().appending(input.path.lastComponent?.string ?? "").string
        func source(_ document: InputDocument) -> String { isArchive ? "\(path): \(document.shownPath)" : path }
        /// The key a document is written under; nil when it is not this run's to write.
        func admit(_ document: InputDocument) -> String? {
            let key = isArchive ? archiveKey + "/" + document.key : input.baseName
            if let shard, !shard.owns(key) { return nil }
            documents += 1
            // Two documents with one key (`a/nota.txt` and `b/nota.txt` named on the command line,
            // or `nota.txt` and `nota.xml`) would write the same files: the second is refused.
            if let first = keys.claim(key, by: source(document)) {
                run.step { [self] in
                    failures += 1
                    writer.refuse(key, reason: "its results would overwrite those of \(first)")
                    warn("\(source(document)): its results would overwrite those of \(first) (both are `\(key)`); annotate it into another --out folder")
                }
                return nil
            }
            return key
        }
        let reading = run.add(input.path, folder: nil, admit: admit) { [self] event in
            switch event {
            case .refused(let member, let reason):
                writer.refuse(archiveKey + "/" + member, reason: reason)
                warn("\(path): member \(member) refused: \(reason)")
            case .document(let document):
                write(document, input: input.input, source: source(document.document))
            }
        }
        if let error = reading.error, reading.kind == nil || isArchive || shard?.owns(input.baseName) != false {
            // The input cannot be read at all (or an archive stops short): reported as the daemon refuses it.
            let key = isArchive ? archiveKey : input.baseName
            documents += 1
            run.step { [self] in
                failures += 1
                writer.refuse(key, reason: error.description)
                warn("\(path): \(error)")
                shardWriter?.fail(key: key, reason: error.description)
            }
        }
    }

    /// Writes the documents still due, the tables and the summary page, and publishes a shard's
    /// folder; returns the run's time in seconds.
    public func finish() throws -> Double {
        run.finish()
        commitBatch(atLeast: 1)
        if let commitError { throw commitError }
        let tables = try writer.tables.finish().map {
            ShardManifest.OutputFile(name: $0.name, sha256: sink.finish($0.file), bytes: $0.bytes)
        }
        try sink.commit()
        shardWriter?.addTables(tables, slices: writer.tables.slices)
        let seconds = Date().timeIntervalSince(start)
        let page = summary.finish(seconds: seconds, finished: ISO8601DateFormatter().string(from: Date()), formats: formats)
        let url = shardWriter?.fileURL(SummaryPage.fileName) ?? output.appendingPathComponent(SummaryPage.fileName)
        try AtomicFile.write(SummaryPage.render(page, version: version), to: url)
        try shardWriter?.publish()
        return seconds
    }

    /// Writes one document, keyed by its id; `source` names it in warnings.
    private func write(_ document: RunDocument, input: String, source: String) {
        let key = document.id
        do {
            let next = writer.pieces(of: document) { $0 as any Error }
            guard let written = try writer.write(document, path: key, input: input, pieces: next, holdRows: true, sinkError: { $0 })
            else { return }
            let outputs = written.files.map { ShardManifest.OutputFile(name: $0.name, sha256: sink.finish($0.file), bytes: $0.file.count) }
            let routed = written.first
            used[routed.model, default: (routed.language, 0)].count += 1
            for note in routed.notes where !notes.contains(note) {
                notes.append(note)
                warn("\(source): \(note)")
            }
            tokens += written.counts.tokens
            entities += written.counts.entities
            shardWriter?.add(key: key, tokens: written.counts.tokens, entities: written.counts.entities, language: routed.language, files: outputs)
            commitBatch(atLeast: 256)
        } catch {
            failures += 1
            writer.refuse(key, reason: "\(error)", document: document)
            warn("\(source): \(error)")
            shardWriter?.fail(key: key, reason: "\(error)")
        }
    }

    private func commitBatch(atLeast files: Int) {
        guard sink.pending >= files, commitError == nil else { return }
        do { try sink.commit() } catch { commitError = error }
    }
}

extension FolderAnnotation {
    /// What a run is asked to do: `medtag annotate`'s options, read.
    public struct Options: Sendable {
        /// Formats written when none are asked for.
        public static let defaultFormats: [OutputFormat] = [.brat, .conll, .csv, .tsv, .tsvDocuments]
        /// Largest piece of text annotated at once when no other is asked for, in bytes.
        public static let defaultPieceBytes = 2 << 20

        /// The files and folders to annotate, as given (``FolderAnnotation/inputs(_:)`` finds their files).
        public var inputs: [String]
        public var output: URL
        public var formats: [OutputFormat]
        public var conllScheme: TagScheme
        /// The shard of the run to annotate; nil for all of it.
        public var shard: Shard?
        /// Largest piece of text annotated at once, in bytes.
        public var pieceBytes: Int
        /// Documents annotated at once.
        public var workers: Int

        public init(
            inputs: [String], output: URL, formats: [OutputFormat] = Options.defaultFormats, conllScheme: TagScheme = .bio, shard: Shard? = nil,
            pieceBytes: Int = Options.defaultPieceBytes, workers: Int = ProcessInfo.processInfo.activeProcessorCount
        ) {
            self.inputs = inputs
            self.output = output
            self.formats = formats
            self.conllScheme = conllScheme
            self.shard = shard
            self.pieceBytes = pieceBytes
            self.workers = workers
        }
    }

    /// The input files of `paths`: text and XML files and archives, folders searched recursively
    /// for them. Throws ``MissingInputError`` for a path that does not exist.
    public static func inputs(_ paths: [String]) throws(MissingInputError) -> [Input] {
        try InputPaths.collect(paths, extensions: ["txt", "xml"], alsoAccept: { InputKind(fileName: $0) == .archive })
    }

    /// The run `medtag annotate` makes of its options: its documents annotated by `router`, on a
    /// pool of `options.workers` threads, titled by the inputs as given.
    /// - Parameters:
    ///   - observers: told of every document after the summary page is.
    ///   - warn: shows a problem with a document or an input to the user.
    public convenience init(
        _ options: Options, router: LanguageRouter, version: String, observers: [any InputObserver] = [], warn: @escaping (String) -> Void
    ) throws {
        var limits = InputLimits()
        limits.pieceBytes = options.pieceBytes
        try self.init(
            output: options.output, shard: options.shard, title: options.inputs.joined(separator: ", "), annotator: router,
            model: router.modelNames.sorted { $0.key < $1.key }.map(\.value).joined(separator: ","), version: version,
            formats: options.formats, conllScheme: options.conllScheme, pool: AnnotationPool(workers: options.workers), limits: limits,
            observers: observers, warn: warn)
    }

    /// Adds every input in order, telling `progress` the fraction added after each, and finishes
    /// the run (``finish()``); returns its time in seconds.
    public func annotate(_ inputs: [Input], progress: (Double) -> Void = { _ in }) throws -> Double {
        for (number, input) in inputs.enumerated() {
            add(input)
            progress(Double(number + 1) / Double(inputs.count))
        }
        return try finish()
    }
}
