import Foundation
import MedtagFormats
import MedtagIngest
import MedtagModel
import MedtagPipeline
import SystemPackage

/// The daemon's settings, read from `medtag.conf` (`key = value` lines, `#` comments).
///
/// Every key has a default, so an empty file is a valid configuration; see `etc/medtag/medtag.conf`.
public struct SpoolConfiguration: Sendable, Equatable {
    /// The spool root, holding `inbox/`, `work/`, `outbox/`, `done/`, `failed/` and `tmp/`.
    public var spool: FilePath = "/var/spool/medtag"
    /// The model folder or name under Models/, serving the language of its manifest; nil means the
    /// default model of each language (``ModelCatalog``).
    public var model: FilePath?
    /// The SNOMED-CT lexicon folder of `model`'s language, else of Spanish; nil means
    /// `$MEDTAG_LEXICON`, else `lexicon/` beside the model.
    public var lexicon: FilePath?
    /// The language of the documents: `es`, `en`, or `auto` (identified per document). nil means
    /// `auto`, unless `model` is set: then that model's language. Inputs under `inbox/es/` or
    /// `inbox/en/` are annotated as that language whatever this says.
    public var language: LanguageSetting?
    /// Model folders or names by language, from the languages' own keys (`model_en`); a language
    /// without one takes its variable (`$MEDTAG_MODEL_EN`), else its preferred model under Models/.
    public var models: [Language: FilePath] = [:]
    /// SNOMED-CT lexicon folders by language (`lexicon_en`); a language without one takes its
    /// variable (`$MEDTAG_LEXICON_EN`), else its lexicon folder (`lexicon-en/`) beside the model.
    public var lexicons: [Language: FilePath] = [:]
    /// Documents annotated at the same time.
    public var workers: Int = 2
    /// Result formats: files per document, and the input's tables (see ``ResultTable``).
    public var formats: [OutputFormat] = [.brat, .conll, .csv]
    /// Keep processed inputs in `done/` (true) or delete them (false).
    public var keepInputs: Bool = true
    /// Seconds between full scans of the inbox; inotify events are only hints.
    public var rescanInterval: Double = 60
    /// Seconds a file found by a scan must have been left unchanged before it is claimed.
    public var settleTime: Double = 2
    /// Seconds to finish in-flight work on SIGTERM before returning it to the inbox.
    public var shutdownGrace: Double = 20
    /// Seconds before an input that failed for a passing reason (disk full) is tried again.
    public var retryDelay: Double = 30
    /// Starts of annotation an input may see end unfinished (a crash, kill -9, out of memory) before
    /// it goes to `failed/` instead of being taken up again.
    public var maxAttempts: Int = 3
    /// What is read from one input: sizes, pieces, archives (see ``InputLimits``).
    public var limits = InputLimits()
    /// Largest input of any kind, in bytes (``InputLimits/maxInputBytes``).
    public var maxInputBytes: Int {
        get { limits.maxInputBytes }
        set { limits.maxInputBytes = newValue }
    }
    /// Largest `.xml` input, in bytes (``InputLimits/maxXMLBytes``).
    public var maxXMLBytes: Int {
        get { limits.maxXMLBytes }
        set { limits.maxXMLBytes = newValue }
    }
    /// Text is annotated in pieces of at most this many bytes, cut at line ends; a worker needs
    /// about 40 bytes of memory per byte of a piece (``InputLimits/pieceBytes``).
    public var pieceBytes: Int {
        get { limits.pieceBytes }
        set { limits.pieceBytes = newValue }
    }
    /// The name of this daemon in `work/`; empty means `<host>-<pid>`.
    public var instance: String = ""
    /// Where the daily JSON-lines logs go; nil means `outbox/logs`.
    public var logDirectory: FilePath?
    /// How many days `done/`, `failed/` and `outbox/` keep what they hold (`retention_days`,
    /// `outbox_retention_days`); the daemon sweeps every hour, `medtag ingest` after its run.
    public var retention = RetentionPolicy()
    /// Limits of archives (``InputLimits/archive``).
    public var archive: ArchiveLimits {
        get { limits.archive }
        set { limits.archive = newValue }
    }

    public init() {}

    /// The models and lexicons this configuration names, for ``ModelCatalog/resolve(_:environment:executable:workingDirectory:)``.
    public var modelChoices: ModelCatalog.Choices {
        ModelCatalog.Choices(
            model: model?.string, lexicon: lexicon.map { URL(fileURLWithPath: $0.string) }, models: models.mapValues(\.string),
            lexicons: lexicons.mapValues { URL(fileURLWithPath: $0.string) })
    }

    /// Reads a configuration file.
    public static func load(from path: FilePath) throws(SpoolError) -> SpoolConfiguration {
        let bytes: [UInt8]
        do {
            bytes = try Sys.readFile(path, limit: 1 << 20)
        } catch {
            throw SpoolError(
                stage: .configuration, path: path.string, reason: "cannot read the configuration", errno: error,
                disposition: .rejected)
        }
        return try parse(String(decoding: bytes, as: UTF8.self), path: path.string)
    }

    /// Parses configuration text; `path` only names the file in error messages. A key given twice
    /// is an error that names both lines: which of the two was meant cannot be guessed.
    public static func parse(_ text: String, path: String = "medtag.conf") throws(SpoolError) -> SpoolConfiguration {
        var configuration = SpoolConfiguration()
        var lineNumber = 0
        var firstLine: [String: Int] = [:]
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            var line = Substring(rawLine)
            if let hash = line.firstIndex(of: "#") { line = line[..<hash] }
            let trimmed = line.trimmingSpaces
            if trimmed.isEmpty { continue }
            guard let equals = trimmed.firstIndex(of: "=") else {
                throw configurationError(path, lineNumber, "expected `key = value`, found `\(trimmed)`")
            }
            let key = trimmed[..<equals].trimmingSpaces.lowercased()
            let value = String(trimmed[trimmed.index(after: equals)...].trimmingSpaces)
            func fail(_ what: String) -> SpoolError { configurationError(path, lineNumber, "\(key): \(what)") }
            if let first = firstLine[key] {
                throw fail("given again: line \(first) sets it already; keep one of the two")
            }
            firstLine[key] = lineNumber
            switch key {
            case "spool": configuration.spool = FilePath(value)
            case "model": configuration.model = value.isEmpty ? nil : FilePath(value)
            case "lexicon": configuration.lexicon = value.isEmpty ? nil : FilePath(value)
            case "language":
                if value.isEmpty {
                    configuration.language = nil
                } else {
                    guard let setting = LanguageSetting(value) else { throw fail("expected \(LanguageSetting.choices), found `\(value)`") }
                    configuration.language = setting
                }
            case "workers":
                guard let n = Int(value), (1...256).contains(n) else { throw fail("expected 1 to 256, found `\(value)`") }
                configuration.workers = n
            case "formats":
                var formats: [OutputFormat] = []
                for name in value.split(separator: ",").map({ $0.trimmingSpaces.lowercased() }) where !name.isEmpty {
                    guard let format = OutputFormat(rawValue: name) else {
                        let known = OutputFormat.allCases.map(\.rawValue).joined(separator: ", ")
                        throw fail("unknown format `\(name)` (known: \(known))")
                    }
                    if !formats.contains(format) { formats.append(format) }
                }
                guard !formats.isEmpty else { throw fail("name at least one format") }
                configuration.formats = formats
            case "keep_inputs":
                guard let flag = parseBool(value) else { throw fail("expected yes or no, found `\(value)`") }
                configuration.keepInputs = flag
            case "rescan_interval": configuration.rescanInterval = try seconds(value, fail)
            case "settle_time": configuration.settleTime = try seconds(value, fail)
            case "shutdown_grace": configuration.shutdownGrace = try seconds(value, fail)
            case "retry_delay": configuration.retryDelay = try seconds(value, fail)
            case "max_attempts": configuration.maxAttempts = try count(value, fail)
            case "max_input_size": configuration.maxInputBytes = try size(value, fail)
            case "max_xml_size": configuration.maxXMLBytes = try size(value, fail)
            case "piece_size":
                let bytes = try size(value, fail)
                guard bytes >= 1024 else { throw fail("expected at least 1K, found `\(value)`") }
                configuration.pieceBytes = bytes
            case "instance":
                guard !value.contains("/"), !value.hasPrefix(".") else { throw fail("no `/` and no leading `.`") }
                configuration.instance = value
            case "log_dir": configuration.logDirectory = value.isEmpty ? nil : FilePath(value)
            case "retention_days": configuration.retention.inputDays = try days(value, fail)
            case "outbox_retention_days": configuration.retention.outboxDays = try days(value, fail)
            case "archive_max_member_size": configuration.archive.maxMemberBytes = try size(value, fail)
            case "archive_max_total_size": configuration.archive.maxTotalBytes = try size(value, fail)
            case "archive_max_ratio": configuration.archive.maxRatio = try count(value, fail)
            case "archive_max_members": configuration.archive.maxMembers = try count(value, fail)
            case "archive_max_depth":
                guard let n = Int(value), n >= 0 else { throw fail("expected 0 or more, found `\(value)`") }
                configuration.archive.maxDepth = n
            default:
                // The other languages' own keys: `model_en`, `lexicon_en` (`model` and `lexicon` are above).
                if let language = Language.supported.first(where: { $0.modelKey == key }) {
                    configuration.models[language] = value.isEmpty ? nil : FilePath(value)
                } else if let language = Language.supported.first(where: { $0.lexiconKey == key }) {
                    configuration.lexicons[language] = value.isEmpty ? nil : FilePath(value)
                } else {
                    throw configurationError(path, lineNumber, "unknown key `\(key)`")
                }
            }
        }
        return configuration
    }

    private static func configurationError(_ path: String, _ line: Int, _ reason: String) -> SpoolError {
        SpoolError(stage: .configuration, path: "\(path):\(line)", reason: reason, disposition: .rejected)
    }

    private static func parseBool(_ value: String) -> Bool? {
        switch value.lowercased() {
        case "yes", "true", "on", "1": true
        case "no", "false", "off", "0": false
        default: nil
        }
    }

    private static func seconds(_ value: String, _ fail: (String) -> SpoolError) throws(SpoolError) -> Double {
        guard let n = Double(value), n >= 0, n.isFinite else { throw fail("expected seconds, found `\(value)`") }
        return n
    }

    /// A number of days (fractions allowed), or `never` (kept forever).
    private static func days(_ value: String, _ fail: (String) -> SpoolError) throws(SpoolError) -> Double? {
        if value.lowercased() == "never" { return nil }
        guard let n = Double(value), n > 0, n.isFinite else { throw fail("expected a number of days or `never`, found `\(value)`") }
        return n
    }

    private static func count(_ value: String, _ fail: (String) -> SpoolError) throws(SpoolError) -> Int {
        guard let n = Int(value), n > 0 else { throw fail("expected a positive number, found `\(value)`") }
        return n
    }

    /// Sizes take an optional K, M or G suffix (powers of 1024).
    static func size(_ value: String, _ fail: (String) -> SpoolError) throws(SpoolError) -> Int {
        var digits = value.uppercased()
        var factor = 1
        if let last = digits.last, let shift = ["K": 10, "M": 20, "G": 30][String(last)] {
            factor = 1 << shift
            digits.removeLast()
        }
        guard let n = Int(digits.trimmingSpaces), n > 0 else { throw fail("expected a size such as 64M, found `\(value)`") }
        return n * factor
    }
}

extension StringProtocol {
    var trimmingSpaces: Substring {
        let scalars = Substring(self)
        guard let first = scalars.firstIndex(where: { !$0.isWhitespace }) else { return "" }
        let last = scalars.lastIndex(where: { !$0.isWhitespace }) ?? first
        return scalars[first...last]
    }
}
