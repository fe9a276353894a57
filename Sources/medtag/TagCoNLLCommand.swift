import ArgumentParser
import Foundation
import MedtagEvaluation
import MedtagFormats
import MedtagModel
import MedtagPipeline
import MedtagStorage
import MedtagTagging
import MedtagText

struct TagCoNLLCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tag-conll",
        abstract: "Tag pre-tokenized text: one token a line (first column), blank lines between sentences.",
        discussion: """
            Writes `token<TAB>tag` lines (BIO tags) with the same tokens and sentence breaks, so \
            corpora distributed as token-per-line files can be scored as their authors score them, \
            with `medtag evaluate conll GOLD PRED`.

            By default only the tagger runs, one sentence at a time. With --postprocess or \
            --document-sentences the model's document steps (or those named) run too, over the \
            sentences of each document: a `-DOCSTART-` line starts a document, and \
            --document-sentences N takes each run of N sentences as one (the way to score files \
            without document boundaries). A document's text is its tokens joined by single spaces, \
            one sentence a line; the steps' mentions are written back as tags on the same tokens.
            """)

    @Option(help: "Model name under Models/ or a model folder (default: the best model installed for --language).")
    var model: String?

    @Option(help: "Language of the text, for the default model: es or en.")
    var language: String = "es"

    @Argument(help: "Input file: token<TAB>… per line.")
    var input: String

    @Option(name: .shortAndLong, help: "Output file.")
    var out: String

    @OptionGroup var steps: DocumentStepsOption

    @Option(help: "Take each run of this many sentences (within a -DOCSTART- document) as one document for the document steps.")
    var documentSentences: Int?

    func run() throws {
        guard LanguageSetting.supported.contains(language) else {
            throw ValidationError("unknown language '\(language)'; choose \(LanguageSetting.supported.joined(separator: " or "))")
        }
        try requireExisting([input])
        let pipeline = try Pipeline.load(singleModel(model, language: Language(code: language)))
        guard let tagger = pipeline.tagger else { throw ValidationFailure("model \(pipeline.manifest.name) has no tagger") }
        let source = try String(contentsOf: URL(fileURLWithPath: input), encoding: .utf8)
        let blocks = try CoNLL.parse(source)
        let documentSteps = try documentSteps(pipeline.manifest)
        if documentSteps != nil && documentSentences == nil && !source.split(separator: "\n").contains(where: { $0.hasPrefix("-DOCSTART-") }) {
            throw ValidationError(
                "\(input) has no -DOCSTART- lines to say where documents begin; give --document-sentences N to take each N sentences as one document")
        }
        var output = ""
        var sentences = 0
        var tokens = 0
        let started = Date()
        for block in blocks {
            if !block.id.isEmpty { output += "-DOCSTART-\t\(block.id)\n\n" }
            let words = block.sentences.map { $0.map(\.token) }
            var spans = try tagger.tag(words)
            if let documentSteps {
                spans = try Self.runSteps(
                    documentSteps, on: words, spans: spans, groupSize: documentSentences, id: block.id, language: pipeline.manifest.language)
            }
            for (sentence, found) in zip(words, spans) {
                for (token, tag) in zip(sentence, TagScheme.bio.encode(found, count: sentence.count)) {
                    output += "\(token)\t\(tag)\n"
                }
                output += "\n"
                sentences += 1
                tokens += sentence.count
            }
        }
        try AtomicFile.write(Array(output.utf8), to: URL(fileURLWithPath: out))
        let seconds = Date().timeIntervalSince(started)
        print("tagged \(sentences) sentences, \(tokens) tokens with \(pipeline.manifest.name) in \(String(format: "%.2f", seconds)) s → \(out)")
    }

    /// The document steps asked for; nil when none was asked for (the tagger alone, sentence by sentence).
    func documentSteps(_ manifest: ModelManifest) throws -> [any DocumentComponent]? {
        if let documentSentences, documentSentences < 1 {
            throw ValidationError("--document-sentences must be at least 1, not \(documentSentences)")
        }
        guard steps.postprocess != nil || documentSentences != nil else { return nil }
        return try steps.components() ?? manifest.postprocessComponents()
    }

    /// The tagger's mentions after the document steps, over documents of `groupSize` sentences
    /// (all of them when nil).
    static func runSteps(
        _ steps: [any DocumentComponent], on words: [[String]], spans: [[TokenSpan]], groupSize: Int?, id: String, language: String
    ) throws -> [[TokenSpan]] {
        var result: [[TokenSpan]] = []
        result.reserveCapacity(words.count)
        let size = max(1, groupSize ?? words.count)
        for first in stride(from: 0, to: words.count, by: size) {
            let range = first..<min(first + size, words.count)
            var document = Document(id: id, sentences: Array(words[range]), language: language)
            document.setEntities(fromTokenSpans: Array(spans[range]))
            for step in steps { try step.process(&document) }
            result += document.tokenSpansBySentence()
        }
        return result
    }
}

extension EvaluateCommand {
    struct CoNLLFiles: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "conll",
            abstract: "Entity-level P/R/F1 per label between two token-per-line files (conlleval rules).",
            discussion: "Both files hold the same tokens in the same order; the tag is the last column.")

        @Argument(help: "Gold file: one token a line, the tag in the last column, blank lines between sentences.")
        var gold: String
        @Argument(help: "Predicted file: the same tokens in the same order (what `medtag tag-conll` writes).")
        var pred: String
        @Option(help: "Output: table, json or csv.")
        var format: ScoreFormat = .table
        @Option(
            help: ArgumentHelp(
                "Comma-separated labels to score; predictions of other labels are left out.",
                discussion: "For a model that knows more labels than the corpus annotates (BC5CDR: Chemical,Disease)."))
        var labels: String?

        func run() throws {
            try requireExisting([gold, pred])
            let keep = labels.map { Set($0.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }) }
            func tags(_ path: String) throws -> [[String]] {
                let all = try CoNLL.parse(try String(contentsOf: URL(fileURLWithPath: path), encoding: .utf8)).flatMap {
                    $0.sentences.map { $0.map(\.tag) }
                }
                guard let keep else { return all }
                return all.map { sentence in
                    sentence.map { tag in
                        guard let dash = tag.firstIndex(of: "-") else { return tag }
                        return keep.contains(String(tag[tag.index(after: dash)...])) ? tag : "O"
                    }
                }
            }
            let evaluation: CoNLLEvaluation
            do { evaluation = try CoNLLEvaluation(gold: try tags(gold), predicted: try tags(pred)) } catch let error as ShapeError {
                throw ValidationFailure("\(gold) and \(pred) do not line up: \(error)")
            }
            print(ScoreReport(conll: evaluation).render(format))
        }
    }
}
