import ArgumentParser
import Foundation
import MedtagEvaluation
import MedtagFormats
import MedtagIngest
import MedtagNormalize
import MedtagPipeline
import MedtagStorage
import MedtagText
import SystemPackage

struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Score predictions against gold annotations with the PharmaCoNER measures.",
        discussion: """
            ner: strict span+label micro precision, recall and F1, overall and per label (the official \
            PharmaCoNER subtrack 1 measure), or the lenient overlap match. indexing: per-document sets \
            of SNOMED-CT codes (subtrack 2). run: annotate the gold texts with a model, then score. \
            A gold document with no prediction file is reported and scored as all misses; \
            --skip-missing leaves it out instead, as the official script does.
            """,
        subcommands: [NER.self, Indexing.self, Run.self, CoNLLFiles.self])

    struct Output: ParsableArguments {
        @Option(help: "Output: table, json or csv.")
        var format: ScoreFormat = .table

        @Flag(help: "List every document's figures.")
        var verbose = false

        @Flag(help: "Leave out gold documents that have no prediction file (the official script's behaviour).")
        var skipMissing = false
    }

    struct NER: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "ner", abstract: "Score entity recognition: GOLD and PRED are folders of BRAT .ann files.")

        @Argument(help: "Folder of gold NAME.ann (and NAME.txt for the token confusion matrix).")
        var gold: String
        @Argument(help: "Folder of predicted NAME.ann.")
        var pred: String
        @Option(help: "Match: strict (official) or overlap (same label, any character in common).")
        var match: MatchMode = .strict
        @Flag(help: "Also print the error analysis: token confusion matrix, error kinds, top errors.")
        var errors = false
        @Option(help: "Write the token confusion matrix as an SVG picture to this file.")
        var plot: String?
        @OptionGroup var output: Output

        func run() throws {
            try requireExisting([gold, pred])
            let goldMentions = try readBRATFolder(gold)
            let predMentions = try readBRATFolder(pred)
            try reportNER(
                gold: goldMentions, predicted: predMentions, goldFolder: gold, match: match, errors: errors || plot != nil,
                plot: plot, output: output)
        }
    }

    struct Indexing: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "indexing",
            abstract: "Score concept indexing: GOLD and PRED are folders of .ann or subtrack-2 .tsv files, or single .tsv files.")

        @Argument(help: "Gold: a folder of NAME.ann (codes in AnnotatorNotes lines) or of NAME.tsv, or one .tsv table.")
        var gold: String
        @Argument(
            help: ArgumentHelp(
                "Predictions: a folder of NAME.ann or of NAME.tsv (OUT/subtrack2), or one .tsv table (OUT/tables/medtag-all.tsv).",
                discussion: "A file in a folder is a prediction even when it is empty (no code). A table lists only documents with a code, so a gold document it does not name is one with no code."))
        var pred: String
        @Flag(help: "Leave <null> out of both sides.")
        var ignoreNull = false
        @OptionGroup var output: Output

        func run() throws {
            let goldCodes = try readCodes(gold).mapValues { $0 ?? [] }
            var predicted = try readCodes(pred)
            if try isTable(pred) {
                // A table has a row per code: a document with none has no row, and is no missing file.
                for id in goldCodes.keys where predicted[id] == nil { predicted[id] = Set<String>() }
            }
            let evaluation = IndexingEvaluation(
                gold: goldCodes, predicted: predicted, skipMissing: output.skipMissing, ignoreNull: ignoreNull)
            warnMissing(evaluation.missingDocuments, skipped: output.skipMissing)
            print(ScoreReport(indexing: evaluation, verbose: output.verbose).render(output.format))
        }
    }

    struct Run: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "run", abstract: "Annotate the texts of a gold folder with a model and score the result.")

        @Option(help: "Folder of gold NAME.txt + NAME.ann.")
        var gold: String
        @Option(help: "Model name under Models/ or a model folder (default: the best model installed).")
        var model: String?
        @Option(help: "Documents annotated at once.")
        var workers: Int = 2
        @Option(help: "Also write the predictions (BRAT and TSV) to this folder.")
        var out: String?
        @Flag(help: "Also print the error analysis.")
        var errors = false
        @Flag(help: "Show no progress line on the terminal.")
        var quiet = false
        @OptionGroup var steps: DocumentStepsOption
        @OptionGroup var output: Output

        func run() throws {
            guard workers >= 1 else { throw ValidationError("--workers must be at least 1") }
            try requireExisting([gold])
            let pipeline = try Pipeline.load(singleModel(model), documentSteps: steps.components())
            let goldURL = URL(fileURLWithPath: gold)
            let goldFolder = BRATFolder(gold)
            let ids = try goldFolder.documentIDs()
            if let lexicon = pipeline.lexiconDirectory, let source = lexiconSource(lexicon, naming: goldURL) {
                warn(
                    "warning: the lexicon \(lexicon.path) was built from the documents scored here (\(source)): its codes "
                        + "were learned from this gold, so the scores flatter medtag; build a lexicon without them "
                        + "(`medtag lexicon build`) and pass it with MEDTAG_LEXICON=DIR")
            }
            let texts = try ids.map { try goldFolder.text($0) }
            let started = DispatchTime.now().uptimeNanoseconds
            let progress = ProgressLine(total: ids.count, quiet: quiet)
            defer { progress.finish() }  // also when an error ends the command
            // `workers` documents annotated at once, on the annotation pool as every command does.
            let annotation = OrderedWorkers<Result<Document, any Error>>(pool: AnnotationPool(workers: workers))
            var results: [Result<Document, any Error>] = []
            let collect = { (result: Result<Document, any Error>) in
                results.append(result)
                progress.advance(documents: 1, tokens: (try? result.get())?.tokens.count ?? 0)
            }
            for (id, text) in zip(ids, texts) {
                annotation.submit({ Result { try pipeline.annotate(id: id, text: text) } }, deliver: collect)
            }
            annotation.finish(deliver: collect)
            progress.finish()
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
            let documents = try results.map { try $0.get() }
            let tokens = documents.reduce(0) { $0 + $1.tokens.count }
            if let out {
                let renderer = OutputRenderer()
                for document in documents {
                    for file in renderer.render(document, baseName: document.id, formats: [.brat, .tsvDocuments]) {
                        try AtomicFile.write(file.bytes, to: URL(fileURLWithPath: out).appendingPathComponent(file.fileName))
                    }
                }
            }
            var predicted: [String: [Mention]] = [:]
            var codes: [String: Set<String>?] = [:]
            for document in documents {
                predicted[document.id] = document.entities.map { Mention(start: $0.start, end: $0.end, label: $0.label, text: $0.text) }
                codes[document.id] = Set(document.entities.compactMap(\.code))
            }
            if output.format == .table {
                print("model \(pipeline.manifest.name) on \(gold)")
                print(
                    String(
                        format: "throughput: %d documents, %d tokens in %.2f s with %d workers: %.0f tokens/s, %.1f documents/s",
                        documents.count, tokens, seconds, workers, Double(tokens) / seconds, Double(documents.count) / seconds))
            }
            try reportNER(
                gold: try readBRATFolder(gold), predicted: predicted, goldFolder: gold, match: .strict, errors: errors, plot: nil,
                output: output)
            if documents.contains(where: { $0.entities.contains { $0.code != nil } }) {
                let evaluation = IndexingEvaluation(gold: try readCodes(gold).mapValues { $0 ?? [] }, predicted: codes)
                print(ScoreReport(indexing: evaluation, verbose: output.verbose).render(output.format))
            }
        }
    }
}

extension ScoreFormat: ExpressibleByArgument {}

extension MatchMode: ExpressibleByArgument {}

/// Mentions of every `.ann` file of a folder, by document id.
func readBRATFolder(_ path: String) throws -> [String: [Mention]] {
    let folder = BRATFolder(path)
    var result: [String: [Mention]] = [:]
    for id in try folder.annotatedIDs() {
        result[id] = try folder.annotations(id).map { Mention(start: $0.start, end: $0.end, label: $0.label, text: $0.text) }
    }
    return result
}

/// The source of the lexicon in `lexicon` that is the annotated corpus in `gold` (same folder name), if any.
func lexiconSource(_ lexicon: URL, naming gold: URL) -> String? {
    guard let data = try? Data(contentsOf: lexicon.appendingPathComponent(LexiconFormat.manifestFileName)),
        let manifest = try? JSONDecoder().decode(LexiconManifest.self, from: data)
    else { return nil }
    let name = gold.standardizedFileURL.lastPathComponent
    return manifest.sources.first { $0.hasPrefix("annotated corpus \(name):") }
}

/// Codes by document from a folder of `.tsv` (preferred) or `.ann` files, or from one `.tsv` file;
/// a `.tsv` gives the codes of the documents its first column names.
/// A document present with no code maps to an empty set; an absent one is missing.
func readCodes(_ path: String) throws -> [String: Set<String>?] {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
        throw missingPath(path)
    }
    if !isDirectory.boolValue {
        return SubtrackTSV.parse(try String(contentsOf: URL(fileURLWithPath: path), encoding: .utf8)).mapValues { Optional($0) }
    }
    let folder = BRATFolder(path)
    let tables = try folder.names(withExtension: "tsv")
    var result: [String: Set<String>?] = [:]
    if tables.isEmpty {
        for id in try folder.annotatedIDs() { result[id] = Set(try folder.annotations(id).compactMap(\.code)) }
        return result
    }
    for id in tables {
        // Documents by the first column: a file per document, or one for many (`medtag-all.tsv`).
        let codes = SubtrackTSV.parse(try folder.contents(id, extension: "tsv"))
        if codes.isEmpty { result[id] = result[id] ?? [] }
        for (document, set) in codes { result[document] = (result[document] ?? []).map { $0.union(set) } ?? set }
    }
    return result
}

/// Whether `path` is one file (a table of many documents' codes) rather than a folder.
func isTable(_ path: String) throws -> Bool {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { throw missingPath(path) }
    return !isDirectory.boolValue
}

func warnMissing(_ missing: [String], skipped: Bool) {
    guard !missing.isEmpty else { return }
    let names = missing.prefix(10).joined(separator: ", ") + (missing.count > 10 ? ", …" : "")
    warn(
        "WARNING: \(missing.count) gold document(s) have no prediction file and "
            + (skipped ? "were left out" : "count as all misses") + ": \(names)")
}

func reportNER(
    gold: [String: [Mention]], predicted: [String: [Mention]], goldFolder: String, match: MatchMode, errors: Bool, plot: String?,
    output: EvaluateCommand.Output
) throws {
    let evaluation = NEREvaluation(gold: gold, predicted: predicted, mode: match, skipMissing: output.skipMissing)
    let missing = gold.keys.filter { predicted[$0] == nil }.sorted()
    warnMissing(missing, skipped: output.skipMissing)
    print(ScoreReport(ner: evaluation, verbose: output.verbose).render(output.format))
    guard errors else { return }
    var tokens: [String: [(start: Int, end: Int)]] = [:]
    let tokenizer = Tokenizer()
    for id in gold.keys {
        guard let text = try? BRATFolder(goldFolder).text(id) else { continue }
        tokens[id] = tokenizer.analyze(Array(text.unicodeScalars)).tokens.map { ($0.start, $0.end) }
    }
    let analysis = ErrorAnalysis(gold: gold, predicted: predicted, tokens: tokens)
    print(analysis.table)
    if let plot {
        try AtomicFile.write(Array(analysis.confusionSVG().utf8), to: URL(fileURLWithPath: plot))
        print("confusion matrix plot → \(plot)")
    }
}
