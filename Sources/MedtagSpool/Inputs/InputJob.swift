#if canImport(Glibc)
import Glibc
#endif
import Logging
import MedtagFormats
import MedtagIngest
import MedtagPipeline
import MedtagText
import SystemPackage

/// How one input ended.
public enum JobOutcome: String, Sendable {
    /// Results published, input moved to `done/` (or deleted).
    case done
    /// Input moved to `failed/` with `<name>.error.json`.
    case failed
    /// A passing condition (disk full): the input stays claimed and is tried again later.
    case retry
}

/// The result of processing one input.
public struct JobResult: Sendable {
    /// The input, relative to the inbox.
    public var relativePath: String
    public var outcome: JobOutcome
    /// The line written to the daily log.
    public var record: RunRecord
    public var error: SpoolError?
    /// What the input held, as on its summary page; nil unless its results were published.
    public var summary: RunSummary? = nil

    /// Logs how the input ended, as the daemon and `medtag ingest` both do: `annotated` at
    /// `doneLevel`, a failure as an error (`<3>` in the journal), a retry as a warning.
    public func log(to logger: Logger, doneLevel: Logger.Level = .info) {
        var metadata: Logger.Metadata = [
            "medtag.file": "\(relativePath)", "medtag.outcome": "\(outcome.rawValue)",
            "medtag.documents": "\(record.documents)", "medtag.entities": "\(record.entities)",
            "medtag.ms": "\(record.ms["total"] ?? 0)",
        ]
        switch outcome {
        case .done:
            if record.refused > 0 { metadata["medtag.refused"] = "\(record.refused)" }
            logger.log(level: doneLevel, "annotated", metadata: metadata)
        case .failed:
            metadata["medtag.stage"] = "\(error?.stage.rawValue ?? "")"
            metadata["medtag.error"] = "\(error?.description ?? "")"
            logger.error("input failed; moved to failed/", metadata: metadata)
        case .retry:
            metadata["medtag.error"] = "\(error?.description ?? "")"
            logger.warning("input will be retried", metadata: metadata)
        }
    }
}

/// Processes one claimed input: read, annotate, write every result into a staging folder, publish
/// it into `outbox/` in one rename, then move the input to `done/` or `failed/`.
///
/// The steps are ordered so that a kill at any point is harmless: before the publishing rename
/// nothing is visible; after it, the input is still claimed and a restart processes it again,
/// replacing the published folder with identical bytes.
struct InputJob: Sendable {
    let relativePath: String
    let area: WorkArea
    let configuration: SpoolConfiguration
    let annotator: any DocumentAnnotator
    let version: String
    let jobNumber: Int
    let logger: Logger
    /// Threads annotating the documents of an archive at once, when no ``pool`` is given.
    var documentWorkers = 1
    /// The process's annotation threads, shared with every other input (results are written in
    /// archive order); a file read piece by piece takes a turn from it for each piece.
    var pool: AnnotationPool? = nil
    /// Told of every annotated piece (tokens) and finished document, as they happen.
    var progress: JobProgress? = nil

    private var layout: SpoolLayout { area.layout }
    private var annotationPool: AnnotationPool { pool ?? AnnotationPool(workers: documentWorkers) }
    private var input: FilePath { area.folder.appending(relativePath) }
    private var stagingFolder: FilePath { area.staging.appending("job-\(jobNumber)") }

    /// Per-job counters; only the job's own thread touches them.
    private final class Tally {
        var bytes = 0
        var ms: [String: Double] = [:]
        var report: InputReport
        var summary: RunSummary
        /// The input's tables (``ResultTable``), open for the whole job: each document appends its rows.
        var tables: ResultTableFiles?
        /// When the progress was last recorded on the input (monotonic seconds).
        var progressRecorded = 0.0
        init(report: InputReport) {
            self.report = report
            summary = RunSummary(title: report.input)
        }

        func time<T, E: Error>(_ stage: String, _ body: () throws(E) -> T) throws(E) -> T {
            let start = Clock.monotonic
            defer { ms[stage, default: 0] += (Clock.monotonic - start) * 1000 }
            return try body()
        }
    }

    func run() -> JobResult {
        let started = Clock.monotonic
        let name = FilePath(relativePath).lastComponent?.string ?? relativePath
        let tally = Tally(
            report: InputReport(input: relativePath, medtag: version, formats: configuration.formats.map(\.rawValue)))
        var logger = logger
        logger[metadataKey: "medtag.file"] = "\(relativePath)"
        var outcome: JobOutcome
        var failure: SpoolError?
        do throws(SpoolError) {
            try countAttempt()
            try? Sys.removeTree(stagingFolder)
            do { try Sys.mkdirs(stagingFolder) } catch {
                throw SpoolError(stage: .publish, path: stagingFolder.string, reason: "cannot create the staging folder", errno: error)
            }
            try openTables(tally)
            try process(name: name, tally: tally, logger: logger)
            tally.tables?.close()
            try tally.time("publish") { () throws(SpoolError) in
                try writeFile(stagingFolder.appending(InputReport.fileName), tally.report.encoded())
                tally.summary.seconds = Clock.monotonic - started
                tally.summary.finished = Timestamp.iso8601()
                tally.summary.linkTables(for: configuration.formats)
                try writeFile(stagingFolder.appending(SummaryPage.fileName), SummaryPage.render(tally.summary, version: version))
                try Publisher.publish(staged: stagingFolder, to: layout.outbox.appending(relativePath), outbox: layout.outbox)
                try finishInput()
            }
            outcome = .done
        } catch {
            tally.tables?.close()
            try? Sys.removeTree(stagingFolder)
            failure = error
            if error.disposition == .retryable {
                outcome = .retry
            } else {
                outcome = .failed
                do {
                    try moveToFailed(error)
                } catch let moveError {
                    // Cannot even move it: leave it claimed and try again later.
                    logger.error("cannot move a failed input to failed/", metadata: ["medtag.error": "\(moveError)"])
                    outcome = .retry
                }
            }
        }
        // The attempt finished (the input waits for a retry): it does not count as cut short.
        if outcome == .retry { Sys.clearAttempts(input) }
        tally.ms["total"] = (Clock.monotonic - started) * 1000
        let documents = tally.report.documents
        let record = RunRecord(
            time: Timestamp.iso8601(), instance: area.instance, input: relativePath, bytes: tally.bytes,
            documents: documents.count, tokens: documents.reduce(0) { $0 + $1.tokens },
            entities: documents.reduce(0) { $0 + $1.entities }, refused: tally.report.refused.count,
            language: RunRecord.joined(documents.compactMap(\.language)), model: RunRecord.joined(documents.compactMap(\.model)),
            ms: tally.ms.mapValues { ($0 * 10).rounded() / 10 }, outcome: outcome.rawValue,
            stage: failure?.stage.rawValue, error: failure?.description)
        return JobResult(
            relativePath: relativePath, outcome: outcome, record: record, error: failure, summary: outcome == .done ? tally.summary : nil)
    }

    /// Creates the input's tables in the staging folder, each with its header.
    private func openTables(_ tally: Tally) throws(SpoolError) {
        let names = ResultTable.names(for: configuration.formats)
        guard !names.isEmpty else { return }
        tally.tables = try ResultTableFiles(folder: stagingFolder, names: names)
    }

    /// Records on the claimed input how far the work is (documents done, bytes of the input read), at
    /// most once a second, for `medtag status`.
    private func recordProgress(_ tally: Tally, read: Int) {
        let now = Clock.monotonic
        guard now - tally.progressRecorded >= 1 else { return }
        tally.progressRecorded = now
        Sys.setProgress(input, "\(tally.report.documents.count) \(read) \(tally.bytes)")
    }

    /// Records one more attempt on the claimed input before any work starts. The record is cleared
    /// whenever an attempt ends, so what is found here counts the attempts cut short by a crash,
    /// `kill -9` or running out of memory; past `max_attempts` the input is not tried again.
    private func countAttempt() throws(SpoolError) {
        guard let previous = Sys.attempts(input) else { return }  // no extended attributes here
        if previous >= configuration.maxAttempts {
            throw SpoolError(
                stage: .annotate, path: relativePath,
                reason: "medtag stopped \(previous) times while processing this input (a crash, kill -9 or running out "
                    + "of memory); it is not tried again (max_attempts = \(configuration.maxAttempts))",
                disposition: .rejected)
        }
        Sys.setAttempts(input, previous + 1)
    }

    // MARK: Reading and annotating

    private func process(name: String, tally: Tally, logger: Logger) throws(SpoolError) {
        tally.bytes = (try? Sys.lstat(input)).map { Int($0.st_size) } ?? 0
        let limits = configuration.limits
        let documents: InputDocuments
        do {
            documents = try tally.time("read") { () throws(IngestError) in try InputDocuments(path: input, limits: limits) }
        } catch {
            throw spoolError(error, path: relativePath)
        }
        guard documents.kind == .archive else {
            // A file is one document, annotated on this thread as its pieces are read.
            let next: InputEntry?
            do { next = try tally.time("read") { () throws(IngestError) in try documents.next() } } catch {
                throw spoolError(error, path: relativePath)
            }
            guard case .document(let document) = next else { return }
            let pieces: DocumentPieces
            do {
                pieces = try tally.time(document.isStreamed ? "read" : "decode") { () throws(IngestError) in
                    try document.pieces(limits: limits)
                }
            } catch {
                throw spoolError(error, path: relativePath)
            }
            let source = filePieces(pieces, streamed: document.isStreamed, tally: tally, logger: logger)
            let pool = annotationPool
            let summary = try annotateAndWrite(
                annotating(source, documentPath: name, pool: pool, tally: tally), documentPath: name, folder: stagingFolder, tally: tally,
                logger: logger)
            tally.report.documents.append(summary)
            return
        }
        tally.report.members = InputReport.Members()
        let stage = AnnotationStage<SpoolError>(annotator: annotator, pool: annotationPool, limits: configuration.limits)
        do {
            try processArchive(documents, stage: stage, tally: tally, logger: logger)
            try stage.finish()
        } catch {
            stage.cancel()
            throw error
        }
        tally.report.members?.read = documents.membersRead
    }

    /// The spool's error for an input (or member) that cannot be read: rejected, unless a passing
    /// system error (disk full) is behind it.
    private func spoolError(_ error: IngestError, path: String) -> SpoolError {
        let stage: SpoolError.Stage
        switch error.stage {
        case .read: stage = .read
        case .decode: stage = .decode
        case .archive: stage = .archive
        }
        return SpoolError(stage: stage, path: path, reason: error.reason, errno: error.errno, disposition: error.errno == nil ? .rejected : nil)
    }

    /// The pieces of a file's document as the daemon annotates them, timed. A file read in pieces
    /// (`streamed`) records its progress on the input, and one of many pieces says how far it is,
    /// every tenth of the way, so a long one is not silent.
    private func filePieces(_ pieces: DocumentPieces, streamed: Bool, tally: Tally, logger: Logger) -> PieceSource {
        let path = relativePath
        let size = pieces.size
        let reportsProgress = streamed && size >= 20 * configuration.pieceBytes
        var reported = 0
        return { () throws(SpoolError) -> String? in
            let piece: String?
            do throws(IngestError) { piece = try tally.time("read") { () throws(IngestError) in try pieces.next() } } catch {
                throw spoolError(error, path: path)
            }
            guard piece != nil, streamed else { return piece }
            recordProgress(tally, read: pieces.bytesDecoded)
            if reportsProgress {
                let tenths = 10 * pieces.bytesDecoded / max(size, 1)
                if tenths > reported, tenths < 10 {
                    reported = tenths
                    logger.info(
                        "annotating a large input",
                        metadata: [
                            "medtag.progress": "\(tenths * 10)%", "medtag.read_bytes": "\(pieces.bytesDecoded)",
                            "medtag.bytes": "\(size)",
                        ])
                }
            }
            return piece
        }
    }

    /// What became of one archive member, handed back in archive order by the ``AnnotationStage``.
    enum MemberResult {
        case refused(path: String, reason: String)
        /// A document decoded and annotated (or refused for its text) on a worker thread.
        case document(AnnotatedMember)
    }

    /// An archive member as a worker left it: its annotated pieces, or why it is refused.
    struct AnnotatedMember {
        /// The member as shown in the report (`outer.zip/inner.tar/a.txt`).
        var shownPath: String
        /// Its path inside the input, which names its results.
        var fullPath: String
        var depth: Int
        /// Bytes of the outer archive read when the member was, for the progress record.
        var bytesRead: Int
        var pieces: Result<[RoutedDocument], SpoolError>
        var ms: [String: Double]
    }

    /// Reads an archive's documents (see ``InputDocuments``) into `stage`, which decodes and
    /// annotates them on its workers; every outcome, refusals included, is written in archive order
    /// by ``write(_:tally:logger:)``.
    private func processArchive(
        _ documents: InputDocuments, stage: AnnotationStage<SpoolError>, tally: Tally, logger: Logger
    ) throws(SpoolError) {
        let languageFolder = InputJob.languageFolder(relativePath)
        while true {
            let entry: InputEntry?
            do { entry = try tally.time("read") { () throws(IngestError) in try documents.next() } } catch {
                throw spoolError(error, path: relativePath)
            }
            switch entry {
            case nil: return
            case .refused(let path, let reason):
                try stage.add { () throws(SpoolError) in try write(.refused(path: path, reason: reason), tally: tally, logger: logger) }
            case .document(let document):
                try stage.add(document, id: document.key, folder: languageFolder) { (outcome) throws(SpoolError) in
                    let pieces = outcome.pieces.mapError { failure -> SpoolError in
                        switch failure {
                        case .unreadable(let error): spoolError(error, path: document.shownPath)
                        case .annotation(let error):
                            SpoolError(stage: .annotate, path: document.path, reason: "annotation failed: \(error)", disposition: .rejected)
                        }
                    }
                    let member = AnnotatedMember(
                        shownPath: document.shownPath, fullPath: document.path, depth: document.depth,
                        bytesRead: document.inputBytesRead, pieces: pieces,
                        ms: ["decode": outcome.decodeMilliseconds, "annotate": outcome.annotateMilliseconds])
                    try write(.document(member), tally: tally, logger: logger)
                }
            }
        }
    }

    /// Writes what became of one archive member: a refusal in the report, or the document's results.
    private func write(_ result: MemberResult, tally: Tally, logger: Logger) throws(SpoolError) {
        switch result {
        case .refused(let path, let reason):
            tally.report.refused.append(InputReport.Refusal(path: path, reason: reason))
            tally.report.members?.refused += 1
            tally.summary.refuse(path, reason: reason)
            // One line per member at debug; the input's line counts them (`medtag.refused`), the report lists them.
            logger.debug("archive member refused", metadata: ["medtag.member": "\(path)", "medtag.reason": "\(reason)"])
        case .document(let member):
            for (stage, ms) in member.ms { tally.ms[stage, default: 0] += ms }
            let routed: [RoutedDocument]
            switch member.pieces {
            case .failure(let error):
                try write(.refused(path: member.shownPath, reason: error.reason), tally: tally, logger: logger)
                return
            case .success(let pieces): routed = pieces
            }
            for piece in routed {
                for timing in piece.timings { tally.ms["annotate.\(timing.stage)", default: 0] += timing.milliseconds }
            }
            var next = routed[...]
            let summary = try annotateAndWrite(
                { () throws(SpoolError) in next.popFirst() }, documentPath: member.fullPath, folder: stagingFolder, holdRows: true,
                tally: tally, logger: logger)
            tally.report.documents.append(summary)
            tally.report.members?.annotated += 1
            if member.depth == 0 { recordProgress(tally, read: member.bytesRead) }
        }
    }

    /// A document's id, and its result files' name: its path inside the input without the extension
    /// (`notas/n1.txt` → `notas/n1`).
    static func documentID(_ documentPath: String) -> String { InputKind.documentKey(documentPath) }

    /// Annotates the pieces of one document as `next` gives them, on this thread, with a turn of
    /// `pool` for each (see ``PieceAnnotator``).
    private func annotating(_ next: @escaping PieceSource, documentPath: String, pool: AnnotationPool, tally: Tally) -> AnnotatedSource {
        var pieceAnnotator = PieceAnnotator(
            annotator: annotator, id: Self.documentID(documentPath), folder: InputJob.languageFolder(relativePath), pool: pool)
        return { () throws(SpoolError) -> RoutedDocument? in
            guard let text = try next() else { return nil }
            let annotated: RoutedDocument
            do {
                annotated = try tally.time("annotate") { try pieceAnnotator.annotate(text) }
            } catch {
                throw SpoolError(stage: .annotate, path: documentPath, reason: "annotation failed: \(error)", disposition: .rejected)
            }
            for timing in annotated.timings { tally.ms["annotate.\(timing.stage)", default: 0] += timing.milliseconds }
            return annotated
        }
    }

    /// Writes one document, annotated piece by piece as `next` gives it, into `folder` as it goes,
    /// and its rows into the input's tables.
    ///
    /// The files are those of the whole document annotated at once (see ``PieceRenderer``); they
    /// are named after ``documentID(_:)``.
    ///
    /// With `holdRows` (an archive member, which a failure refuses alone) the table rows are kept
    /// until the document is whole, so a refused member leaves none in the tables.
    private func annotateAndWrite(
        _ next: AnnotatedSource, documentPath: String, folder: FilePath, holdRows: Bool = false, tally: Tally, logger: Logger
    ) throws(SpoolError) -> InputReport.DocumentSummary {
        let id = Self.documentID(documentPath)
        var heldRows: [(fileName: String, bytes: [UInt8])] = []
        let written = try DocumentWriter.write(
            PieceAnnotation(id: id, baseName: id, formats: configuration.formats, input: relativePath), to: StagingSink(folder: folder),
            pieces: next, sinkError: { $0 },
            rows: { (rows) throws(SpoolError) in
                if holdRows { heldRows += rows } else { try tally.tables?.append(rows) }
            },
            piece: { progress?.annotated(0, $0.document.tokens.count) })
        defer { for file in written?.files ?? [] { file.file.close() } }
        try tally.time("write") { () throws(SpoolError) in try tally.tables?.append(heldRows) }
        guard let written else {
            throw SpoolError(stage: .decode, path: documentPath, reason: "the file is empty", disposition: .rejected)
        }
        tally.ms["write", default: 0] += written.writeMilliseconds
        let first = written.first
        var summary = InputReport.DocumentSummary(
            path: documentPath, characters: written.counts.characters, sentences: written.counts.sentences,
            tokens: written.counts.tokens, entities: written.counts.entities)
        summary.language = first.language
        summary.languageSource = first.languageSource.rawValue
        summary.model = first.model.isEmpty ? nil : first.model
        summary.notes = first.notes.isEmpty ? nil : first.notes
        summary.note = written.emptyReason
        if first.languageSource == .detected || !first.notes.isEmpty {
            // Per document: debug, so an archive of many notes logs one line (the input's) at info.
            logger.debug(
                "language chosen",
                metadata: [
                    "medtag.document": "\(documentPath)", "medtag.language": "\(first.language)",
                    "medtag.source": "\(first.languageSource.rawValue)", "medtag.model": "\(first.model)",
                ])
        }
        if let note = written.emptyReason {
            logger.debug("document yielded no entity", metadata: ["medtag.document": "\(documentPath)", "medtag.reason": "\(note)"])
        }
        tally.summary.add(
            written.summaryRow(path: documentPath), entities: written.found, lexicon: annotator.lexiconName(language: first.language))
        for note in first.notes { tally.summary.note(note) }
        progress?.annotated(1, 0)
        return summary
    }

    /// The language named by the input's first folder under the inbox (`en/note.txt` → `en`), if any.
    static func languageFolder(_ relativePath: String) -> String? {
        let components = FilePath(relativePath).components
        guard components.count > 1, let first = components.first?.string, LanguageSetting.supported.contains(first) else {
            return nil
        }
        return first
    }

    private func writeFile(_ path: FilePath, _ bytes: [UInt8]) throws(SpoolError) {
        do {
            try Sys.writeNewFile(path, bytes)
        } catch {
            throw SpoolError(stage: .render, path: path.string, reason: "cannot write a result file", errno: error)
        }
    }

    // MARK: Finishing

    /// Moves the processed input to `done/` (or deletes it), durably.
    private func finishInput() throws(SpoolError) {
        Sys.clearAttempts(input)
        do {
            if configuration.keepInputs {
                try Publisher.moveDurably(input, to: layout.done.appending(relativePath))
            } else {
                try Sys.unlink(input)
                try Sys.fsync(input.removingLastComponent(), directory: true)
            }
        } catch {
            throw SpoolError(stage: .publish, path: relativePath, reason: "cannot move the input to done/", errno: error)
        }
        area.pruneEmptyFolders(below: FilePath(relativePath).removingLastComponent().string)
    }

    /// Writes `failed/<name>.error.json`, then moves the input beside it.
    private func moveToFailed(_ error: SpoolError) throws(Errno) {
        Sys.clearAttempts(input)
        let target = layout.failed.appending(relativePath)
        try Sys.mkdirs(target.removingLastComponent())
        let report = ErrorReport(
            input: relativePath, reason: error.description, stage: error.stage.rawValue, time: Timestamp.iso8601(),
            medtag: version, instance: area.instance)
        let name = target.lastComponent?.string ?? "input"
        try Sys.writeFileAtomically(target.removingLastComponent().appending("\(name).error.json"), report.encoded())
        try Publisher.moveDurably(input, to: target)
        area.pruneEmptyFolders(below: FilePath(relativePath).removingLastComponent().string)
    }
}
