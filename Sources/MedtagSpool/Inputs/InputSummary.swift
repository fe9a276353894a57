import Foundation
import MedtagFormats
import MedtagPipeline
import SystemPackage

/// What a job tells as it works, for a progress line.
public struct JobProgress: Sendable {
    /// Documents finished and tokens annotated since the last call.
    public var annotated: @Sendable (_ documents: Int, _ tokens: Int) -> Void
    /// The share of the run's input bytes done (0…1), after each input.
    public var inputsDone: @Sendable (_ fraction: Double) -> Void

    public init(
        annotated: @escaping @Sendable (_ documents: Int, _ tokens: Int) -> Void,
        inputsDone: @escaping @Sendable (_ fraction: Double) -> Void
    ) {
        self.annotated = annotated
        self.inputsDone = inputsDone
    }
}

extension Ingest {
    /// Writes one summary page for a whole ingest run, `summary-ingest-<time>.html` in the log
    /// folder: every input's figures added up, links to each input's own page, failed inputs with
    /// their reason. Returns its path.
    public static func writeRunSummary(
        _ results: [JobResult], configuration: SpoolConfiguration, seconds: Double, version: String
    ) throws(SpoolError) -> FilePath {
        let layout = SpoolLayout(root: configuration.spool)
        let folder = configuration.logDirectory ?? layout.outbox.appending("logs")
        let time = Timestamp.iso8601()
        var run = RunSummary(title: "medtag ingest, \(results.count) input\(results.count == 1 ? "" : "s")")
        run.seconds = seconds
        run.finished = time
        for result in results {
            guard let summary = result.summary else {
                run.refuse(result.relativePath, reason: result.error?.description ?? result.outcome.rawValue)
                continue
            }
            let inputFolder = relative(from: folder, to: layout.outbox.appending(result.relativePath))
            run.add(summary, named: result.relativePath, folder: inputFolder)
            run.links.append(RunSummary.Link(title: "\(result.relativePath): summary", href: inputFolder + "/" + SummaryPage.fileName))
        }
        let name = "summary-ingest-" + time.prefix(19).replacingOccurrences(of: ":", with: "-") + "Z.html"
        let path = folder.appending(name)
        do {
            for created in try Sys.mkdirs(folder) { try Sys.fsync(created.removingLastComponent(), directory: true) }
            try Sys.writeFileAtomically(path, SummaryPage.render(run, version: version))
        } catch {
            throw SpoolError(stage: .publish, path: path.string, reason: "cannot write the run's summary page", errno: error)
        }
        return path
    }

    /// The path of `target` seen from the folder `base` (`../outbox/a.zip`); both absolute, or both relative to the same folder.
    static func relative(from base: FilePath, to target: FilePath) -> String {
        func absolute(_ path: FilePath) -> FilePath {
            path.isAbsolute ? path : FilePath(FileManager.default.currentDirectoryPath).pushing(path)
        }
        let from = absolute(base).lexicallyNormalized().components.map(\.string)
        let to = absolute(target).lexicallyNormalized().components.map(\.string)
        var common = 0
        while common < min(from.count, to.count), from[common] == to[common] { common += 1 }
        let parts = Array(repeating: "..", count: from.count - common) + to[common...]
        return parts.isEmpty ? "." : parts.joined(separator: "/")
    }
}
