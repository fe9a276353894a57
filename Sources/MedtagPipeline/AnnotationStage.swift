import Dispatch
import MedtagIngest

/// What became of one document given to an ``AnnotationStage``.
public struct AnnotatedDocument: Sendable {
    /// Why a document gave no annotation.
    public enum Failure: Error, CustomStringConvertible {
        /// Its text could not be read or decoded.
        case unreadable(IngestError)
        /// The annotator failed on it.
        case annotation(any Error)

        /// The underlying error's message.
        public var description: String {
            switch self {
            case .unreadable(let error): error.description
            case .annotation(let error): "\(error)"
            }
        }
    }

    /// The document's annotated pieces, in text order (one, unless the text is longer than a piece).
    public var pieces: Result<[RoutedDocument], Failure>
    /// Time spent decoding its text.
    public var decodeMilliseconds: Double
    /// Its share of the annotation time.
    public var annotateMilliseconds: Double
}

/// The annotation stage of the daemon, `medtag ingest` and `medtag annotate`: documents are decoded
/// and annotated on `workers` threads, and what became of each is handed back on the caller's
/// thread, in the order the documents were added.
///
/// Short documents travel in groups of about ``batchBytes`` bytes, and a group's sentences are
/// tagged together (``DocumentAnnotator/annotateBatch(_:)``), so the tagger's batches stay full
/// however short the notes are. Nothing waits for a group to fill: what is pending goes to the
/// workers at ``flush()`` and ``finish()``. At most `2 × workers` groups are in flight, so memory
/// stays flat however many documents come.
public final class AnnotationStage<Failure: Error> {
    /// Text bytes gathered into one group before it goes to a worker.
    public let batchBytes: Int
    /// Documents in one group, at most.
    public let batchDocuments: Int
    private let annotator: any DocumentAnnotator
    private let limits: InputLimits
    private let workers: OrderedWorkers<[AnnotatedDocument?]>
    private var pending: [Item] = []
    private var pendingBytes = 0
    /// What to do with each added item's outcome, in order; `next` is the first not yet called.
    private var continuations: [(AnnotatedDocument?) throws(Failure) -> Void] = []
    private var next = 0

    enum Item: Sendable {
        case document(InputDocument, id: String, folder: String?)
        /// A step of the caller's, run in order with the deliveries.
        case step
    }

    /// - Parameters:
    ///   - pool: the process's annotation threads (a pool of 1 annotates on the caller's thread).
    ///   - limits: the limits documents are decoded under (``InputDocument/pieces(limits:)``).
    ///   - batchBytes: text bytes gathered into one group.
    public init(
        annotator: any DocumentAnnotator, pool: AnnotationPool, limits: InputLimits, batchBytes: Int = 24 << 10,
        batchDocuments: Int = 64
    ) {
        self.annotator = annotator
        self.limits = limits
        self.batchBytes = max(1, batchBytes)
        self.batchDocuments = max(1, batchDocuments)
        self.workers = OrderedWorkers(pool: pool)
    }

    /// A stage with a pool of its own of `workers` threads.
    public convenience init(
        annotator: any DocumentAnnotator, workers: Int, limits: InputLimits, batchBytes: Int = 24 << 10, batchDocuments: Int = 64
    ) {
        self.init(
            annotator: annotator, pool: AnnotationPool(workers: workers), limits: limits, batchBytes: batchBytes,
            batchDocuments: batchDocuments)
    }

    /// Adds a document, annotated under the name `id`; `folder` is the inbox sub-folder (language) it
    /// came from, if any. `deliver` gets what became of it, on this thread, after everything added before.
    public func add(
        _ document: InputDocument, id: String, folder: String?, deliver: @escaping (AnnotatedDocument) throws(Failure) -> Void
    ) throws(Failure) {
        if document.size >= limits.pieceBytes { try flush() }  // a long text travels alone
        continuations.append { (outcome) throws(Failure) in if let outcome { try deliver(outcome) } }
        pending.append(.document(document, id: id, folder: folder))
        pendingBytes += document.size
        if pendingBytes >= batchBytes || pending.count >= batchDocuments { try flush() }
    }

    /// Adds a step of the caller's (reporting a refusal, say), run on this thread after the
    /// deliveries of everything added before it.
    public func add(step: @escaping () throws(Failure) -> Void) throws(Failure) {
        continuations.append { (_) throws(Failure) in try step() }
        pending.append(.step)
        if pending.count >= batchDocuments { try flush() }
    }

    /// Sends what is pending to the workers now, however small the group.
    public func flush() throws(Failure) {
        guard !pending.isEmpty else { return }
        let items = pending
        pending = []
        pendingBytes = 0
        let annotator = annotator
        let limits = limits
        try workers.submit({ Self.annotate(items, annotator: annotator, limits: limits) }, deliver: deliver)
    }

    /// Sends what is pending and delivers everything.
    public func finish() throws(Failure) {
        try flush()
        try workers.finish(deliver: deliver)
    }

    /// Drops what has not started (after a failure, when the results are not wanted).
    public func cancel() {
        pending = []
        pendingBytes = 0
        workers.cancel()
    }

    private func deliver(_ outcomes: [AnnotatedDocument?]) throws(Failure) {
        for outcome in outcomes {
            let continuation = continuations[next]
            next += 1
            if next > 1024 {
                continuations.removeFirst(next)
                next = 0
            }
            try continuation(outcome)
        }
    }

    /// Decodes and annotates a group on a worker: the documents of one piece together, a longer
    /// one piece by piece (every piece as the language of its first).
    static func annotate(_ items: [Item], annotator: any DocumentAnnotator, limits: InputLimits) -> [AnnotatedDocument?] {
        var outcomes = [AnnotatedDocument?](repeating: nil, count: items.count)
        var batch: [(index: Int, request: AnnotationRequest, decodeMilliseconds: Double)] = []
        for (k, item) in items.enumerated() {
            guard case .document(let document, let id, let folder) = item else { continue }
            var start = now()
            var decode = 0.0
            do throws(IngestError) {
                let pieces = try document.pieces(limits: limits)
                guard let first = try pieces.next() else {
                    outcomes[k] = AnnotatedDocument(pieces: .success([]), decodeMilliseconds: now() - start, annotateMilliseconds: 0)
                    continue
                }
                guard var piece = try pieces.next() else {
                    batch.append((k, AnnotationRequest(id: id, text: first, folder: folder), now() - start))
                    continue
                }
                decode = now() - start
                start = now()
                var routed: [RoutedDocument] = []
                var pieceAnnotator = PieceAnnotator(annotator: annotator, id: id, folder: folder, pool: nil)
                do {
                    routed.append(try pieceAnnotator.annotate(first))
                    while true {
                        routed.append(try pieceAnnotator.annotate(piece))
                        guard let following = try pieces.next() else { break }
                        piece = following
                    }
                    outcomes[k] = AnnotatedDocument(pieces: .success(routed), decodeMilliseconds: decode, annotateMilliseconds: now() - start)
                } catch let error as IngestError {
                    outcomes[k] = AnnotatedDocument(pieces: .failure(.unreadable(error)), decodeMilliseconds: decode, annotateMilliseconds: 0)
                } catch {
                    outcomes[k] = AnnotatedDocument(pieces: .failure(.annotation(error)), decodeMilliseconds: decode, annotateMilliseconds: 0)
                }
            } catch {
                outcomes[k] = AnnotatedDocument(pieces: .failure(.unreadable(error)), decodeMilliseconds: now() - start + decode, annotateMilliseconds: 0)
            }
        }
        guard !batch.isEmpty else { return outcomes }
        let start = now()
        let results = annotator.annotateBatch(batch.map(\.request))
        let elapsed = now() - start
        let bytes = Double(max(1, batch.reduce(0) { $0 + $1.request.text.utf8.count }))
        for (entry, result) in zip(batch, results) {
            outcomes[entry.index] = AnnotatedDocument(
                pieces: result.map { [$0] }.mapError { .annotation($0) }, decodeMilliseconds: entry.decodeMilliseconds,
                annotateMilliseconds: elapsed * Double(entry.request.text.utf8.count) / bytes)
        }
        return outcomes
    }

    private static func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e6 }
}
