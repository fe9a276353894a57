import Foundation
import Testing
import MedtagTestSupport

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

    @Test("ingest --from refuses what it cannot read, sub-folders too, into failed/ with the reason; a name seen before is kept")
    func ingestRefusesNothingSilently() throws {
        let spool = try TestSpool()
        let drop = spool.root.appendingPathComponent("nightly")
        try FileManager.default.createDirectory(at: drop.appendingPathComponent("planta3"), withIntermediateDirectories: true)
        try Data(spanishNote.utf8).write(to: drop.appendingPathComponent("nota.txt"))
        try Data("%PDF-1.4\n".utf8).write(to: drop.appendingPathComponent("informe.pdf"))
        try Data(spanishNote.utf8).write(to: drop.appendingPathComponent("planta3/dentro.txt"))
        try Data([0xFF, 0xFE] + Array("paracetamol".utf16).flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] })
            .write(to: drop.appendingPathComponent("utf16.txt"))
        try Data("a medio copiar".utf8).write(to: drop.appendingPathComponent("llegando.txt.part"))
        let first = try runMedtag(["ingest", "--config", spool.configFile.path, "--from", drop.path], in: spool)
        #expect(first.status == 1, "refused inputs make the exit status 1")
        #expect(first.output.contains("nota.txt: 1 documents annotated"), "\(first.output)")
        #expect(first.output.contains("informe.pdf: FAILED: ") && first.output.contains("unsupported input type"), "\(first.output)")
        #expect(first.output.contains("planta3: FAILED: ") && first.output.contains("a folder, not a file"), "\(first.output)")
        #expect(first.output.contains("utf16.txt: FAILED: ") && first.output.contains("UTF-16 text"), "\(first.output)")
        #expect(
            spool.files(in: spool.failed) == [
                "informe.pdf", "informe.pdf.error.json", "planta3.error.json", "planta3/dentro.txt", "utf16.txt", "utf16.txt.error.json",
            ])
        let error = try jsonObject(spool.failed.appendingPathComponent("utf16.txt.error.json"))
        #expect((error["reason"] as? String)?.contains("iconv -f utf-16 -t utf-8") == true)
        #expect(try FileManager.default.contentsOfDirectory(atPath: drop.path) == ["llegando.txt.part"], "only a file being written stays")

        // The next night brings another nota.txt: both are kept.
        try Data("Otra nota con omeprazol.\n".utf8).write(to: drop.appendingPathComponent("nota.txt"))
        let second = try runMedtag(["ingest", "--config", spool.configFile.path, "--from", drop.path], in: spool)
        #expect(second.status == 0, "\(second.output)")
        #expect(spool.files(in: spool.done) == ["nota.txt", "nota~2.txt"])
        #expect(spool.files(in: spool.outbox.appendingPathComponent("nota~2.txt")).contains("nota~2.ann"))
        #expect(second.output.contains("an input of this name was dropped before"), "\(second.output)")
    }

    @Test("the spool's results are the bytes `medtag annotate` writes for the same text")
    func sameAsAnnotate() throws {
        let spool = try TestSpool()
        let sample = Paths.packageRoot.appendingPathComponent("samples/caso-clinico.txt")
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
