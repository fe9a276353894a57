import ArgumentParser
import MedtagSpool
import SystemPackage

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
            gets a numbered one (nota~2.txt). Exits 1 if any file failed.
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
        try requireExisting(files + from)
        var (configuration, _) = try spoolOptions.load()
        if let model { configuration.model = FilePath(model) }
        let inputs = try Ingest.collect(files: files.map { FilePath($0) }, folders: from.map { FilePath($0) })
        if inputs.isEmpty {
            print("nothing to ingest")
            return
        }
        let annotator = try loadAnnotator(configuration)
        let progress = ProgressLine(total: nil, quiet: quiet)
        defer { progress.finish() }  // also when an error ends the command
        let started = ContinuousClock.now
        let results = try Ingest.run(
            inputs, configuration: configuration, annotator: annotator, keep: keep, version: Medtag.version, logger: logger,
            progress: progress.jobProgress)
        progress.finish()
        var failed = 0
        for result in results {
            let record = result.record
            switch result.outcome {
            case .done:
                print(
                    "\(result.relativePath): \(record.documents) documents annotated, \(record.refused) refused, "
                        + "\(record.entities) entities → \(configuration.spool.appending("outbox").appending(result.relativePath))")
            case .failed, .retry:
                failed += 1
                print("\(result.relativePath): FAILED: \(result.error?.description ?? "unknown error")")
            }
        }
        if !from.isEmpty || results.count > 1 {
            let elapsed = (ContinuousClock.now - started).components
            let seconds = Double(elapsed.seconds) + Double(elapsed.attoseconds) / 1e18
            print("summary of the run → \(try Ingest.writeRunSummary(results, configuration: configuration, seconds: seconds, version: Medtag.version))")
        }
        if failed > 0 { throw ExitCode(1) }
    }
}
