import Foundation
import SystemPackage

/// A snapshot of a spool for `medtag status`: how many files wait where, and the latest failures.
public struct SpoolStatus: Sendable {
    /// A failed input and why, from its `<name>.error.json`.
    public struct Failure: Sendable {
        public var input: String
        public var reason: String
        public var stage: String
        public var time: String
    }

    /// How far a daemon is with a claimed input, as it records it while working.
    public struct Progress: Sendable {
        public var instance: String
        public var input: String
        /// Documents finished (archive members; 0 for a single document still in progress).
        public var documents: Int
        /// Bytes of the input read, of `bytes`.
        public var read: Int
        public var bytes: Int
    }

    /// Files waiting in `inbox/` (ignored names not counted).
    public var inbox: Int
    /// Files claimed by daemons, per instance.
    public var work: [String: Int]
    /// Result folders in `outbox/` (the log folder not counted).
    public var outbox: Int
    public var done: Int
    public var failed: Int
    /// The most recent failures, newest first.
    public var lastErrors: [Failure]
    /// Daemons whose lock is held right now.
    public var runningInstances: [String]
    /// Work folders holding inputs whose owner (a daemon or `medtag ingest`) is no longer running.
    public var abandonedInstances: [String] {
        work.keys.filter { (work[$0] ?? 0) > 0 && !runningInstances.contains($0) }.sorted()
    }
    /// Claimed inputs whose daemon recorded how far it is.
    public var inProgress: [Progress] = []

    /// Reads the state of the spool at `root`.
    public static func gather(root: FilePath, lastErrorCount: Int = 5) -> SpoolStatus {
        let layout = SpoolLayout(root: root)
        var work: [String: Int] = [:]
        var running: [String] = []
        var progress: [Progress] = []
        for entry in (try? Sys.list(layout.work)) ?? [] where !entry.name.hasPrefix(".") {
            let folder = layout.work.appending(entry.name)
            guard Sys.isDirectory(folder) else { continue }
            let files = SpoolLayout.files(under: folder)
            work[entry.name] = files.count
            for file in files {
                guard let text = Sys.progress(folder.appending(file)) else { continue }
                let numbers = text.split(separator: " ").compactMap { Int($0) }
                guard numbers.count == 3 else { continue }
                progress.append(Progress(instance: entry.name, input: file, documents: numbers[0], read: numbers[1], bytes: numbers[2]))
            }
            if let fd = try? Sys.open(folder.appending(".lock"), flags: O_RDONLY | O_CLOEXEC) {
                if (try? Sys.tryLock(fd)) == false { running.append(entry.name) }
                close(fd)
            }
        }
        let failedFiles = SpoolLayout.files(under: layout.failed)
        var failures: [Failure] = []
        let decoder = JSONDecoder()
        for file in failedFiles where file.hasSuffix(".error.json") {
            guard let bytes = try? Sys.readFile(layout.failed.appending(file), limit: 1 << 20),
                let report = try? decoder.decode(ErrorReport.self, from: Data(bytes))
            else { continue }
            failures.append(Failure(input: report.input, reason: report.reason, stage: report.stage, time: report.time))
        }
        failures.sort { $0.time > $1.time }
        let outboxCount = ((try? Sys.list(layout.outbox)) ?? []).filter { !$0.name.hasPrefix(".") && $0.name != "logs" }.count
        return SpoolStatus(
            inbox: layout.scanInbox().count, work: work, outbox: outboxCount,
            done: SpoolLayout.files(under: layout.done).count,
            failed: failedFiles.filter { !$0.hasSuffix(".error.json") }.count,
            lastErrors: Array(failures.prefix(lastErrorCount)), runningInstances: running.sorted(),
            inProgress: progress.sorted { ($0.instance, $0.input) < ($1.instance, $1.input) })
    }

    /// The report `medtag status` prints.
    public func render(root: FilePath) -> String {
        var lines = ["spool    \(root)"]
        let working = work.values.reduce(0, +)
        lines.append("inbox    \(inbox)")
        lines.append("work     \(working)" + (work.isEmpty ? "" : "  (" + work.keys.sorted().map { "\($0): \(work[$0] ?? 0)" }.joined(separator: ", ") + ")"))
        for item in inProgress {
            let percent = item.bytes > 0 ? min(100, item.read * 100 / item.bytes) : 0
            let documents = item.documents > 0 ? "\(item.documents) document\(item.documents == 1 ? "" : "s") done, " : ""
            let owner = runningInstances.contains(item.instance) ? item.instance : "\(item.instance), not running"
            lines.append("  \(item.input) (\(owner)): \(documents)\(percent)% read (\(item.read) of \(item.bytes) bytes)")
        }
        for instance in abandonedInstances {
            let count = work[instance] ?? 0
            lines.append(
                "  \(instance) is not running: its \(count == 1 ? "input is" : "\(count) inputs are") taken over by the next medtag ingest or a daemon's next scan")
        }
        lines.append("outbox   \(outbox)")
        lines.append("done     \(done)")
        lines.append("failed   \(failed)")
        lines.append("daemons  " + (runningInstances.isEmpty ? "none running" : runningInstances.joined(separator: ", ")))
        if lastErrors.isEmpty {
            lines.append("no errors")
        } else {
            lines.append("last errors:")
            for failure in lastErrors {
                lines.append("  \(failure.time)  \(failure.input)  [\(failure.stage)] \(failure.reason)")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
