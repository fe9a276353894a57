import Dispatch
import MedtagFormats
import MedtagTagging

/// Writes the documents an ``InputRun`` hands back into a ``ResultSink`` and the run's tables
/// (``ResultTables``), telling its ``InputObserver``s what happens: the one writer of results for
/// the daemon, `medtag ingest` and `medtag annotate`.
public final class InputWriter<Sink: ResultSink> {
    public let sink: Sink
    public let tables: ResultTables<Sink>
    /// Told of every document, piece and refusal, in this order.
    public let observers: [any InputObserver]
    private let formats: [OutputFormat]
    private let conllScheme: TagScheme?

    /// `conllScheme` is the tag scheme of CoNLL files (nil: each model's own).
    public init(
        sink: Sink, tables: ResultTables<Sink>, formats: [OutputFormat], conllScheme: TagScheme? = nil, observers: [any InputObserver]
    ) {
        self.sink = sink
        self.tables = tables
        self.formats = formats
        self.conllScheme = conllScheme
        self.observers = observers
    }

    /// The annotated pieces of `document`, one at a time, each told to the observers; a document
    /// that gives no annotation throws `failure(error)`.
    public func pieces<E: Error>(
        of document: RunDocument, failure: @escaping (AnnotatedDocument.Failure) -> E
    ) -> () throws(E) -> RoutedDocument? {
        for observer in observers { observer.started(document) }
        return { [observers] () throws(E) -> RoutedDocument? in
            let piece: RoutedDocument?
            do throws(AnnotatedDocument.Failure) { piece = try document.next() } catch { throw failure(error) }
            if let piece { for observer in observers { observer.annotated(piece, of: document) } }
            return piece
        }
    }

    /// Writes `document`'s files, named after its id, from the pieces `next` gives, and its rows
    /// into the tables; `input` names the input in the tables' rows and `path` names the document
    /// to the observers. Its rows go to the tables as each piece comes or, with `holdRows`, once it
    /// is whole, so a document that fails half way leaves none. Returns nil, telling nobody, when
    /// it had no piece at all.
    public func write<E: Error>(
        _ document: RunDocument, path: String, input: String, pieces next: () throws(E) -> RoutedDocument?, holdRows: Bool,
        sinkError: (Sink.Failure) -> E
    ) throws(E) -> WrittenDocument<Sink.File>? {
        let id = document.id
        var heldRows: [(fileName: String, bytes: [UInt8])] = []
        let written = try DocumentWriter.write(
            PieceAnnotation(id: id, baseName: id, formats: formats, conllScheme: conllScheme, input: input), to: sink, pieces: next,
            sinkError: sinkError,
            rows: { (rows) throws(E) in
                if holdRows {
                    heldRows += rows
                } else {
                    do throws(Sink.Failure) { try tables.add(key: id, rows: rows) } catch { throw sinkError(error) }
                }
            })
        guard var written else { return nil }
        let start = DispatchTime.now().uptimeNanoseconds
        do throws(Sink.Failure) { try tables.add(key: id, rows: heldRows) } catch { throw sinkError(error) }
        written.writeMilliseconds += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
        for observer in observers { observer.written(written, of: document, path: path) }
        return written
    }

    /// Tells the observers that `path` was not annotated, and why; `document` is the document that
    /// failed, if the run handed one back.
    public func refuse(_ path: String, reason: String, document: RunDocument? = nil) {
        for observer in observers { observer.refused(path, reason: reason, document: document) }
    }

    /// Tells the observers that an input was read as far as it could be, by `run`.
    public func finished<Failure>(_ reading: InputReading, by run: InputRun<Failure>) {
        for observer in observers { observer.finished(reading, milliseconds: run.milliseconds) }
    }
}
