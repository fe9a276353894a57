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
    ///
    /// Inputs left in `work/` by a run that died (`kill -9`, a power cut: its lock is free) are
    /// taken over first, under the names they had, so their results are those of an undisturbed run;
    /// a named file that was one of them is not taken again. `shouldStop` is asked before each
    /// input: once it says yes, the inputs not started stay where they are. `finished` hears of each
    /// input as it ends, which is also logged (`annotated` at notice, a failure as an error).
    public static func run(
        _ files: [FilePath], configuration: SpoolConfiguration, annotator: any DocumentAnnotator, keep: Bool,
        version: String, logger: Logger, progress: JobProgress? = nil, shouldStop: () -> Bool = { false },
        finished: (JobResult) -> Void = { _ in }
    ) throws(SpoolError) -> [JobResult] {
        let layout = SpoolLayout(root: configuration.spool)
        try layout.create()
        let instance = configuration.instance.isEmpty ? "ingest-" + WorkArea.defaultInstanceName() : configuration.instance
        let area = try WorkArea.acquire(layout: layout, instance: instance)
        defer { area.release() }
        let runLog = RunLog(folder: configuration.logDirectory ?? layout.outbox.appending("logs"))
        var results: [JobResult] = []
        let pool = AnnotationPool(workers: configuration.workers)
        func record(_ result: JobResult) {
            do { try runLog.append(result.record) } catch {
                logger.error("cannot append to the daily log", metadata: ["medtag.error": "\(error)"])
            }
            result.log(to: logger, doneLevel: .notice)
            results.append(result)
            finished(result)
        }
        func process(_ name: String) {
            var job = InputJob(
                relativePath: name, area: area, configuration: configuration, annotator: annotator, version: version,
                jobNumber: results.count + 1, logger: logger, pool: pool)
            job.progress = progress
            let result = job.run()
            if result.outcome == .retry { area.returnToInbox(name, logger: logger) }
            record(result)
        }

        let takenOver = area.leftovers() + area.adoptAbandoned(logger: logger)
        let alreadyTaken = files.map { file in
            file.lastComponent.map {
                wasTakenOver($0.string, from: file, takenOver, workFolder: area.folder, keep: keep)
            } ?? false
        }
        for name in takenOver {
            if shouldStop() { break }
            process(name)
        }
        let sizes = files.map { file in (try? Sys.lstat(file)).map { max(Int($0.st_size), 1) } ?? 1 }
        for (number, file) in files.enumerated() {
            if shouldStop() { break }
            defer { progress?.inputsDone(Double(sizes[...number].reduce(0, +)) / Double(sizes.reduce(0, +))) }
            guard let dropped = file.lastComponent?.string else { continue }
            if (try? Sys.lstat(file)) == nil, let earlier = ingestedEarlier(dropped, layout: layout) {
                // Run again after it finished (the same command once more, the nightly unit restarted).
                logger.notice("already ingested", metadata: ["medtag.file": "\(dropped)", "medtag.done": "\(earlier)"])
                continue
            }
            if alreadyTaken[number] {
                logger.notice(
                    "already taken over from an interrupted run", metadata: ["medtag.file": "\(dropped)"])
                continue
            }
            if keep, let st = try? Sys.lstat(file), (st.st_mode & S_IFMT) != S_IFREG {
                let reason = InputDocuments.notAFile(st) + "; left in place (--keep copies files only)"
                let error = SpoolError(stage: .read, path: dropped, reason: reason, disposition: .rejected)
                record(
                    JobResult(
                        relativePath: dropped, outcome: .failed,
                        record: RunRecord(
                            time: Timestamp.iso8601(), instance: area.instance, input: dropped, bytes: 0, documents: 0,
                            tokens: 0, entities: 0, refused: 0, language: nil, model: nil, ms: [:],
                            outcome: JobOutcome.failed.rawValue, stage: error.stage.rawValue, error: error.description),
                        error: error))
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
            process(name)
        }
        Retention.sweepAndLog(
            layout: layout, logDirectory: configuration.logDirectory, policy: configuration.retention, scratch: area.staging,
            logger: logger)
        return results
    }

    /// Whether `file`, named on the command line as `dropped`, is an input this run took over from an
    /// interrupted one (`takenOver`, names in `workFolder`): taken over under its name or a numbered
    /// one and, moved there, gone from where it was; copied there (`keep`), still there with the
    /// same size as the copy.
    static func wasTakenOver(_ dropped: String, from file: FilePath, _ takenOver: [String], workFolder: FilePath, keep: Bool) -> Bool {
        let matches = takenOver.filter { WorkArea.isNumbered($0, of: dropped) }
        guard !matches.isEmpty else { return false }
        guard let st = try? Sys.lstat(file) else { return true }
        guard keep else { return false }
        return matches.contains { (try? Sys.lstat(workFolder.appending($0)))?.st_size == st.st_size }
    }

    /// Whether `file`, named on the command line but missing, is accounted for by the spool: an input
    /// of that name (or a numbered one) is in `done/`, or in the work folder of a run no longer running.
    public static func accountsFor(_ file: FilePath, spool: FilePath) -> Bool {
        guard (try? Sys.lstat(file)) == nil, let dropped = file.lastComponent?.string else { return false }
        let layout = SpoolLayout(root: spool)
        if ingestedEarlier(dropped, layout: layout) != nil { return true }
        let status = SpoolStatus.gather(root: spool)
        return status.abandonedInstances.contains { instance in
            SpoolLayout.files(under: layout.work.appending(instance)).contains { WorkArea.isNumbered($0, of: dropped) }
        }
    }

    /// The name in `done/` of an earlier input dropped as `dropped` (itself or a numbered one), if any.
    static func ingestedEarlier(_ dropped: String, layout: SpoolLayout) -> String? {
        ([dropped] + (2...99).map { WorkArea.numbered(dropped, $0) }).last { Sys.exists(layout.done.appending($0)) }
    }
}
