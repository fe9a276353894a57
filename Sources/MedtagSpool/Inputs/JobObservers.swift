import Logging
import MedtagFormats
import MedtagPipeline
import SystemPackage

/// An input's report (``InputReport``), document by document, and its line of the daily log.
final class ReportObserver: InputObserver {
    private(set) var report: InputReport

    init(input: String, version: String, formats: [OutputFormat]) {
        report = InputReport(input: input, medtag: version, formats: formats.map(\.rawValue))
    }

    func written<File>(_ written: WrittenDocument<File>, of document: RunDocument, path: String) {
        let first = written.first
        var summary = InputReport.DocumentSummary(
            path: path, characters: written.counts.characters, sentences: written.counts.sentences,
            tokens: written.counts.tokens, entities: written.counts.entities)
        summary.language = first.language
        summary.languageSource = first.languageSource.rawValue
        summary.model = first.model.isEmpty ? nil : first.model
        summary.notes = first.notes.isEmpty ? nil : first.notes
        summary.note = written.emptyReason
        report.documents.append(summary)
        if document.isMember {
            if report.members == nil { report.members = InputReport.Members() }
            report.members?.annotated += 1
        }
    }

    /// An archive member that was not annotated.
    func refused(_ path: String, reason: String, document: RunDocument?) {
        if report.members == nil { report.members = InputReport.Members() }
        report.refused.append(InputReport.Refusal(path: path, reason: reason))
        report.members?.refused += 1
    }

    func finished(_ reading: InputReading, milliseconds: [String: Double]) {
        guard reading.kind == .archive else { return }
        if report.members == nil { report.members = InputReport.Members() }
        report.members?.read = reading.membersRead
    }

    /// The input's line of the daily log: what the report holds, with the input's size, timings
    /// and how it ended.
    func record(instance: String, bytes: Int, ms: [String: Double], outcome: JobOutcome, failure: SpoolError?) -> RunRecord {
        let documents = report.documents
        return RunRecord(
            time: Timestamp.iso8601(), instance: instance, input: report.input, bytes: bytes,
            documents: documents.count, tokens: documents.reduce(0) { $0 + $1.tokens },
            entities: documents.reduce(0) { $0 + $1.entities }, refused: report.refused.count,
            language: RunRecord.joined(documents.compactMap(\.language)), model: RunRecord.joined(documents.compactMap(\.model)),
            ms: ms.mapValues { ($0 * 10).rounded() / 10 }, outcome: outcome.rawValue,
            stage: failure?.stage.rawValue, error: failure?.description)
    }
}

/// Milliseconds an input's job spent per stage (`read`, `decode`, `annotate`, `annotate.<stage>`,
/// `write`, `publish`, `total`), for its log line.
final class JobTimings: InputObserver {
    private(set) var ms: [String: Double] = [:]

    /// Runs `body`, counting its time under `stage`.
    func time<T, E: Error>(_ stage: String, _ body: () throws(E) -> T) throws(E) -> T {
        let start = Clock.monotonic
        defer { ms[stage, default: 0] += (Clock.monotonic - start) * 1000 }
        return try body()
    }

    func set(_ stage: String, _ milliseconds: Double) { ms[stage] = milliseconds }

    func started(_ document: RunDocument) {
        ms["decode", default: 0] += document.decodeMilliseconds
        ms["annotate", default: 0] += document.annotateMilliseconds
    }

    func annotated(_ piece: RoutedDocument, of document: RunDocument) {
        for timing in piece.timings { ms["annotate.\(timing.stage)", default: 0] += timing.milliseconds }
    }

    func written<File>(_ written: WrittenDocument<File>, of document: RunDocument, path: String) {
        ms["write", default: 0] += written.writeMilliseconds
    }

    func finished(_ reading: InputReading, milliseconds: [String: Double]) {
        for (stage, ms) in milliseconds { self.ms[stage, default: 0] += ms }
    }
}

/// An input's log records below its own line: per document at debug, so an archive of many notes
/// logs one line at info; and how far a large text is, every tenth of the way, so it is not silent.
final class JobLog: InputObserver {
    private let logger: Logger
    /// A streamed text this many times the piece size or larger says how far it is.
    private let largeBytes: Int
    private var reported = 0

    init(logger: Logger, pieceBytes: Int) {
        self.logger = logger
        largeBytes = 20 * pieceBytes
    }

    func started(_ document: RunDocument) { reported = 0 }

    func annotated(_ piece: RoutedDocument, of document: RunDocument) {
        let size = document.document.size
        guard document.isStreamed, size >= largeBytes else { return }
        let decoded = document.bytesDecoded
        let tenths = 10 * decoded / max(size, 1)
        guard tenths > reported, tenths < 10 else { return }
        reported = tenths
        logger.info(
            "annotating a large input",
            metadata: ["medtag.progress": "\(tenths * 10)%", "medtag.read_bytes": "\(decoded)", "medtag.bytes": "\(size)"])
    }

    func written<File>(_ written: WrittenDocument<File>, of document: RunDocument, path: String) {
        let first = written.first
        if first.languageSource == .detected || !first.notes.isEmpty {
            logger.debug(
                "language chosen",
                metadata: [
                    "medtag.document": "\(path)", "medtag.language": "\(first.language)",
                    "medtag.source": "\(first.languageSource.rawValue)", "medtag.model": "\(first.model)",
                ])
        }
        if let note = written.emptyReason {
            logger.debug("document yielded no entity", metadata: ["medtag.document": "\(path)", "medtag.reason": "\(note)"])
        }
    }

    /// One line per member at debug; the input's line counts them (`medtag.refused`), the report lists them.
    func refused(_ path: String, reason: String, document: RunDocument?) {
        logger.debug("archive member refused", metadata: ["medtag.member": "\(path)", "medtag.reason": "\(reason)"])
    }
}

/// How far an input's job is: told to a progress line (``JobProgress``), and recorded on the
/// claimed input at most once a second (documents done, bytes of the input read), for `medtag status`.
final class JobProgressObserver: InputObserver {
    private let input: FilePath
    private let bytes: Int
    private let progress: JobProgress?
    private var documents = 0
    /// When the progress was last recorded on the input (monotonic seconds).
    private var recorded = 0.0

    /// `bytes` is the size of the claimed `input`.
    init(input: FilePath, bytes: Int, progress: JobProgress?) {
        self.input = input
        self.bytes = bytes
        self.progress = progress
    }

    /// A text read in pieces counts its tokens, and records its progress, piece by piece.
    func annotated(_ piece: RoutedDocument, of document: RunDocument) {
        guard document.isStreamed else { return }
        progress?.annotated(0, piece.document.tokens.count)
        record(read: document.bytesDecoded)
    }

    func written<File>(_ written: WrittenDocument<File>, of document: RunDocument, path: String) {
        documents += 1
        progress?.annotated(1, document.isStreamed ? 0 : written.counts.tokens)
        if document.isMember, document.document.depth == 0 { record(read: document.document.inputBytesRead) }
    }

    private func record(read: Int) {
        let now = Clock.monotonic
        guard now - recorded >= 1 else { return }
        recorded = now
        Sys.setProgress(input, "\(documents) \(read) \(bytes)")
    }
}
