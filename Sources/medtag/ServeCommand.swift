import ArgumentParser
import Foundation
import Logging
import MedtagPipeline
import MedtagSpool
import ServiceLifecycle
import SystemPackage

/// Options shared by `serve`, `status` and `ingest`: where the configuration and the spool are.
struct SpoolOptions: ParsableArguments {
    @Option(help: "Configuration file (default: etc/medtag/medtag.conf, else /etc/medtag/medtag.conf, else built-in defaults).")
    var config: String?

    @Option(help: "Spool folder holding inbox/, work/, outbox/, done/ and failed/ (overrides the configuration).")
    var spool: String?

    /// The configuration file in use, if any.
    func configurationFile() -> FilePath? {
        if let config { return FilePath(config) }
        for candidate in ["etc/medtag/medtag.conf", "/etc/medtag/medtag.conf"]
        where FileManager.default.fileExists(atPath: candidate) {
            return FilePath(candidate)
        }
        return nil
    }

    func load() throws -> (SpoolConfiguration, FilePath?) {
        try requireExisting([config])
        let file = configurationFile()
        var configuration = try file.map { path throws(SpoolError) in try SpoolConfiguration.load(from: path) } ?? SpoolConfiguration()
        if let spool { configuration.spool = FilePath(spool) }
        return (configuration, file)
    }
}

/// Loads the models the configuration names (or the default model of each language) and routes
/// each document to the one of its language.
func loadAnnotator(_ configuration: SpoolConfiguration) throws -> any DocumentAnnotator {
    try LanguageRouter.load(setting: configuration.language, catalog: modelCatalog(configuration.modelChoices))
}

/// Logs to standard error (journald under systemd), once per process.
func makeLogger(level: String) throws -> Logger {
    guard let level = Logger.Level(rawValue: level) else {
        throw ValidationError("unknown log level '\(level)'; choose trace, debug, info, notice, warning, error or critical")
    }
    // Message first, quoted values; under systemd with the journal's priority prefix and no timestamp.
    let environment = ProcessInfo.processInfo.environment
    LoggingSystem.bootstrap { _ in LogLine.standardError(environment: environment) }
    var logger = Logger(label: "medtag")
    logger.logLevel = level
    return logger
}

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Watch an inbox folder and annotate every file dropped into it.",
        discussion: """
            Drop .txt, .xml or archives (.tar, .tar.gz, .tgz, .tar.bz2, .tar.xz, .zip) into SPOOL/inbox; \
            results appear in SPOOL/outbox/<name>/, the input moves to SPOOL/done/ (or SPOOL/failed/ with \
            <name>.error.json). Write big files under a name starting with '.' or ending in .part and \
            rename them when complete. SIGTERM stops gracefully, SIGHUP reloads the configuration and the \
            model. Runs under systemd as Type=notify (READY, WATCHDOG, STOPPING).
            """)

    @OptionGroup var spoolOptions: SpoolOptions

    @Option(help: "Model name under Models/ or a model folder (overrides the configuration's `model`).")
    var model: String?

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    func run() async throws {
        let logger = try makeLogger(level: logLevel)
        var (configuration, file) = try spoolOptions.load()
        if let model { configuration.model = FilePath(model) }
        var settings = SpoolService.Settings(
            configuration: configuration, configurationFile: file, spoolOverride: spoolOptions.spool.map { FilePath($0) },
            version: Medtag.version)
        settings.modelOverride = model.map { FilePath($0) }
        logger.info(
            "configuration", metadata: ["medtag.config": "\(file?.string ?? "built-in defaults")", "medtag.spool": "\(configuration.spool)"])
        let service = SpoolService(
            settings: settings, loader: loadAnnotator, logger: logger,
            notifier: SystemdNotifier(environment: ProcessInfo.processInfo.environment))
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: service)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        do {
            try await group.run()
        } catch {
            logger.critical("medtag daemon failed", metadata: ["medtag.error": "\(error)"])
            throw ExitCode(1)
        }
    }
}
