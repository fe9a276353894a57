import Dispatch
import MedtagFormats

/// One document written by ``DocumentWriter``: what it held, and its files (open until the caller
/// finishes them).
public struct WrittenDocument<File> {
    /// How the first piece was routed: language, how it was chosen, model, notes.
    public var first: RoutedDocument
    /// Counts over the whole document (characters, sentences, tokens, entities).
    public var counts: PieceRenderer
    /// The document's result files, by name, in a stable order.
    public var files: [(name: String, file: File)]
    /// The entities found, by label, code and method.
    public var found: EntityTally
    /// Why the document yielded no entity; nil when it yielded some.
    public var emptyReason: String?
    /// Time spent rendering and writing its files.
    public var writeMilliseconds: Double

    /// The document's row of a summary page (``RunSummary``).
    public func summaryRow(path: String) -> RunSummary.DocumentRow {
        RunSummary.DocumentRow(
            path: path, tokens: counts.tokens, entities: counts.entities, language: first.language,
            model: first.model.isEmpty ? nil : first.model, files: files.map(\.name), note: emptyReason)
    }
}

/// Writes one document's annotated pieces into a ``ResultSink`` as they come: the one loop that
/// turns pieces into result files, for the daemon, `medtag ingest` and `medtag annotate`.
public enum DocumentWriter {
    /// Writes every piece `next` gives into `sink` (files created with the first piece); `rows`
    /// receives each piece's rows of the run's tables (``ResultTable``). Returns nil when the
    /// document had no piece at all (an empty file).
    public static func write<Sink: ResultSink, E: Error>(
        _ annotation: PieceAnnotation, to sink: Sink, pieces next: () throws(E) -> RoutedDocument?,
        sinkError: (Sink.Failure) -> E, rows: ([(fileName: String, bytes: [UInt8])]) throws(E) -> Void,
        piece: (RoutedDocument) -> Void = { _ in }
    ) throws(E) -> WrittenDocument<Sink.File>? {
        var results = DocumentResultFiles(annotation, sink: sink)
        var found = EntityTally()
        var writing = 0.0
        while let routed = try next() {
            let start = DispatchTime.now().uptimeNanoseconds
            let pieceRows: [(fileName: String, bytes: [UInt8])]
            do { pieceRows = try results.write(routed) } catch { throw sinkError(error) }
            try rows(pieceRows)
            writing += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
            found.add(routed.document.entities)
            piece(routed)
        }
        let document = results.annotation
        guard let first = document.first, let counts = document.renderer else { return nil }
        var reason: String?
        if counts.entities == 0 {
            if document.onlyWhitespace {
                reason = "empty text: nothing to annotate"
            } else if counts.tokens == 0 {
                reason = "no tokens found in the text"
            } else {
                reason = "the model found no drug, compound or protein in \(counts.tokens) tokens"
            }
        }
        return WrittenDocument(
            first: first, counts: counts, files: results.files, found: found, emptyReason: reason, writeMilliseconds: writing)
    }
}
