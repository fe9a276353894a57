import Foundation
import Testing

#if canImport(Glibc)
import Glibc
import MedtagTestSupport
#endif

/// The long variants (thousands of files, 50+ kills, a 200 MB input) run only under `make stress`.
let stressEnabled = ProcessInfo.processInfo.environment["MEDTAG_STRESS"] == "1"

/// A small deterministic generator, so a failing random schedule can be replayed (`MEDTAG_SEED=N`).
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// The seed for a randomized test: `MEDTAG_SEED` when set, else a fresh one (printed by the caller).
func testSeed() -> UInt64 {
    if let text = ProcessInfo.processInfo.environment["MEDTAG_SEED"], let seed = UInt64(text) { return seed }
    return UInt64.random(in: 1...UInt64(UInt32.max))
}

/// Runs a program to completion; returns its status and combined output.
@discardableResult
func runTool(_ executable: String, _ arguments: [String], allowFailure: Bool = false) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    let output = String(decoding: data, as: UTF8.self)
    if !allowFailure, process.terminationStatus != 0 {
        throw TestFailure("\(executable) \(arguments.joined(separator: " ")) exited \(process.terminationStatus): \(output)")
    }
    return (process.terminationStatus, output)
}

/// Runs a Python script (standard library only) with `out` set to `path`: used to write hostile inputs.
func python(_ script: String, _ path: URL, _ extra: [String] = []) throws {
    try runTool("/usr/bin/env", ["python3", "-c", "import io, os, sys, tarfile, zipfile, gzip\nout = sys.argv[1]\n" + script, path.path] + extra)
}

/// Peak resident memory (VmHWM) of a running process, in MiB; nil once it has exited.
func peakResidentMiB(_ pid: Int32) -> Double? {
    guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
    for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
        let digits = line.split(separator: " ").compactMap { Double($0) }
        if let kib = digits.first { return kib / 1024 }
    }
    return nil
}

extension TestSpool {
    /// Every file under the spool folder (hidden names included), relative to it.
    func allEntries(in folder: URL) -> [String] {
        guard let walker = FileManager.default.enumerator(atPath: folder.path) else { return [] }
        var found: [String] = []
        while let relative = walker.nextObject() as? String { found.append(relative) }
        return found.sorted()
    }

    /// Inputs claimed in any daemon's work folder, as paths relative to the inbox.
    func claimedInputs() -> [String] {
        var result: [String] = []
        for instance in (try? FileManager.default.contentsOfDirectory(atPath: work.path)) ?? [] where !instance.hasPrefix(".") {
            result += files(in: work.appendingPathComponent(instance))
        }
        return result.sorted()
    }

    /// Published results of the given inputs: input → (file → bytes), hidden names included. An input
    /// without a result folder is absent.
    func outboxResults(_ inputs: [String]) -> [String: [String: Data]] {
        var byInput: [String: [String: Data]] = [:]
        for input in inputs {
            let folder = outbox.appendingPathComponent(input)
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: folder.path, isDirectory: &isFolder), isFolder.boolValue else { continue }
            var contents: [String: Data] = [:]
            for file in allEntries(in: folder) {
                var isDirectory: ObjCBool = false
                let path = folder.appendingPathComponent(file).path
                if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue {
                    let data = FileManager.default.contents(atPath: path) ?? Data()
                    // The summary page says when the input finished and how long it took; the rest must match.
                    contents[file] = file == "summary.html" ? summaryWithoutTimes(data) : data
                }
            }
            byInput[input] = contents
        }
        return byInput
    }
}

extension MedtagProcess {
    /// Starts `medtag serve` without waiting for anything (the crash loop kills it at random moments).
    static func serveNow(_ spool: TestSpool, environment: [String: String] = [:]) throws -> MedtagProcess {
        let log = spool.root.appendingPathComponent("serve-\(UUID().uuidString.prefix(8)).log")
        return try MedtagProcess(["serve", "--config", spool.configFile.path], environment: environment, logURL: log)
    }

    /// True when the process ended by a signal (a crash), not by exiting.
    var diedOfSignal: Bool { !process.isRunning && process.terminationReason == .uncaughtSignal }
}

/// A tmpfs of the given size mounted at `path` for the life of the object; nil when mounting is not
/// allowed here (not root, or no CAP_SYS_ADMIN).
final class TmpfsMount {
    let path: URL

    init?(at path: URL, size: String) {
        self.path = path
        try? FileManager.default.createDirectory(at: path, withIntermediateDirectories: true)
        guard let result = try? runTool("/bin/mount", ["-t", "tmpfs", "-o", "size=\(size),mode=0755", "tmpfs", path.path], allowFailure: true),
            result.status == 0
        else { return nil }
    }

    func unmount() {
        _ = try? runTool("/bin/umount", [path.path], allowFailure: true)
    }

    deinit { unmount() }

    /// Whether a tmpfs can be mounted here (tried once, on a scratch folder).
    static let isAvailable: Bool = {
        let probe = FileManager.default.temporaryDirectory.appendingPathComponent("medtag-tmpfs-probe-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: probe) }
        return TmpfsMount(at: probe, size: "64k") != nil
    }()
}

/// Whether files in the temporary folder can carry `user.` extended attributes (the daemon records
/// attempts in one); tried once.
let userAttributesSupported: Bool = {
    let probe = FileManager.default.temporaryDirectory.appendingPathComponent("medtag-xattr-probe-\(UUID().uuidString.prefix(8))")
    defer { try? FileManager.default.removeItem(at: probe) }
    guard FileManager.default.createFile(atPath: probe.path, contents: Data()) else { return false }
    let script = "import os, sys; os.setxattr(sys.argv[1], 'user.medtag.probe', b'1')"
    return (try? runTool("/usr/bin/env", ["python3", "-c", script, probe.path])) != nil
}()

/// Fills the filesystem holding `folder` with one file until ENOSPC; returns the file.
func fillFilesystem(_ folder: URL) -> URL {
    let filler = folder.appendingPathComponent("filler.bin")
    let fd = open(filler.path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    let chunk = [UInt8](repeating: 0x55, count: 4096)
    while write(fd, chunk, chunk.count) > 0 {}
    // The last partial page too.
    while write(fd, chunk, 1) > 0 {}
    close(fd)
    return filler
}

/// The default inotify queue limit, lowered for a test and restored by `restore()` or at deinit.
final class InotifyQueueLimit {
    static let path = "/proc/sys/fs/inotify/max_queued_events"
    let original: String

    /// nil when the setting cannot be changed here.
    init?(lowerTo value: Int) {
        guard let original = try? String(contentsOfFile: Self.path, encoding: .utf8) else { return nil }
        self.original = original.trimmingCharacters(in: .whitespacesAndNewlines)
        guard (try? "\(value)\n".write(toFile: Self.path, atomically: false, encoding: .utf8)) != nil else { return nil }
    }

    func restore() { try? "\(original)\n".write(toFile: Self.path, atomically: false, encoding: .utf8) }

    deinit { restore() }

    /// Whether the setting can be changed here (its own value written back, once).
    static let isWritable: Bool = {
        guard let value = try? String(contentsOfFile: path, encoding: .utf8) else { return false }
        return (try? value.write(toFile: path, atomically: false, encoding: .utf8)) != nil
    }()
}

/// A summary page without its time rows (when the input finished, how long it took): the bytes
/// that processing the same input again must reproduce.
func summaryWithoutTimes(_ page: Data) -> Data {
    let lines = String(decoding: page, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
    return Data(lines.filter { !$0.contains("id=\"time\"") && !$0.contains("id=\"finished\"") }.joined(separator: "\n").utf8)
}

/// A short Spanish note with entities of every kind.
let spanishNote = """
    Varón de 58 años en tratamiento con enalapril 20 mg/día y paracetamol 1 g cada 8 horas.
    La inmunohistoquímica fue positiva para S-100 y vimentina.

    """
