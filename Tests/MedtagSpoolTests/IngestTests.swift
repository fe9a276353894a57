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

    @Test("the spool's results are the bytes `medtag annotate` writes for the same text")
    func sameAsAnnotate() throws {
        let spool = try TestSpool()
        let sample = packageRoot.appendingPathComponent("samples/caso-clinico.txt")
        let oneShot = spool.root.appendingPathComponent("annotate-out")
        let annotate = try runMedtag(
            ["annotate", sample.path, "--out", oneShot.path, "--model", testModel.path], in: spool)
        #expect(annotate.status == 0, "\(annotate.output)")
        try FileManager.default.copyItem(at: sample, to: spool.root.appendingPathComponent("caso-clinico.txt"))
        let ingest = try runMedtag(
            ["ingest", "--config", spool.configFile.path, spool.root.appendingPathComponent("caso-clinico.txt").path], in: spool)
        #expect(ingest.status == 0, "\(ingest.output)")
        for file in ["caso-clinico.ann", "caso-clinico.txt", "caso-clinico.conll", "medtag-all.csv"] {
            let expected = try Data(contentsOf: oneShot.appendingPathComponent(file))
            let produced = try Data(contentsOf: spool.outbox.appendingPathComponent("caso-clinico.txt/\(file)"))
            #expect(produced == expected, "\(file) matches medtag annotate")
        }
        let ann = try String(contentsOf: oneShot.appendingPathComponent("caso-clinico.ann"), encoding: .utf8)
        #expect(ann.contains("AnnotatorNotes"), "the shipped lexicon adds SNOMED-CT codes")
    }
}
