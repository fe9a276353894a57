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
}

extension Pipeline: DocumentAnnotator {
    /// The scheme the model was trained with.
    public var conllScheme: TagScheme { manifest.tagScheme }

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
}
