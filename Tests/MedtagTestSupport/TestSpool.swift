import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The shipped dictionary model: small and fast, enough to see real entities.
public let testModel = Paths.gazetteerModel

/// A temporary spool folder with a configuration file tuned for quick tests, removed with it.
public final class TestSpool: @unchecked Sendable {
    public let root: URL
    public let spool: URL
    public let configFile: URL
    public var inbox: URL { spool.appendingPathComponent("inbox") }
    public var outbox: URL { spool.appendingPathComponent("outbox") }
    public var done: URL { spool.appendingPathComponent("done") }
    public var failed: URL { spool.appendingPathComponent("failed") }
    public var work: URL { spool.appendingPathComponent("work") }
    public var tmp: URL { spool.appendingPathComponent("tmp") }

    public init(config extra: String = "", workers: Int = 2) throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("medtag-spool-test-\(UUID().uuidString)")
        spool = root.appendingPathComponent("spool")
        try FileManager.default.createDirectory(at: spool.appendingPathComponent("inbox"), withIntermediateDirectories: true)
        configFile = root.appendingPathComponent("medtag.conf")
        // A key is given once: what `extra` sets replaces the quick-test value.
        let settings = [
            ("spool", spool.path), ("model", testModel.path), ("workers", "\(workers)"), ("settle_time", "0.7"),
            ("rescan_interval", "1"), ("shutdown_grace", "10"),
        ]
        let overridden = Set(extra.split(separator: "\n").compactMap { line in
            line.split(separator: "=", maxSplits: 1).first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        })
        try writeConfig(
            settings.filter { !overridden.contains($0.0) }.map { "\($0.0) = \($0.1)\n" }.joined() + extra + "\n")
    }

    public func writeConfig(_ text: String) throws {
        try text.write(to: configFile, atomically: true, encoding: .utf8)
    }

    deinit { try? FileManager.default.removeItem(at: root) }

    /// Drops a file the way a careful producer does: a dot-name, then a rename into the inbox.
    public func drop(_ name: String, _ bytes: [UInt8]) throws {
        let target = inbox.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
        let temporary = target.deletingLastPathComponent().appendingPathComponent(".\(target.lastPathComponent).part")
        try Data(bytes).write(to: temporary)
        try FileManager.default.moveItem(at: temporary, to: target)
    }

    public func drop(_ name: String, text: String) throws { try drop(name, Array(text.utf8)) }

    /// Files (not folders) under a spool folder, relative to it, skipping dot-names.
    public func files(in folder: URL) -> [String] {
        guard let walker = FileManager.default.enumerator(atPath: folder.path) else { return [] }
        var found: [String] = []
        while let relative = walker.nextObject() as? String {
            var isDirectory: ObjCBool = false
            let path = folder.appendingPathComponent(relative).path
            if relative.split(separator: "/").contains(where: { $0.hasPrefix(".") }) { continue }
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue {
                found.append(relative)
            }
        }
        return found.sorted()
    }

    /// Inputs finished: in done/ or failed/ (error reports not counted).
    public func finished() -> [String] {
        (files(in: done) + files(in: failed).filter { !$0.hasSuffix(".error.json") }).sorted()
    }

    /// Records of the daily JSON-lines logs.
    public func logRecords() -> [[String: Any]] {
        let logs = outbox.appendingPathComponent("logs")
        var records: [[String: Any]] = []
        for file in files(in: logs) {
            guard let text = try? String(contentsOf: logs.appendingPathComponent(file), encoding: .utf8) else { continue }
            for line in text.split(separator: "\n") {
                if let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] {
                    records.append(object)
                }
            }
        }
        return records
    }
}

/// A `medtag` process started by a test; its standard error goes to a file the test can read.
public final class MedtagProcess: @unchecked Sendable {
    public let process = Process()
    public let logURL: URL

    /// `launcher`: a command that runs medtag (`prlimit --fsize=N`, `setpriv --reuid=N`), or none.
    public init(_ arguments: [String], environment: [String: String] = [:], logURL: URL, launcher: [String] = []) throws {
        self.logURL = logURL
        if let tool = launcher.first {
            process.executableURL = URL(fileURLWithPath: tool)
            process.arguments = Array(launcher.dropFirst()) + [try medtagBinary().path] + arguments
        } else {
            process.executableURL = try medtagBinary()
            process.arguments = arguments
        }
        var env = ProcessInfo.processInfo.environment
        env["NOTIFY_SOCKET"] = nil
        env["WATCHDOG_USEC"] = nil
        for (key, value) in environment { env[key] = value }
        process.environment = env
        _ = FileManager.default.createFile(atPath: logURL.path, contents: nil)
        let handle = try FileHandle(forWritingTo: logURL)
        handle.seekToEndOfFile()
        process.standardError = handle
        process.standardOutput = handle
        try process.run()
    }

    /// Starts `medtag serve` on the spool (with `arguments` added, e.g. `--log-level debug`) and waits
    /// for its "ready" line.
    public static func serve(
        _ spool: TestSpool, arguments: [String] = [], environment: [String: String] = [:], waitReady: Bool = true
    ) throws -> MedtagProcess {
        let log = spool.root.appendingPathComponent("serve-\(UUID().uuidString.prefix(8)).log")
        let daemon = try MedtagProcess(["serve", "--config", spool.configFile.path] + arguments, environment: environment, logURL: log)
        if waitReady {
            try waitUntil("the daemon says it is ready", timeout: 30) { daemon.log.contains("ready: watching the inbox") || !daemon.process.isRunning }
            guard daemon.process.isRunning else { throw TestFailure("medtag serve exited early:\n\(daemon.log)") }
        }
        return daemon
    }

    public var log: String { (try? String(contentsOf: logURL, encoding: .utf8)) ?? "" }

    public func signal(_ number: Int32) { kill(process.processIdentifier, number) }

    /// Waits for the process to exit and returns its status.
    @discardableResult
    public func waitForExit(timeout: Double = 30) throws -> Int32 {
        try waitUntil("medtag exits", timeout: timeout) { !process.isRunning }
        return process.terminationStatus
    }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }
}

/// How much slower than a plain debug build the code under test runs: `MEDTAG_TEST_TIME_SCALE`
/// (`make sanitize` sets it: instrumented code runs several times slower), 1 when unset. Every
/// timeout in these tests is multiplied by it, so a slow run waits longer instead of failing.
public let testTimeScale: Double = {
    guard let text = ProcessInfo.processInfo.environment["MEDTAG_TEST_TIME_SCALE"], let value = Double(text), value >= 1 else {
        return 1
    }
    return value
}()

/// True when the tests run against sanitizer-instrumented code (`make sanitize`).
public let underSanitizer = testTimeScale > 1

/// True when this test process carries the ThreadSanitizer runtime (`swift test --sanitize=thread`,
/// as `make sanitize` runs it, with the daemon built the same way).
public let underThreadSanitizer: Bool = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "__tsan_init") != nil

/// Sleeps `seconds` times ``testTimeScale``: a pause that gives the daemon time to do something
/// (a rescan, a few retry rounds) before the test looks.
public func pause(_ seconds: Double) {
    usleep(useconds_t(seconds * testTimeScale * 1_000_000))
}

/// Polls `condition` every 50 ms until it holds or `timeout` seconds (times ``testTimeScale``) pass.
public func waitUntil(_ what: String, timeout: Double, _ condition: () -> Bool) throws {
    let limit = timeout * testTimeScale
    let deadline = Date().addingTimeInterval(limit)
    while !condition() {
        if Date() > deadline {
            let scale = testTimeScale == 1 ? "" : " (\(timeout) s × MEDTAG_TEST_TIME_SCALE \(testTimeScale))"
            throw TestFailure("timed out after \(limit) s\(scale) waiting until \(what)")
        }
        usleep(50_000)
    }
}

/// Runs `medtag` to completion and returns its exit status and output; fails past `timeout`
/// seconds (times ``testTimeScale``).
public func runMedtag(_ arguments: [String], in spool: TestSpool, timeout: Double = 60) throws -> (status: Int32, output: String) {
    let log = spool.root.appendingPathComponent("run-\(UUID().uuidString.prefix(8)).log")
    let run = try MedtagProcess(arguments, logURL: log)
    let status = try run.waitForExit(timeout: timeout)
    return (status, run.log)
}
