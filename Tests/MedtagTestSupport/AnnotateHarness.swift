import Foundation
import MedtagFormats
import MedtagModel
import MedtagPipeline
import MedtagTagging
import Synchronization

/// `medtag annotate` run in the test process: the ``FolderAnnotation`` the command makes of its
/// options (same router, pool, limits and observers, less the terminal's progress line), written
/// into a folder.
public enum AnnotateHarness {
    /// Routers by model and language, loaded once per test process.
    private static let routers = Mutex<[String: LanguageRouter]>([:])

    /// The router `medtag annotate --model MODEL --language LANGUAGE` loads, from this process's
    /// environment with `environment`'s variables added, as the command reads it; `model` nil is the
    /// best model installed per language.
    public static func router(model: URL?, language: LanguageSetting? = nil, environment: [String: String] = [:]) throws -> LanguageRouter {
        let key = "\(model?.path ?? "-")|\(language.map { "\($0)" } ?? "-")|\(environment.sorted { $0.key < $1.key })"
        if let router = routers.withLock({ $0[key] }) { return router }
        let variables = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let catalog = try ModelCatalog.resolve(.init(model: model?.path), environment: variables)
        let router = try LanguageRouter.load(setting: language, catalog: catalog)
        routers.withLock { $0[key] = router }
        return router
    }

    /// Annotates `inputs` (files, folders, archives) into `out` (a new temporary folder when nil,
    /// left for the caller to remove) as `medtag annotate` does with the same options and
    /// `environment`'s variables set; `model` nil is the command's default, the best model installed
    /// for each document's language.
    public static func run(
        _ inputs: [URL], out: URL? = nil, model: URL? = Paths.gazetteerModel, language: LanguageSetting? = nil,
        formats: [OutputFormat] = FolderAnnotation.Options.defaultFormats, scheme: TagScheme = .bio,
        workers: Int = ProcessInfo.processInfo.activeProcessorCount, shard: Shard? = nil,
        pieceBytes: Int = FolderAnnotation.Options.defaultPieceBytes, environment: [String: String] = [:]
    ) throws -> AnnotateRun {
        let output = try out ?? temporaryDirectory("annotate")
        let router = try router(model: model, language: language, environment: environment)
        let paths = inputs.map(\.path)
        let files = try FolderAnnotation.inputs(paths)
        let warnings = Mutex<[String]>([])
        let options = FolderAnnotation.Options(
            inputs: paths, output: output, formats: formats, conllScheme: scheme, shard: shard, pieceBytes: pieceBytes, workers: workers)
        let annotation = try FolderAnnotation(options, router: router, version: "test", warn: { message in warnings.withLock { $0.append(message) } })
        let seconds = try annotation.annotate(files)
        let folder = annotation.shardFolder ?? output
        return AnnotateRun(
            output: output, folder: folder, summary: annotation.summaryLine(seconds: seconds, folder: folder.path), documents: annotation.documents,
            failures: annotation.failures, warnings: warnings.withLock { $0 })
    }
}

/// What an in-process ``AnnotateHarness`` run left: its folder, its summary line and what it warned of.
public struct AnnotateRun: Sendable {
    /// The output folder given (or made).
    public let output: URL
    /// Where the results are: the shard's folder for a shard, else ``output``.
    public let folder: URL
    /// The line `medtag annotate` prints at the end (`annotated N of M documents with …`).
    public let summary: String
    /// Documents of the run (the shard's), annotated or not, and those not annotated.
    public let documents: Int
    public let failures: Int
    /// Each problem reported, as `medtag annotate` shows it on standard error less its `medtag: ` prefix.
    public let warnings: [String]

    /// The exit status `medtag annotate` gives the run: 1 when a document was not annotated.
    public var status: Int32 { failures > 0 ? 1 : 0 }
    /// The warnings, one a line, to search as a command's standard error.
    public var warningText: String { warnings.map { $0 + "\n" }.joined() }

    /// The bytes of a result file, by its path under ``folder``; nil when there is none.
    public func data(_ path: String) -> Data? { FileManager.default.contents(atPath: folder.appendingPathComponent(path).path) }

    /// The text of a result file, by its path under ``folder``.
    public func text(_ path: String) throws -> String { try String(contentsOf: folder.appendingPathComponent(path), encoding: .utf8) }

    /// Every file under ``folder`` by path, directories left out.
    public func files() throws -> [String: Data] {
        var files: [String: Data] = [:]
        for name in try FileManager.default.subpathsOfDirectory(atPath: folder.path) {
            var isDirectory: ObjCBool = false
            let url = folder.appendingPathComponent(name)
            if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), !isDirectory.boolValue { files[name] = try Data(contentsOf: url) }
        }
        return files
    }
}
