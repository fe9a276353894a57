import Foundation
import Testing
import MedtagTestSupport

/// `workers = N` means N documents annotated at once, whatever the inputs: a daemon busy with
/// more archives than workers runs one annotation pool, not a pool per input.
@Suite("threads of a busy daemon", .serialized)
struct ThreadCountTests {
    /// Names of a running process's threads, from /proc.
    static func threads(_ pid: Int32) -> [String] {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
        return tasks.compactMap { try? String(contentsOfFile: "/proc/\(pid)/task/\($0)/comm", encoding: .utf8) }
            .map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
    }

    @Test("a daemon with workers = 2 busy with three archives annotates on 2 threads and adds at most workers + 4")
    func threadsStayBounded() throws {
        // The neural model: annotation, not reading, is the work, so every pool would fill.
        let model = Paths.packageRoot.appendingPathComponent("Models/es-pharmaconer-bilstm-crf")
        let spool = try TestSpool(config: "model = \(model.path)", workers: 2)
        let daemon = try MedtagProcess.serve(spool)
        // The runtime's own threads (dispatch, the concurrency pool, the inbox watcher) are there idle.
        let idle = Self.threads(daemon.process.processIdentifier).count
        let script = """
            note = "Se pautó omeprazol 20 mg y paracetamol 1 g cada 8 horas; sigue con enalapril.\\n" * 3
            with tarfile.open(out, "w:gz") as t:
                for i in range(400):
                    data = note.encode(); info = tarfile.TarInfo("notas/n%04d.txt" % i); info.size = len(data)
                    t.addfile(info, io.BytesIO(data))
            """
        for name in ["a", "b", "c"] {
            // Built aside, then moved in together, so all three are there at the first scan.
            try makeArchive(spool.root.appendingPathComponent("\(name).tar.gz"), script: script)
        }
        for name in ["a", "b", "c"] {
            try FileManager.default.moveItem(
                at: spool.root.appendingPathComponent("\(name).tar.gz"), to: spool.inbox.appendingPathComponent("\(name).tar.gz"))
        }
        var most = 0
        var annotating = 0
        var samples = 0
        try waitUntil("the three archives are done", timeout: 240) {
            let names = Self.threads(daemon.process.processIdentifier)
            most = max(most, names.count)
            annotating = max(annotating, names.filter { $0 == "medtag-annotate" }.count)
            samples += 1
            usleep(20_000)  // a sampling interval, not a wait for the daemon: fixed
            return spool.finished().count == 3
        }
        daemon.signal(SIGTERM)
        try daemon.waitForExit()
        #expect(samples > 10, "sampled while busy")
        #expect(annotating >= 1 && annotating <= 2, "one pool of `workers` annotation threads for every input: \(annotating)")
        #expect(most - idle <= 2 + 4, "at most workers + 4 threads more than idle (idle: \(idle), busy: \(most))")
    }
}
