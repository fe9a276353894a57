#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import Logging
import MedtagPipeline
import SystemPackage

/// The daemon's state and its one event loop. Only the service's task touches it.
///
/// Backpressure: a file is claimed only when a worker is free, so at most `workers` inputs are in
/// `work/` and in memory at once, however many wait in the inbox.
///
/// Scans of the inbox run on a serial queue of their own and hand their listing back as an event:
/// listing a backlog of tens of thousands of files takes seconds, during which the loop keeps
/// claiming, finishing work and sending WATCHDOG=1. A path found both by a scan and by an event is
/// queued once (`pendingSet`, `inFlight`); one that a stale listing names after it was processed is
/// no longer in the inbox, and its claim finds it `.vanished`.
struct WorkLoop {
    let area: WorkArea
    var configuration: SpoolConfiguration
    var annotator: any DocumentAnnotator
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

    /// Inbox paths to look at, in order, without duplicates. `ready` ones were renamed into the inbox
    /// (complete by convention); the others are claimed once unchanged for `settle_time`, so a file
    /// written in pieces, even with a close between pieces, is never read half-way.
    private var pending: [(path: String, ready: Bool)] = []
    private var pendingHead = 0
    private var pendingSet: Set<String> = []
    /// Files found by a scan that changed too recently: path → when to look again.
    private var settling: [String: Double] = [:]
    /// Files already in our work folder, waiting for a worker.
    private var claimed: [String] = []
    private var retries: [(due: Double, path: String)] = []
    private var inFlight: Set<String> = []
    private var nextRescan: Double
    /// One scan runs at a time, off the loop; scans of the whole inbox are not queued twice.
    private static let scanQueue = DispatchQueue(label: "medtag-inbox-scan", qos: .utility)
    /// Where the scan of the whole inbox is.
    private var inboxScan = InboxScan.idle
    /// Scans of the whole inbox finished so far.
    private var inboxScans = 0
    private var jobNumber = 0
    /// What the loop is doing besides its work: serving, reloading or stopping.
    private(set) var state = State.serving

    /// The daemon's state: one value, so a reload and a shutdown cannot be half in force together.
    enum State: Equatable {
        /// Claiming and processing inputs.
        case serving
        /// Loading the configuration and the model again (SIGHUP) off the loop; work goes on with
        /// the running ones meanwhile.
        case reloading
        /// A graceful shutdown: nothing new is claimed; work in flight has until `deadline`
        /// (monotonic seconds), then goes back to the inbox.
        case stopping(deadline: Double)
    }

    /// The scan of the whole inbox, which runs off the loop.
    enum InboxScan: Equatable {
        case idle
        case running
        /// Asked for again while running (events were lost): another one follows it.
        case runningThenAgain
    }
    private(set) var processed = 0
    private(set) var failedCount = 0

    init(
        area: WorkArea, configuration: SpoolConfiguration, annotator: any DocumentAnnotator, settings: SpoolService.Settings,
        loader: @escaping AnnotatorLoader, logger: Logger, notifier: SystemdNotifier,
        continuation: AsyncStream<SpoolService.Event>.Continuation
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
        self.nextRescan = Clock.monotonic + configuration.rescanInterval
        self.pool = AnnotationPool(workers: configuration.workers)
    }

    var queuedCount: Int { pending.count - pendingHead + claimed.count + settling.count }

    mutating func enqueueClaimed(_ paths: [String]) {
        claimed += paths
    }

    /// Scans the whole inbox (or one folder of it) off the loop; what it finds is queued when its
    /// `.scanned` event comes back.
    mutating func requestScan(below folder: String = "") {
        if folder.isEmpty {
            if !Sys.isDirectory(area.layout.inbox) {
                logger.error("the inbox is missing; recreating it", metadata: ["medtag.inbox": "\(area.layout.inbox)"])
                try? area.layout.create()
            }
            guard inboxScan == .idle else {
                inboxScan = .runningThenAgain
                return
            }
            inboxScan = .running
        }
        let layout = area.layout
        let continuation = self.continuation
        Self.scanQueue.async {
            let started = Clock.monotonic
            let found = layout.scanInbox(below: folder)
            continuation.yield(.scanned(folder: folder, candidates: found, seconds: Clock.monotonic - started))
        }
    }

    private mutating func scanned(folder: String, candidates: [InboxCandidate], seconds: Double) {
        for candidate in candidates {
            if let old = candidate.renamedFrom {
                logger.warning(
                    "renamed an input whose name is not valid UTF-8",
                    metadata: ["medtag.file": "\(candidate.relativePath)", "medtag.from": "\(old)"])
            }
            enqueue(candidate.relativePath, ready: false)
        }
        guard folder.isEmpty else { return }
        let again = inboxScan == .runningThenAgain
        inboxScan = .idle
        inboxScans += 1
        let metadata: Logger.Metadata = [
            "medtag.found": "\(candidates.count)", "medtag.scan_ms": "\(Int(seconds * 1000))",
            "medtag.queued": "\(queuedCount)",
        ]
        if inboxScans > 1 {
            logger.debug("inbox scanned", metadata: metadata)
        } else {
            logger.info("first inbox scan done", metadata: metadata)
        }
        if again {
            requestScan()
        } else {
            // Counted from the end of the scan: when a scan takes longer than the interval (a large
            // backlog in the inbox), the next one must not start at once, or scanning never stops.
            nextRescan = Clock.monotonic + max(configuration.rescanInterval, 1)
        }
    }

    private mutating func enqueue(_ path: String, ready: Bool) {
        if inFlight.contains(path) || SpoolLayout.isIgnored(relativePath: path) { return }
        if pendingSet.contains(path) {
            if ready, let index = pending[pendingHead...].firstIndex(where: { $0.path == path }) {
                pending[index].ready = true
            }
            return
        }
        if ready {
            settling[path] = nil
        } else if settling[path] != nil {
            return  // already waiting to settle; the next check looks at its time again
        }
        pendingSet.insert(path)
        pending.append((path, ready))
    }

    private mutating func popPending() -> (path: String, ready: Bool)? {
        guard pendingHead < pending.count else { return nil }
        let next = pending[pendingHead]
        pendingHead += 1
        if pendingHead > 4096, pendingHead * 2 > pending.count {
            pending.removeFirst(pendingHead)
            pendingHead = 0
        }
        pendingSet.remove(next.path)
        return next
    }

    /// Runs until a graceful shutdown. The backlog scan starts at once: READY=1 has already been
    /// sent, and files written meanwhile are seen by the watch, set before.
    mutating func run(_ events: AsyncStream<SpoolService.Event>) async {
        requestScan()
        startWork()
        for await event in events {
            switch event {
            case .hint(.file(let path, let renamed)):
                enqueue(path, ready: renamed)
            case .hint(.rescan(let folder)):
                requestScan(below: folder ?? "")
            case .scanned(let folder, let candidates, let seconds):
                scanned(folder: folder, candidates: candidates, seconds: seconds)
            case .finished(let result):
                finished(result)
            case .tick:
                if let interval = notifier.watchdogInterval, interval > 0 { notifier.watchdog() }
                tick()
            case .reload:
                startReload()
            case .reloaded(let result):
                finishReload(result)
            case .shutdown:
                beginShutdown()
            }
            if case .stopping(let deadline) = state {
                if inFlight.isEmpty { return }
                if Clock.monotonic >= deadline {
                    returnInFlight()
                    return
                }
            } else {
                startWork()
            }
        }
    }

    private mutating func tick() {
        let now = Clock.monotonic
        retention.runIfDue(now: now, layout: area.layout, configuration: configuration, scratch: area.staging, logger: logger)
        if now >= nextRescan, inboxScan == .idle {
            requestScan()
            // Inputs of a daemon or `medtag ingest` that died (their lock is free) are taken over
            // here too, not only at start-up.
            if !isStopping {
                let adopted = area.adoptAbandoned(logger: logger)
                claimed += adopted.filter { !inFlight.contains($0) && !claimed.contains($0) }
            }
        }
        if !retries.isEmpty {
            let due = retries.filter { $0.due <= now }
            retries.removeAll { $0.due <= now }
            claimed += due.map(\.path)
        }
        if !settling.isEmpty {
            let wall = Clock.now
            for (path, time) in settling where time <= wall {
                settling[path] = nil
                enqueue(path, ready: false)
            }
        }
    }

    /// Hands work to free workers: claimed files first, then the inbox queue.
    private mutating func startWork() {
        while inFlight.count < configuration.workers {
            if let path = claimed.first {
                claimed.removeFirst()
                if inFlight.contains(path) { continue }
                launch(path)
                continue
            }
            guard let next = popPending() else { return }
            switch Self.claim(next, area: area, settleTime: configuration.settleTime) {
            case .claimed(let name):
                WorkArea.noteRenamed(next.path, name, logger: logger)
                launch(name)
            case .settling(let until):
                settling[next.path] = until
            case .vanished:
                logger.debug("an input left the inbox before it was claimed; skipped", metadata: ["medtag.file": "\(next.path)"])
            case .notClaimed(let error):
                // Left where it is: a later scan finds it again.
                logger.warning("cannot claim a file", metadata: ["medtag.file": "\(next.path)", "medtag.error": "\(error)"])
            }
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

    private mutating func launch(_ path: String) {
        jobNumber += 1
        inFlight.insert(path)
        let job = InputJob(
            relativePath: path, area: area, configuration: configuration, annotator: annotator, version: settings.version,
            jobNumber: jobNumber, logger: logger, pool: pool)
        let continuation = self.continuation
        DispatchQueue.global(qos: .userInitiated).async {
            continuation.yield(.finished(job.run()))
        }
    }

    private mutating func finished(_ result: JobResult) {
        inFlight.remove(result.relativePath)
        do { try runLog.append(result.record) } catch {
            logger.error("cannot append to the daily log", metadata: ["medtag.error": "\(error)"])
        }
        result.log(to: logger)
        switch result.outcome {
        case .done:
            processed += 1
        case .failed:
            failedCount += 1
        case .retry:
            if !isStopping {
                retries.append((Clock.monotonic + configuration.retryDelay, result.relativePath))
            }
        }
        notifier.status("processed \(processed), failed \(failedCount), queued \(queuedCount), working \(inFlight.count)")
    }

    // MARK: Reload

    private mutating func startReload() {
        guard state == .serving else { return }
        state = .reloading
        notifier.reloading()
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

    private mutating func finishReload(_ result: Result<SpoolService.Reloaded, SpoolError>) {
        guard state == .reloading else {
            // Stopping meanwhile: the work left finishes with the running configuration.
            logger.info("a reload finished during the shutdown; not applied")
            return
        }
        state = .serving
        switch result {
        case .success(let reloaded):
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
        case .failure(let error):
            logger.error("reload failed; keeping the running configuration and model", metadata: ["medtag.error": "\(error)"])
        }
        notifier.ready(status: "watching \(area.layout.inbox)")
    }

    // MARK: Shutdown

    private var isStopping: Bool {
        if case .stopping = state { return true }
        return false
    }

    private mutating func beginShutdown() {
        guard !isStopping else { return }
        state = .stopping(deadline: Clock.monotonic + configuration.shutdownGrace)
        notifier.stopping()
        logger.info(
            "stopping: finishing work in flight", metadata: ["medtag.working": "\(inFlight.count)", "medtag.grace_s": "\(configuration.shutdownGrace)"])
        // Claimed but not started: straight back to the inbox.
        for path in claimed { area.returnToInbox(path, logger: logger) }
        claimed.removeAll()
        for retry in retries { area.returnToInbox(retry.path, logger: logger) }
        retries.removeAll()
    }

    private mutating func returnInFlight() {
        logger.warning(
            "shutdown grace period over; returning unfinished inputs to the inbox", metadata: ["medtag.working": "\(inFlight.count)"])
        for path in inFlight.sorted() { area.returnToInbox(path, logger: logger) }
        inFlight.removeAll()
    }
}
