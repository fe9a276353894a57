import Foundation
import MedtagSpool
import SystemPackage
import Testing

import MedtagTestSupport

#if canImport(Glibc)
import Glibc
#endif

/// `medtag ingest` stopped by `kill -9` or SIGTERM (`systemctl stop`, a shutdown, the nightly unit's
/// timeout) at several points: the next run, or a running daemon, takes the input over and the spool
/// ends as after an undisturbed run, with every document's results once.
@Suite("ingest interrupted", .serialized)
struct IngestInterruptionTests {
    /// 2,000 short clinical notes, each different, in one .tar.gz.
    static func makeNightly(in folder: URL) throws -> URL {
        let drugs = ["omeprazol", "paracetamol", "enalapril", "metformina", "amoxicilina", "ibuprofeno", "heparina", "insulina"]
        let notes = folder.appendingPathComponent("notes")
        try FileManager.default.createDirectory(at: notes, withIntermediateDirectories: true)
        for k in 0..<2000 {
            let a = drugs[k % drugs.count], b = drugs[(k / drugs.count) % drugs.count]
            let text = """
                Paciente de \(20 + k % 70) años que ingresa por dolor torácico. Se inició tratamiento con \(a) \
                \(10 * (1 + k % 9)) mg cada 8 horas y \(b) por vía oral. La analítica mostró una creatinina de \
                \(k % 3).\(k % 10) mg/dl y proteína C reactiva elevada. Nota número \(k).

                Al alta se suspendió \(a) y se mantuvo \(b); control en consultas externas.

                """
            try text.write(
                to: notes.appendingPathComponent(String(format: "nota%04d.txt", k)), atomically: false, encoding: .utf8)
        }
        let archive = folder.appendingPathComponent("lote.tar.gz")
        let tar = try run(URL(fileURLWithPath: "/bin/tar"), ["czf", archive.path, "-C", notes.path, "."])
        guard tar.status == 0 else { throw TestFailure("tar: \(tar.err)") }
        try FileManager.default.removeItem(at: notes)
        return archive
    }

    /// The results of an undisturbed run, by file, without the run's timings.
    static func results(_ spool: TestSpool) throws -> [String: Data] {
        var out: [String: Data] = [:]
        let folder = spool.outbox.appendingPathComponent("lote.tar.gz")
        for file in spool.files(in: folder) where file.hasSuffix(".ann") || file.hasSuffix(".conll") {
            out[file] = try Data(contentsOf: folder.appendingPathComponent(file))
        }
        return out
    }

    enum Interruption: CustomStringConvertible {
        case kill(atDocuments: Int)
        case term(atDocuments: Int, grace: Double)
        var description: String {
            switch self {
            case .kill(let n): return "kill -9 after \(n) documents"
            case .term(let n, let grace): return "SIGTERM after \(n) documents, shutdown_grace \(grace) s"
            }
        }
    }

    @Test func rerunTakesOverAndLosesOrDuplicatesNothing() throws {
        // Each run annotates up to 2,000 documents: on a loaded machine that takes minutes, not
        // seconds. The waits scale with MEDTAG_TEST_TIME_SCALE (waitUntil); none is a pause.
        let runTimeout = 300.0
        let reference = try TestSpool()
        let nightly = reference.root.appendingPathComponent("nightly")
        try FileManager.default.createDirectory(at: nightly, withIntermediateDirectories: true)
        let archive = try Self.makeNightly(in: reference.root)
        try FileManager.default.copyItem(at: archive, to: nightly.appendingPathComponent("lote.tar.gz"))
        let undisturbed = try runMedtag(
            ["ingest", "--config", reference.configFile.path, "--from", nightly.path], in: reference, timeout: runTimeout)
        #expect(undisturbed.status == 0, "\(undisturbed.output)")
        let expected = try Self.results(reference)
        #expect(expected.filter { $0.key.hasSuffix(".ann") }.count == 2000)

        let cases: [Interruption] = [
            .kill(atDocuments: 0), .kill(atDocuments: 1200), .term(atDocuments: 500, grace: 0.2),
            // Long enough for the rest of the archive, on a loaded machine too.
            .term(atDocuments: 300, grace: 60 * testTimeScale),
        ]
        for (number, interruption) in cases.enumerated() {
            let spool = try TestSpool(config: "shutdown_grace = \(interruptionGrace(interruption))")
            let drop = spool.root.appendingPathComponent("nightly")
            try FileManager.default.createDirectory(at: drop, withIntermediateDirectories: true)
            try FileManager.default.copyItem(at: archive, to: drop.appendingPathComponent("lote.tar.gz"))
            // Half the cases name the file, as the same command run again does; half take the folder.
            let arguments =
                number % 2 == 0
                ? ["ingest", "--config", spool.configFile.path, drop.appendingPathComponent("lote.tar.gz").path]
                : ["ingest", "--config", spool.configFile.path, "--from", drop.path]
            let first = try MedtagProcess(arguments, logURL: spool.root.appendingPathComponent("first.log"))
            let threshold: Int
            switch interruption {
            case .kill(let n), .term(let n, _): threshold = n
            }
            try waitUntil("\(interruption): the run is that far", timeout: runTimeout) {
                !first.process.isRunning
                    || SpoolStatus.gather(root: FilePath(spool.spool.path)).inProgress.contains { $0.documents >= threshold }
                    && spool.files(in: spool.work).contains { $0.hasSuffix("lote.tar.gz") }
            }
            #expect(first.process.isRunning, "\(interruption): the run ended before it was interrupted")
            switch interruption {
            case .kill:
                first.signal(SIGKILL)
                _ = try first.waitForExit()
                let status = SpoolStatus.gather(root: FilePath(spool.spool.path)).render(root: FilePath(spool.spool.path))
                #expect(status.contains("not running"), "\(interruption): status marks the dead owner:\n\(status)")
            case .term(_, let grace):
                first.signal(SIGTERM)
                let code = try first.waitForExit(timeout: grace + runTimeout)
                #expect(code == 143, "\(interruption): exit status \(code)\n\(first.log)")
                if grace > 30 {
                    #expect(first.log.contains("lote.tar.gz: 2000 documents annotated"), "\(interruption): \(first.log)")
                }
            }
            // Nothing half-published in outbox/ meanwhile: a result folder is complete or absent.
            let published = spool.files(in: spool.outbox.appendingPathComponent("lote.tar.gz")).filter { $0.hasSuffix(".ann") }
            #expect(published.isEmpty || published.count == 2000, "\(interruption): \(published.count) files published")

            let second = try runMedtag(arguments, in: spool, timeout: runTimeout)
            #expect(second.status == 0, "\(interruption): the rerun: \(second.output)")
            #expect(spool.files(in: spool.done) == ["lote.tar.gz"], "\(interruption): done/ holds \(spool.files(in: spool.done))")
            #expect(spool.files(in: spool.work).isEmpty && spool.files(in: spool.tmp).isEmpty, "\(interruption): work/ or tmp/ not empty")
            #expect(
                try FileManager.default.contentsOfDirectory(atPath: spool.outbox.path).filter { $0 != "logs" } == ["lote.tar.gz"],
                "\(interruption): one result folder")
            let got = try Self.results(spool)
            #expect(got == expected, "\(interruption): results differ from an undisturbed run (\(got.count) files)")
        }
    }

    private func interruptionGrace(_ interruption: Interruption) -> Double {
        if case .term(_, let grace) = interruption { return grace }
        return 10
    }

    @Test("a running daemon takes over, on its next scan, the input of an ingest that was killed")
    func daemonTakesOverOnRescan() throws {
        let spool = try TestSpool()
        let archive = try Self.makeNightly(in: spool.root)
        let daemon = try MedtagProcess.serve(spool)
        let ingest = try MedtagProcess(
            ["ingest", "--config", spool.configFile.path, archive.path], logURL: spool.root.appendingPathComponent("ingest.log"))
        try waitUntil("the ingest is under way", timeout: 60) {
            !ingest.process.isRunning
                || SpoolStatus.gather(root: FilePath(spool.spool.path)).inProgress.contains { $0.documents >= 200 }
        }
        #expect(ingest.process.isRunning)
        ingest.signal(SIGKILL)
        _ = try ingest.waitForExit()
        try waitUntil("the daemon has finished the abandoned input", timeout: 120) {
            spool.files(in: spool.done) == ["lote.tar.gz"]
        }
        #expect(daemon.log.contains("taking over an abandoned file"), "\(daemon.log)")
        #expect(spool.files(in: spool.outbox.appendingPathComponent("lote.tar.gz")).filter { $0.hasSuffix(".ann") }.count == 2000)
        #expect(spool.files(in: spool.work).isEmpty)
    }

    @Test("ingest logs each input as it ends, a failure with the journal's error priority")
    func failuresReachTheJournalAsErrors() throws {
        let spool = try TestSpool()
        let drop = spool.root.appendingPathComponent("nightly")
        try FileManager.default.createDirectory(at: drop, withIntermediateDirectories: true)
        try Data("%PDF-1.4\n".utf8).write(to: drop.appendingPathComponent("x2.docx"))
        try Data("Se pautó omeprazol.\n".utf8).write(to: drop.appendingPathComponent("nota.txt"))
        let run = try MedtagProcess(
            ["ingest", "--config", spool.configFile.path, "--from", drop.path, "--log-level", "notice"],
            environment: ["JOURNAL_STREAM": "8:12345"], logURL: spool.root.appendingPathComponent("journal.log"))
        #expect(try run.waitForExit() == 1)
        let lines = run.log.split(separator: "\n")
        #expect(lines.contains { $0.hasPrefix("<3>input failed") && $0.contains("x2.docx") }, "\(run.log)")
        #expect(lines.contains { $0.hasPrefix("<5>annotated") && $0.contains("nota.txt") }, "\(run.log)")
    }
}
