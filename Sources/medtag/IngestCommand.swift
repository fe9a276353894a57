import ArgumentParser
import Dispatch
import Logging
import MedtagSpool
import Synchronization
import SystemPackage

#if canImport(Glibc)
    import Glibc
#endif

struct IngestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ingest",
        abstract: "Annotate archives (or .txt/.xml files) once, into the spool's outbox.",
        discussion: """
            Each file is moved into the spool (copied with --keep) and processed like a file dropped \
            into the inbox: results in SPOOL/outbox/<name>/ with medtag-report.json (members read, \
            annotated and refused), the file in SPOOL/done/ or SPOOL/failed/. --from DIR takes everything \
            directly in DIR (the nightly timer uses it): files medtag does not read and sub-folders are \
            refused with the reason and moved to SPOOL/failed/ like the daemon does. A name seen before \
            gets a numbered one (nota~2.txt). Files are moved, not copied, unless --keep is given.

            Each input is reported as it ends, on standard output and in the log (a failure as an \
            error, `<3>` in the journal). SIGTERM or Ctrl-C stops taking new files and lets the one in \
            progress finish within the configuration's shutdown_grace; a file not finished by then stays \
            in SPOOL/work/ and, like the input of a run killed outright, is taken over by the next \
            `medtag ingest` (any files, or none) or by a running daemon, under the same name, with \
            nothing published twice. Files not yet started stay where they are. Exits 1 if any file \
            failed, 143 when stopped by a signal.
            """)

    @OptionGroup var spoolOptions: SpoolOptions

    @Argument(help: "Files to ingest.")
    var files: [String] = []

    @Option(help: "Also ingest everything found directly in this folder (what medtag cannot read goes to failed/ with the reason).")
    var from: [String] = []

    @Flag(help: "Copy the files instead of moving them.")
    var keep = false

    @Option(help: "Model name under Models/ or a model folder (overrides the configuration's `model`).")
    var model: String?

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "warning"

    @Flag(help: "Show no progress line on the terminal.")
    var quiet = false

    func run() throws {
        var logger = try makeLogger(level: logLevel)
        logger.handler = ProgressLine.ClearingLogHandler(inner: logger.handler)
        try requireExisting(from)
        var (configuration, _) = try spoolOptions.load()
        if let model { configuration.model = FilePath(model) }
        // A file gone because an interrupted run took it (now in work/, owner dead) or a finished run
        // moved it to done/ is accounted for: the same command may be run again.
        try requireExisting(files.filter { !Ingest.accountsFor(FilePath($0), spool: configuration.spool) })
        let inputs = try Ingest.collect(files: files.map { FilePath($0) }, folders: from.map { FilePath($0) })
        // Inputs of interrupted runs (their owner gone) are taken over even when nothing new is given.
        if inputs.isEmpty && SpoolStatus.gather(root: configuration.spool).abandonedInstances.isEmpty {
            print("nothing to ingest")
            return
        }
        let annotator = try loadAnnotator(configuration)
        let progress = ProgressLine(total: nil, quiet: quiet)
        defer { progress.finish() }  // also when an error ends the command
        let started = ContinuousClock.now
        let stop = StopRequest(grace: configuration.shutdownGrace, logger: logger)
        var failed = 0
        let results = try Ingest.run(
            inputs, configuration: configuration, annotator: annotator, keep: keep, version: Medtag.version, logger: logger,
            progress: progress.jobProgress, shouldStop: { stop.requested }
        ) { result in
            let record = result.record
            switch result.outcome {
            case .done:
                progress.print(
                    "\(result.relativePath): \(record.documents) documents annotated, \(record.refused) refused, "
                        + "\(record.entities) entities → \(configuration.spool.appending("outbox").appending(result.relativePath))")
            case .failed, .retry:
                failed += 1
                progress.print("\(result.relativePath): FAILED: \(result.error?.description ?? "unknown error")")
            }
        }
        progress.finish()
        if !from.isEmpty || results.count > 1 {
            let elapsed = (ContinuousClock.now - started).components
            let seconds = Double(elapsed.seconds) + Double(elapsed.attoseconds) / 1e18
            print("summary of the run → \(try Ingest.writeRunSummary(results, configuration: configuration, seconds: seconds, version: Medtag.version))")
        }
        if stop.requested {
            print("stopped by a signal: the files not started are where they were")
            throw ExitCode(143)
        }
        if failed > 0 { throw ExitCode(1) }
    }
}

/// SIGTERM and SIGINT for a command that finishes what it has started: the first asks it to stop
/// (``requested``) and, if the work in progress is not done within `grace` seconds, ends the process
/// with status 143, leaving that work to be taken over; a second signal ends it at once.
final class StopRequest {
    private final class Flag: Sendable {
        let value = Mutex(false)
    }
    private let flag = Flag()
    private let sources: [any DispatchSourceSignal]

    init(grace: Double, logger: Logger) {
        let flag = self.flag
        sources = [SIGTERM, SIGINT].map { signalNumber in
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler {
                let again = flag.value.withLock { requested in
                    defer { requested = true }
                    return requested
                }
                if again {
                    logger.warning("second signal: stopping now; the input in progress is left for the next run")
                    _exit(143)
                }
                logger.notice(
                    "stopping: finishing the input in progress, taking no new one", metadata: ["medtag.grace_s": "\(grace)"])
                DispatchQueue.global().asyncAfter(deadline: .now() + grace) {
                    logger.warning(
                        "shutdown grace period over; the input in progress stays in work/ for the next medtag ingest or daemon")
                    _exit(143)
                }
            }
            source.resume()
            return source
        }
    }

    /// Whether a signal asked to stop.
    var requested: Bool { flag.value.withLock { $0 } }
}
