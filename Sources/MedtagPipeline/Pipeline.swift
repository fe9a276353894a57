import Foundation
import MedtagModel
import MedtagNeural
import MedtagNormalize
import MedtagTagging
import MedtagText

/// Time spent by one component on one document.
public struct StageTiming: Sendable, Hashable {
    public var stage: String
    public var milliseconds: Double
}

/// tokenizer → tagger → normalizer: the components a document flows through, in order.
public final class Pipeline: Sendable {
    public let manifest: ModelManifest
    public let modelDirectory: URL
    public let components: [any DocumentComponent]
    /// The lexicon used for normalization; nil when entities get no code.
    public let lexiconDirectory: URL?

    public init(manifest: ModelManifest, modelDirectory: URL, components: [any DocumentComponent], lexiconDirectory: URL? = nil) {
        self.manifest = manifest
        self.modelDirectory = modelDirectory
        self.components = components
        self.lexiconDirectory = lexiconDirectory
    }

    /// Loads the model and the lexicon of a catalog entry (``ModelCatalog``).
    /// - Parameter documentSteps: the steps to run after the tagger instead of the manifest's
    ///   `postprocess` ones; nil: the manifest's.
    public static func load(_ entry: ModelCatalog.Entry, documentSteps: [any DocumentComponent]? = nil) throws -> Pipeline {
        try load(modelDirectory: entry.modelDirectory, lexicon: entry.lexicon?.url, documentSteps: documentSteps)
    }

    /// Loads the model in `directory` and assembles its pipeline.
    /// - Parameters:
    ///   - lexicon: lexicon folder for SNOMED-CT normalization; nil: entities get no code.
    ///   - documentSteps: the steps to run after the tagger instead of the manifest's; nil: the manifest's.
    public static func load(
        modelDirectory directory: URL, lexicon: URL?, documentSteps: [any DocumentComponent]? = nil
    ) throws -> Pipeline {
        let manifest = try ModelManifest.read(directory: directory.path)
        guard manifest.tokenizerVersion == Tokenizer.version else {
            throw ModelError(
                path: directory.path,
                reason: "trained with tokenizer \(manifest.tokenizerVersion) but this medtag has \(Tokenizer.version); retrain or use a matching medtag")
        }
        let tagger: any Tagger
        switch manifest.kind {
        case .gazetteer:
            tagger = try loadGazetteer(directory, manifest)
        case .bilstmCRF:
            do { tagger = NeuralTagger(model: try NeuralModel(directory: directory, manifest: manifest)) } catch {
                throw ModelError(path: directory.path, reason: error.description)
            }
        }
        var components: [any DocumentComponent] = [
            Tokenizer(rules: .forLanguage(manifest.language)),
            TaggerComponent(tagger: tagger),
        ]
        components += documentSteps ?? manifest.postprocessComponents()
        if let lexicon {
            components.append(try NormalizerComponent(lexiconDirectory: lexicon))
        }
        return Pipeline(manifest: manifest, modelDirectory: directory, components: components, lexiconDirectory: lexicon)
    }

    static func loadGazetteer(_ directory: URL, _ manifest: ModelManifest) throws -> GazetteerTagger {
        let url = directory.appendingPathComponent(manifest.files["entries"]?.path ?? "entries.tsv")
        // Checked against the manifest's checksum when it lists the file (older manifests do not).
        let bytes = try manifest.checkedContents("entries", in: directory.path) ?? FileManager.default.contents(atPath: url.path)
        guard let bytes, let text = String(data: bytes, encoding: .utf8) else {
            throw ModelError(path: url.path, reason: "missing or not UTF-8")
        }
        do { return try GazetteerTagger(name: manifest.name, tsv: text) } catch {
            throw ModelError(path: url.path, reason: "\(error)")
        }
    }

    /// Runs every component on a text.
    public func annotate(id: String, text: String) throws -> Document {
        try annotateTimed(id: id, text: text).document
    }

    /// Runs every component on a text and says how long each took.
    public func annotateTimed(id: String, text: String) throws -> (document: Document, timings: [StageTiming]) {
        var document = Document(id: id, text: text, language: manifest.language)
        var timings: [StageTiming] = []
        for component in components {
            let start = DispatchTime.now().uptimeNanoseconds
            try component.process(&document)
            let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
            timings.append(StageTiming(stage: component.name, milliseconds: elapsed))
        }
        return (document, timings)
    }
}

extension Pipeline {
    /// Annotates several texts as ``annotateTimed(id:text:)`` annotates each alone, but with the
    /// sentences of all of them tagged together, so the tagger's batches fill however short the
    /// texts are. The components before the tagger and after it run on each text alone; the
    /// tagger's time is shared among the texts by their token counts.
    ///
    /// The results are those of annotating each text alone. A text whose annotation fails gets its
    /// error; the others are unaffected.
    public func annotateBatchTimed(
        _ texts: [(id: String, text: String)]
    ) -> [Result<(document: Document, timings: [StageTiming]), any Error>] {
        guard texts.count > 1, let t = components.firstIndex(where: { $0 is TaggerComponent }),
            let tagging = components[t] as? TaggerComponent
        else {
            return texts.map { text in Result { try annotateTimed(id: text.id, text: text.text) } }
        }
        var documents = texts.map { Document(id: $0.id, text: $0.text, language: manifest.language) }
        var timings = [[StageTiming]](repeating: [], count: texts.count)
        var failures = [(any Error)?](repeating: nil, count: texts.count)
        func run(_ component: any DocumentComponent, on k: Int) {
            guard failures[k] == nil else { return }
            let start = DispatchTime.now().uptimeNanoseconds
            do { try component.process(&documents[k]) } catch { failures[k] = error }
            let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
            timings[k].append(StageTiming(stage: component.name, milliseconds: elapsed))
        }
        for component in components[..<t] {
            for k in documents.indices { run(component, on: k) }
        }
        let live = documents.indices.filter { failures[$0] == nil }
        let sentences = live.map { TaggerComponent.sentences(of: documents[$0]) }
        let start = DispatchTime.now().uptimeNanoseconds
        if let predicted = try? tagging.tagger.tag(sentences.flatMap { $0 }) {
            let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
            let tokens = max(1, live.reduce(0) { $0 + documents[$1].tokens.count })
            var next = 0
            for (j, k) in live.enumerated() {
                documents[k].setEntities(fromTokenSpans: Array(predicted[next..<next + sentences[j].count]))
                next += sentences[j].count
                timings[k].append(
                    StageTiming(stage: tagging.name, milliseconds: elapsed * Double(documents[k].tokens.count) / Double(tokens)))
            }
        } else {
            // Tagged alone, so the error is given to the text that caused it.
            for k in live { run(tagging, on: k) }
        }
        for component in components[(t + 1)...] {
            for k in documents.indices { run(component, on: k) }
        }
        return documents.indices.map { k in
            if let failure = failures[k] { return .failure(failure) }
            return .success((documents[k], timings[k]))
        }
    }

    /// The tagger of the pipeline, for tagging pre-tokenized text.
    public var tagger: (any Tagger)? {
        components.lazy.compactMap { ($0 as? TaggerComponent)?.tagger }.first
    }
}
