import MedtagPipeline
import MedtagText
import MedtagTagging

/// What the spool needs from the NLP side: text in, annotated document out, with the time each
/// component took.
///
/// `Pipeline` is one. Implementations are called from several worker threads at once.
public protocol DocumentAnnotator: Sendable {
    /// Annotates one text; `id` names the document in the results.
    func annotateTimed(id: String, text: String) throws -> (document: Document, timings: [StageTiming])
    /// The tag scheme of the CoNLL output.
    var conllScheme: TagScheme { get }
}

extension Pipeline: DocumentAnnotator {
    /// The scheme the model was trained with; BIO when it names none medtag knows.
    public var conllScheme: TagScheme { TagScheme(rawValue: manifest.tagScheme) ?? .bio }
}

/// Builds the annotator from the configuration: called at start and on every reload (SIGHUP).
public typealias AnnotatorLoader = @Sendable (SpoolConfiguration) throws -> any DocumentAnnotator
