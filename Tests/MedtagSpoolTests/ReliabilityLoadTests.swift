import Foundation
import Testing

#if canImport(Glibc)
import Glibc
import MedtagTestSupport
#endif

/// Load: an inotify queue overflow survived by rescanning, thousands of files at once, one huge file.
/// The figures (throughput, peak memory) are printed.
@Suite("reliability: load", .serialized)
struct ReliabilityLoadTests {
    /// Drops `count` notes as fast as possible (dot-name, then rename) and returns their names.
    static func dropMany(_ spool: TestSpool, count: Int, prefix: String) throws -> [String] {
        let names = (0..<count).map { String(format: "\(prefix)-%05d.txt", $0) }
        for name in names { try spool.drop(name, text: spanishNote + name) }
        return names
    }

    @Test(
        "an inotify queue overflow is survived by rescanning the inbox",
        .enabled(
            if: InotifyQueueLimit.isWritable,
            "\(InotifyQueueLimit.path) is not writable here; `make stress` overflows the default queue instead"))
    func queueOverflow() throws {
        // The periodic scan is far away, so only the overflow's rescan can find the files.
        let spool = try TestSpool(config: "rescan_interval = 600")
        let limit = try #require(InotifyQueueLimit(lowerTo: 32))
        // The limit is taken when the daemon creates its inotify instance; restored right after.
        let daemon: MedtagProcess
        do {
            defer { limit.restore() }
            daemon = try MedtagProcess.serve(spool)
        }
        // The watcher is paused (the whole daemon stopped) while 200 files arrive: 600 events for a queue of 32.
        daemon.signal(SIGSTOP)
        let names = try Self.dropMany(spool, count: 200, prefix: "desborde")
        daemon.signal(SIGCONT)
        try waitUntil("every file is done after the overflow", timeout: 90) { spool.files(in: spool.done).count == names.count }
        #expect(daemon.log.contains("inotify queue overflowed; rescanning the inbox"))
        #expect(spool.files(in: spool.done) == names)
        print("inotify overflow: max_queued_events lowered to 32 for the daemon's start (restored to \(limit.original)), daemon stopped with SIGSTOP while 200 files (600 events) arrived; overflow logged, all 200 done")
        daemon.signal(SIGTERM)
        #expect(try daemon.waitForExit() == 0)
    }

    @Test("a backlog whose scan takes longer than rescan_interval does not stall new work (make stress)", .enabled(if: stressEnabled, "long; run by `make stress` (MEDTAG_STRESS=1)"))
    func slowScanDoesNotStall() throws {
        // 30,000 files that cannot be claimed yet (modified "tomorrow": they never settle), so every
        // periodic scan lists them all; in a debug build that takes longer than rescan_interval = 1.
        // The next scan used to be due before the last one ended: the loop then did nothing but scan.
        let spool = try TestSpool()
        try python(
            """
            import time
            future = time.time() + 86400
            for i in range(30000):
                path = os.path.join(out, "futuro-%05d.txt" % i)
                open(path, "w").write("paracetamol\\n")
                os.utime(path, (future, future))
            """, spool.inbox)
        let startup = Date()
        let daemon = try MedtagProcess.serveNow(spool)
        // READY comes before the first scan, which runs off the work loop like the periodic ones.
        try waitUntil("the daemon is ready", timeout: 240) { daemon.log.contains("ready: watching the inbox") }
        #expect(Date().timeIntervalSince(startup) < 30, "READY does not wait for the 30,000-file scan")
        let readySeconds = Date().timeIntervalSince(startup)
        pause(3)  // a few periodic scans
        let names = (0..<10).map { "nueva-\($0).txt" }
        let started = Date()
        for name in names { try spool.drop(name, text: spanishNote) }
        try waitUntil("new files are done while the backlog is scanned", timeout: 240) {
            Set(names).isSubset(of: spool.files(in: spool.done))
        }
        print(
            String(
                format: "slow scans: ready after %.1f s with 30,000 files waiting; 10 new files done in %.1f s beside them",
                readySeconds, Date().timeIntervalSince(started)))
        daemon.signal(SIGTERM)
        #expect(try daemon.waitForExit(timeout: 60) == 0)
    }

    @Test("10,000 small files at once, with the watcher paused so the default queue overflows (make stress)", .enabled(if: stressEnabled, "long; run by `make stress` (MEDTAG_STRESS=1)"))
    func tenThousandFiles() throws {
        let spool = try TestSpool(config: "rescan_interval = 600")
        let daemon = try MedtagProcess.serve(spool)
        let pid = daemon.process.processIdentifier
        let baseline = peakResidentMiB(pid) ?? 0
        // Three events per file (create and close of the dot-name, the rename) against the default
        // limit of 16,384: the queue overflows while the daemon is stopped.
        daemon.signal(SIGSTOP)
        let names = try Self.dropMany(spool, count: 10_000, prefix: "carga")
        let started = Date()
        daemon.signal(SIGCONT)
        var samples: [Double] = []
        try waitUntil("all 10,000 files are done", timeout: 1800) {
            if let now = residentMiB(pid) { samples.append(now) }
            return spool.files(in: spool.done).count == names.count
        }
        let seconds = Date().timeIntervalSince(started)
        let peak = peakResidentMiB(pid) ?? 0
        #expect(daemon.log.contains("inotify queue overflowed"), "the default queue overflowed")
        #expect(spool.files(in: spool.done) == names)
        #expect(spool.files(in: spool.failed).isEmpty)
        #expect(peak < 256, "memory stays flat: peak \(peak) MiB")
        let sorted = samples.sorted()
        print(
            String(
                format: "10,000 files: %.1f s, %.1f files/s; RSS at start %.0f MiB, median %.0f MiB, peak %.0f MiB; queue overflow forced by SIGSTOP during the drop (max_queued_events %@)",
                seconds, Double(names.count) / seconds, baseline, sorted.isEmpty ? 0 : sorted[sorted.count / 2], peak,
                ((try? String(contentsOfFile: InotifyQueueLimit.path, encoding: .utf8)) ?? "?").trimmingCharacters(in: .whitespacesAndNewlines)))
        daemon.signal(SIGTERM)
        #expect(try daemon.waitForExit() == 0)
    }

    @Test("a 200 MB text file is annotated piece by piece in bounded memory (make stress)", .enabled(if: stressEnabled, "long; run by `make stress` (MEDTAG_STRESS=1)"))
    func twoHundredMegabytes() throws {
        let spool = try TestSpool(config: "shutdown_grace = 1")
        let line = "Varón de 58 años en tratamiento con enalapril 20 mg/día y paracetamol 1 g cada 8 horas. La inmunohistoquímica fue positiva para S-100 y vimentina.\n"
        let target = 200 << 20
        let copies = target / line.utf8.count
        let temporary = spool.inbox.appendingPathComponent(".grande.txt.part")
        _ = FileManager.default.createFile(atPath: temporary.path, contents: nil)
        let handle = try FileHandle(forWritingTo: temporary)
        let block = Data(String(repeating: line, count: 10_000).utf8)
        for _ in 0..<(copies / 10_000) { handle.write(block) }
        try handle.close()
        let bytes = (try FileManager.default.attributesOfItem(atPath: temporary.path)[.size] as? Int) ?? 0
        let daemon = try MedtagProcess.serve(spool)
        let pid = daemon.process.processIdentifier
        let started = Date()
        try FileManager.default.moveItem(at: temporary, to: spool.inbox.appendingPathComponent("grande.txt"))
        var peak = 0.0
        try waitUntil("the 200 MB file is finished", timeout: 3000) {
            peak = max(peak, peakResidentMiB(pid) ?? 0)
            return spool.finished() == ["grande.txt"] || !daemon.process.isRunning
        }
        let seconds = Date().timeIntervalSince(started)
        #expect(daemon.process.isRunning, "\(daemon.log.suffix(2000))")
        #expect(spool.files(in: spool.done) == ["grande.txt"])
        let copy = spool.outbox.appendingPathComponent("grande.txt/grande.txt")
        let copied = (try? FileManager.default.attributesOfItem(atPath: copy.path)[.size] as? Int) ?? 0
        #expect(copied == bytes, "the text copy is whole")
        // Text is annotated in 2 MiB pieces: memory must not grow with the file (it took 7.5 GB whole).
        #expect(peak < 512, "peak RSS \(peak) MiB stays bounded")
        print(
            String(
                format: "200 MB file: %d bytes in %.1f s (%.2f MB/s), daemon peak RSS %.0f MiB", bytes, seconds,
                Double(bytes) / 1e6 / seconds, peak))
        daemon.signal(SIGTERM)
        _ = try daemon.waitForExit(timeout: 60)
    }
}

/// Current resident memory (VmRSS) in MiB.
func residentMiB(_ pid: Int32) -> Double? {
    guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
    for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
        if let kib = line.split(separator: " ").compactMap({ Double($0) }).first { return kib / 1024 }
    }
    return nil
}
