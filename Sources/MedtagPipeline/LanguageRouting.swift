import Foundation
import MedtagModel
import MedtagTagging
import MedtagText

/// Which language a document is annotated as: one for all, or chosen per document.
public enum LanguageSetting: Sendable, Equatable, CustomStringConvertible {
    /// Every document is in this language (`es`, `en`).
    case fixed(String)
    /// Each document's language is identified from its text (``LanguageIdentifier``).
    case auto

    /// Codes of the languages medtag has models for (``Language/supported``).
    public static var supported: [String] { Language.supported.map(\.code) }

    /// The values accepted, for messages: `es, en or auto`.
    public static var choices: String { supported.joined(separator: ", ") + " or auto" }

    /// Reads `es`, `en` or `auto`.
    public init?(_ text: String) {
        let value = text.lowercased()
        if value == "auto" {
            self = .auto
        } else if LanguageSetting.supported.contains(value) {
            self = .fixed(value)
        } else {
            return nil
        }
    }

    public var description: String {
        switch self {
        case .fixed(let language): language
        case .auto: "auto"
        }
    }
}

/// How a document's language was chosen.
public enum LanguageSource: String, Sendable, Codable {
    /// The configuration (`language = es|en`, `--language`) or the one model given.
    case configuration
    /// The inbox sub-folder the input was dropped in (`inbox/es/`, `inbox/en/`).
    case folder
    /// Identified from the text (`language = auto`).
    case detected
}

/// A document annotated by the pipeline of its language, with what was chosen and why.
public struct RoutedDocument: Sendable {
    public var document: Document
    public var timings: [StageTiming]
    /// The language the document was annotated as.
    public var language: String
    public var languageSource: LanguageSource
    /// The model that tagged it (its manifest name).
    public var model: String
    /// The tag scheme of the model, for the CoNLL output.
    public var conllScheme: TagScheme
    /// Present when entities could not be given codes, saying why (no lexicon for the language), or
    /// when the detected language had no model of its own.
    public var notes: [String] = []

    public init(
        document: Document, timings: [StageTiming], language: String, languageSource: LanguageSource, model: String,
        conllScheme: TagScheme, notes: [String] = []
    ) {
        self.document = document
        self.timings = timings
        self.language = language
        self.languageSource = languageSource
        self.model = model
        self.conllScheme = conllScheme
        self.notes = notes
    }
}

/// A text to annotate: its id in the results, and the inbox sub-folder it came from, if any.
public struct AnnotationRequest: Sendable {
    public var id: String
    public var text: String
    /// The folder (language) to route the text with: see ``LanguageRouter/annotate(id:text:folder:)``.
    public var folder: String?

    public init(id: String, text: String, folder: String? = nil) {
        self.id = id
        self.text = text
        self.folder = folder
    }
}

/// A text's language cannot be served.
public struct RoutingError: Error, CustomStringConvertible, Sendable {
    public var reason: String
    public var description: String { reason }
}

extension Pipeline {
    /// Annotates a text with this pipeline, reporting its language and model.
    public func annotateRouted(id: String, text: String, source: LanguageSource = .configuration) throws -> RoutedDocument {
        let (document, timings) = try annotateTimed(id: id, text: text)
        return routed(document, timings: timings, source: source)
    }

    /// A document this pipeline annotated, with its language, model and notes.
    private func routed(_ document: Document, timings: [StageTiming], source: LanguageSource) -> RoutedDocument {
        var routed = RoutedDocument(
            document: document, timings: timings, language: manifest.language, languageSource: source, model: manifest.name,
            conllScheme: manifest.tagScheme)
        if let note = normalizationNote { routed.notes.append(note) }
        return routed
    }

    /// Annotates several texts at once (``annotateBatchTimed(_:)``), reporting each one's language
    /// and model as ``annotateRouted(id:text:source:)`` does.
    public func annotateBatchRouted(
        _ texts: [(id: String, text: String)], sources: [LanguageSource]
    ) -> [Result<RoutedDocument, any Error>] {
        zip(annotateBatchTimed(texts), sources).map { result, source in
            result.map { routed($0.document, timings: $0.timings, source: source) }
        }
    }

    /// Why entities get no code with this pipeline; nil when a lexicon is loaded.
    public var normalizationNote: String? {
        guard lexiconDirectory == nil else { return nil }
        let language = Language(code: manifest.language)
        return "no \(language.name) SNOMED-CT lexicon installed: entities have no code (a licensed user can import an RF2 release: "
            + "medtag lexicon import-rf2 RELEASE --language \(language.code) --out DIR, then `\(language.lexiconKey) = DIR` in medtag.conf or "
            + "\(language.lexiconVariable)=DIR, or DIR = \(language.lexiconFolder) beside the model folder)"
    }
}

/// Sends each document to the pipeline of its language.
///
/// The language comes, in order, from the inbox sub-folder (`es/`, `en/`) when the caller gives one,
/// else from the setting: a fixed language, or `auto`, which identifies it from the text. Under `auto`
/// a language with no model installed falls back to ``fallback`` and says so in the notes; a folder or
/// a fixed setting naming a language with no model is an error.
public final class LanguageRouter: Sendable {
    public let setting: LanguageSetting
    /// Loaded pipelines by language.
    public let pipelines: [String: Pipeline]
    /// Languages without a model, and why.
    public let unavailable: [String: String]
    /// The language used when identification is unsure or finds a language with no model.
    public let fallback: String
    public let identifier: LanguageIdentifier

    public init(
        setting: LanguageSetting, pipelines: [String: Pipeline], unavailable: [String: String] = [:],
        fallback: String = Language.primary.code,
        identifier: LanguageIdentifier = LanguageIdentifier()
    ) {
        self.setting = setting
        self.pipelines = pipelines
        self.unavailable = unavailable
        self.fallback = pipelines[fallback] != nil ? fallback : (pipelines.keys.sorted().first ?? fallback)
        self.identifier = identifier
    }

    /// Loads the pipeline of each language from a catalog.
    ///
    /// The given model (``ModelCatalog/givenModel()``: `--model`, `model =` or `$MEDTAG_MODEL`)
    /// serves its own language; every other supported language gets its catalog entry. A language
    /// whose model or lexicon was named, or which `setting` fixes, must load; any other that cannot
    /// is left out, with the reason in ``unavailable``.
    /// - Parameter setting: nil means `auto`, unless a model is given: then the language of that model.
    public static func load(setting: LanguageSetting? = nil, catalog: ModelCatalog) throws -> LanguageRouter {
        var pipelines: [String: Pipeline] = [:]
        var unavailable: [String: String] = [:]
        var explicit: String?
        if let given = try catalog.givenModel() {
            pipelines[given.language.code] = try Pipeline.load(given)
            explicit = given.language.code
        }
        let effective = setting ?? explicit.map { .fixed($0) } ?? .auto
        for language in Language.supported where pipelines[language.code] == nil {
            let entry = catalog.entry(for: language)
            var required = false
            if case .fixed(let fixed) = effective, fixed == language.code { required = true }
            let model: ModelCatalog.Location
            switch entry.model {
            case .success(let found): model = found
            case .failure(let error):
                if required { throw error }
                unavailable[language.code] = error.reason
                continue
            }
            required = required || model.origin == .chosen
            // A lexicon named for the language (chosen, or by its environment variable) that cannot
            // be loaded is an error, not a reason to send the language's documents elsewhere.
            let lexiconNamed = entry.lexicon.map { $0.origin != .found } ?? false
            do {
                pipelines[language.code] = try Pipeline.load(entry)
            } catch {
                if required || lexiconNamed { throw error }
                unavailable[language.code] = "\(error)"
            }
        }
        guard !pipelines.isEmpty else {
            throw ModelError(path: "Models", reason: unavailable.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: "; "))
        }
        return LanguageRouter(setting: effective, pipelines: pipelines, unavailable: unavailable, fallback: explicit ?? Language.primary.code)
    }

    /// The language of a document and how it was chosen. `folder` is the inbox sub-folder, if any.
    public func language(of text: String, folder: String? = nil) -> (language: String, source: LanguageSource) {
        if let folder, LanguageSetting.supported.contains(folder) { return (folder, .folder) }
        switch setting {
        case .fixed(let language): return (language, .configuration)
        case .auto: return (identifier.identify(text, fallback: fallback).language, .detected)
        }
    }

    /// Annotates a text with the pipeline of its language.
    public func annotate(id: String, text: String, folder: String? = nil) throws -> RoutedDocument {
        let route = try route(text, folder: folder)
        var routed = try pipelines[route.language]!.annotateRouted(id: id, text: text, source: route.source)
        if let note = route.note { routed.notes.insert(note, at: 0) }
        return routed
    }

    /// The loaded pipeline (by language) a text goes to, how its language was chosen, and the note
    /// saying so when an identified language without a model falls back to ``fallback``.
    private func route(_ text: String, folder: String?) throws(RoutingError) -> (language: String, source: LanguageSource, note: String?) {
        let (language, source) = language(of: text, folder: folder)
        if pipelines[language] != nil { return (language, source, nil) }
        let why = unavailable[language] ?? "no model for language '\(language)'"
        guard source == .detected, pipelines[fallback] != nil else {
            throw RoutingError(reason: "the text is to be annotated as '\(language)' (\(source.rawValue)) but no such model is installed: \(why)")
        }
        return (fallback, source, "identified as '\(language)', which has no model installed (\(why)); annotated as '\(fallback)'")
    }

    /// Annotates several texts, each with the pipeline of its language as ``annotate(id:text:folder:)``
    /// chooses it; the texts of one language are annotated together (``Pipeline/annotateBatchRouted(_:sources:)``).
    /// The results are in the order of `requests`.
    public func annotateBatch(_ requests: [AnnotationRequest]) -> [Result<RoutedDocument, any Error>] {
        var results = [Result<RoutedDocument, any Error>?](repeating: nil, count: requests.count)
        // Per pipeline language: the requests it serves, how each was routed, and the note of a fallback.
        var groups: [String: [(index: Int, source: LanguageSource, note: String?)]] = [:]
        for (k, request) in requests.enumerated() {
            do throws(RoutingError) {
                let route = try route(request.text, folder: request.folder)
                groups[route.language, default: []].append((k, route.source, route.note))
            } catch {
                results[k] = .failure(error)
            }
        }
        for (language, members) in groups.sorted(by: { $0.key < $1.key }) {
            let annotated = pipelines[language]!.annotateBatchRouted(
                members.map { (requests[$0.index].id, requests[$0.index].text) }, sources: members.map(\.source))
            for (member, result) in zip(members, annotated) {
                results[member.index] = result.map { routed in
                    var routed = routed
                    if let note = member.note { routed.notes.insert(note, at: 0) }
                    return routed
                }
            }
        }
        return results.map { $0! }
    }

    /// The names of the loaded models, by language.
    public var modelNames: [String: String] { pipelines.mapValues(\.manifest.name) }
}
