import Foundation
import MedtagNeural
import Testing

#if canImport(Glibc)
import Glibc
import MedtagTestSupport
#endif

/// The real `medtag serve` on a temporary spool.
@Suite("medtag serve", .serialized)
struct DaemonTests {
    static let archiveScript = """
        def add(t, name, data):
            info = tarfile.TarInfo(name); info.size = len(data); t.addfile(info, io.BytesIO(data))
        with tarfile.open(out, "w:gz") as t:
            add(t, "notas/uno.txt", "Se pautó omeprazol 20 mg y paracetamol.\\n".encode())
            add(t, "notas/dos.xml", "<doc><title>Insulina glargina</title></doc>".encode())
        """

    static let zipScript = """
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr("a/tres.txt", "Tratamiento con ibuprofeno 600 mg.\\n")
            z.writestr("cuatro.txt", "Sin medicación.\\n")
        """

    @Test("inputs dropped before start, while running, and written slowly all end complete")
    func processesEveryInput() throws {
        let spool = try TestSpool()
        // Before start.
        try spool.drop("antes.txt", text: spanishNote)
        try spool.drop("antes.xml", text: "<doc><title>Paracetamol</title><description>enalapril 20 mg</description></doc>")
        try makeArchive(spool.inbox.appendingPathComponent("lote.tar.gz"), script: Self.archiveScript)
        try makeArchive(spool.inbox.appendingPathComponent("lote.zip"), script: Self.zipScript)
        try spool.drop("roto.txt", [0xFF, 0xFE, 0x41])
        try spool.drop("sub/carpeta/anidado.txt", text: spanishNote)

        let daemon = try MedtagProcess.serve(spool)
        #expect(daemon.log.contains(spool.inbox.path), "the start-up log names the inbox")
        // And the model: its name and the checksum of its manifest (which lists every file's own).
        let manifestSHA = try runTool("/usr/bin/sha256sum", [testModel.appendingPathComponent("manifest.json").path]).output.prefix(12)
        let loaded = daemon.log.split(separator: "\n").filter { $0.contains(" model loaded ") }
        #expect(loaded.count == 2, "one line per language (the English model is the installed default): \(daemon.log)")
        let spanish = loaded.first { $0.contains("medtag.language=es") }.map(String.init) ?? ""
        #expect(
            spanish.contains("medtag.model=es-pharmaconer-gazetteer") && spanish.split(separator: " ").contains("medtag.model_sha256=\(manifestSHA)")
                && spanish.contains("medtag.model_path=\(testModel.path)"), "\(loaded)")
        // And the kernel path, so a slow machine explains itself.
        let best = try #require(BLASBackend.runnableCoreTypes.first)
        #expect(spanish.contains("medtag.kernels=\"blas=openblas core=\(best) "), "\(loaded)")

        // While running: a careful producer, a plain write, a sub-folder, and a slow writer.
        try spool.drop("durante.txt", text: spanishNote)
        try Data(spanishNote.utf8).write(to: spool.inbox.appendingPathComponent("directo.txt"))
        try FileManager.default.createDirectory(at: spool.inbox.appendingPathComponent("nueva"), withIntermediateDirectories: true)
        try Data(spanishNote.utf8).write(to: spool.inbox.appendingPathComponent("nueva/dentro.txt"))
        let slowText = (0..<6).map { "Línea \($0) con paracetamol y omeprazol.\n" }.joined()
        // A slow writer (scp, a network copy): one open, pieces with pauses, one close.
        let slowFD = open(spool.inbox.appendingPathComponent("lento.txt").path, O_WRONLY | O_CREAT | O_EXCL, 0o644)
        #expect(slowFD >= 0)
        for line in slowText.split(separator: "\n", omittingEmptySubsequences: false).dropLast() {
            let bytes = Array((line + "\n").utf8)
            #expect(write(slowFD, bytes, bytes.count) == bytes.count)
            // Longer than the rescan interval, shorter than settle_time (both fixed in the test
            // configuration): not scaled, or a slow run would outwait settle_time.
            usleep(400_000)
        }
        close(slowFD)
        // A writer that closes between pieces (shell `>>`): claimed only once it stays unchanged.
        let appended = spool.inbox.appendingPathComponent("trozos.txt").path
        for piece in ["Primera parte con paracetamol.\n", "Segunda parte con omeprazol.\n", "Fin.\n"] {
            let fd = open(appended, O_WRONLY | O_CREAT | O_APPEND, 0o644)
            _ = write(fd, piece, piece.utf8.count)
            close(fd)
            usleep(300_000)  // shorter than settle_time (fixed in the test configuration): not scaled
        }

        let expected = [
            "antes.txt", "antes.xml", "directo.txt", "durante.txt", "lento.txt", "lote.tar.gz", "lote.zip",
            "nueva/dentro.txt", "roto.txt", "sub/carpeta/anidado.txt", "trozos.txt",
        ]
        try waitUntil("every input is in done/ or failed/", timeout: 60) { spool.finished() == expected }
        #expect(spool.files(in: spool.failed) == ["roto.txt", "roto.txt.error.json"])

        // Complete outputs, and the text copy is the whole input.
        for (name, base) in [
            ("antes.txt", "antes"), ("durante.txt", "durante"), ("directo.txt", "directo"), ("lento.txt", "lento"),
            ("nueva/dentro.txt", "dentro"), ("sub/carpeta/anidado.txt", "anidado"), ("antes.xml", "antes"),
        ] {
            let folder = spool.outbox.appendingPathComponent(name)
            #expect(
                spool.files(in: folder) == ["\(base).ann", "\(base).conll", "\(base).txt", "medtag-all.csv", "medtag-report.json", "summary.html"],
                "results of \(name)")
        }
        let slowCopy = try String(contentsOf: spool.outbox.appendingPathComponent("lento.txt/lento.txt"), encoding: .utf8)
        #expect(slowCopy == slowText, "a slowly written file is read only once complete")
        let piecesCopy = try String(contentsOf: spool.outbox.appendingPathComponent("trozos.txt/trozos.txt"), encoding: .utf8)
        #expect(piecesCopy.hasSuffix("Fin.\n"), "a file appended in pieces is read only once complete")
        let ann = try String(contentsOf: spool.outbox.appendingPathComponent("antes.txt/antes.ann"), encoding: .utf8)
        #expect(ann.contains("paracetamol") && ann.contains("enalapril"))

        #expect(
            spool.files(in: spool.outbox.appendingPathComponent("lote.tar.gz")) == [
                "medtag-all.csv", "medtag-report.json", "notas/dos.ann", "notas/dos.conll", "notas/dos.txt",
                "notas/uno.ann", "notas/uno.conll", "notas/uno.txt", "summary.html",
            ])
        // One table for the archive: header once, every member's entities keyed by its path.
        let tableBytes = try Data(contentsOf: spool.outbox.appendingPathComponent("lote.tar.gz/medtag-all.csv"))
        #expect(tableBytes.starts(with: [0xEF, 0xBB, 0xBF]))
        let table = String(decoding: tableBytes.dropFirst(3), as: UTF8.self)
        #expect(table.hasPrefix("input,document,entity_id,"))
        #expect(table.components(separatedBy: "input,document").count == 2, "header once")
        #expect(table.contains("\r\nlote.tar.gz,notas/uno,T1,") && table.contains("\r\nlote.tar.gz,notas/dos,T1,"), "\(table)")
        #expect(
            spool.files(in: spool.outbox.appendingPathComponent("lote.zip")) == [
                "a/tres.ann", "a/tres.conll", "a/tres.txt", "cuatro.ann", "cuatro.conll", "cuatro.txt", "medtag-all.csv",
                "medtag-report.json", "summary.html",
            ])
        let zipReport = try jsonObject(spool.outbox.appendingPathComponent("lote.zip/medtag-report.json"))
        let members = zipReport["members"] as? [String: Int]
        #expect(members == ["read": 2, "annotated": 2, "refused": 0])
        let documents = zipReport["documents"] as? [[String: Any]] ?? []
        #expect(documents.first { $0["path"] as? String == "cuatro.txt" }?["note"] != nil, "an empty result says why")

        let error = try jsonObject(spool.failed.appendingPathComponent("roto.txt.error.json"))
        #expect((error["reason"] as? String)?.contains("UTF-8") == true)
        #expect(error["stage"] as? String == "decode")
        #expect(error["medtag"] != nil && error["time"] != nil)

        // The daily log gets its record right after the input is moved.
        try waitUntil("the daily log has a record per input", timeout: 10) {
            Set(spool.logRecords().compactMap { $0["input"] as? String }) == Set(expected)
        }
        let records = spool.logRecords()
        let done = records.first { $0["input"] as? String == "antes.txt" }
        #expect(done?["outcome"] as? String == "done")
        #expect((done?["entities"] as? Int ?? 0) > 0 && (done?["tokens"] as? Int ?? 0) > 0)
        #expect((done?["ms"] as? [String: Double])?["annotate"] != nil)

        let status = try runMedtag(["status", "--config", spool.configFile.path], in: spool)
        #expect(status.status == 0)
        #expect(status.output.contains("failed   1") && status.output.contains("roto.txt"), "\(status.output)")
        #expect(status.output.contains("done     10"), "\(status.output)")

        daemon.signal(SIGTERM)
        #expect(try daemon.waitForExit() == 0)
        #expect(spool.files(in: spool.work).isEmpty)
        #expect(spool.files(in: spool.tmp).isEmpty)
        #expect(spool.files(in: spool.inbox).isEmpty)
    }

    @Test("hostile archive members are refused and nothing is written outside the outbox")
    func hostileArchive() throws {
        let spool = try TestSpool()
        let outside = spool.root.appendingPathComponent("escaped-\(UUID().uuidString.prefix(6)).txt")
        try makeArchive(
            spool.inbox.appendingPathComponent("hostil.tar"),
            script: """
                def add(t, name, data=b"paracetamol\\n", kind=tarfile.REGTYPE, link=""):
                    info = tarfile.TarInfo(name); info.type = kind; info.linkname = link
                    if kind == tarfile.REGTYPE:
                        info.size = len(data); t.addfile(info, io.BytesIO(data))
                    else:
                        t.addfile(info)
                with tarfile.open(out, "w") as t:
                    add(t, "../../\(outside.lastPathComponent)")
                    add(t, "\(outside.path)")
                    add(t, "enlace.txt", kind=tarfile.SYMTYPE, link="/etc/passwd")
                    add(t, "dispositivo.txt", kind=tarfile.CHRTYPE)
                    add(t, "bueno.txt", b"Se administra paracetamol.\\n")
                """)
        try makeArchive(
            spool.inbox.appendingPathComponent("hostil.zip"),
            script: """
                with zipfile.ZipFile(out, "w") as z:
                    z.writestr("../../\(outside.lastPathComponent)", "x")
                    z.writestr("ok/bien.txt", "omeprazol")
                """)
        let daemon = try MedtagProcess.serve(spool)
        try waitUntil("both archives are processed", timeout: 30) { spool.files(in: spool.done).count == 2 }
        #expect(!FileManager.default.fileExists(atPath: outside.path))
        let report = try jsonObject(spool.outbox.appendingPathComponent("hostil.tar/medtag-report.json"))
        let refused = (report["refused"] as? [[String: String]] ?? []).map { $0["reason"] ?? "" }
        #expect(refused.count == 4, "\(refused)")
        #expect(refused.contains { $0.contains("..") })
        #expect(refused.contains { $0.contains("absolute") })
        #expect(refused.contains { $0.contains("symbolic link") })
        #expect(refused.contains { $0.contains("device") })
        #expect(report["members"] as? [String: Int] == ["read": 5, "annotated": 1, "refused": 4])
        #expect(spool.files(in: spool.outbox.appendingPathComponent("hostil.tar")).contains("bueno.ann"))
        #expect(spool.files(in: spool.outbox.appendingPathComponent("hostil.zip")).contains("ok/bien.ann"))
        // Everything the daemon wrote is inside the spool.
        let written = try FileManager.default.contentsOfDirectory(atPath: spool.root.path).filter { !$0.hasSuffix(".log") }
        #expect(written.sorted() == ["medtag.conf", "spool"])
        daemon.signal(SIGTERM)
        #expect(try daemon.waitForExit() == 0)
    }

    @Test("SIGTERM mid-batch, then a restart: nothing lost, nothing doubled")
    func sigtermAndRestart() throws {
        let spool = try TestSpool(workers: 1)
        let names = (0..<60).map { String(format: "nota-%03d.txt", $0) }
        for name in names { try spool.drop(name, text: spanishNote + name) }
        let first = try MedtagProcess.serve(spool)
        try waitUntil("a few inputs are done", timeout: 30) { spool.files(in: spool.done).count >= 3 }
        first.signal(SIGTERM)
        #expect(try first.waitForExit() == 0, "graceful stop exits 0")
        #expect(first.log.contains("stopping"))
        #expect(spool.files(in: spool.work).isEmpty, "in-flight work finished or returned to the inbox")
        let doneAfterStop = spool.files(in: spool.done)
        #expect(doneAfterStop.count < names.count, "the stop came mid-batch")
        #expect(Set(doneAfterStop).union(spool.files(in: spool.inbox)) == Set(names), "nothing lost")
        #expect(Set(doneAfterStop).isDisjoint(with: spool.files(in: spool.inbox)), "nothing doubled")

        let second = try MedtagProcess.serve(spool)
        try waitUntil("everything is done", timeout: 60) { spool.files(in: spool.done).count == names.count }
        second.signal(SIGTERM)
        #expect(try second.waitForExit() == 0)
        #expect(spool.files(in: spool.done) == names)
        #expect(spool.files(in: spool.inbox).isEmpty && spool.files(in: spool.work).isEmpty)
        let outbox = try FileManager.default.contentsOfDirectory(atPath: spool.outbox.path).filter { $0 != "logs" }
        #expect(outbox.sorted() == names)
        for name in names {
            let copy = try String(contentsOf: spool.outbox.appendingPathComponent("\(name)/\(name.dropLast(4)).txt"), encoding: .utf8)
            #expect(copy == spanishNote + name)
        }
    }

    @Test("kill -9 mid-batch, then a restart: every input processed, results identical to a clean run")
    func killAndRestart() throws {
        let spool = try TestSpool(workers: 2)
        let names = (0..<40).map { String(format: "k-%03d.txt", $0) }
        for name in names { try spool.drop(name, text: spanishNote + name) }
        let first = try MedtagProcess.serve(spool)
        try waitUntil("some inputs are done", timeout: 30) { spool.files(in: spool.done).count >= 5 }
        first.signal(SIGKILL)
        _ = try first.waitForExit()
        // Whatever was claimed is still in work/ or already done: nothing vanished.
        let claimed = spool.files(in: spool.work).map { String($0.split(separator: "/").last ?? "") }
        #expect(Set(spool.files(in: spool.done) + spool.files(in: spool.inbox) + claimed) == Set(names))

        let second = try MedtagProcess.serve(spool)
        try waitUntil("everything is done", timeout: 60) { spool.files(in: spool.done).count == names.count }
        second.signal(SIGTERM)
        #expect(try second.waitForExit() == 0)
        #expect(spool.files(in: spool.done) == names)
        #expect(spool.files(in: spool.work).isEmpty && spool.files(in: spool.tmp).isEmpty)

        // Reference: the same inputs through a clean spool give byte-identical results.
        let clean = try TestSpool()
        for name in names { try clean.drop(name, text: spanishNote + name) }
        let reference = try MedtagProcess.serve(clean)
        try waitUntil("the clean run is done", timeout: 60) { clean.files(in: clean.done).count == names.count }
        reference.signal(SIGTERM)
        _ = try reference.waitForExit()
        let produced = spool.files(in: spool.outbox).filter { !$0.hasPrefix("logs/") }
        #expect(produced == clean.files(in: clean.outbox).filter { !$0.hasPrefix("logs/") })
        for file in produced {
            var a = try Data(contentsOf: spool.outbox.appendingPathComponent(file))
            var b = try Data(contentsOf: clean.outbox.appendingPathComponent(file))
            if file.hasSuffix("/summary.html") {
                // The summary page says when the input finished and how long it took; the rest is the same.
                (a, b) = (summaryWithoutTimes(a), summaryWithoutTimes(b))
            }
            #expect(a == b, "\(file) differs from a clean run")
        }
    }

    @Test("SIGHUP reloads the configuration: new formats apply to new inputs")
    func reloadOnHangup() throws {
        let spool = try TestSpool()
        let daemon = try MedtagProcess.serve(spool)
        try spool.drop("antes.txt", text: spanishNote)
        try waitUntil("the first input is done", timeout: 30) { spool.files(in: spool.done) == ["antes.txt"] }
        #expect(!spool.files(in: spool.outbox).contains("antes.txt/tables/medtag-all.tsv"))
        try spool.writeConfig(
            """
            spool = \(spool.spool.path)
            model = \(testModel.path)
            formats = brat, tsv, tsv-documents
            settle_time = 0.7
            """)
        daemon.signal(SIGHUP)
        try waitUntil("the daemon reloads", timeout: 30) { daemon.log.contains("reloaded") }
        try spool.writeConfig("workers = many\n")
        daemon.signal(SIGHUP)
        try waitUntil("the broken reload is refused", timeout: 30) { daemon.log.contains("reload failed") }
        #expect(daemon.log.contains("workers"), "the error names the key")
        try spool.drop("despues.txt", text: spanishNote)
        try waitUntil("the second input is done", timeout: 30) { spool.files(in: spool.done).count == 2 }
        #expect(
            spool.files(in: spool.outbox.appendingPathComponent("despues.txt")) == [
                "despues.ann", "despues.txt", "medtag-report.json", "subtrack2/despues.tsv", "summary.html", "tables/medtag-all.tsv",
            ])
        daemon.signal(SIGTERM)
        #expect(try daemon.waitForExit() == 0)
    }

    @Test("an inbox removed while running is recreated and watched again")
    func inboxRecreated() throws {
        let spool = try TestSpool(config: "rescan_interval = 30")
        let daemon = try MedtagProcess.serve(spool)
        try FileManager.default.removeItem(at: spool.inbox)
        try waitUntil("the daemon watches the recreated inbox", timeout: 20) {
            daemon.log.contains("watching the recreated inbox")
        }
        try spool.drop("nueva.txt", text: spanishNote)
        try waitUntil("the new file is done", timeout: 20) { spool.files(in: spool.done) == ["nueva.txt"] }
        daemon.signal(SIGTERM)
        #expect(try daemon.waitForExit() == 0)
    }

    @Test("work still running when the shutdown grace period ends goes back to the inbox")
    func graceExpiry() throws {
        let spool = try TestSpool(config: "shutdown_grace = 0")
        let sentence = "Varón de 58 años en tratamiento con enalapril 20 mg/día y paracetamol 1 g cada 8 horas. "
        let big = String(repeating: sentence, count: 15_000)
        let daemon = try MedtagProcess.serve(spool)
        try spool.drop("grande.txt", text: big)
        try waitUntil("the big input is claimed", timeout: 20) { !spool.files(in: spool.work).isEmpty }
        daemon.signal(SIGTERM)
        #expect(try daemon.waitForExit(timeout: 20) == 0)
        #expect(daemon.log.contains("returning unfinished inputs to the inbox"), "\(daemon.log)")
        #expect(spool.files(in: spool.inbox) == ["grande.txt"])
        #expect(spool.files(in: spool.done).isEmpty && spool.files(in: spool.work).isEmpty)
        #expect(!FileManager.default.fileExists(atPath: spool.outbox.appendingPathComponent("grande.txt").path))

        try spool.writeConfig(
            "spool = \(spool.spool.path)\nmodel = \(testModel.path)\nsettle_time = 0.5\npiece_size = 64K\n")
        let second = try MedtagProcess.serve(spool)
        // While it works, `medtag status` shows how far it is.
        var progress: String?
        try waitUntil("the big input is done", timeout: 90) {
            if progress == nil, let status = try? runMedtag(["status", "--config", spool.configFile.path], in: spool),
                let line = status.output.split(separator: "\n").first(where: { $0.contains("grande.txt (") && $0.contains("% read (") })
            {
                progress = String(line)
            }
            return spool.files(in: spool.done) == ["grande.txt"]
        }
        #expect(progress?.contains("of \(big.utf8.count) bytes") == true, "medtag status showed no progress: \(progress ?? "nothing")")
        second.signal(SIGTERM)
        #expect(try second.waitForExit() == 0)
        let copy = try Data(contentsOf: spool.outbox.appendingPathComponent("grande.txt/grande.txt"))
        #expect(copy == Data(big.utf8))
        #expect(spool.files(in: spool.tmp).isEmpty, "no staging leftovers")
    }

    @Test("two daemons on one spool process every file exactly once")
    func twoDaemons() throws {
        let spool = try TestSpool(workers: 1)
        let names = (0..<2000).map { String(format: "d-%04d.txt", $0) }
        let first = try MedtagProcess.serve(spool)
        let second = try MedtagProcess.serve(spool)
        let started = Date()
        for name in names { try spool.drop(name, text: spanishNote + name) }
        do {
            try waitUntil("everything is done", timeout: 900) {
                spool.files(in: spool.done).count == names.count || !first.process.isRunning || !second.process.isRunning
            }
        } catch {
            throw TestFailure(
                "\(error); done \(spool.files(in: spool.done).count), failed \(spool.files(in: spool.failed)), "
                    + "claimed \(spool.claimedInputs()), inbox \(spool.files(in: spool.inbox).count)\n"
                    + String(first.log.suffix(3000)) + "\n" + String(second.log.suffix(3000)))
        }
        #expect(first.process.isRunning && second.process.isRunning, "\(first.log.suffix(3000))\n\(second.log.suffix(3000))")
        print("two daemons: \(names.count) inputs in \(String(format: "%.1f", Date().timeIntervalSince(started))) s")
        try waitUntil("every record is logged", timeout: 10) { spool.logRecords().count >= names.count }
        for daemon in [first, second] { daemon.signal(SIGTERM) }
        for daemon in [first, second] { #expect(try daemon.waitForExit() == 0) }
        let records = spool.logRecords()
        #expect(records.count == names.count, "one record per input: nothing processed twice")
        #expect(records.allSatisfy { $0["outcome"] as? String == "done" })
        #expect(Set(records.compactMap { $0["input"] as? String }) == Set(names))
        let instances = Set(records.compactMap { $0["instance"] as? String })
        print("two daemons: \(instances.count) instances shared \(names.count) inputs")
        #expect(spool.files(in: spool.work).isEmpty && spool.files(in: spool.inbox).isEmpty)
    }

    @Test("odd file names: newlines, quotes, non-UTF-8 bytes")
    func oddNames() throws {
        let spool = try TestSpool()
        try spool.drop("línea\nnueva \"cita\" 'x'.txt", text: spanishNote)
        // Latin-1 "ñ" (0xF1) in a name: not UTF-8.
        let raw: [UInt8] = Array(spool.inbox.path.utf8) + Array("/espa".utf8) + [0xF1] + Array("ol.txt".utf8) + [0]
        let fd = raw.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { open($0.baseAddress!, O_WRONLY | O_CREAT, 0o644) }
        }
        #expect(fd >= 0)
        _ = write(fd, spanishNote, spanishNote.utf8.count)
        close(fd)
        let daemon = try MedtagProcess.serve(spool)
        try waitUntil("both inputs are done", timeout: 30) { spool.files(in: spool.done).count == 2 }
        #expect(spool.files(in: spool.done).sorted() == ["espa_ol.txt", "línea\nnueva \"cita\" 'x'.txt"])
        #expect(daemon.log.contains("renamed an input whose name is not valid UTF-8"))
        #expect(spool.files(in: spool.outbox.appendingPathComponent("espa_ol.txt")).contains("espa_ol.ann"))
        daemon.signal(SIGTERM)
        #expect(try daemon.waitForExit() == 0)
    }

    @Test("an input dropped again under the same name keeps both: results and inputs of each drop")
    func sameNameAgain() throws {
        let spool = try TestSpool()
        let daemon = try MedtagProcess.serve(spool)
        let first = "Primera versión con paracetamol.\n"
        let second = "Segunda versión con omeprazol.\n"
        let third = "Tercera versión con ibuprofeno.\n"
        try spool.drop("nota.txt", text: first)
        try spool.drop("sala3/nota.txt", text: first)
        try waitUntil("the first drops are done", timeout: 30) { spool.files(in: spool.done) == ["nota.txt", "sala3/nota.txt"] }
        try spool.drop("nota.txt", text: second)
        try waitUntil("the second drop is done", timeout: 30) { spool.files(in: spool.done).count == 3 }
        try spool.drop("nota.txt", text: third)
        try waitUntil("the third drop is done", timeout: 30) { spool.files(in: spool.done).count == 4 }
        #expect(spool.files(in: spool.done) == ["nota.txt", "nota~2.txt", "nota~3.txt", "sala3/nota.txt"])
        for (name, text) in [("nota.txt", first), ("nota~2.txt", second), ("nota~3.txt", third)] {
            #expect(try String(contentsOf: spool.done.appendingPathComponent(name), encoding: .utf8) == text, "done/\(name)")
            // The results take the drop's name, folder and files alike (`outbox/nota~2.txt/nota~2.ann`).
            let folder = spool.outbox.appendingPathComponent(name)
            #expect(try String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8) == text, "outbox/\(name)")
            let report = try jsonObject(folder.appendingPathComponent("medtag-report.json"))
            #expect(report["input"] as? String == name)
        }
        let ann = try String(contentsOf: spool.outbox.appendingPathComponent("nota~2.txt/nota~2.ann"), encoding: .utf8)
        #expect(ann.contains("omeprazol") && !ann.contains("paracetamol"))
        #expect(daemon.log.contains("an input of this name was dropped before"), "\(daemon.log)")
        #expect(daemon.log.contains("nota~3.txt"))
        try waitUntil("every drop is logged", timeout: 10) { spool.logRecords().count == 4 }
        #expect(Set(spool.logRecords().compactMap { $0["input"] as? String }) == ["nota.txt", "nota~2.txt", "nota~3.txt", "sala3/nota.txt"])
        daemon.signal(SIGTERM)
        #expect(try daemon.waitForExit() == 0)
    }

    @Test("an input dropped under the name of one still running is claimed at once, under a numbered name")
    func sameNameWhileRunning() throws {
        let spool = try TestSpool(workers: 2)
        let sentence = "Varón de 58 años en tratamiento con enalapril 20 mg/día y paracetamol 1 g cada 8 horas. "
        let big = String(repeating: sentence, count: 15_000)
        let daemon = try MedtagProcess.serve(spool)
        try spool.drop("nota.txt", text: big)
        try waitUntil("the big input is claimed", timeout: 20) { spool.files(in: spool.work).contains { $0.hasSuffix("/nota.txt") } }
        try spool.drop("nota.txt", text: spanishNote)
        try waitUntil("the second drop is done", timeout: 30) { spool.files(in: spool.done).contains("nota~2.txt") }
        #expect(!spool.files(in: spool.done).contains("nota.txt"), "the second drop did not wait for the first to finish")
        try waitUntil("the first drop is done too", timeout: 120) { spool.files(in: spool.done) == ["nota.txt", "nota~2.txt"] }
        #expect(try Data(contentsOf: spool.done.appendingPathComponent("nota~2.txt")) == Data(spanishNote.utf8))
        daemon.signal(SIGTERM)
        #expect(try daemon.waitForExit() == 0)
    }

    @Test("a broken model is a clear error and a non-zero exit")
    func brokenModel() throws {
        let spool = try TestSpool(config: "")
        try spool.writeConfig("spool = \(spool.spool.path)\nmodel = \(spool.root.path)/no-such-model\n")
        let daemon = try MedtagProcess.serve(spool, waitReady: false)
        let status = try daemon.waitForExit()
        #expect(status != 0)
        #expect(daemon.log.contains("no-such-model"), "\(daemon.log)")
    }
}

func jsonObject(_ url: URL) throws -> [String: Any] {
    guard let object = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any] else {
        throw TestFailure("\(url.path) is not a JSON object")
    }
    return object
}
