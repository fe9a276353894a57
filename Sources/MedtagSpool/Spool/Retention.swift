#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import Logging
import Synchronization
import SystemPackage

/// How long the spool keeps what it is done with, in days; nil keeps it forever.
public struct RetentionPolicy: Sendable, Equatable {
    /// Processed inputs in `done/` and refused ones (with their `.error.json`) in `failed/`.
    public var inputDays: Double? = 30
    /// Results in `outbox/` and the daily logs (`outbox/logs/`, or `log_dir`).
    public var outboxDays: Double? = 90

    /// A policy in days; nil keeps that part of the spool forever.
    public init(inputDays: Double? = 30, outboxDays: Double? = 90) {
        self.inputDays = inputDays
        self.outboxDays = outboxDays
    }
}

/// Deletes what has been in `done/`, `failed/` and `outbox/` (and the daily logs) longer than the
/// retention policy says, and nothing younger.
///
/// An entry's age counts from the later of its modification and its status change time: an input
/// moved into `done/` by a rename keeps the modification time its producer gave it (possibly years
/// ago), but the rename sets its change time, so it is kept its full retention from that moment.
/// Files are removed one by one; a folder is removed once it is empty and was old before the sweep.
/// Names starting with `.` are left alone. Each file is first renamed into a scratch folder and
/// removed only if it is still the file that was judged old (a newer input or result of the same
/// name that replaced it meanwhile is put back), so a sweep never deletes a file that arrived during it.
public enum Retention {
    /// Seconds between two sweeps of the daemon.
    public static let interval: Double = 3600

    /// What one sweep removed.
    public struct Report: Sendable, Equatable {
        /// Files removed from `done/` and `failed/`.
        public var inputs = 0
        /// Files removed from `outbox/` (results) and daily logs.
        public var outbox = 0
        /// Empty folders removed.
        public var folders = 0
        /// Bytes freed.
        public var bytes = 0
        /// Entries that could not be removed, with the reason.
        public var errors: [String] = []
    }

    /// Sweeps the spool once.
    /// - Parameters:
    ///   - scratch: a folder on the spool's filesystem (the daemon's `tmp/<instance>`), where files
    ///     are moved before they are removed.
    ///   - now: seconds since the epoch; anything changed after `now - days` is kept.
    public static func sweep(
        layout: SpoolLayout, logDirectory: FilePath?, policy: RetentionPolicy, scratch: FilePath, now: Double
    ) -> Report {
        var report = Report()
        let aside = scratch.appending(".expired")
        if let days = policy.inputDays {
            let cutoff = now - days * 86_400
            for folder in [layout.done, layout.failed] {
                sweep(folder, cutoff: cutoff, aside: aside, count: \.inputs, report: &report)
            }
        }
        if let days = policy.outboxDays {
            let cutoff = now - days * 86_400
            sweep(layout.outbox, cutoff: cutoff, aside: aside, count: \.outbox, report: &report)
            if let logs = logDirectory, !logs.starts(with: layout.outbox) {
                // A folder of the administrator's: only medtag's own daily logs are removed there.
                sweep(logs, cutoff: cutoff, aside: aside, onlyLogs: true, count: \.outbox, report: &report)
            }
        }
        try? Sys.removeTree(aside)
        return report
    }

    /// Sweeps the spool and logs what was removed (one line; the reasons when something could not be).
    public static func sweepAndLog(
        layout: SpoolLayout, logDirectory: FilePath?, policy: RetentionPolicy, scratch: FilePath, logger: Logger
    ) {
        guard policy.inputDays != nil || policy.outboxDays != nil else { return }
        let report = sweep(layout: layout, logDirectory: logDirectory, policy: policy, scratch: scratch, now: Clock.now)
        let metadata: Logger.Metadata = [
            "medtag.retention.inputs_removed": "\(report.inputs)", "medtag.retention.outbox_removed": "\(report.outbox)",
            "medtag.retention.folders_removed": "\(report.folders)", "medtag.retention.bytes_freed": "\(report.bytes)",
            "medtag.retention.retention_days": "\(policy.inputDays.map { "\($0)" } ?? "never")",
            "medtag.retention.outbox_retention_days": "\(policy.outboxDays.map { "\($0)" } ?? "never")",
        ]
        if report.inputs + report.outbox + report.folders > 0 {
            logger.notice("retention: removed what is older than the configured days", metadata: metadata)
        } else {
            logger.debug("retention: nothing old enough to remove", metadata: metadata)
        }
        for error in report.errors.prefix(20) {
            logger.error("retention: cannot remove an expired entry", metadata: ["medtag.error": "\(error)"])
        }
    }

    private static func sweep(
        _ folder: FilePath, cutoff: Double, aside: FilePath, onlyLogs: Bool = false, count: WritableKeyPath<Report, Int>,
        report: inout Report
    ) {
        guard let entries = try? Sys.list(folder) else { return }
        for entry in entries where !entry.name.hasPrefix(".") {
            let path = folder.appending(entry.name)
            guard let st = try? Sys.lstat(path) else { continue }
            let old = changed(st) < cutoff
            if (st.st_mode & S_IFMT) == S_IFDIR {
                if onlyLogs { continue }
                sweep(path, cutoff: cutoff, aside: aside, count: count, report: &report)
                // Old before this sweep (emptying it made it look new): removed if it is empty now.
                if old {
                    do {
                        try Sys.rmdir(path)
                        report.folders += 1
                    } catch .directoryNotEmpty, .noSuchFileOrDirectory {
                    } catch {
                        report.errors.append("\(path): \(error)")
                    }
                }
                continue
            }
            guard old else { continue }
            if onlyLogs && !(entry.name.hasPrefix("medtag-") && entry.name.hasSuffix(".jsonl")) { continue }
            do {
                guard try remove(path, judged: st, aside: aside) else { continue }
                report[keyPath: count] += 1
                report.bytes += Int(st.st_size)
            } catch .noSuchFileOrDirectory {
            } catch {
                report.errors.append("\(path): \(error)")
            }
        }
    }

    /// Renames `path` aside and removes it if it is still the file judged old (same inode); a file
    /// that replaced it meanwhile is put back (unless yet another one took its place since) and
    /// false returned.
    static func remove(_ path: FilePath, judged: stat, aside: FilePath) throws(Errno) -> Bool {
        _ = try Sys.mkdirs(aside)
        let moved = aside.appending("expired")
        try Sys.rename(path, moved)
        let now = try Sys.lstat(moved)
        if now.st_ino == judged.st_ino && now.st_dev == judged.st_dev {
            try Sys.unlink(moved)
            return true
        }
        do { try Sys.renameNoReplace(moved, path) } catch .fileExists { try Sys.unlink(moved) }
        return false
    }

    /// The later of the modification and status change times, in seconds since the epoch.
    private static func changed(_ st: stat) -> Double {
        max(
            Double(st.st_mtim.tv_sec) + Double(st.st_mtim.tv_nsec) / 1e9,
            Double(st.st_ctim.tv_sec) + Double(st.st_ctim.tv_nsec) / 1e9)
    }
}

/// Runs the daemon's retention sweeps off its work loop, one at a time, every ``Retention/interval``.
final class RetentionSchedule: Sendable {
    private static let queue = DispatchQueue(label: "medtag-retention", qos: .utility)
    private let next = Mutex<Double>(0)
    private let running = Mutex<Bool>(false)

    /// Starts a sweep when one is due and none is running; `now` is monotonic seconds.
    func runIfDue(
        now: Double, layout: SpoolLayout, configuration: SpoolConfiguration, scratch: FilePath, logger: Logger
    ) {
        guard next.withLock({ due in
            guard now >= due else { return false }
            due = now + Retention.interval
            return true
        }) else { return }
        guard running.withLock({ busy in
            if busy { return false }
            busy = true
            return true
        }) else { return }
        let policy = configuration.retention
        let logs = configuration.logDirectory
        Self.queue.async {
            Retention.sweepAndLog(layout: layout, logDirectory: logs, policy: policy, scratch: scratch, logger: logger)
            self.running.withLock { $0 = false }
        }
    }
}
