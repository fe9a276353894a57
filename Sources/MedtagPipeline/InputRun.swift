import Dispatch
import MedtagIngest
import SystemPackage

/// A document of an input as ``InputRun`` hands it back, on the caller's thread, in input order.
public struct RunDocument {
    /// The document: its path inside the input, shown path, depth, size.
    public let document: InputDocument
    /// The id it was annotated under (and its result files' name).
    public let id: String
    /// Whether it is a member of an archive (rather than a file input of its own).
    public let isMember: Bool
    /// Whether its text is read and annotated now, piece by piece, on the caller's thread (a text
    /// too long to hold at once); otherwise it was annotated on the pool already.
    public let isStreamed: Bool
    /// Time spent decoding its text and annotating it on the pool (0 when streamed: see
    /// ``InputRun/milliseconds``).
    public let decodeMilliseconds: Double
    public let annotateMilliseconds: Double
    private let source: () throws(AnnotatedDocument.Failure) -> RoutedDocument?
    private let decoded: () -> Int

    init(
        document: InputDocument, id: String, isMember: Bool, isStreamed: Bool, decodeMilliseconds: Double = 0, annotateMilliseconds: Double = 0,
        source: @escaping () throws(AnnotatedDocument.Failure) -> RoutedDocument?, decoded: @escaping () -> Int
    ) {
        self.document = document
        self.id = id
        self.isMember = isMember
        self.isStreamed = isStreamed
        self.decodeMilliseconds = decodeMilliseconds
        self.annotateMilliseconds = annotateMilliseconds
        self.source = source
        self.decoded = decoded
    }

    /// The next annotated piece of the document; nil after the last.
    public func next() throws(AnnotatedDocument.Failure) -> RoutedDocument? { try source() }

    /// Bytes of the document's text read so far.
    public var bytesDecoded: Int { decoded() }
}

/// What ``InputRun`` hands back for an input, in order.
public enum InputEvent {
    /// An archive member that is not a document medtag reads, and why.
    case refused(path: String, reason: String)
    /// A document, annotated (or annotated as its pieces are taken).
    case document(RunDocument)
}

/// How an input was read, as far as it was.
public struct InputReading {
    /// What the input is; nil when it could not be opened.
    public var kind: InputKind?
    /// Archive members seen.
    public var membersRead = 0
    /// Why reading stopped short (the input cannot be opened, or an archive is damaged or past its
    /// limits); the events before it were delivered, or will be, in order.
    public var error: IngestError?
}

/// Inputs read into documents and annotated: the one path from an input to annotated documents
/// for the daemon, `medtag ingest` and `medtag annotate`.
///
/// Each input is read with ``InputDocuments`` on the caller's thread; its documents are decoded
/// and annotated on the process's ``AnnotationPool`` (short ones together, see
/// ``AnnotationStage``), and a text too long to hold at once is read and annotated piece by piece
/// when its turn comes (``PieceAnnotator``, with a turn of the pool for each piece). Every event
/// is handed back on the caller's thread in input order, so results are written in that order
/// whatever the number of workers.
public final class InputRun<Failure: Error> {
    private let annotator: any DocumentAnnotator
    private let pool: AnnotationPool
    private let limits: InputLimits
    private let stage: AnnotationStage<Failure>
    /// Time spent reading inputs (`read`) and reading and annotating streamed texts (`read`,
    /// `annotate`), in milliseconds; what the pool does is in each ``RunDocument``.
    public private(set) var milliseconds: [String: Double] = [:]

    public init(annotator: any DocumentAnnotator, pool: AnnotationPool, limits: InputLimits) {
        self.annotator = annotator
        self.pool = pool
        self.limits = limits
        stage = AnnotationStage(annotator: annotator, pool: pool, limits: limits)
    }

    /// Reads the input at `path` and hands back its events, in order, through `deliver` (now, or
    /// during a later call). `folder` is the inbox sub-folder (language) it came from; `admit`
    /// gives each document's id, or nil to leave it out (another shard's, a name already taken:
    /// the caller says so with ``step(_:)``).
    public func add(
        _ path: FilePath, folder: String?, admit: (InputDocument) throws(Failure) -> String?,
        deliver: @escaping (InputEvent) throws(Failure) -> Void
    ) throws(Failure) -> InputReading {
        var reading = InputReading()
        let documents: InputDocuments
        do throws(IngestError) { documents = try timed("read") { () throws(IngestError) in try InputDocuments(path: path, limits: limits) } } catch {
            reading.error = error
            return reading
        }
        reading.kind = documents.kind
        let isArchive = documents.kind == .archive
        while true {
            let entry: InputEntry?
            do throws(IngestError) { entry = try timed("read") { () throws(IngestError) in try documents.next() } } catch {
                reading.error = error
                break
            }
            guard let entry else { break }
            switch entry {
            case .refused(let path, let reason):
                try stage.add { () throws(Failure) in try deliver(.refused(path: path, reason: reason)) }
            case .document(let document):
                guard let id = try admit(document) else { continue }
                if documents.kind != .archive, document.isStreamed, document.size > limits.pieceBytes {
                    try stage.add { [self] () throws(Failure) in try deliver(.document(streamed(document, id: id, folder: folder))) }
                } else {
                    try stage.add(document, id: id, folder: folder) { (outcome) throws(Failure) in
                        var pieces: ArraySlice<RoutedDocument> = []
                        var failure: AnnotatedDocument.Failure?
                        switch outcome.pieces {
                        case .success(let all): pieces = all[...]
                        case .failure(let error): failure = error
                        }
                        let total = document.size
                        try deliver(
                            .document(
                                RunDocument(
                                    document: document, id: id, isMember: isArchive, isStreamed: false, decodeMilliseconds: outcome.decodeMilliseconds,
                                    annotateMilliseconds: outcome.annotateMilliseconds,
                                    source: { () throws(AnnotatedDocument.Failure) in
                                        if let failure { throw failure }
                                        return pieces.popFirst()
                                    }, decoded: { pieces.isEmpty ? total : 0 })))
                    }
                }
            }
        }
        reading.membersRead = documents.membersRead
        return reading
    }

    /// Runs `body` on the caller's thread after every event of what was added before it.
    public func step(_ body: @escaping () throws(Failure) -> Void) throws(Failure) { try stage.add(step: body) }

    /// Hands back every event still due.
    public func finish() throws(Failure) { try stage.finish() }

    /// Drops what has not been handed back (after a failure, when the results are not wanted).
    public func cancel() { stage.cancel() }

    /// A text read and annotated piece by piece as its pieces are taken.
    private func streamed(_ document: InputDocument, id: String, folder: String?) -> RunDocument {
        var pieces: DocumentPieces?
        var annotator = PieceAnnotator(annotator: self.annotator, id: id, folder: folder, pool: pool)
        return RunDocument(
            document: document, id: id, isMember: false, isStreamed: true,
            source: { [self] () throws(AnnotatedDocument.Failure) -> RoutedDocument? in
                let text: String?
                do throws(IngestError) {
                    if pieces == nil { pieces = try timed("read") { () throws(IngestError) in try document.pieces(limits: limits) } }
                    text = try timed("read") { () throws(IngestError) in try pieces?.next() }
                } catch {
                    throw .unreadable(error)
                }
                guard let text else { return nil }
                do { return try timed("annotate") { try annotator.annotate(text) } } catch { throw .annotation(error) }
            }, decoded: { pieces?.bytesDecoded ?? 0 })
    }

    private func timed<T, E: Error>(_ name: String, _ body: () throws(E) -> T) throws(E) -> T {
        let start = DispatchTime.now().uptimeNanoseconds
        defer { milliseconds[name, default: 0] += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6 }
        return try body()
    }
}
