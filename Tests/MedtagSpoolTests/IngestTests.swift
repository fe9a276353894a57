import Foundation
import Testing

@Suite("medtag ingest")
struct IngestTests {
    @Test("ingest processes archives once into the spool and reports per archive")
    func ingestArchives() throws {
        let spool = try TestSpool()
        let drop = spool.root.appendingPathComponent("nightly")
        try FileManager.default.createDirectory(at: drop, withIntermediateDirectories: true)
        try makeArchive(drop.appendingPathComponent("noche.tar.gz"), script: DaemonTests.archiveScript)
        try makeArchive(
            drop.appendingPathComponent("mala.zip"),
            script: """
                with zipfile.ZipFile(out, "w") as z:
                    z.writestr("../fuera.txt", "x")
                    z.writestr("dentro.txt", "paracetamol")
                """)
        try Data("not an archive".utf8).write(to: drop.appendingPathComponent("rota.tar.gz"))
        let run = try runMedtag(["ingest", "--config", spool.configFile.path, "--from", drop.path], in: spool)
        #expect(run.status == 1, "a failed archive makes the exit status 1")
        #expect(run.output.contains("noche.tar.gz: 2 documents annotated, 0 refused"), "\(run.output)")
        #expect(run.output.contains("mala.zip: 1 documents annotated, 1 refused"), "\(run.output)")
        #expect(run.output.contains("rota.tar.gz: FAILED"), "\(run.output)")
        #expect(spool.files(in: spool.done) == ["mala.zip", "noche.tar.gz"])
        #expect(spool.files(in: spool.failed) == ["rota.tar.gz", "rota.tar.gz.error.json"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: drop.path).isEmpty, "ingested files are moved")
        #expect(spool.files(in: spool.outbox.appendingPathComponent("noche.tar.gz")).contains("notas/uno.ann"))
        #expect(spool.files(in: spool.work).isEmpty)
        #expect(spool.logRecords().count == 3)
    }
}
