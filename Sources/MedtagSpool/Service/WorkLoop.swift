#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import Logging
import MedtagPipeline
import SystemPackage

/// The daemon's event loop: it feeds each event to ``WorkLoopState``, which decides, and carries out
/// the actions it returns (claims, jobs, scans, reloads, logging, systemd notifications). Only the
/// service's task touches it.
///
/// Scans of the inbox run on a serial queue of their own and hand their listing back as an event:
/// listing a backlog of tens of thousands of files takes seconds, during which the loop keeps
/// claiming, finishing work and sending WATCHDOG=1. Claims run on the loop, and their result is fed
/// back before the next event.
struct WorkLoop {
    let area: WorkArea
    private(set) var configuration: SpoolConfiguration
    private var annotator: any DocumentAnnotator
    let settings: SpoolService.Settings
    let loader: AnnotatorLoader
    let logger: Logger
    let notifier: SystemdNotifier
    let continuation: AsyncStream<SpoolService.Event>.Continuation
    private let runLog: RunLog
    private let retention = RetentionSchedule()
    /// The daemon's annotation threads, shared by every input in flight: `workers` documents
    /// annotated at once in all. A reload that changes `workers` starts a new pool; inputs already
    /// running finish on the old one.
    private var pool: AnnotationPool
    /// What the loop knows and decides.
    private(set) var state: WorkLoopState
    /// One scan runs at a time, off the loop; scans of the whole inbox are not queued twice.
    private static let scanQueue = DispatchQueue(label: "medtag-inbox-scan", qos: .utility)
    private var jobNumber = 0

    /// - Parameter claimed: inputs already in the work folder (left by an earlier run, or taken
    ///   over), started before anything from the inbox.
    init(
        area: WorkArea, configuration: SpoolConfiguration, annotator: any DocumentAnnotator, settings: SpoolService.Settings,
        loader: @escaping AnnotatorLoader, logger: Logger, notifier: SystemdNotifier,
        continuation: AsyncStream<SpoolService.Event>.Continuation, claimed: [String] = []
    ) {
        self.area = area
        self.configuration = configuration
        self.annotator = annotator
        self.settings = settings
        self.loader = loader
        self.logger = logger
        self.notifier = notifier
        self.continuation = continuation
        self.runLog = RunLog(folder: configuration.logDirectory ?? area.layout.outbox.appending("logs"))
        self.pool = AnnotationPool(workers: configuration.workers)
        self.state = WorkLoopState(settings: .init(configuration), claimed: claimed, now: .now)
    }

    /// Inputs waiting: queued or settling in the inbox, or claimed and waiting for a worker.
    var queuedCount: Int { state.queuedCount }
    /// Inputs done so far.
    var processed: Int { state.processed }
    /// Inputs failed so far.
    var failedCount: Int { state.failed }

    /// Runs until a graceful shutdown. The backlog scan starts at once: READY=1 has already been
    /// sent, and files written meanwhile are seen by the watch, set before.
    mutating func run(_ events: AsyncStream<SpoolService.Event>) async {
        guard perform(.start) else { return }
        for await event in events {
            guard handle(event) else { return }
        }
    }

    /// Hands one event of the stream to the state; false once the loop is over.
    private mutating func handle(_ event: SpoolService.Event) -> Bool {
        switch event {
        case .hint(.file(let path, let renamed)):
            return perform(.seen(path: path, renamed: renamed))
        case .hint(.rescan(let folder)):
            return perform(.rescanNeeded(folder: folder))
        case .scanned(let folder, let candidates, let seconds):
            for candidate in candidates {
                if let old = candidate.renamedFrom {
                    logger.warning(
                        "renamed an input whose name is not valid UTF-8",
                        metadata: ["medtag.file": "\(candidate.relativePath)", "medtag.from": "\(old)"])
                }
            }
            return perform(.scanned(folder: folder, paths: candidates.map(\.relativePath), seconds: seconds))
        case .finished(let result):
            return perform(.jobFinished(work: result.relativePath, result.outcome), finished: result)
        case .tick:
            if let interval = notifier.watchdogInterval, interval > 0 { notifier.watchdog() }
            retention.runIfDue(
                now: Clock.monotonic, layout: area.layout, configuration: configuration, scratch: area.staging, logger: logger)
            return perform(.tick)
        case .reload:
            return perform(.reloadRequested)
        case .reloaded(let result):
            let values = try? result.get().configuration
            return perform(.reloadFinished(values.map(WorkLoopState.Settings.init)), reloaded: result)
        case .shutdown:
            return perform(.shutdownRequested)
        }
    }

    /// Feeds `event` to the state and carries out the actions, feeding back the results that come at
    /// once (claims, adoptions). `finished` and `reloaded` are what came with the event. False once
    /// the loop is over.
    private mutating func perform(
        _ event: WorkLoopState.Event, finished: JobResult? = nil,
        reloaded: Result<SpoolService.Reloaded, SpoolError>? = nil
    ) -> Bool {
        var actions = state.handle(event, at: .now)
        var next = 0
        var running = true
        while next < actions.count {
            let action = actions[next]
            next += 1
            switch action {
            case .scan(let folder):
                scan(below: folder)
            case .adoptAbandoned:
                actions += state.handle(.adopted(area.adoptAbandoned(logger: logger)), at: .now)
            case .claim(let path, let ready):
                actions += state.handle(.claimResult(path: path, claim(path, ready: ready)), at: .now)
            case .startJob(let name):
                launch(name)
            case .recordResult:
                guard let finished else { break }
                do { try runLog.append(finished.record) } catch {
                    logger.error("cannot append to the daily log", metadata: ["medtag.error": "\(error)"])
                }
                finished.log(to: logger)
            case .notify(let notification):
                notify(notification)
            case .startReload:
                startReload()
            case .applyReload:
                guard case .success(let new)? = reloaded else { break }
                applyReload(new)
            case .reloadFailed:
                guard case .failure(let error)? = reloaded else { break }
                logger.error("reload failed; keeping the running configuration and model", metadata: ["medtag.error": "\(error)"])
            case .reloadDiscarded:
                // Stopping meanwhile: the work left finishes with the running configuration.
                logger.info("a reload finished during the shutdown; not applied")
            case .returnToInbox(let names):
                for name in names { area.returnToInbox(name, logger: logger) }
            case .log(let note):
                log(note)
            case .stop:
                running = false
            }
        }
        return running
    }

    // MARK: Carrying out actions

    /// Scans the whole inbox (`""`) or one folder of it off the loop; what it finds comes back as a
    /// `.scanned` event.
    private func scan(below folder: String) {
        if folder.isEmpty, !Sys.isDirectory(area.layout.inbox) {
            logger.error("the inbox is missing; recreating it", metadata: ["medtag.inbox": "\(area.layout.inbox)"])
            try? area.layout.create()
        }
        let layout = area.layout
        let continuation = self.continuation
        Self.scanQueue.async {
            let started = Clock.monotonic
            let found = layout.scanInbox(below: folder)
            continuation.yield(.scanned(folder: folder, candidates: found, seconds: Clock.monotonic - started))
        }
    }

    /// Claims an inbox path and logs what became of it.
    private func claim(_ path: String, ready: Bool) -> WorkLoopState.ClaimResult {
        switch Self.claim((path, ready), area: area, settleTime: configuration.settleTime) {
        case .claimed(let name):
            WorkArea.noteRenamed(path, name, logger: logger)
            return .claimed(as: name)
        case .settling(let until):
            return .settling(until: until)
        case .vanished:
            logger.debug("an input left the inbox before it was claimed; skipped", metadata: ["medtag.file": "\(path)"])
            return .vanished
        case .notClaimed(let error):
            // Left where it is: a later scan finds it again.
            logger.warning("cannot claim a file", metadata: ["medtag.file": "\(path)", "medtag.error": "\(error)"])
            return .notClaimed
        }
    }

    /// What ``claim(_:area:settleTime:)`` did with a queued inbox path.
    enum ClaimAttempt: Equatable {
        /// Renamed into the work folder under `name` (see ``WorkArea/claim(_:)``): ready to launch.
        case claimed(String)
        /// Written in place and changed too recently: to be looked at again at `until` (wall clock).
        case settling(until: Double)
        /// No longer in the inbox: another daemon claimed it, or it was deleted or taken back between
        /// the event or scan that listed it and this claim. Neither a failure nor an error.
        case vanished
        /// Could not be looked at or renamed for another reason.
        case notClaimed(Errno)
    }

    /// Claims one queued inbox path, unless it was written in place and is still settling.
    static func claim(_ next: (path: String, ready: Bool), area: WorkArea, settleTime: Double) -> ClaimAttempt {
        if !next.ready {
            let st: stat
            do { st = try Sys.lstat(area.layout.inbox.appending(next.path)) } catch .noSuchFileOrDirectory, .notDirectory {
                return .vanished
            } catch {
                return .notClaimed(error)
            }
            let modified = Double(st.st_mtim.tv_sec) + Double(st.st_mtim.tv_nsec) / 1e9
            if Clock.now - modified < settleTime { return .settling(until: modified + settleTime) }
        }
        do {
            switch try area.claim(next.path) {
            case .claimed(let name): return .claimed(name)
            case .vanished: return .vanished
            }
        } catch {
            return .notClaimed(error)
        }
    }

    /// Runs a claimed input's job on a Dispatch thread; its result comes back as a `.finished` event.
    private mutating func launch(_ path: String) {
        jobNumber += 1
        let job = InputJob(
            relativePath: path, area: area, configuration: configuration, annotator: annotator, version: settings.version,
            jobNumber: jobNumber, logger: logger, pool: pool)
        let continuation = self.continuation
        DispatchQueue.global(qos: .userInitiated).async {
            continuation.yield(.finished(job.run()))
        }
    }

    private func notify(_ notification: WorkLoopState.Notification) {
        switch notification {
        case .ready: notifier.ready(status: "watching \(area.layout.inbox)")
        case .reloading: notifier.reloading()
        case .stopping: notifier.stopping()
        case .status(let text): notifier.status(text)
        }
    }

    private func log(_ note: WorkLoopState.Note) {
        switch note {
        case .inboxScanned(let first, let found, let seconds, let queued):
            let metadata: Logger.Metadata = [
                "medtag.found": "\(found)", "medtag.scan_ms": "\(Int(seconds * 1000))", "medtag.queued": "\(queued)",
            ]
            if first {
                logger.info("first inbox scan done", metadata: metadata)
            } else {
                logger.debug("inbox scanned", metadata: metadata)
            }
        case .stopping(let working, let grace):
            logger.info("stopping: finishing work in flight", metadata: ["medtag.working": "\(working)", "medtag.grace_s": "\(grace)"])
        case .graceOver(let working):
            logger.warning(
                "shutdown grace period over; returning unfinished inputs to the inbox", metadata: ["medtag.working": "\(working)"])
        }
    }

    // MARK: Reload

    /// Loads the configuration file and the model again off the loop; the result comes back as a
    /// `.reloaded` event.
    private func startReload() {
        logger.info("reloading the configuration and the model")
        let settings = self.settings
        let current = self.configuration
        let loader = self.loader
        let continuation = self.continuation
        DispatchQueue.global(qos: .userInitiated).async {
            let result: Result<SpoolService.Reloaded, SpoolError>
            do {
                var configuration = current
                if let file = settings.configurationFile {
                    configuration = try SpoolConfiguration.load(from: file)
                    if let spool = settings.spoolOverride { configuration.spool = spool }
                    if let model = settings.modelOverride { configuration.model = model }
                }
                do {
                    result = .success(.init(configuration: configuration, annotator: try loader(configuration)))
                } catch {
                    throw SpoolError(
                        stage: .model, path: configuration.model?.string ?? "default model",
                        reason: "cannot load the model: \(error)", disposition: .rejected)
                }
            } catch {
                result = .failure(error as? SpoolError ?? SpoolError(stage: .configuration, path: "", reason: "\(error)"))
            }
            continuation.yield(.reloaded(result))
        }
    }

    /// Puts a reloaded configuration and model in force; inputs running keep the ones they started with.
    private mutating func applyReload(_ reloaded: SpoolService.Reloaded) {
        var next = reloaded.configuration
        if next.spool != configuration.spool || next.instance != configuration.instance {
            logger.warning("a new spool or instance name takes effect only after a restart")
            next.spool = configuration.spool
            next.instance = configuration.instance
        }
        if next.workers != pool.workers { pool = AnnotationPool(workers: next.workers) }
        configuration = next
        annotator = reloaded.annotator
        logger.info("reloaded", metadata: ["medtag.workers": "\(next.workers)", "medtag.formats": "\(next.formats.map(\.rawValue))"])
        for model in annotator.loadedModels { logger.info("model loaded", metadata: SpoolService.metadata(of: model)) }
    }
}

extension WorkLoopState.Settings {
    /// The values of a daemon configuration that the loop uses.
    init(_ configuration: SpoolConfiguration) {
        self.init(
            workers: configuration.workers, retryDelay: configuration.retryDelay, rescanInterval: configuration.rescanInterval,
            shutdownGrace: configuration.shutdownGrace)
    }
}

extension Moment {
    /// The clocks, now.
    static var now: Moment { Moment(monotonic: Clock.monotonic, wall: Clock.now) }
}
