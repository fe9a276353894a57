import Foundation
import Testing
import MedtagTestSupport

/// Runs medtag with standard output and standard error on a pseudo-terminal (`script`), as a
/// person at a terminal runs it; returns what the terminal showed.
func runOnTerminal(_ arguments: [String], in folder: URL) throws -> (status: Int32, screen: String) {
    let quoted = ([try medtagBinary().path] + arguments).map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/script")
    // -e: script exits with the command's status; the typescript file is not needed.
    process.arguments = ["-qec", quoted.joined(separator: " "), "/dev/null"]
    process.currentDirectoryURL = folder
    var environment = ProcessInfo.processInfo.environment
    environment["COLUMNS"] = "200"
    process.environment = environment
    let output = Pipe()
    process.standardOutput = output
    process.standardError = output
    process.standardInput = FileHandle.nullDevice
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

private let hasScript = FileManager.default.isExecutableFile(atPath: "/usr/bin/script")

/// The live progress line: on a terminal only, never in files or pipes, off with --quiet.
@Suite(.enabled(if: hasScript, "/usr/bin/script (util-linux) is not installed"))
struct ProgressLineTests {
    private func notes(_ count: Int, in spool: TestSpool) throws -> URL {
        let folder = spool.root.appendingPathComponent("notas")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let sample = try String(contentsOf: Paths.packageRoot.appendingPathComponent("samples/caso-clinico.txt"), encoding: .utf8)
        for k in 1...count { try Data((sample + "Control \(k).\n").utf8).write(to: folder.appendingPathComponent("nota-\(k).txt")) }
        return folder
    }

    @Test("annotate on a terminal shows documents done of the total, tokens/s and time, cleared before the final line")
    func annotateOnTerminal() throws {
        let spool = try TestSpool()
        let folder = try notes(6, in: spool)
        let out = spool.root.appendingPathComponent("out")
        let run = try runOnTerminal(["annotate", folder.path, "--out", out.path, "--model", testModel.path], in: spool.root)
        #expect(run.status == 0, "\(run.screen)")
        let drawn = try Regex(#"\rmedtag: \d of 6 documents · [\d,]+ tokens/s · 0:\d\d elapsed"#)
        #expect(run.screen.contains(drawn), "\(run.screen.debugDescription)")
        // The line is blanked out, then the final line starts at the beginning of the row.
        #expect(run.screen.contains(try Regex(#"\r +\rannotated 6 of 6 documents"#)), "\(run.screen.debugDescription)")

        let quiet = try runOnTerminal(
            ["annotate", folder.path, "--out", out.path, "--model", testModel.path, "--quiet"], in: spool.root)
        #expect(quiet.status == 0)
        #expect(!quiet.screen.contains("tokens/s"), "--quiet draws no progress line: \(quiet.screen.debugDescription)")
        #expect(quiet.screen.contains("annotated 6 of 6 documents"))
    }

    @Test("standard error in a file or a pipe gets no progress line")
    func noProgressOffTerminal() throws {
        let spool = try TestSpool()
        let folder = try notes(3, in: spool)
        let out = spool.root.appendingPathComponent("out")
        // runMedtag sends standard output and standard error to a log file.
        let run = try runMedtag(["annotate", folder.path, "--out", out.path, "--model", testModel.path], in: spool)
        #expect(run.status == 0, "\(run.output)")
        #expect(run.output.contains("annotated 3 of 3 documents"))
        #expect(!run.output.contains("tokens/s") && !run.output.contains("\r"), "\(run.output.debugDescription)")
        let ingest = try runMedtag(["ingest", "--config", spool.configFile.path, "--keep", "--from", folder.path], in: spool)
        #expect(ingest.status == 0, "\(ingest.output)")
        #expect(!ingest.output.contains("tokens/s") && !ingest.output.contains("\r"), "\(ingest.output.debugDescription)")
    }

    @Test("ingest and evaluate run show the line on a terminal too")
    func ingestAndEvaluateOnTerminal() throws {
        let spool = try TestSpool()
        let folder = try notes(4, in: spool)
        let ingest = try runOnTerminal(["ingest", "--config", spool.configFile.path, "--keep", "--from", folder.path], in: spool.root)
        #expect(ingest.status == 0, "\(ingest.screen)")
        // The total of documents inside the inputs is not known in advance: a count.
        #expect(ingest.screen.contains(try Regex(#"\rmedtag: \d documents? · [\d,]+ tokens/s · 0:\d\d elapsed"#)), "\(ingest.screen.debugDescription)")
        #expect(ingest.screen.contains(try Regex(#"\r +\rnota-\d\.txt: 1 documents annotated"#)), "\(ingest.screen.debugDescription)")

        // A gold folder: the texts with empty annotation files.
        let gold = spool.root.appendingPathComponent("gold")
        try FileManager.default.createDirectory(at: gold, withIntermediateDirectories: true)
        for k in 1...3 {
            try FileManager.default.copyItem(at: folder.appendingPathComponent("nota-\(k).txt"), to: gold.appendingPathComponent("nota-\(k).txt"))
            try Data().write(to: gold.appendingPathComponent("nota-\(k).ann"))
        }
        let evaluate = try runOnTerminal(["evaluate", "run", "--gold", gold.path, "--model", testModel.path], in: spool.root)
        #expect(evaluate.status == 0, "\(evaluate.screen)")
        #expect(evaluate.screen.contains(try Regex(#"\rmedtag: \d of 3 documents"#)), "\(evaluate.screen.debugDescription)")
        #expect(evaluate.screen.contains(try Regex(#"\r +\rmodel "#)), "\(evaluate.screen.debugDescription)")
    }
}
