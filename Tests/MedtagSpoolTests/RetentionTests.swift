import Foundation
import SystemPackage
import Testing

#if canImport(Glibc)
import Glibc
#endif

@testable import MedtagSpool
import MedtagTestSupport

@Suite("retention of done/, failed/, outbox/ and the daily logs")
struct RetentionTests {
    private static let day = 86_400.0

    /// A spool with one file per case; `modified` sets a file's modification time (its change
    /// time is always now: the moment the test made it).
    private func make(_ layout: SpoolLayout, _ relative: String, in folder: FilePath, bytes: Int = 10, modified: Double? = nil) throws {
        let path = folder.appending(relative)
        try FileManager.default.createDirectory(atPath: path.removingLastComponent().string, withIntermediateDirectories: true)
        try Data(repeating: 0x61, count: bytes).write(to: URL(fileURLWithPath: path.string))
        if let modified {
            try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSince1970: modified)], ofItemAtPath: path.string)
        }
    }

    private func exists(_ path: FilePath) -> Bool { FileManager.default.fileExists(atPath: path.string) }

    @Test("nothing younger than the setting goes; older inputs, results and logs do, counted and logged in the report")
    func sweepByAge() throws {
        let root = FilePath(FileManager.default.temporaryDirectory.appendingPathComponent("medtag-retention-\(UUID().uuidString)").path)
        defer { try? FileManager.default.removeItem(atPath: root.string) }
        let layout = SpoolLayout(root: root.appending("spool"))
        try layout.create()
        let logs = root.appending("logs")
        let now = Date().timeIntervalSince1970
        try make(layout, "old.txt", in: layout.done, bytes: 100)
        // Produced years ago, moved into done/ now: its age counts from the move.
        try make(layout, "ward3/produced-long-ago.txt", in: layout.done, bytes: 50, modified: now - 3 * 365 * Self.day)
        try make(layout, "changed-later.txt", in: layout.done, modified: now + 25 * Self.day)
        try make(layout, ".hidden", in: layout.done)
        try make(layout, "bad.txt", in: layout.failed, bytes: 7)
        try make(layout, "bad.txt.error.json", in: layout.failed, bytes: 3)
        try make(layout, "note.txt/note.ann", in: layout.outbox, bytes: 20)
        try make(layout, "note.txt/medtag-report.json", in: layout.outbox, bytes: 5)
        try make(layout, "ward3/fresh.txt/fresh.ann", in: layout.outbox, modified: now + 55 * Self.day)
        try make(layout, "logs/medtag-2026-01-01.jsonl", in: layout.outbox, bytes: 30)
        try make(layout, "medtag-2026-01-01.jsonl", in: logs, bytes: 40)
        try make(layout, "notes-of-the-admin.txt", in: logs)
        let policy = RetentionPolicy(inputDays: 30, outboxDays: 60)
        let scratch = layout.tmp.appending("test")

        // Ten days on, everything is younger than either setting, even what was produced years ago.
        var report = Retention.sweep(layout: layout, logDirectory: logs, policy: policy, scratch: scratch, now: now + 10 * Self.day)
        #expect(report == Retention.Report())
        #expect(exists(layout.done.appending("ward3/produced-long-ago.txt")))

        // Forty days on: inputs in done/ and failed/ older than 30 days go, results (60 days) stay.
        report = Retention.sweep(layout: layout, logDirectory: logs, policy: policy, scratch: scratch, now: now + 40 * Self.day)
        #expect(report.inputs == 4)
        #expect(report.outbox == 0)
        #expect(report.bytes == 100 + 50 + 7 + 3)
        #expect(report.errors.isEmpty)
        #expect(!exists(layout.done.appending("old.txt")))
        #expect(!exists(layout.done.appending("ward3/produced-long-ago.txt")))
        #expect(!exists(layout.failed.appending("bad.txt")) && !exists(layout.failed.appending("bad.txt.error.json")))
        #expect(exists(layout.done.appending("changed-later.txt")), "changed 15 days before the sweep: kept")
        #expect(exists(layout.done.appending(".hidden")), "dot-names are left alone")
        #expect(exists(layout.outbox.appending("note.txt/note.ann")))
        #expect(exists(layout.done), "the spool's own folders stay")

        // Sixty-one days on: results and logs older than 60 days go, with the folders they leave empty.
        report = Retention.sweep(layout: layout, logDirectory: logs, policy: policy, scratch: scratch, now: now + 61 * Self.day)
        #expect(report.outbox == 4)
        #expect(report.inputs == 1)
        #expect(report.bytes == 20 + 5 + 30 + 40 + 10, "changed-later.txt is now 36 days old")
        #expect(!exists(layout.outbox.appending("note.txt")), "the emptied result folder is gone")
        #expect(!exists(layout.outbox.appending("logs/medtag-2026-01-01.jsonl")))
        #expect(!exists(logs.appending("medtag-2026-01-01.jsonl")))
        #expect(exists(logs.appending("notes-of-the-admin.txt")), "in log_dir only medtag's daily logs are removed")
        #expect(exists(layout.outbox.appending("ward3/fresh.txt/fresh.ann")), "changed 6 days before the sweep: kept")
        #expect(exists(layout.outbox) && exists(layout.failed))
        #expect(!exists(scratch.appending(".expired")), "the scratch folder is cleaned up")

        // `never` keeps everything.
        report = Retention.sweep(
            layout: layout, logDirectory: logs, policy: RetentionPolicy(inputDays: nil, outboxDays: nil), scratch: scratch,
            now: now + 1000 * Self.day)
        #expect(report == Retention.Report())
        #expect(exists(layout.outbox.appending("ward3/fresh.txt/fresh.ann")))
    }

    @Test("a file that replaced the one judged old is put back, not deleted")
    func replacedMeanwhile() throws {
        let root = FilePath(FileManager.default.temporaryDirectory.appendingPathComponent("medtag-retention-\(UUID().uuidString)").path)
        defer { try? FileManager.default.removeItem(atPath: root.string) }
        let layout = SpoolLayout(root: root)
        try layout.create()
        let path = layout.done.appending("note.txt")
        try Data("old".utf8).write(to: URL(fileURLWithPath: path.string))
        let judged = try Sys.lstat(path)
        // A newer input of the same name arrives by rename between the judgement and the removal.
        let newer = layout.done.appending(".incoming")
        try Data("new".utf8).write(to: URL(fileURLWithPath: newer.string))
        try Sys.rename(newer, path)
        #expect(try Retention.remove(path, judged: judged, aside: layout.tmp.appending("aside")) == false)
        #expect(try String(contentsOfFile: path.string, encoding: .utf8) == "new")
        // The file judged old is removed.
        #expect(try Retention.remove(path, judged: try Sys.lstat(path), aside: layout.tmp.appending("aside")) == true)
        #expect(!exists(path))
    }

    @Test("settings: days with fractions or `never`; defaults 30 and 90 days")
    func settings() throws {
        #expect(SpoolConfiguration().retention == RetentionPolicy(inputDays: 30, outboxDays: 90))
        let configuration = try SpoolConfiguration.parse("retention_days = 7.5\noutbox_retention_days = never")
        #expect(configuration.retention == RetentionPolicy(inputDays: 7.5, outboxDays: nil))
        for bad in ["retention_days = 0", "outbox_retention_days = soon", "retention_days = -1"] {
            #expect {
                try SpoolConfiguration.parse(bad)
            } throws: { error in
                "\(error)".contains("expected a number of days or `never`")
            }
        }
        let shipped = try SpoolConfiguration.load(from: .init(Paths.packageRoot.appendingPathComponent("etc/medtag/medtag.conf").path))
        #expect(shipped.retention == SpoolConfiguration().retention, "the shipped file states the defaults")
    }

    @Test("the daemon sweeps at start and logs what it removed")
    func daemonSweeps() throws {
        // 0.00003 days is 2.6 s: long enough for the files made just before the start to expire.
        let spool = try TestSpool(config: "retention_days = 0.00003\noutbox_retention_days = never")
        try FileManager.default.createDirectory(at: spool.done, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: spool.outbox.appendingPathComponent("old.txt"), withIntermediateDirectories: true)
        try Data("x".utf8).write(to: spool.done.appendingPathComponent("old.txt"))
        try Data("x".utf8).write(to: spool.outbox.appendingPathComponent("old.txt/old.ann"))
        pause(3)  // the files grow older than the 2.6 s retention
        let daemon = try MedtagProcess.serve(spool)
        try waitUntil("the daemon logs its retention sweep", timeout: 20) { daemon.log.contains("retention: removed") }
        #expect(!FileManager.default.fileExists(atPath: spool.done.appendingPathComponent("old.txt").path))
        #expect(daemon.log.contains("medtag.retention.inputs_removed=1"), "\(daemon.log)")
        #expect(FileManager.default.fileExists(atPath: spool.outbox.appendingPathComponent("old.txt/old.ann").path), "outbox: never")
        daemon.signal(SIGTERM)
        #expect(try daemon.waitForExit() == 0)
    }

    @Test("medtag ingest (the nightly unit) sweeps after its run and logs it at notice level")
    func ingestSweeps() throws {
        let spool = try TestSpool(config: "retention_days = 0.00003\noutbox_retention_days = never")
        try FileManager.default.createDirectory(at: spool.done, withIntermediateDirectories: true)
        try Data("x".utf8).write(to: spool.done.appendingPathComponent("old.txt"))
        pause(3)  // the file grows older than the 2.6 s retention
        let note = spool.root.appendingPathComponent("nota.txt")
        try Data(spanishNote.utf8).write(to: note)
        let run = try runMedtag(["ingest", "--config", spool.configFile.path, "--log-level", "notice", note.path], in: spool)
        #expect(run.status == 0, "\(run.output)")
        #expect(!FileManager.default.fileExists(atPath: spool.done.appendingPathComponent("old.txt").path))
        #expect(run.output.contains("retention: removed") && run.output.contains("medtag.retention.inputs_removed="), "\(run.output)")
        #expect(FileManager.default.fileExists(atPath: spool.outbox.appendingPathComponent("nota.txt/nota.ann").path))
    }
}
