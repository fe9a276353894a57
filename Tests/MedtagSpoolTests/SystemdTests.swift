import Foundation
import Testing

#if canImport(Glibc)
import Glibc
import MedtagTestSupport
#endif

/// A datagram socket standing in for systemd's notification socket.
final class NotifySocket {
    let path: String
    let fd: Int32

    init(path: String) throws {
        self.path = path
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw TestFailure("socket() failed") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count + 1)
        let status = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard status == 0 else { throw TestFailure("bind(\(path)) failed: errno \(errno)") }
        var timeout = timeval(tv_sec: 0, tv_usec: 200_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit {
        close(fd)
        unlink(path)
    }

    /// Messages received until `condition` holds for the list so far, or `timeout` seconds (times
    /// ``testTimeScale``) pass.
    func receive(until condition: ([String]) -> Bool, timeout: Double, into messages: inout [String]) {
        let deadline = Date().addingTimeInterval(timeout * testTimeScale)
        var buffer = [UInt8](repeating: 0, count: 4096)
        while Date() < deadline, !condition(messages) {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count > 0 { messages.append(String(decoding: buffer[0..<count], as: UTF8.self)) }
        }
    }
}

@Suite("systemd integration")
struct SystemdTests {
    @Test("READY=1 once the inbox is watched, WATCHDOG=1 from the work loop, STOPPING=1 on SIGTERM")
    func notifyProtocol() throws {
        let spool = try TestSpool()
        try spool.drop("antes.txt", text: spanishNote)
        let socket = try NotifySocket(path: spool.root.appendingPathComponent("notify.sock").path)
        let daemon = try MedtagProcess.serve(
            spool, environment: ["NOTIFY_SOCKET": socket.path, "WATCHDOG_USEC": "600000"], waitReady: false)
        var messages: [String] = []
        socket.receive(
            until: { list in list.contains { $0.hasPrefix("READY=1") } && list.filter { $0 == "WATCHDOG=1" }.count >= 3 },
            timeout: 20, into: &messages)
        let ready = messages.firstIndex { $0.hasPrefix("READY=1") }
        #expect(ready != nil, "READY=1 received: \(messages)")
        #expect(messages.filter { $0 == "WATCHDOG=1" }.count >= 3, "WATCHDOG=1 keeps coming: \(messages)")
        #expect(daemon.log.contains("ready: watching the inbox"))
        // The file already waiting is found by the scan that follows READY, and processed.
        try waitUntil("the input waiting before the start is done", timeout: 30) { spool.files(in: spool.done) == ["antes.txt"] }
        #expect(daemon.log.contains("medtag.found=1"), "\(daemon.log)")
        daemon.signal(SIGTERM)
        socket.receive(until: { $0.contains("STOPPING=1") }, timeout: 20, into: &messages)
        #expect(messages.contains("STOPPING=1"))
        #expect(try daemon.waitForExit() == 0)
    }

    @Test("a notification socket nobody reads does not stall the work loop")
    func unreadSocketDoesNotStall() throws {
        let spool = try TestSpool()
        let socket = try NotifySocket(path: spool.root.appendingPathComponent("notify.sock").path)
        // WATCHDOG=1 every 10 ms; the socket's queue (net.unix.max_dgram_qlen, 10 by default) is
        // full within a fraction of a second once nobody reads it.
        let daemon = try MedtagProcess.serve(
            spool, environment: ["NOTIFY_SOCKET": socket.path, "WATCHDOG_USEC": "30000"], waitReady: false)
        var messages: [String] = []
        socket.receive(until: { $0.contains { $0.hasPrefix("READY=1") } }, timeout: 20, into: &messages)
        #expect(messages.contains { $0.hasPrefix("READY=1") }, "READY=1 received: \(messages)")
        pause(2)  // the socket's queue fills
        let names = (0..<5).map { "tras-\($0).txt" }
        for name in names { try spool.drop(name, text: spanishNote) }
        try waitUntil("files dropped while the socket is full are done", timeout: 60) {
            Set(names).isSubset(of: Set(spool.files(in: spool.done))) || !daemon.process.isRunning
        }
        #expect(Set(names).isSubset(of: Set(spool.files(in: spool.done))), "\(daemon.log.suffix(2000))")
        // STOPPING=1 waits for room in the queue: reading again lets it through.
        daemon.signal(SIGTERM)
        socket.receive(until: { $0.contains("STOPPING=1") }, timeout: 20, into: &messages)
        #expect(messages.contains("STOPPING=1"))
        #expect(try daemon.waitForExit() == 0)
    }

    @Test("READY=1 comes before a backlog of 3,000 waiting files is processed; each of them is done once")
    func readyBeforeBacklog() throws {
        // Under a sanitizer each file costs several times more: 1,000 still make a backlog that takes
        // minutes, without making `make sanitize` wait a quarter of an hour for this one test.
        let count = underSanitizer ? 1000 : 3000
        let spool = try TestSpool(config: "formats = brat")
        // Written in place a minute ago (settled already), as a backlog left while the daemon was down.
        try python(
            """
            import time
            past = time.time() - 60
            for i in range(int(sys.argv[2])):
                path = os.path.join(out, "espera-%04d.txt" % i)
                open(path, "w").write("Se pautó paracetamol 1 g y enalapril %d mg.\\n" % i)
                os.utime(path, (past, past))
            """, spool.inbox, ["\(count)"])
        let socket = try NotifySocket(path: spool.root.appendingPathComponent("notify.sock").path)
        let started = Date()
        let daemon = try MedtagProcess.serve(
            spool, environment: ["NOTIFY_SOCKET": socket.path, "WATCHDOG_USEC": "3000000"], waitReady: false)
        var messages: [String] = []
        socket.receive(until: { $0.contains { $0.hasPrefix("READY=1") } }, timeout: 30, into: &messages)
        let readySeconds = Date().timeIntervalSince(started)
        let waitingAtReady = spool.files(in: spool.inbox).count
        let doneAtReady = spool.files(in: spool.done).count
        #expect(messages.contains { $0.hasPrefix("READY=1") }, "READY=1 received: \(messages)\n\(daemon.log)")
        print(
            "READY=1 after \(String(format: "%.2f", readySeconds)) s with \(count) files waiting; "
                + "\(waitingAtReady) still in the inbox and \(doneAtReady) done at that moment")
        #expect(waitingAtReady > 0 && doneAtReady < count, "READY came before the backlog was processed")

        // Read the socket all along, as systemd does: a sender blocks once the socket's queue is full.
        // Counted by a plain listing: walking 3,000 files every poll would take CPU from the daemon.
        try waitUntil("the whole backlog is done", timeout: 300) {
            socket.receive(until: { _ in false }, timeout: 0.2, into: &messages)
            let done = (try? FileManager.default.contentsOfDirectory(atPath: spool.done.path).count) ?? 0
            return done >= count || !daemon.process.isRunning
        }
        // The scan that follows READY, with the watch already set, found everything that was waiting.
        let log = daemon.log
        if let ready = log.range(of: "ready: watching the inbox"), let scanned = log.range(of: "first inbox scan done") {
            #expect(ready.lowerBound < scanned.lowerBound, "READY before the backlog scan ended")
        } else {
            Issue.record("no ready or scan line in the log:\n\(log.prefix(4000))")
        }
        #expect(log.contains("medtag.found=\(count)"))
        let expected = (0..<count).map { String(format: "espera-%04d.txt", $0) }
        #expect(spool.files(in: spool.done) == expected, "every waiting file done")
        #expect(spool.files(in: spool.failed).isEmpty && spool.files(in: spool.inbox).isEmpty)
        // Each exactly once: one record each in the daily log, one result folder each.
        try waitUntil("every input has its log record", timeout: 10) { spool.logRecords().count >= count }
        let records = spool.logRecords().compactMap { $0["input"] as? String }
        #expect(records.count == count && Set(records).count == count, "\(records.count) records, \(Set(records).count) distinct")
        #expect(!log.contains("warning") && !log.contains("error"), "\(log.suffix(2000))")
        // WATCHDOG=1 kept coming while the backlog was scanned and processed.
        socket.receive(until: { $0.filter { $0 == "WATCHDOG=1" }.count >= 2 }, timeout: 10, into: &messages)
        #expect(messages.filter { $0 == "WATCHDOG=1" }.count >= 2)
        daemon.signal(SIGTERM)
        #expect(try daemon.waitForExit() == 0)
    }

    /// systemd-analyze, where it is installed.
    static let analyzer = ["/usr/bin/systemd-analyze", "/bin/systemd-analyze"].first { FileManager.default.isExecutableFile(atPath: $0) }

    @Test("the unit files pass systemd-analyze verify", .enabled(if: analyzer != nil, "systemd-analyze is not installed here"))
    func unitsVerify() throws {
        let analyzer = try #require(Self.analyzer)
        // Verify copies whose ExecStart points at the binary just built, as the installed one would.
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("medtag-units-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let binary = try medtagBinary().path
        var paths: [String] = []
        for unit in ["medtag.service", "medtag-nightly.service", "medtag-nightly.timer"] {
            let text = try String(contentsOf: Paths.packageRoot.appendingPathComponent("systemd/\(unit)"), encoding: .utf8)
            let target = folder.appendingPathComponent(unit)
            try text.replacingOccurrences(of: "/usr/local/bin/medtag", with: binary).write(to: target, atomically: true, encoding: .utf8)
            paths.append(target.path)
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: analyzer)
        // Man pages are checked on the installed units (InstallTests), where they are installed too.
        process.arguments = ["verify", "--man=no"] + paths
        let pipe = Pipe()
        process.standardError = pipe
        process.standardOutput = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        // Outside a booted systemd, verify may complain about the host itself; only our units matter.
        let ours = output.split(separator: "\n").filter { line in
            line.contains("medtag") && !line.contains("Failed to connect") && !line.contains("/run/systemd")
        }
        #expect(ours.isEmpty, "systemd-analyze verify:\n\(output)")
        let service = try String(contentsOf: Paths.packageRoot.appendingPathComponent("systemd/medtag.service"), encoding: .utf8)
        for setting in [
            "Type=notify", "WatchdogSec=", "Restart=on-failure", "ExecReload=", "ProtectSystem=strict", "ReadWritePaths=",
            "PrivateNetwork=yes", "NoNewPrivileges=yes", "ProtectHome=yes", "MemoryMax=", "TimeoutStopSec=",
        ] {
            #expect(service.contains(setting), "medtag.service sets \(setting)")
        }
    }
}
