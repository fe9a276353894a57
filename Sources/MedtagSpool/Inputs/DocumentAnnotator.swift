import MedtagPipeline
import MedtagText
import MedtagTagging

/// What the spool needs from the NLP side: text in, annotated document out, with the time each
/// component took.
///
/// `Pipeline` is one (one model for every document); `LanguageRouter` is one that picks the model
/// of each document's language. Implementations are called from several worker threads at once.
public protocol DocumentAnnotator: Sendable {
    /// Annotates one text; `id` names the document in the results.
    func annotateTimed(id: String, text: String) throws -> (document: Document, timings: [StageTiming])
    /// The tag scheme of the CoNLL output.
    var conllScheme: TagScheme { get }
    /// Annotates one text found under the inbox sub-folder `folder` (`es`, `en`, or any other name),
    /// and says which language and model were used.
    func annotateRouted(id: String, text: String, folder: String?) throws -> RoutedDocument
}

extension DocumentAnnotator {
    /// One model for every document: the folder is not looked at.
    public func annotateRouted(id: String, text: String, folder: String?) throws -> RoutedDocument {
        let (document, timings) = try annotateTimed(id: id, text: text)
        return RoutedDocument(
            document: document, timings: timings, language: document.language, languageSource: .configuration, model: "",
            conllScheme: conllScheme)
    }
}

extension Pipeline: DocumentAnnotator {
    /// The scheme the model was trained with.
    public var conllScheme: TagScheme { manifest.tagScheme }

    /// One model for every document: the folder is not looked at.
    public func annotateRouted(id: String, text: String, folder: String?) throws -> RoutedDocument {
        try annotateRouted(id: id, text: text, source: .configuration)
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

/// Builds the annotator from the configuration: called at start and on every reload (SIGHUP).
public typealias AnnotatorLoader = @Sendable (SpoolConfiguration) throws -> any DocumentAnnotator
