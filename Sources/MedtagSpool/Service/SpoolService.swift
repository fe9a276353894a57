#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import Logging
import MedtagNeural
import MedtagPipeline
import ServiceLifecycle
import SystemPackage
import UnixSignals

/// Builds the annotator from the configuration: called at start and on every reload (SIGHUP).
public typealias AnnotatorLoader = @Sendable (SpoolConfiguration) throws -> any DocumentAnnotator

/// The daemon: watches the inbox, claims files, annotates them on a bounded pool of worker threads
/// and publishes the results, until a graceful shutdown.
///
/// ```swift
/// let service = SpoolService(
///     settings: settings, loader: { try LanguageRouter.load(catalog: ...) }, logger: logger,
///     notifier: SystemdNotifier(environment: ProcessInfo.processInfo.environment))
/// let group = ServiceGroup(services: [service], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
/// try await group.run()
/// ```
///
/// - READY=1 is sent once the model is loaded and the inbox is watched. The scan of what was already
///   waiting comes after, as ordinary work: a backlog of tens of thousands of files does not hold
///   READY back past systemd's start timeout. The watch is set before the scan, so a file arriving
///   during it is seen, and a file found both ways is processed once.
/// - WATCHDOG=1 is sent from the work loop itself, so a stuck loop is restarted by systemd.
/// - SIGHUP reloads the configuration file and the model; work in flight finishes with the old ones.
/// - On graceful shutdown no new file is claimed; work in flight gets `shutdown_grace` seconds to
///   finish, and whatever is left then goes back to the inbox.
public final class SpoolService: Service {
    /// Everything the service is started with.
    public struct Settings: Sendable {
        public var configuration: SpoolConfiguration
        /// Re-read on SIGHUP; nil when the configuration came from elsewhere.
        public var configurationFile: FilePath?
        /// `--spool`: wins over the file's `spool =` line, also after a reload.
        public var spoolOverride: FilePath?
        /// The medtag version written into reports.
        public var version: String
        /// `--model`: wins over the file's `model =` line, also after a reload.
        public var modelOverride: FilePath?

        public init(
            configuration: SpoolConfiguration, configurationFile: FilePath? = nil, spoolOverride: FilePath? = nil,
            version: String
        ) {
            self.configuration = configuration
            self.configurationFile = configurationFile
            self.spoolOverride = spoolOverride
            self.version = version
            if let spoolOverride { self.configuration.spool = spoolOverride }
        }
    }

    private let settings: Settings
    private let loader: AnnotatorLoader
    private let logger: Logger
    private let notifier: SystemdNotifier

    /// - Parameters:
    ///   - loader: builds the annotator; called before READY and again on every SIGHUP.
    ///   - notifier: systemd's notification socket (inactive outside systemd).
    public init(settings: Settings, loader: @escaping AnnotatorLoader, logger: Logger, notifier: SystemdNotifier) {
        self.settings = settings
        self.loader = loader
        self.logger = logger
        self.notifier = notifier
    }

    enum Event: Sendable {
        case hint(WatchHint)
        case finished(JobResult)
        /// A scan of the inbox (`folder` "") or of one folder of it, and what it found.
        case scanned(folder: String, candidates: [InboxCandidate], seconds: Double)
        case tick
        case reload
        case reloaded(Result<Reloaded, SpoolError>)
        case shutdown
    }

    struct Reloaded: Sendable {
        var configuration: SpoolConfiguration
        var annotator: any DocumentAnnotator
    }

    /// Runs until a graceful shutdown. Throws when the spool cannot be prepared or the model cannot
    /// be loaded at start, so the process exits non-zero and systemd sees the failure.
    public func run() async throws {
        let layout = SpoolLayout(root: settings.configuration.spool)
        try layout.create()
        let instance = settings.configuration.instance.isEmpty ? WorkArea.defaultInstanceName() : settings.configuration.instance
        let area = try WorkArea.acquire(layout: layout, instance: instance)
        logger.info(
            "medtag daemon starting",
            metadata: [
                "medtag.inbox": "\(layout.inbox)", "medtag.outbox": "\(layout.outbox)", "medtag.instance": "\(instance)",
                "medtag.workers": "\(settings.configuration.workers)",
            ])
        let configuration = settings.configuration
        let loader = self.loader
        let annotator: any DocumentAnnotator
        do {
            annotator = try await onWorkerThread { try loader(configuration) }
        } catch let error as SpoolError {
            throw error
        } catch {
            throw SpoolError(
                stage: .model, path: configuration.model?.string ?? "default model", reason: "cannot load the model: \(error)",
                disposition: .rejected)
        }
        for model in annotator.loadedModels {
            logger.info("model loaded", metadata: Self.metadata(of: model))
        }

        let (events, continuation) = AsyncStream.makeStream(of: Event.self)
        var loop = WorkLoop(
            area: area, configuration: configuration, annotator: annotator, settings: settings, loader: loader,
            logger: logger, notifier: notifier, continuation: continuation,
            claimed: area.leftovers() + area.adoptAbandoned(logger: logger))

        let watcher = InboxWatcher(inbox: layout.inbox, logger: logger)
        do {
            try watcher.start { continuation.yield(.hint($0)) }
        } catch {
            // Events are only hints: without them the periodic scan still finds every file.
            logger.error(
                "cannot watch the inbox with inotify; falling back to scanning it every rescan_interval",
                metadata: ["medtag.error": "\(error)", "medtag.rescan_s": "\(configuration.rescanInterval)"])
        }
        // Ready now: the backlog already in the inbox is scanned by the work loop as its first job.
        notifier.ready(status: "watching \(layout.inbox)")
        logger.info(
            "ready: watching the inbox",
            metadata: ["medtag.inbox": "\(layout.inbox)", "medtag.queued": "\(loop.queuedCount)"])

        // SIGHUP through swift-service-lifecycle's signal sequence; ignored meanwhile rather than fatal.
        signal(SIGHUP, SIG_IGN)
        let hangups = await UnixSignalsSequence(trapping: .sighup)
        let reloads = Task {
            for await _ in hangups { continuation.yield(.reload) }
        }
        let tickInterval = min(1.0, (notifier.watchdogInterval ?? 3) / 3)
        let ticker = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(Int(tickInterval * 1000)))
                continuation.yield(.tick)
            }
        }
        defer {
            ticker.cancel()
            reloads.cancel()
            watcher.stop()
        }
        await withGracefulShutdownHandler {
            await loop.run(events)
        } onGracefulShutdown: {
            continuation.yield(.shutdown)
        }
        continuation.finish()
        area.release()
        logger.info("medtag daemon stopped", metadata: ["medtag.processed": "\(loop.processed)", "medtag.failed": "\(loop.failedCount)"])
    }
}

extension SpoolService {
    /// What the log says of a loaded model: its name, the checksum of its manifest (which names every
    /// file of it), its language and its folder.
    static func metadata(of model: LoadedModel) -> Logger.Metadata {
        [
            "medtag.model": "\(model.name)", "medtag.model_sha256": "\(model.checksum)", "medtag.language": "\(model.language)",
            "medtag.model_path": "\(model.directory.path)", "medtag.kernels": "\(kernels)",
        ]
    }

    /// The kernel path, so a slow machine explains itself (`blas=openblas core=SkylakeX lstm=avx512 (cpu-features)`).
    static var kernels: String {
        do {
            let backend = try BLASBackend.shared()
            return "\(backend) (\(backend.choice.rawValue))"
        } catch { return "unavailable: \(error)" }
    }
}

/// Runs blocking work on a Dispatch thread, off the cooperative pool.
func onWorkerThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global(qos: .userInitiated).async {
            continuation.resume(with: Result { try body() })
        }
    }
}
