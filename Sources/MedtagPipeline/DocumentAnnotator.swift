import Foundation
import MedtagStorage
import MedtagTagging
import MedtagText

/// What the daemon, `medtag ingest` and `medtag annotate` need from the NLP side: text in,
/// annotated document out, with the time each component took.
///
/// ``Pipeline`` is one (one model for every document); ``LanguageRouter`` is one that picks the
/// model of each document's language. Implementations are called from several worker threads at once.
public protocol DocumentAnnotator: Sendable {
    /// Annotates one text; `id` names the document in the results.
    func annotateTimed(id: String, text: String) throws -> (document: Document, timings: [StageTiming])
    /// The tag scheme of the CoNLL output.
    var conllScheme: TagScheme { get }
    /// Annotates one text found under the inbox sub-folder `folder` (`es`, `en`, or any other name),
    /// and says which language and model were used.
    func annotateRouted(id: String, text: String, folder: String?) throws -> RoutedDocument
    /// Annotates several texts, each as ``annotateRouted(id:text:folder:)`` would, in their order.
    /// Implementations may tag them together for speed; the results must not depend on it.
    func annotateBatch(_ requests: [AnnotationRequest]) -> [Result<RoutedDocument, any Error>]
    /// The models it annotates with, one per language, in language order (for logs: which model a
    /// running daemon uses, down to its files).
    var loadedModels: [LoadedModel] { get }
}

/// A loaded model as logs name it.
public struct LoadedModel: Sendable, Equatable {
    /// The language of the documents it annotates.
    public var language: String
    /// The name its manifest gives it.
    public var name: String
    /// The first 12 hex digits of the SHA-256 of its `manifest.json` (empty when the file cannot be
    /// read). The manifest records the checksum of every file of the model, so two folders with the
    /// same value hold the same model.
    public var checksum: String
    /// The model folder.
    public var directory: URL

    public init(language: String, name: String, checksum: String, directory: URL) {
        self.language = language
        self.name = name
        self.checksum = checksum
        self.directory = directory
    }

    /// Digits of the SHA-256 kept in ``checksum``: enough to tell models apart, short enough to read.
    public static let checksumDigits = 12
}

extension DocumentAnnotator {
    /// One model for every document: the folder is not looked at.
    public func annotateRouted(id: String, text: String, folder: String?) throws -> RoutedDocument {
        let (document, timings) = try annotateTimed(id: id, text: text)
        return RoutedDocument(
            document: document, timings: timings, language: document.language, languageSource: .configuration, model: "",
            conllScheme: conllScheme)
    }

    /// Each text alone, in order.
    public func annotateBatch(_ requests: [AnnotationRequest]) -> [Result<RoutedDocument, any Error>] {
        requests.map { request in Result { try annotateRouted(id: request.id, text: request.text, folder: request.folder) } }
    }

    /// No model to name.
    public var loadedModels: [LoadedModel] { [] }
}

extension Pipeline: DocumentAnnotator {
    /// The scheme the model was trained with.
    public var conllScheme: TagScheme { manifest.tagScheme }

    /// Its one model; the checksum is read from the model folder's `manifest.json`.
    public var loadedModels: [LoadedModel] {
        let bytes = FileManager.default.contents(atPath: modelDirectory.appendingPathComponent("manifest.json").path)
        let checksum = bytes.map { String(SHA256.hex(Array($0)).prefix(LoadedModel.checksumDigits)) } ?? ""
        return [LoadedModel(language: manifest.language, name: manifest.name, checksum: checksum, directory: modelDirectory)]
    }

    /// One model for every document: the folder is not looked at.
    public func annotateRouted(id: String, text: String, folder: String?) throws -> RoutedDocument {
        try annotateRouted(id: id, text: text, source: .configuration)
    }

    /// One model for every document, their sentences tagged together.
    public func annotateBatch(_ requests: [AnnotationRequest]) -> [Result<RoutedDocument, any Error>] {
        annotateBatchRouted(requests.map { ($0.id, $0.text) }, sources: requests.map { _ in .configuration })
    }
}

extension LanguageRouter: DocumentAnnotator {
    /// Annotates with the model of the text's language (no folder).
    public func annotateTimed(id: String, text: String) throws -> (document: Document, timings: [StageTiming]) {
        let routed = try annotate(id: id, text: text)
        return (routed.document, routed.timings)
    }

    /// The scheme of the fallback language's model (BIO only for a router without any model).
    public var conllScheme: TagScheme {
        pipelines[fallback]?.manifest.tagScheme ?? .bio
    }

    public func annotateRouted(id: String, text: String, folder: String?) throws -> RoutedDocument {
        try annotate(id: id, text: text, folder: folder)
    }

    /// The model of each language, in language order.
    public var loadedModels: [LoadedModel] {
        pipelines.sorted { $0.key < $1.key }.flatMap(\.value.loadedModels)
    }
}
