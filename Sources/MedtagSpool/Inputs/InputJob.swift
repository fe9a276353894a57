#if canImport(Glibc)
import Glibc
#endif
import Logging
import MedtagFormats
import MedtagPipeline
import SystemPackage

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

    func run() -> JobResult {
        let started = Clock.monotonic
        var logger = logger
        logger[metadataKey: "medtag.file"] = "\(relativePath)"
        let bytes = (try? Sys.lstat(input)).map { Int($0.st_size) } ?? 0
        let report = ReportObserver(input: relativePath, version: version, formats: configuration.formats)
        let summary = SummaryObserver(title: relativePath, annotator: annotator)
        let timings = JobTimings()
        let observers: [any InputObserver] = [
            report, summary, timings, JobLog(logger: logger, pieceBytes: configuration.pieceBytes),
            JobProgressObserver(input: input, bytes: bytes, progress: progress),
        ]
        var tables: ResultTables<StagingSink>?
        func closeTables() { for table in tables?.files ?? [] { table.file.close() } }
        var outcome: JobOutcome
        var failure: SpoolError?
        do throws(SpoolError) {
            try countAttempt()
            try? Sys.removeTree(stagingFolder)
            do { try Sys.mkdirs(stagingFolder) } catch {
                throw SpoolError(stage: .publish, path: stagingFolder.string, reason: "cannot create the staging folder", errno: error)
            }
            let sink = StagingSink(folder: stagingFolder)
            let writer = InputWriter(
                sink: sink, tables: try ResultTables(formats: configuration.formats, sink: sink, order: .arrival),
                formats: configuration.formats, observers: observers)
            tables = writer.tables
            try StagingWriter(relativePath: relativePath, input: input, writer: writer).process(
                annotator: annotator, pool: pool, limits: configuration.limits)
            closeTables()
            try timings.time("publish") { () throws(SpoolError) in
                try writeFile(stagingFolder.appending(InputReport.fileName), report.report.encoded())
                let page = summary.finish(seconds: Clock.monotonic - started, finished: Timestamp.iso8601(), formats: configuration.formats)
                try writeFile(stagingFolder.appending(SummaryPage.fileName), SummaryPage.render(page, version: version))
                try Publisher.publish(staged: stagingFolder, to: layout.outbox.appending(relativePath), outbox: layout.outbox)
                try finishInput()
            }
            outcome = .done
        } catch {
            closeTables()
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
        timings.set("total", (Clock.monotonic - started) * 1000)
        let record = report.record(instance: area.instance, bytes: bytes, ms: timings.ms, outcome: outcome, failure: failure)
        return JobResult(
            relativePath: relativePath, outcome: outcome, record: record, error: failure, summary: outcome == .done ? summary.summary : nil)
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
