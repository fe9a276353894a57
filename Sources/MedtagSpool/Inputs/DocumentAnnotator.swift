import MedtagPipeline

/// What the spool needs from the NLP side: text in, annotated document out.
///
/// `Pipeline` is one. Implementations are called from several worker threads at once.
public protocol DocumentAnnotator: Sendable {
    func annotate(id: String, text: String) throws -> Document
}

extension Pipeline: DocumentAnnotator {}

/// Builds the annotator from the configuration: called at start and on every reload (SIGHUP).
public typealias AnnotatorLoader = @Sendable (SpoolConfiguration) throws -> any DocumentAnnotator
