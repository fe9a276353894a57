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
    /// The process's annotation threads, shared with every other input (results are written in
    /// archive order); a file read piece by piece takes a turn from it for each piece.
    let pool: AnnotationPool
    /// Told of every annotated piece (tokens) and finished document, as they happen.
    var progress: JobProgress? = nil

    private var layout: SpoolLayout { area.layout }
    private var input: FilePath { area.folder.appending(relativePath) }
    private var stagingFolder: FilePath { area.staging.appending("job-\(jobNumber)") }

    /// Per-job counters; only the job's own thread touches them.
    private final class Tally {
        var bytes = 0
        var ms: [String: Double] = [:]
        var report: InputReport
        var summary: RunSummary
        /// The input's tables (``ResultTable``), open for the whole job: each document appends its rows.
        var tables: ResultTables<StagingSink>?
        func closeTables() { for table in tables?.files ?? [] { table.file.close() } }
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
            tally.closeTables()
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
            tally.closeTables()
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
        tally.tables = try ResultTables(formats: configuration.formats, sink: StagingSink(folder: stagingFolder), order: .arrival)
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

    /// Reads the input through an ``InputRun`` and writes each of its documents, in order: a file
    /// is one document (its failure fails the input), an archive's members are documents (a
    /// member that cannot be read or annotated is refused alone, in the report).
    private func process(name: String, tally: Tally, logger: Logger) throws(SpoolError) {
        tally.bytes = (try? Sys.lstat(input)).map { Int($0.st_size) } ?? 0
        let run = InputRun<SpoolError>(annotator: annotator, pool: pool, limits: configuration.limits)
        let languageFolder = InputJob.languageFolder(relativePath)
        let reading: InputReading
        do throws(SpoolError) {
            reading = try run.add(input, folder: languageFolder, admit: { Self.documentID($0.path) }) { (event) throws(SpoolError) in
                switch event {
                case .refused(let path, let reason): refuse(path, reason: reason, tally: tally, logger: logger)
                case .document(let document) where document.isMember: try writeMember(document, tally: tally, logger: logger)
                case .document(let document):
                    tally.report.documents.append(try writeDocument(document, name: name, tally: tally, logger: logger))
                }
            }
            if let error = reading.error { throw spoolError(error, path: relativePath) }
            try run.finish()
        } catch {
            run.cancel()
            throw error
        }
        for (stage, ms) in run.milliseconds { tally.ms[stage, default: 0] += ms }
        if reading.kind == .archive {
            if tally.report.members == nil { tally.report.members = InputReport.Members() }
            tally.report.members?.read = reading.membersRead
        }
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

    /// The spool's error for a document that gave no annotation.
    private func spoolError(_ failure: AnnotatedDocument.Failure, path: String, shownPath: String) -> SpoolError {
        switch failure {
        case .unreadable(let error): spoolError(error, path: shownPath)
        case .annotation(let error):
            SpoolError(stage: .annotate, path: path, reason: "annotation failed: \(error)", disposition: .rejected)
        }
    }

    /// The annotated pieces of `document`, with its timings counted; a file read in pieces records
    /// its progress on the input, and one of many pieces says how far it is, every tenth of the
    /// way, so a long one is not silent.
    private func pieces(_ document: RunDocument, path: String, shownPath: String, tally: Tally, logger: Logger) -> AnnotatedSource {
        tally.ms["decode", default: 0] += document.decodeMilliseconds
        tally.ms["annotate", default: 0] += document.annotateMilliseconds
        let size = document.document.size
        let reportsProgress = document.isStreamed && size >= 20 * configuration.pieceBytes
        var reported = 0
        return { () throws(SpoolError) -> RoutedDocument? in
            let piece: RoutedDocument?
            do throws(AnnotatedDocument.Failure) { piece = try document.next() } catch {
                throw spoolError(error, path: path, shownPath: shownPath)
            }
            guard let piece else { return nil }
            for timing in piece.timings { tally.ms["annotate.\(timing.stage)", default: 0] += timing.milliseconds }
            guard document.isStreamed else { return piece }
            let decoded = document.bytesDecoded
            recordProgress(tally, read: decoded)
            if reportsProgress {
                let tenths = 10 * decoded / max(size, 1)
                if tenths > reported, tenths < 10 {
                    reported = tenths
                    logger.info(
                        "annotating a large input",
                        metadata: [
                            "medtag.progress": "\(tenths * 10)%", "medtag.read_bytes": "\(decoded)", "medtag.bytes": "\(size)",
                        ])
                }
            }
            return piece
        }
    }

    /// Writes the one document of a file input; any failure fails the input.
    private func writeDocument(_ document: RunDocument, name: String, tally: Tally, logger: Logger) throws(SpoolError) -> InputReport.DocumentSummary {
        try annotateAndWrite(
            pieces(document, path: name, shownPath: relativePath, tally: tally, logger: logger), documentPath: name,
            folder: stagingFolder, tally: tally, logger: logger)
    }

    /// Records an archive member that is not annotated: in the report and on the summary page.
    private func refuse(_ path: String, reason: String, tally: Tally, logger: Logger) {
        if tally.report.members == nil { tally.report.members = InputReport.Members() }
        tally.report.refused.append(InputReport.Refusal(path: path, reason: reason))
        tally.report.members?.refused += 1
        tally.summary.refuse(path, reason: reason)
        // One line per member at debug; the input's line counts them (`medtag.refused`), the report lists them.
        logger.debug("archive member refused", metadata: ["medtag.member": "\(path)", "medtag.reason": "\(reason)"])
    }

    /// Writes an archive member's results, or refuses it alone when it cannot be read or annotated.
    private func writeMember(_ member: RunDocument, tally: Tally, logger: Logger) throws(SpoolError) {
        if tally.report.members == nil { tally.report.members = InputReport.Members() }
        let document = member.document
        var next = pieces(member, path: document.path, shownPath: document.shownPath, tally: tally, logger: logger)
        // A member's pieces were annotated on the pool: take them all first, so a failure refuses
        // the member before any of its files is written.
        var routed: [RoutedDocument] = []
        do {
            while let piece = try next() { routed.append(piece) }
        } catch {
            refuse(document.shownPath, reason: error.reason, tally: tally, logger: logger)
            return
        }
        var held = routed[...]
        next = { () throws(SpoolError) in held.popFirst() }
        let summary = try annotateAndWrite(next, documentPath: document.path, folder: stagingFolder, holdRows: true, tally: tally, logger: logger)
        tally.report.documents.append(summary)
        tally.report.members?.annotated += 1
        if document.depth == 0 { recordProgress(tally, read: document.inputBytesRead) }
    }

    /// A document's id, and its result files' name: its path inside the input without the extension
    /// (`notas/n1.txt` → `notas/n1`).
    static func documentID(_ documentPath: String) -> String { InputKind.documentKey(documentPath) }

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
                if holdRows { heldRows += rows } else { try tally.tables?.add(key: id, rows: rows) }
            },
            piece: { progress?.annotated(0, $0.document.tokens.count) })
        defer { for file in written?.files ?? [] { file.file.close() } }
        try tally.time("write") { () throws(SpoolError) in try tally.tables?.add(key: id, rows: heldRows) }
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
