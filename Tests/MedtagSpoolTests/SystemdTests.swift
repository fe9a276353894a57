import Foundation
import Testing

#if canImport(Glibc)
import Glibc
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

    /// Messages received until `condition` holds for the list so far, or `timeout` seconds pass.
    func receive(until condition: ([String]) -> Bool, timeout: Double, into messages: inout [String]) {
        let deadline = Date().addingTimeInterval(timeout)
        var buffer = [UInt8](repeating: 0, count: 4096)
        while Date() < deadline, !condition(messages) {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count > 0 { messages.append(String(decoding: buffer[0..<count], as: UTF8.self)) }
        }
    }
}

@Suite("systemd integration")
struct SystemdTests {
    @Test("READY=1 after the first scan, WATCHDOG=1 from the work loop, STOPPING=1 on SIGTERM")
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
        // READY is sent only once the first scan queued the file that was already waiting.
        #expect(daemon.log.contains("medtag.queued=1"), "\(daemon.log)")
        daemon.signal(SIGTERM)
        socket.receive(until: { $0.contains("STOPPING=1") }, timeout: 20, into: &messages)
        #expect(messages.contains("STOPPING=1"))
        #expect(try daemon.waitForExit() == 0)
    }

    @Test("the unit files pass systemd-analyze verify")
    func unitsVerify() throws {
        let analyzer = ["/usr/bin/systemd-analyze", "/bin/systemd-analyze"].first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let analyzer else {
            print("systemd-analyze is not installed here: unit files not verified")
            return
        }
        // Verify copies whose ExecStart points at the binary just built, as the installed one would.
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("medtag-units-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let binary = try medtagBinary().path
        var paths: [String] = []
        for unit in ["medtag.service", "medtag-nightly.service", "medtag-nightly.timer"] {
            let text = try String(contentsOf: packageRoot.appendingPathComponent("systemd/\(unit)"), encoding: .utf8)
            let target = folder.appendingPathComponent(unit)
            try text.replacingOccurrences(of: "/usr/local/bin/medtag", with: binary).write(to: target, atomically: true, encoding: .utf8)
            paths.append(target.path)
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: analyzer)
        process.arguments = ["verify"] + paths
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
        let service = try String(contentsOf: packageRoot.appendingPathComponent("systemd/medtag.service"), encoding: .utf8)
        for setting in [
            "Type=notify", "WatchdogSec=", "Restart=on-failure", "ExecReload=", "ProtectSystem=strict", "ReadWritePaths=",
            "PrivateNetwork=yes", "NoNewPrivileges=yes", "ProtectHome=yes", "MemoryMax=", "TimeoutStopSec=",
        ] {
            #expect(service.contains(setting), "medtag.service sets \(setting)")
        }
    }
}
