#if canImport(Glibc)
import Glibc
#endif
import Logging
import MedtagIngest
import MedtagPipeline
import SystemPackage

/// `medtag ingest`: processes given files (usually the night's archives) once, through the same
/// claim → annotate → publish steps as the daemon, into the same spool.
public enum Ingest {
    /// Files named on the command line, plus everything found directly in `folders` (names being
    /// written, `.*`, `*.part`, `*.tmp`, aside): what medtag cannot read, sub-folders included, is
    /// refused by ``run(_:configuration:annotator:keep:version:logger:)`` with the reason, never left unsaid.
    public static func collect(files: [FilePath], folders: [FilePath]) throws(SpoolError) -> [FilePath] {
        var result = files
        for folder in folders {
            let entries: [Sys.DirectoryEntry]
            do { entries = try Sys.list(folder) } catch {
                throw SpoolError(stage: .read, path: folder.string, reason: "cannot list the folder", errno: error, disposition: .rejected)
            }
            for entry in entries where !SpoolLayout.isIgnored(name: entry.name) {
                result.append(folder.appending(entry.name))
            }
        }
        return result
    }

    /// Moves (or, with `keep`, copies) each file into a work folder of its own and processes it.
    /// Results go to `outbox/<name>/`, the file to `done/` or `failed/`, a record to the daily log.
    /// A folder, link or other non-file is moved to `failed/` with the reason like any refused input;
    /// with `keep` it cannot be copied and is left in place, refused with the reason all the same.
    public static func run(
        _ files: [FilePath], configuration: SpoolConfiguration, annotator: any DocumentAnnotator, keep: Bool,
        version: String, logger: Logger, progress: JobProgress? = nil
    ) throws(SpoolError) -> [JobResult] {
        let layout = SpoolLayout(root: configuration.spool)
        try layout.create()
        let instance = configuration.instance.isEmpty ? "ingest-" + WorkArea.defaultInstanceName() : configuration.instance
        let area = try WorkArea.acquire(layout: layout, instance: instance)
        defer { area.release() }
        let runLog = RunLog(folder: configuration.logDirectory ?? layout.outbox.appending("logs"))
        var results: [JobResult] = []
        let sizes = files.map { file in (try? Sys.lstat(file)).map { max(Int($0.st_size), 1) } ?? 1 }
        for (number, file) in files.enumerated() {
            defer { progress?.inputsDone(Double(sizes[...number].reduce(0, +)) / Double(sizes.reduce(0, +))) }
            guard let dropped = file.lastComponent?.string else { continue }
            if keep, let st = try? Sys.lstat(file), (st.st_mode & S_IFMT) != S_IFREG {
                let reason = InputDocuments.notAFile(st) + "; left in place (--keep copies files only)"
                let error = SpoolError(stage: .read, path: dropped, reason: reason, disposition: .rejected)
                let record = RunRecord(
                    time: Timestamp.iso8601(), instance: area.instance, input: dropped, bytes: 0, documents: 0, tokens: 0,
                    entities: 0, refused: 0, language: nil, model: nil, ms: [:], outcome: JobOutcome.failed.rawValue,
                    stage: error.stage.rawValue, error: error.description)
                logger.error("input refused", metadata: ["medtag.file": "\(dropped)", "medtag.error": "\(reason)"])
                do { try runLog.append(record) } catch {
                    logger.error("cannot append to the daily log", metadata: ["medtag.error": "\(error)"])
                }
                results.append(JobResult(relativePath: dropped, outcome: .failed, record: record, error: error))
                continue
            }
            let name: String
            do {
                // A name seen before (results in outbox/, an input in done/) gets a numbered one: nothing is replaced.
                name = try area.takeUnique(dropped) { (claimed: FilePath) throws(Errno) in
                    if Sys.exists(claimed) { throw .fileExists }
                    if keep {
                        try Sys.copyFile(file, to: claimed)
                    } else {
                        do throws(Errno) { try Sys.renameNoReplace(file, claimed) } catch .improperLink {
                            try Sys.copyFile(file, to: claimed)
                            try Sys.unlink(file)
                        }
                    }
                }
            } catch {
                throw SpoolError(stage: .claim, path: file.string, reason: "cannot take the file into the spool", errno: error, disposition: .rejected)
            }
            WorkArea.noteRenamed(dropped, name, logger: logger)
            var job = InputJob(
                relativePath: name, area: area, configuration: configuration, annotator: annotator, version: version,
                jobNumber: number + 1, logger: logger, documentWorkers: configuration.workers)
            job.progress = progress
            let result = job.run()
            do { try runLog.append(result.record) } catch {
                logger.error("cannot append to the daily log", metadata: ["medtag.error": "\(error)"])
            }
            if result.outcome == .retry { area.returnToInbox(name, logger: logger) }
            results.append(result)
        }
        Retention.sweepAndLog(
            layout: layout, logDirectory: configuration.logDirectory, policy: configuration.retention, scratch: area.staging,
            logger: logger)
        return results
    }
}
